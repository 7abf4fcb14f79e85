import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/backoff.js';

test('Backoff.delay(attempt) is the same schedule as next(), from a count kept elsewhere (a durable queue)', () => {
  const hi = new Backoff(1000, 10_000, () => 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => hi.delay(a)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(hi.attempts, 0, 'delay() counts nothing');
  const seq = new Backoff(1000, 10_000, () => 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(() => seq.next()), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  const lo = new Backoff(1000, 10_000, () => 0);
  assert.equal(lo.delay(7), 1000, 'full jitter: never below initialMs');
  assert.equal(hi.delay(1e6), 10_000, 'a huge attempt count does not overflow');
  assert.equal(hi.delay(-1), 1000);
});
