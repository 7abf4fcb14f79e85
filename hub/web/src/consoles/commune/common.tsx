/** Pieces both commune pages show: a device's link state and its battery. */
import type { DeviceView } from '../../api/types.js';
import { fmtAge } from '../../format.js';
import { t } from '../../i18n/index.js';
import { BATTERY_METRICS, fmtValue, type GatewayLink } from '../../ui/map/stations.js';

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
