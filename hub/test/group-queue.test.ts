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
  let clock = 0n;
  const seqs = new Map<string, number>();
  const q = new GroupQueue({
    bounds: { maxBatches: 64, maxReadings: 2000, maxWaitMs: 250, ...o.bounds },
    urgentLane: o.urgentLane ?? true,
    commit: (g) => void groups.push(g.map((p) => `${p.gw}#${p.batch.seq[0]}`)),
    defer: (fn) => void turns.push(fn),
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
  const advance = (ms: number) => {
    clock += BigInt(ms) * MS;
  };
  return { q, groups, batch, turn, advance };
}

test('an urgent batch is committed at once, in a group of its own, ahead of routine batches queued before it', () => {
  const { q, groups, batch, turn } = rig();
  q.push(batch('a'), false);
  q.push(batch('b'), false);
  q.push(batch('c'), true);
  assert.deepEqual(groups, [['c#1']]);
  turn();
  assert.deepEqual(groups, [['c#1'], ['a#1', 'b#1']], 'the routine ones at the end of the turn, all of them');
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
  assert.deepEqual(groups, [['a#1', 'a#4', 'a#6'], ['b#1']]);
});

test('routine batches: one bounded group per turn, so that what arrives meanwhile is read between groups; all committed once, in order', () => {
  const { q, groups, batch, turn } = rig({ bounds: { maxBatches: 2 } });
  for (let i = 0; i < 5; i++) q.push(batch('a'), false);
  assert.deepEqual(groups, [], 'nothing while input keeps coming');
  turn();
  assert.deepEqual(groups, [['a#1', 'a#2']]);
  q.push(batch('u'), true);
  assert.deepEqual(groups.at(-1), ['u#1'], 'an urgent batch between two groups of a long burst');
  turn();
  turn();
  turn();
  assert.deepEqual(groups, [['a#1', 'a#2'], ['u#1'], ['a#3', 'a#4'], ['a#5']]);
  assert.equal(q.size, 0);
});

test('a group stays within maxReadings without splitting a batch', () => {
  const { q, groups, batch, turn } = rig({ bounds: { maxReadings: 5 } });
  q.push(batch('a', 3), false);
  q.push(batch('b', 2), false);
  q.push(batch('c', 8), false);
  q.push(batch('d', 1), false);
  for (let i = 0; i < 4; i++) turn();
  assert.deepEqual(groups, [['a#1', 'b#1'], ['c#1'], ['d#1']]);
});

test('while input never pauses, a routine batch waits at most maxWaitMs', () => {
  const { q, groups, batch, advance } = rig();
  q.push(batch('a'), false);
  advance(249);
  q.push(batch('b'), false);
  assert.deepEqual(groups, []);
  advance(1);
  q.push(batch('c'), false);
  assert.deepEqual(groups, [['a#1', 'b#1', 'c#1']]);
});

test('flush() writes everything queued now, in arrival order, in bounded groups', () => {
  const { q, groups, batch, turn } = rig({ bounds: { maxBatches: 2 } });
  for (const gw of ['a', 'b', 'a', 'c', 'b']) q.push(batch(gw), false);
  q.flush();
  assert.deepEqual(groups, [['a#1', 'b#1'], ['a#2', 'c#1'], ['b#2']]);
  turn();
  assert.equal(groups.length, 3, 'nothing left for the end of the turn');
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
