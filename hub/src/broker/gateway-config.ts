/**
 * What the hub tells each gateway about itself, retained on ioc/v1/{gw}/config (hub → gateway;
 * payload GatewayConfigMessage in shared/schemas.ts). Today its limits: a gateway keeps every
 * payload under the hub's mqtt.maxPayloadBytes, so a hub configured below the gateway's batch size
 * slows the gateway down instead of wedging it in a resend loop (an oversized publish closes the
 * connection, and the gateway would resend the same batch forever).
 *
 * Published at every start (aedes keeps retained messages in memory only): a gateway connecting
 * later gets it with its subscription, one connected already gets it live.
 */
import { WIRE_VERSION, gatewayTopic, type GatewayConfigMessage } from '@ioc/shared';
import type { Bus } from './bus.js';

export async function announceGatewayConfig(bus: Bus, gateways: Iterable<string>, limits: { maxPayloadBytes: number }): Promise<void> {
  const payload = JSON.stringify({ v: WIRE_VERSION, limits: { maxPayloadBytes: limits.maxPayloadBytes } } satisfies GatewayConfigMessage);
  await Promise.all([...gateways].map((gw) => bus.publish(gatewayTopic(gw, 'config'), payload, { qos: 1, retain: true })));
}
