/**
 * Stream messages applied in batches (ui/coalesce.ts): nothing lost or reordered, at most one
 * batch per interval under a steady stream, the first change after a quiet spell and an urgent
 * one applied in the next frame rather than after the interval, and in a hidden tab (no frames)
 * still applied. On a simulated clock: the test does not depend on how busy the machine is.
 */
import { test, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce } from '../src/ui/coalesce.js';

let now = 0;
const realNow = performance.now.bind(performance);
const g = globalThis as Record<string, unknown>;

beforeEach(() => {
  now = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
  performance.now = () => now;
  // A visible tab: a frame every 16 ms (of the simulated clock).
  g.requestAnimationFrame = (f: (t: number) => void) => setTimeout(() => f(now), 16);
  g.cancelAnimationFrame = (h: ReturnType<typeof setTimeout>) => clearTimeout(h);
  g.window = globalThis;
  delete g.document;
});

afterEach(() => {
  mock.timers.reset();
  performance.now = realNow;
  for (const k of ['requestAnimationFrame', 'cancelAnimationFrame', 'window', 'document']) delete g[k];
});

/** Moves the simulated clock on by `ms`, a millisecond at a time, firing what falls due. */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) {
    now += 1;
    mock.timers.tick(1);
  }
}

test('a steady stream: every message once, in order, at most one batch per interval', () => {
  const batches: Array<{ at: number; items: number[] }> = [];
  const c = coalesce<number>((items) => batches.push({ at: now, items }), 250);
  for (let i = 0; i < 100; i++) {
    c.push(i);
    advance(8);
  }
  advance(400);
  assert.deepEqual(batches.flatMap((b) => b.items), Array.from({ length: 100 }, (_, i) => i));
  assert.ok(batches.length <= Math.ceil(1200 / 250) + 1, `${batches.length} batches`);
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.at - batches[i - 1]!.at >= 250, 'batches an interval apart');
});

test('the first change after a quiet spell, and an urgent one, come in the next frame', () => {
  const batches: number[][] = [];
  const c = coalesce<number>((items) => batches.push(items), 250);
  c.push(1);
  advance(20);
  assert.deepEqual(batches, [[1]], 'first change: next frame');
  c.push(2);
  advance(60);
  assert.deepEqual(batches, [[1]], 'within the interval: held back');
  c.push(3, true);
  advance(20);
  assert.deepEqual(batches, [[1], [2, 3]], 'urgent: next frame, with what was waiting');
  c.push(4);
  c.cancel();
  advance(300);
  assert.deepEqual(batches, [[1], [2, 3]], 'cancelled: dropped');
});

test('a hidden tab gets no frames: changes are still applied, an urgent one at once', () => {
  g.document = { hidden: true };
  g.requestAnimationFrame = () => 0; // never called back, as in a background tab
  const batches: number[][] = [];
  const c = coalesce<number>((items) => batches.push(items), 250);
  c.push(1, true);
  advance(1);
  assert.deepEqual(batches, [[1]], 'urgent: at once');
  c.push(2);
  advance(100);
  assert.deepEqual(batches, [[1]], 'routine: held back for the interval');
  advance(200);
  assert.deepEqual(batches, [[1], [2]], 'routine: after the interval');
  c.push(3, true);
  c.cancel();
  advance(10);
  assert.deepEqual(batches, [[1], [2]], 'cancelled: dropped');
});
