/** The live alert board: most severe first, updated over the stream. */
import { t } from '../../i18n/index.js';
import { WatchMapPanel } from './map-panel.js';

export function BoardPage() {
  return (
    <div>
      <h1>{t('watch.title')}</h1>
      <WatchMapPanel />
    </div>
  );
}
