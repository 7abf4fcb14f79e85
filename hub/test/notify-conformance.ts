/**
 * The conformance suite every notification channel passes (hub/src/notify/channels/*): it
 * delivers and the receiver has what was sent, it reports its failure classes (transient →
 * retried, permanent → dead letter), and it never throws past its boundary — an aborted attempt,
 * a hostile notification, a closed channel all come back as outcomes.
 *
 * A channel's harness starts a real receiver (HTTP server, SMTP server, MQTT broker and client).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryContext, Notification, Notifier } from '../src/notify/types.js';
import { notification } from './notify-fixtures.js';
import { until } from '../../test/lib/until.js';

export interface HarnessContext {
  after(fn: () => unknown): void;
}

export interface ChannelRig {
  notifier: Notifier;
  /** Notification ids the receiver has got so far. */
  received(): string[];
}

export interface ChannelHarness {
  type: string;
  /** A channel and a receiver that accepts. */
  working(t: HarnessContext): Promise<ChannelRig>;
  /** A channel whose delivery must fail and be worth retrying (receiver down, busy, timing out…). */
  transient(t: HarnessContext): Promise<{ notifier: Notifier; notification?: Notification }>;
  /** A channel and notification the receiver refuses for good (absent: the channel has no such class). */
  permanent?(t: HarnessContext): Promise<{ notifier: Notifier; notification?: Notification }>;
}

let deliveryId = 0;
export function ctx(signal: AbortSignal = new AbortController().signal): DeliveryContext {
  return { deliveryId: ++deliveryId, attempt: 1, signal };
}

/** A notification made to trip a careless channel: markup, header injection, no area, odd sizes. */
export function hostileNotification(): Notification {
  return notification({
    id: 'alert-9/raised/1/1',
    alertId: 9,
    dev: null,
    message: { vi: `<script>x</script>\r\nBcc: evil@example.com\r\n${'Đ'.repeat(5000)}`, en: '\u0000\u001b[31mred' },
    area: { communeCode: null, provinceCode: null },
    alert: { nested: { deep: [1, 'two', null] } },
  });
}

export function channelConformance(h: ChannelHarness): void {
  test(`${h.type} channel conformance: delivers, and the receiver has exactly what was sent`, async (t) => {
    const rig = await h.working(t);
    const a = notification({ ts: 1_700_000_000_001 });
    const b = notification({ ts: 1_700_000_000_002, eventKind: 'escalated', level: 3, peakLevel: 3, severity: 'severe', peakSeverity: 'severe' });
    const oa = await rig.notifier.deliver(a, ctx());
    assert.equal(oa.ok, true, JSON.stringify(oa));
    const ob = await rig.notifier.deliver(b, ctx());
    assert.equal(ob.ok, true, JSON.stringify(ob));
    await until(() => rig.received().includes(a.id) && rig.received().includes(b.id), 'both notifications at the receiver');
    assert.equal(rig.received().filter((id) => id === a.id).length, 1);
    await rig.notifier.close();
  });

  test(`${h.type} channel conformance: a failure worth retrying is reported transient`, async (t) => {
    const { notifier, notification: n } = await h.transient(t);
    const o = await notifier.deliver(n ?? notification(), ctx());
    assert.equal(o.ok, false);
    assert.ok(!o.ok && o.permanent === false, JSON.stringify(o));
    assert.ok(!o.ok && o.error.length > 0 && o.error.length <= 1000);
    await notifier.close();
  });

  if (h.permanent) {
    const permanent = h.permanent;
    test(`${h.type} channel conformance: a refusal for good is reported permanent`, async (t) => {
      const { notifier, notification: n } = await permanent(t);
      const o = await notifier.deliver(n ?? notification(), ctx());
      assert.ok(!o.ok && o.permanent === true, JSON.stringify(o));
      assert.ok(!o.ok && o.error.length > 0);
      await notifier.close();
    });
  }

  test(`${h.type} channel conformance: never throws past its boundary (aborted, hostile input, closed)`, async (t) => {
    const rig = await h.working(t);
    const aborted = new AbortController();
    aborted.abort();
    const outcomes = [
      await rig.notifier.deliver(notification({ ts: 1_700_000_000_003 }), ctx(aborted.signal)),
      await rig.notifier.deliver(hostileNotification(), ctx()),
    ];
    await rig.notifier.close();
    await rig.notifier.close();
    outcomes.push(await rig.notifier.deliver(notification({ ts: 1_700_000_000_004 }), ctx()));
    for (const o of outcomes) assert.equal(typeof o.ok, 'boolean', JSON.stringify(o));
    assert.equal(outcomes[0]!.ok, false, 'an aborted attempt is not reported delivered');
  });
}
