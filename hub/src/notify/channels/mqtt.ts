/**
 * MQTT channel: publishes the notification (JSON, QoS 1, not retained) on
 * `ioc/v1/alerts/{communeCode}` — the province code when the alert has no commune — through the
 * hub's own broker, for the province's other systems subscribed there.
 *
 * Delivered means the broker took the message (aedes has passed it to every matching subscriber;
 * QoS 1 carries it on to each of them). An alert with no area code cannot be published: a
 * permanent failure. A broker error is retried.
 */
import { Type, type Static } from '@sinclair/typebox';
import { alertsTopic } from '@ioc/shared';
import type { ChannelCommon, Notifier, NotifierType } from '../types.js';

export const MqttOptions = Type.Object({
  /** Which area code names the topic: the commune (default) or the province. */
  area: Type.Union([Type.Literal('commune'), Type.Literal('province')], { default: 'commune' }),
});
export type MqttOptions = Static<typeof MqttOptions>;

const AREA_CODE = /^[0-9]{2}([0-9]{3})?$/;

export const mqttChannel: NotifierType<MqttOptions> = {
  type: 'mqtt',
  options: MqttOptions,

  create(c: ChannelCommon & MqttOptions, deps): Notifier {
    const bus = deps.bus;
    return {
      id: c.id,
      type: 'mqtt',
      async deliver(n, ctx) {
        try {
          if (!bus) return { ok: false, permanent: false, error: 'not sent: no MQTT broker in this hub' };
          if (ctx.signal.aborted) return { ok: false, permanent: false, error: 'not sent: the hub is stopping' };
          const code = c.area === 'province' ? n.area.provinceCode : n.area.communeCode ?? n.area.provinceCode;
          if (!code || !AREA_CODE.test(code)) return { ok: false, permanent: true, error: `no area code to publish under (commune ${n.area.communeCode}, province ${n.area.provinceCode})` };
          const topic = alertsTopic(code);
          await bus.publish(topic, JSON.stringify({ version: 1, ...n }), { qos: 1, retain: false });
          return { ok: true, detail: topic };
        } catch (err) {
          return { ok: false, permanent: false, error: `publish failed: ${(err as Error).message}` };
        }
      },
      async close() {},
    };
  },
};
