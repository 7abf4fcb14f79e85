/** Pieces both commune pages show: a device's link state, its last values and its battery. */
import type { DeviceView } from '../../api/types.js';
import { fmtAge } from '../../format.js';
import { t } from '../../i18n/index.js';
import { BATTERY_METRICS, fmtValue, metricLabel, type GatewayLink } from '../../ui/map/stations.js';

export function LinkState(props: { d: DeviceView; gateways: ReadonlyMap<string, GatewayLink> }) {
  const gw = props.gateways.get(props.d.gateway);
  const online = gw?.online ?? false;
  return (
    <span class={online ? 'link-on' : 'link-off'} data-online={online ? '1' : '0'}>
      <span aria-hidden="true">{online ? '●' : '⊘'}</span> {online ? t('common.online') : t('common.offline')}
      {!online && gw?.lastSeen ? <span class="muted"> · {fmtAge(gw.lastSeen)}</span> : null}
    </span>
  );
}

export function Battery(props: { d: DeviceView }) {
  const m = BATTERY_METRICS.find((k) => props.d.latest[k]);
  const v = m ? props.d.latest[m] : undefined;
  return <span data-testid="battery">{v ? fmtValue(v) : '—'}</span>;
}

/** Each metric's last value and its age, or "no value yet". */
export function LastValues(props: { d: DeviceView; metrics: readonly string[]; now: number }) {
  const { d, now } = props;
  if (!props.metrics.length) return <span class="muted">{t('commune.noValue')}</span>;
  return (
    <ul class="metric-values">
      {props.metrics.map((m) => (
        <li key={m}>
          {metricLabel(m)}: <strong>{fmtValue(d.latest[m])}</strong> <span class="muted">· {fmtAge(d.latest[m]!.ts, now)}</span>
        </li>
      ))}
    </ul>
  );
}
