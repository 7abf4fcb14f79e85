/**
 * Outbox insert cost (edge/src/outbox): what writing every reading to SQLite before anything else
 * costs the gateway.
 *
 * 1. append() alone: appends/s and µs per reading for polls of 1, 10 and 100 readings, with
 *    synchronous = NORMAL and FULL (WAL both). FULL fsyncs the WAL on every commit.
 * 2. The send side: readRun(500) + ack() per batch — the rest of a row's life in the outbox.
 * 3. Share of the gateway's CPU: the real Outbox + Uplink streaming to a real hub (child process),
 *    at a field rate and flat out; time inside append() (and inside readRun/ack) against the
 *    process's total CPU time over the same window.
 *
 * Run: npm run bench -- outbox
 */
import { join } from 'node:path';
import { Outbox } from '../../edge/src/outbox/index.js';
import type { Reading } from '@ioc/shared';
import {
  Field, GATEWAYS, benchPki, cpuMsSince, fmt, machineBusyMs, freshDir, heading, pct, quantile, removeDir, saveResults, seconds, sleep, table, wallNow, warnIfBusy,
} from './lib/common.js';
import { openGateway } from './lib/gateway.js';
import { Peer } from './lib/peer.js';
import { Producer, type ProducerMode } from './lib/producer.js';

type Sync = 'NORMAL' | 'FULL';
const SYNCS: Sync[] = ['NORMAL', 'FULL'];
const POLL_SIZES = [1, 10, 100];

console.log('# outbox.bench — outbox insert cost, NORMAL vs FULL, share of the gateway CPU');
await warnIfBusy();

// --- 1. append alone -----------------------------------------------------------------------------

interface InsertRow {
  sync: Sync;
  pollSize: number;
  appends: number;
  appendsPerS: number;
  readingsPerS: number;
  usPerAppend: number;
  usPerReading: number;
  cpuUsPerReading: number;
}

function measureInsert(sync: Sync, pollSize: number, secs: number): InsertRow {
  const dir = freshDir(`outbox-insert-${sync}-${pollSize}`);
  const ob = Outbox.open({ path: join(dir, 'outbox.db'), synchronous: sync });
  const field = new Field(0);
  const pool: Array<{ readings: Reading[]; alerting: boolean[] }> = Array.from({ length: 256 }, () => field.poll(pollSize));
  for (let i = 0; i < 200; i++) ob.append(pool[i % 256]!.readings, pool[i % 256]!.alerting);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  let t = t0;
  while (t < end) {
    const p = pool[n % 256]!;
    ob.append(p.readings, p.alerting);
    n++;
    if ((n & 7) === 0) t = performance.now();
  }
  t = performance.now();
  const cpu = cpuMsSince(c0);
  ob.close();
  removeDir(dir);
  const ms = t - t0;
  return {
    sync, pollSize, appends: n,
    appendsPerS: (n / ms) * 1000,
    readingsPerS: ((n * pollSize) / ms) * 1000,
    usPerAppend: (ms * 1000) / n,
    usPerReading: (ms * 1000) / (n * pollSize),
    cpuUsPerReading: (cpu * 1000) / (n * pollSize),
  };
}

heading('1. append() alone (fresh outbox on the repository disk, readings pre-built)');
const insert: InsertRow[] = [];
for (const sync of SYNCS) for (const size of POLL_SIZES) insert.push(measureInsert(sync, size, seconds(1.5)));
const normalOf = (size: number) => insert.find((r) => r.sync === 'NORMAL' && r.pollSize === size)!;
table(
  ['synchronous', 'poll', 'appends/s', 'readings/s', 'µs/append', 'µs/reading', 'CPU µs/reading', 'vs NORMAL'],
  insert.map((r) => [
    r.sync, r.pollSize, fmt(r.appendsPerS), fmt(r.readingsPerS), fmt(r.usPerAppend, 1), fmt(r.usPerReading, 2),
    fmt(r.cpuUsPerReading, 2), r.sync === 'NORMAL' ? '1.00×' : `${fmt(r.usPerAppend / normalOf(r.pollSize).usPerAppend, 2)}×`,
  ]),
);
console.log('(FULL = one WAL fsync per append: its µs/append is mostly the disk\'s flush latency, the event loop waits meanwhile.)');

// --- 2. send side -------------------------------------------------------------------------------

interface SendRow { sync: Sync; rows: number; usPerReadingRead: number; usPerReadingAck: number }

function measureSendSide(sync: Sync, rows: number): SendRow {
  const dir = freshDir(`outbox-send-${sync}`);
  const ob = Outbox.open({ path: join(dir, 'outbox.db'), synchronous: sync });
  const field = new Field(0);
  for (let i = 0; i < rows; i += 1000) {
    const p = field.poll(1000);
    ob.append(p.readings, p.alerting);
  }
  let readMs = 0;
  let ackMs = 0;
  let after = 0;
  for (;;) {
    const t0 = performance.now();
    const run = ob.readRun(after, 500);
    const t1 = performance.now();
    readMs += t1 - t0;
    if (!run) break;
    ob.ack(run.last);
    ackMs += performance.now() - t1;
    after = run.last;
  }
  ob.close();
  removeDir(dir);
  return { sync, rows, usPerReadingRead: (readMs * 1000) / rows, usPerReadingAck: (ackMs * 1000) / rows };
}

heading('2. send side: readRun(500) + ack() per batch of 500');
const send = SYNCS.map((s) => measureSendSide(s, 200_000));
table(
  ['synchronous', 'rows', 'readRun µs/reading', 'ack µs/reading', 'total µs/reading'],
  send.map((r) => [r.sync, fmt(r.rows), fmt(r.usPerReadingRead, 2), fmt(r.usPerReadingAck, 2), fmt(r.usPerReadingRead + r.usPerReadingAck, 2)]),
);

// --- 3. share of the gateway's CPU during a steady run -------------------------------------------

interface ShareRow {
  run: string;
  sync: Sync;
  readingsPerS: number;
  ackedPerS: number;
  /** CPU time / wall time (1 = one core). */
  gwCpu: number;
  hubCpu: number;
  /** CPU inside append() / gateway process CPU. */
  appendShare: number;
  /** CPU inside append + readRun + ack / gateway process CPU. */
  outboxShare: number;
  cpuUsPerReadingAppend: number;
  /** Wall time the event loop spent inside append() / elapsed wall time. */
  appendBlocked: number;
  /** CPU of every other process during the window (1 = one core): noise. */
  otherCpu: number;
  latencyP50: number;
  latencyP99: number;
}

const pki = benchPki();
heading('3. share of the gateway CPU while readings stream to a real hub (hub in a child process)');
const hubDir = freshDir('outbox-share-hub');
const hub = await Peer.start({ mode: 'hub', dataDir: hubDir, pki });
const share: ShareRow[] = [];
const FIELD = 'field rate: polls of 10 every 10 ms';
const FLAT = 'flat out: polls of 20';
const runs: Array<{ name: string; sync: Sync; mode: ProducerMode; secs: number }> = [
  { name: FIELD, sync: 'NORMAL', mode: { mode: 'rate', chunk: 10, everyMs: 10 }, secs: seconds(4) },
  { name: FIELD, sync: 'FULL', mode: { mode: 'rate', chunk: 10, everyMs: 10 }, secs: seconds(4) },
  { name: FLAT, sync: 'NORMAL', mode: { mode: 'saturate', chunk: 20, highWater: 16_000 }, secs: seconds(4) },
  { name: FLAT, sync: 'FULL', mode: { mode: 'saturate', chunk: 20, highWater: 16_000 }, secs: seconds(4) },
];
let gi = 0;
try {
  for (const r of runs) {
    const gwId = GATEWAYS[gi]!;
    const gwDir = freshDir(`outbox-share-gw-${gi}`);
    const g = openGateway({ dir: gwDir, port: hub.port, pki, gw: gwId, synchronous: r.sync });
    await g.connect();
    const producer = new Producer(g, new Field(gi), r.mode);
    gi++;
    producer.start();
    await sleep(1000);
    producer.resetMeter();
    const a0 = g.outbox.ackedUpTo;
    const h0 = await hub.stats();
    const c0 = process.cpuUsage();
    const m0 = machineBusyMs();
    const t0 = wallNow();
    await sleep(r.secs * 1000);
    const cpu = cpuMsSince(c0);
    const m1 = machineBusyMs();
    const h1 = await hub.stats();
    const ms = wallNow() - t0;
    const acked = g.outbox.ackedUpTo - a0;
    const m = { ...producer.meter };
    const lat = [...producer.latencies].sort((a, b) => a - b);
    producer.stop();
    await g.close();
    removeDir(gwDir);
    share.push({
      run: r.name, sync: r.sync,
      readingsPerS: (m.readings / ms) * 1000,
      ackedPerS: (acked / ms) * 1000,
      gwCpu: cpu / ms,
      hubCpu: (h1.cpuMs - h0.cpuMs) / (h1.t - h0.t),
      appendShare: m.appendCpuMs / cpu,
      outboxShare: (m.appendCpuMs + m.readRunCpuMs + m.ackCpuMs) / cpu,
      cpuUsPerReadingAppend: (m.appendCpuMs * 1000) / m.readings,
      appendBlocked: m.appendWallMs / ms,
      otherCpu: Math.max(0, (m1 - m0 - cpu - (h1.cpuMs - h0.cpuMs)) / ms),
      latencyP50: quantile(lat, 0.5),
      latencyP99: quantile(lat, 0.99),
    });
  }
} finally {
  await hub.close();
  removeDir(hubDir);
}
table(
  ['run', 'sync', 'appended/s', 'acked/s', 'gateway CPU', 'hub CPU', 'other CPU', 'append share', 'outbox share', 'CPU µs/reading', 'loop in append', 'p50 ms', 'p99 ms'],
  share.map((s) => [
    s.run, s.sync, fmt(s.readingsPerS), fmt(s.ackedPerS), pct(s.gwCpu), pct(s.hubCpu), pct(s.otherCpu), pct(s.appendShare, 1), pct(s.outboxShare, 1),
    fmt(s.cpuUsPerReadingAppend, 2), pct(s.appendBlocked, 1), fmt(s.latencyP50, 1), fmt(s.latencyP99, 1),
  ]),
);
console.log(`gateway / hub CPU: user+system time of the process over the window / wall time (100 % = one core);
  other CPU: every other process on the machine meanwhile (above ~10 % the row was disturbed).
append share: CPU time taken around each append() / the gateway process's CPU time over the same window
  (process.cpuUsage() before and after every call). outbox share adds the uplink's readRun() and ack().
CPU µs/reading: CPU inside append() per reading. loop in append: wall time inside append() / elapsed time
  (with FULL most of it is waiting for the WAL fsync; the event loop is blocked meanwhile).
p50 / p99: append → the hub's ack back at the gateway (the reading is committed at the hub), field-rate runs.`);

const n10 = normalOf(10);
const f10 = insert.find((r) => r.sync === 'FULL' && r.pollSize === 10)!;
console.log(`\nsummary: a poll of 10 costs ${fmt(n10.usPerAppend, 1)} µs with NORMAL, ${fmt(f10.usPerAppend, 1)} µs with FULL (${fmt(f10.usPerAppend / n10.usPerAppend, 1)}×).`);

saveResults('outbox', { insert, send, share });
