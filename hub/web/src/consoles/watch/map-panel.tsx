/** The station map on the watch desk's board (see ../../ui/map/). */
import { t } from '../../i18n/index.js';

export function WatchMapPanel() {
  return <section class="panel" aria-label={t('map.title')}><h2>{t('map.title')}</h2></section>;
}
