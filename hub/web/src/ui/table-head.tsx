/**
 * A table's header row from message keys: every column header is a translated, scoped `th`, so
 * screen readers announce each cell with its column. An empty string leaves a column unnamed.
 */
import { t, type MessageKey } from '../i18n/index.js';

export function TableHead(props: { cols: readonly (MessageKey | '')[] }) {
  return (
    <thead>
      <tr>
        {props.cols.map((key, i) => (key ? <th key={i} scope="col">{t(key)}</th> : <td key={i} />))}
      </tr>
    </thead>
  );
}
