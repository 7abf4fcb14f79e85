/**
 * My devices: only the caller's communes (the hub scopes GET /devices), on a list and a map —
 * online or not (its gateway), last value and its age per metric, battery, open alert.
 */
import type { DeviceView } from '../../api/types.js';

import { local, t, useLang } from '../../i18n/index.js';
import { LevelBadge } from '../../ui/level.js';
import { StationMap } from '../../ui/map/station-map.js';
import { BATTERY_METRICS, orderMetrics, stationState, useStations, useTick } from '../../ui/map/stations.js';
import { linkProps, navigate } from '../../ui/router.js';
import { Battery, LastValues, LinkState } from './common.js';

export const devicePath = (d: Pick<DeviceView, 'id'>) => `/commune/devices/${encodeURIComponent(d.id)}`;

export function DevicesPage() {
  useLang();
  const now = useTick();
  const st = useStations();
  return (
    <div class="commune grid">
      <div>
        <h1>{t('commune.title')}</h1>
        <p class="muted">{t('commune.intro')}</p>
      </div>
      {st.error ? <p class="error" role="alert">{t('common.error', { message: st.error })}</p> : null}
      {st.loading ? <p class="muted">{t('common.loading')}</p> : null}
      {!st.loading && !st.devices.length && !st.error ? <p class="empty">{t('commune.noDevices')}</p> : null}
      {st.devices.length ? (
        <div class="commune-layout">
          <section class="panel" aria-labelledby="commune-list-h">
            <h2 id="commune-list-h">{t('commune.list')}</h2>
            <ul class="device-cards" data-testid="commune-devices">
              {st.devices.map((d) => {
                const s = stationState(d, st.gateways, now);
                const metrics = orderMetrics(Object.keys(d.latest).filter((m) => !BATTERY_METRICS.includes(m)));
                return (
                  <li key={d.id} class="device-card" data-dev={d.id}>
                    <div class="row device-card-head">
                      <a {...linkProps(devicePath(d))} class="device-name">{d.name}</a>
                      <span class="muted">{d.id}</span>
                    </div>
                    <dl class="device-facts">
                      <dt>{t('commune.link')}</dt>
                      <dd><LinkState d={d} gateways={st.gateways} /></dd>
                      <dt>{t('commune.lastValues')}</dt>
                      <dd>
                        <LastValues d={d} metrics={metrics} now={now} />
                      </dd>
                      <dt>{t('common.battery')}</dt>
                      <dd><Battery d={d} /></dd>
                      <dt>{t('commune.alert')}</dt>
                      <dd>
                        {d.openAlert ? (
                          <>
                            <LevelBadge level={s.level} label={d.openAlert.levelLabel} stale={s.kind === 'stale'} offline={s.kind === 'offline'} /> <span>{local(d.openAlert.message)}</span>
                          </>
                        ) : s.kind === 'stale' || s.kind === 'offline' ? (
                          <LevelBadge level={0} stale={s.kind === 'stale'} offline={s.kind === 'offline'} />
                        ) : (
                          <span class="muted">{t('commune.noAlert')}</span>
                        )}
                      </dd>
                    </dl>
                  </li>
                );
              })}
            </ul>
          </section>
          <section class="panel" aria-label={t('map.title')}>
            <h2>{t('map.title')}</h2>
            <StationMap devices={st.devices} gateways={st.gateways} onStation={(d) => navigate(devicePath(d))} />
          </section>
        </div>
      ) : null}
    </div>
  );
}
