/**
 * The telemetry group queue alone (no store): which batches are committed together and when, with
 * the event loop's turns and the clock in the test's hands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '@ioc/shared';
import type { GroupBounds } from '../src/ingest/group-bounds.js';
import { GroupQueue } from '../src/ingest/group-queue.js';
import type { PendingTelemetry } from '../src/ingest/pending.js';

const MS = 1_000_000n;

function rig(o: { urgentLane?: boolean; bounds?: Partial<GroupBounds> } = {}) {
  const groups: string[][] = [];
  const turns: Array<() => void> = [];
  const timers: Array<{ at: bigint; fn: () => void }> = [];
  let clock = 0n;
  const seqs = new Map<string, number>();
  const q = new GroupQueue({
    bounds: { maxBatches: 64, maxReadings: 2000, maxWaitMs: 250, quietMs: 5, ...o.bounds },
    urgentLane: o.urgentLane ?? true,
    commit: (g) => void groups.push(g.map((p) => `${p.gw}#${p.batch.seq[0]}`)),
    defer: (fn) => void turns.push(fn),
    after: (ms, fn) => void timers.push({ at: clock + BigInt(Math.ceil(ms * 1e6)), fn }),
    now: () => clock,
  });
  /** A batch of `n` readings from `gw`, seqs following its previous one; named "gw#firstSeq". */
  const batch = (gw: string, n = 1): PendingTelemetry => {
    const first = seqs.get(gw) ?? 1;
    seqs.set(gw, first + n);
    const readings = Array.from({ length: n }, () => ({}) as Reading);
    return { gw, batch: { v: 1, gw, seq: [first, first + n - 1], readings }, started: clock };
  };
  /** The end of an event-loop turn: what was deferred runs (what it defers waits for the next). */
  const turn = () => {
    for (const fn of turns.splice(0)) fn();
  };
  /** Time passes: timers that fall due run, in order (what they set runs when it falls due too). */
  const advance = (ms: number) => {
    const until = clock + BigInt(ms) * MS;
    for (;;) {
      timers.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      if (!timers.length || timers[0]!.at > until) break;
      const t = timers.shift()!;
      if (t.at > clock) clock = t.at;
      t.fn();
    }
    clock = until;
  };
  return { q, groups, batch, turn, advance };
}

test('an urgent batch is committed at once, in a group of its own, ahead of routine batches queued before it', () => {
  const { q, groups, batch, turn, advance } = rig();
  q.push(batch('a'), false);
  q.push(batch('b'), false);
  q.push(batch('c'), true);
  assert.deepEqual(groups, [['c#1']]);
  turn();
  advance(4);
  assert.deepEqual(groups, [['c#1']], 'routine batches wait for a pause in input');
  advance(1);
  assert.deepEqual(groups, [['c#1'], ['a#1', 'b#1']], 'then all of them, in one group');
});

test("an urgent batch takes its own gateway's queued batches along, before it: a gateway's batches stay in order", () => {
  const { q, groups, batch, turn } = rig();
  q.push(batch('a', 3), false);
  q.push(batch('b'), false);
  q.push(batch('a', 2), false);
  q.push(batch('a'), true);
  assert.deepEqual(groups, [['a#1', 'a#4', 'a#6']]);
  assert.equal(q.size, 1);
  turn();
  assert.deepEqual(groups, [['a#1', 'a#4', 'a#6'], ['b#1']], 'a sent again before its batch was written: no wait for a pause');
});

test('a burst is read whole before routine commits: an urgent batch late in it is committed first', () => {
  const { q, groups, batch, turn, advance } = rig({ bounds: { maxBatches: 2 } });
  // Gateways in step: a batch every millisecond, turns ending between them.
  for (let i = 0; i < 20; i++) {
    q.push(batch(`g${i}`), false);
    turn();
    advance(1);
  }
  assert.deepEqual(groups, [], 'nothing while input keeps coming');
  q.push(batch('u'), true);
  assert.deepEqual(groups, [['u#1']]);
  advance(3);
  assert.equal(groups.length, 1, 'the pause is counted from the last routine batch');
  advance(1);
  assert.deepEqual(groups, [['u#1'], ['g0#1', 'g1#1']], 'the pause: the first group');
});

test('routine batches: one bounded group per turn after the pause, so that what arrives meanwhile is read between groups; all committed once, in order', () => {
  const { q, groups, batch, turn, advance } = rig({ bounds: { maxBatches: 2 } });
  for (let i = 0; i < 5; i++) q.push(batch(`g${i}`), false);
  turn();
  assert.deepEqual(groups, []);
  advance(5);
  assert.deepEqual(groups, [['g0#1', 'g1#1']]);
  q.push(batch('u'), true);
  assert.deepEqual(groups.at(-1), ['u#1'], 'an urgent batch between two groups');
  q.push(batch('b'), false);
  turn();
  turn();
  turn();
  assert.deepEqual(groups, [['g0#1', 'g1#1'], ['u#1'], ['g2#1', 'g3#1'], ['g4#1', 'b#1']], 'a routine batch arriving while groups are written follows them');
  assert.equal(q.size, 0);
  turn();
  advance(10);
  assert.equal(groups.length, 4, 'nothing written twice');
});

test('a group stays within maxReadings without splitting a batch', () => {
  const { q, groups, batch, turn, advance } = rig({ bounds: { maxReadings: 5 } });
  q.push(batch('a', 3), false);
  q.push(batch('b', 2), false);
  q.push(batch('c', 8), false);
  q.push(batch('d', 1), false);
  advance(5);
  for (let i = 0; i < 4; i++) turn();
  assert.deepEqual(groups, [['a#1', 'b#1'], ['c#1'], ['d#1']]);
});

test('while input never pauses, a routine batch waits at most maxWaitMs', () => {
  const { q, groups, batch, advance } = rig();
  const writtenAt: number[] = [];
  for (let t = 0; t < 260; t += 3) {
    q.push(batch(`g${t}`), false);
    advance(3);
    if (groups.length && !writtenAt.length) writtenAt.push(t + 3);
  }
  assert.ok(writtenAt[0]! >= 250 && writtenAt[0]! <= 255, `the first group was written at ${writtenAt[0]} ms`);
  assert.equal(groups[0]![0], 'g0#1');
  assert.equal(groups[0]!.length, 64, 'one bounded group; the rest follow turn by turn');
});

test('a gateway that sends again while its batch waits (a backlog draining) does not wait for a pause: one group per turn', () => {
  const { q, groups, batch, turn, advance } = rig({ bounds: { maxBatches: 2 } });
  q.push(batch('b'), false);
  q.push(batch('a'), false);
  turn();
  assert.deepEqual(groups, [], 'one batch each: a burst, read whole first');
  q.push(batch('a'), false);
  q.push(batch('a'), false);
  assert.deepEqual(groups, [], 'written after the turn, not inside it');
  turn();
  assert.deepEqual(groups, [['b#1', 'a#1']]);
  turn();
  assert.deepEqual(groups, [['b#1', 'a#1'], ['a#2', 'a#3']]);
  advance(10);
  turn();
  assert.equal(groups.length, 2, 'nothing written twice');
});

test('a streaming gateway whose batches arrive faster than a group per turn: once the oldest waited maxWaitMs, arrivals write groups as fast as they come', () => {
  const { q, groups, batch, advance } = rig({ bounds: { maxBatches: 2 } });
  // The turn never ends while its input is read: only arrivals can write.
  for (let t = 0; t < 300; t++) {
    q.push(batch('a'), false);
    advance(1);
  }
  assert.ok(groups.length >= 24, `${groups.length} groups written in the 50 ms after the first batch waited 250 ms`);
  assert.ok(q.size <= 252, `${q.size} batches queued: the queue stops growing at 250 ms of input`);
  assert.deepEqual(groups[0], ['a#1', 'a#2']);
});

test('quietMs 0: routine groups are written as soon as the turn ends, one per turn', () => {
  const { q, groups, batch, turn } = rig({ bounds: { maxBatches: 2, quietMs: 0 } });
  for (const gw of ['a', 'b', 'c']) q.push(batch(gw), false);
  assert.deepEqual(groups, []);
  turn();
  assert.deepEqual(groups, [['a#1', 'b#1']]);
  turn();
  assert.deepEqual(groups, [['a#1', 'b#1'], ['c#1']]);
});

test('flush() writes everything queued now, in arrival order, in bounded groups', () => {
  const { q, groups, batch, turn, advance } = rig({ bounds: { maxBatches: 2 } });
  for (const gw of ['a', 'b', 'a', 'c', 'b']) q.push(batch(gw), false);
  q.flush();
  assert.deepEqual(groups, [['a#1', 'b#1'], ['a#2', 'c#1'], ['b#2']]);
  turn();
  advance(300);
  assert.equal(groups.length, 3, 'nothing left for later');
});

test('without the urgent lane: no batch goes first; a group is written when full, else at the end of the turn (as before the lane)', () => {
  const { q, groups, batch, turn, advance } = rig({ urgentLane: false, bounds: { maxBatches: 3, maxWaitMs: 5 } });
  q.push(batch('a'), false);
  q.push(batch('b'), true);
  assert.deepEqual(groups, [], 'urgent or not, it waits');
  q.push(batch('c'), false);
  assert.deepEqual(groups, [['a#1', 'b#1', 'c#1']], 'full: written at once');
  q.push(batch('d'), false);
  advance(5);
  q.push(batch('e'), false);
  assert.deepEqual(groups.at(-1), ['d#1', 'e#1'], 'its first batch waited maxWaitMs');
  q.push(batch('f'), true);
  q.push(batch('g'), false);
  turn();
  assert.deepEqual(groups.at(-1), ['f#1', 'g#1'], 'the rest at the end of the turn, in one group');
});
