/** The station map on the watch desk's board: every station in scope; a station with an alert opens it. */
import { t, useLang } from '../../i18n/index.js';
import { StationMap } from '../../ui/map/station-map.js';
import { useStations } from '../../ui/map/stations.js';
import { navigate } from '../../ui/router.js';

export function WatchMapPanel() {
  useLang();
  const st = useStations();
  return (
    <section class="panel watch-map" aria-label={t('map.title')}>
      <h2>{t('map.title')}</h2>
      {st.error ? <p class="error" role="alert">{t('common.error', { message: st.error })}</p> : null}
      <StationMap
        devices={st.devices}
        gateways={st.gateways}
        onStation={(d) => {
          if (d.openAlert) navigate(`/watch/alerts/${d.openAlert.id}`);
        }}
      />
      {!st.loading && !st.devices.length ? <p class="muted">{t('map.noStations')}</p> : <p class="muted">{t('map.hint')}</p>}
    </section>
  );
}
