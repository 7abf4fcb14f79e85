/**
 * Stream messages applied in batches (ui/coalesce.ts): nothing lost or reordered, at most one
 * batch per interval under a steady stream, the first change after a quiet spell and an urgent
 * one applied in the next frame rather than after the interval.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { coalesce } from '../src/ui/coalesce.js';

before(() => {
  // Node has no frames: one every 16 ms.
  Object.assign(globalThis, {
    requestAnimationFrame: (f: (t: number) => void) => setTimeout(() => f(performance.now()), 16),
    cancelAnimationFrame: (h: ReturnType<typeof setTimeout>) => clearTimeout(h),
  });
});

test('a steady stream: every message once, in order, at most one batch per interval', async () => {
  const batches: Array<{ at: number; items: number[] }> = [];
  const c = coalesce<number>((items) => batches.push({ at: performance.now(), items }), 250);
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    c.push(i);
    await sleep(8);
  }
  await sleep(400);
  assert.deepEqual(batches.flatMap((b) => b.items), Array.from({ length: 100 }, (_, i) => i));
  const span = batches.at(-1)!.at - t0;
  assert.ok(batches.length <= Math.ceil(span / 250) + 1, `${batches.length} batches in ${Math.round(span)} ms`);
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.at - batches[i - 1]!.at >= 240, 'batches an interval apart');
});

test('the first change after a quiet spell, and an urgent one, come in the next frame', async () => {
  const batches: number[][] = [];
  const c = coalesce<number>((items) => batches.push(items), 250);
  c.push(1);
  await sleep(60);
  assert.deepEqual(batches, [[1]], 'first change: next frame');
  c.push(2);
  await sleep(60);
  assert.deepEqual(batches, [[1]], 'within the interval: held back');
  c.push(3, true);
  await sleep(60);
  assert.deepEqual(batches, [[1], [2, 3]], 'urgent: next frame, with what was waiting');
  c.push(4);
  c.cancel();
  await sleep(300);
  assert.deepEqual(batches, [[1], [2, 3]], 'cancelled: dropped');
});
