/** Shift handover: what happened since the last handover, open alerts, notes. */
import { t } from '../../i18n/index.js';

export function HandoverPage() {
  return <h1>{t('handover.title')}</h1>;
}
