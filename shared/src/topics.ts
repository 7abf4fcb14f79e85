/** v1 MQTT topic tree (DESIGN.md, wire contract). One builder and one parser, so the two never drift. */

export const TOPIC_ROOT = 'ioc/v1';
export const GATEWAY_ID_PATTERN = '^[a-z0-9-]{3,64}$';
const gatewayIdRe = new RegExp(GATEWAY_ID_PATTERN);

export type GatewayTopicKind =
  | 'telemetry'
  | 'ack'
  | 'status'
  | 'events'
  | 'config'
  | 'config/applied'
  | 'cmd'
  | 'cmd/result'
  | 'cert/csr'
  | 'cert';

export const GATEWAY_TOPIC_KINDS: readonly GatewayTopicKind[] = [
  'telemetry', 'ack', 'status', 'events', 'config', 'config/applied', 'cmd', 'cmd/result', 'cert/csr', 'cert',
];

/** Which side publishes each kind: the per-gateway ACL is derived from this table. */
export const PUBLISHED_BY: Record<GatewayTopicKind, 'gateway' | 'hub'> = {
  telemetry: 'gateway',
  status: 'gateway',
  events: 'gateway',
  'config/applied': 'gateway',
  'cmd/result': 'gateway',
  /** Certificate renewal: the gateway's CSR over its mutual-TLS link, the hub's signed answer. */
  'cert/csr': 'gateway',
  ack: 'hub',
  cert: 'hub',
  config: 'hub',
  cmd: 'hub',
};

export function isGatewayId(id: string): boolean {
  return gatewayIdRe.test(id);
}

export function gatewayTopic(gw: string, kind: GatewayTopicKind): string {
  if (!isGatewayId(gw)) throw new Error(`invalid gateway id "${gw}": must match ${GATEWAY_ID_PATTERN}`);
  return `${TOPIC_ROOT}/${gw}/${kind}`;
}

export function alertsTopic(areaCode: string): string {
  return `${TOPIC_ROOT}/alerts/${areaCode}`;
}

/** Subscription filter for one kind from every gateway, e.g. `ioc/v1/+/telemetry`. */
export function gatewayTopicFilter(kind: GatewayTopicKind): string {
  return `${TOPIC_ROOT}/+/${kind}`;
}

export interface ParsedGatewayTopic {
  gw: string;
  kind: GatewayTopicKind;
}

/** Parses `ioc/v1/{gw}/{kind}`; returns null for anything that is not a v1 gateway topic. */
export function parseGatewayTopic(topic: string): ParsedGatewayTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const gw = rest.slice(0, slash);
  const kind = rest.slice(slash + 1) as GatewayTopicKind;
  if (gw === 'alerts' || !isGatewayId(gw)) return null;
  if (!GATEWAY_TOPIC_KINDS.includes(kind)) return null;
  return { gw, kind };
}
