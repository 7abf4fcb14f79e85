/**
 * Drain after an outage: 1,000,000 readings wait in the outbox, then the link comes up.
 *
 * 1. Fill: the outbox gets 1,000,000 readings (polls of 1,000, timestamps spread over the ~3 h
 *    before now) while no hub is reachable; the fill rate is printed too.
 * 2. Reconnect: a fresh hub (child process) is started, a "before" probe reading is appended just
 *    before the uplink starts, an "at-connect" probe when the link comes up (the uplink's 'connect':
 *    TLS, CONNECT and the ack subscription done), and during the drain a poll of 10 readings plus
 *    one probe every 100 ms, as the drivers would keep producing.
 * 3. Measured: drain rate (1,000,000 / time from connect until the hub's ack covers the last backlog
 *    row, i.e. outbox rows deleted), the time from connect (and from start()) until each probe is
 *    stored at the hub (hub.live, reported by the child with a wall-clock stamp), and the live
 *    probes' append → stored latency while the backlog drains.
 *
 * Targets (issue 3): drain ≥ 50,000 readings/s; the first live reading at the hub within 1 s of
 * reconnect with 1,000,000 rows waiting.
 *
 * Run: npm run bench -- drain
 *   BENCH_DRAIN_ROWS=200000        a shorter run
 *   BENCH_DRAIN_SYNC=NORMAL        the other synchronous mode
 *   BENCH_DRAIN_LINK_KBPS=2000     a 2 Mbit/s link (each way) between gateway and hub, like a
 *                                  commune's cellular uplink (then the drain is link-bound; the
 *                                  figure of interest is the live probes' latency)
 *   BENCH_DRAIN_LINK_DELAY_MS=300  add this one-way delay to each direction of that link (round
 *                                  trip + 2 x 300 ms, like a satellite or VSAT hop; works with or
 *                                  without BENCH_DRAIN_LINK_KBPS)
 *   BENCH_DRAIN_MAX_INFLIGHT=64    override uplink.maxInflightBatches (default: the schema's)
 *   BENCH_DRAIN_CAP_ROWS=700000    fill through an outbox capped at this many rows: the oldest
 *                                  routine rows are dropped (and reported), so the backlog is the
 *                                  alerting rows left between dropped ranges, in short runs
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { Outbox } from '../../edge/src/outbox/index.js';
import {
  Field, GATEWAYS, QUICK, benchPki, cpuMsSince, fmt, machineBusyMs, freshDir, heading, pct, quantile, removeDir, saveResults, sleep, table, timeout, verdict, wallNow, warnIfBusy,
} from './lib/common.js';
import { DEFAULTS, SHIPPED_SYNC, openGateway } from './lib/gateway.js';
import { Peer, type ProbeReport } from './lib/peer.js';
import { SlowLink } from './lib/slow-link.js';

const ROWS = Number(process.env.BENCH_DRAIN_ROWS ?? (QUICK ? 200_000 : 1_000_000));
const SYNC = (process.env.BENCH_DRAIN_SYNC ?? SHIPPED_SYNC) as 'NORMAL' | 'FULL';
/** Optional: put a link of this many kbit/s (each way) between gateway and hub. */
const LINK_KBPS = Number(process.env.BENCH_DRAIN_LINK_KBPS ?? 0);
/** Optional: one-way delay in ms added to each direction of that link (RTT + 2 x this). */
const LINK_DELAY_MS = Number(process.env.BENCH_DRAIN_LINK_DELAY_MS ?? 0);
/** Optional: uplink.maxInflightBatches instead of the shipped default. */
const MAX_INFLIGHT = process.env.BENCH_DRAIN_MAX_INFLIGHT ? Number(process.env.BENCH_DRAIN_MAX_INFLIGHT) : undefined;
const CAP_ROWS = process.env.BENCH_DRAIN_CAP_ROWS ? Number(process.env.BENCH_DRAIN_CAP_ROWS) : undefined;
const LINK_LABEL = `${LINK_KBPS ? `${fmt(LINK_KBPS)} kbit/s` : LINK_DELAY_MS ? 'unlimited' : 'loopback'}${LINK_DELAY_MS ? ` + ${fmt(LINK_DELAY_MS)} ms each way` : ''}`;
const FILL_CHUNK = 1000;
const LIVE_EVERY_MS = 100;
const LIVE_POLL = 10;
const DRAIN_TIMEOUT_MS = 120_000;

const pki = benchPki();
const gwId = GATEWAYS[0]!;
const field = new Field(0);

console.log('# drain.bench — 1,000,000 readings waiting, then reconnect: drain rate and live-lane latency');
await warnIfBusy();
console.log(`rows ${fmt(ROWS)}, outbox synchronous ${SYNC}, link ${LINK_LABEL}, batchSize ${DEFAULTS.batchSize}, lingerMs ${DEFAULTS.lingerMs}, ` +
  `maxInflightBatches ${MAX_INFLIGHT ?? DEFAULTS.maxInflightBatches}; hub in a child process`);

const gwDir = freshDir('drain-gw');
const hubDir = freshDir('drain-hub');
// The port is only known once the hub runs; the gateway's outbox is filled first, through the
// same Outbox class, then the uplink is attached to it.
let hub: Peer | null = null;
let link: SlowLink | null = null;
try {
  // --- 1. fill --------------------------------------------------------------------------------
  heading(`1. fill the outbox with ${fmt(ROWS)} readings (hub unreachable)`);
  const fillBox = Outbox.open({ path: join(gwDir, 'outbox.db'), synchronous: SYNC, ...(CAP_ROWS ? { maxRows: CAP_ROWS } : {}) });
  const span = 3 * 3_600_000;
  const tStart = Date.now() - span;
  const f0 = performance.now();
  for (let i = 0; i < ROWS; i += FILL_CHUNK) {
    const n = Math.min(FILL_CHUNK, ROWS - i);
    const { readings, alerting } = field.poll(n, Math.round(tStart + (i / ROWS) * span));
    fillBox.append(readings, alerting);
  }
  const fillMs = performance.now() - f0;
  const filled = fillBox.stats();
  fillBox.close();
  console.log(`filled ${fmt(filled.depth)} rows in ${fmt(fillMs / 1000, 1)} s (${fmt((ROWS / fillMs) * 1000)} readings/s in polls of ${FILL_CHUNK}), ` +
    `~${fmt(filled.bytes / 2 ** 20)} MiB estimated${filled.dropped ? `; cap ${fmt(CAP_ROWS!)} rows: ${fmt(filled.dropped)} routine rows dropped` : ''}`);

  // --- 2. reconnect ---------------------------------------------------------------------------
  heading('2. start the hub, reconnect, keep polling');
  const hs = performance.now();
  hub = await Peer.start({ mode: 'hub', dataDir: hubDir, pki });
  console.log(`hub up in ${fmt(performance.now() - hs)} ms (child process, fresh database)`);
  if (LINK_KBPS || LINK_DELAY_MS) {
    link = new SlowLink(hub.port, LINK_KBPS, LINK_DELAY_MS);
    await link.start();
  }
  const os = performance.now();
  const g = openGateway({ dir: gwDir, port: link?.port ?? hub.port, pki, gw: gwId, synchronous: SYNC,
    ...(MAX_INFLIGHT ? { uplink: { maxInflightBatches: MAX_INFLIGHT } } : {}) });
  const backlogLast = g.outbox.lastSeq;
  console.log(`outbox reopened in ${fmt(performance.now() - os)} ms: depth ${fmt(g.outbox.depth)}, lastSeq ${fmt(backlogLast)}`);

  const probes = new Map<number, { kind: 'before' | 'at-connect' | 'live'; t: number }>();
  const stored = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  hub.on('probe', (p: ProbeReport) => {
    stored.set(p.seq, p.t);
    waiters.get(p.seq)?.();
  });
  const storedAt = (seq: number) =>
    stored.has(seq) ? Promise.resolve(stored.get(seq)!) : new Promise<number>((r) => waiters.set(seq, () => r(stored.get(seq)!)));
  const appendProbe = (kind: 'before' | 'at-connect' | 'live') => {
    const r = g.outbox.append([field.probe(probes.size + 1)], [true])!;
    probes.set(r.first, { kind, t: wallNow() });
    g.uplink.notify();
    return r.first;
  };

  let connectAt = 0;
  let atConnectSeq = 0;
  let liveTimer: NodeJS.Timeout | null = null;
  g.uplink.once('connect', () => {
    connectAt = wallNow();
    atConnectSeq = appendProbe('at-connect');
    liveTimer = setInterval(() => {
      const { readings, alerting } = field.poll(LIVE_POLL);
      g.outbox.append(readings, alerting);
      appendProbe('live');
    }, LIVE_EVERY_MS);
  });
  let lastAck = 0;
  let drainedAt = 0;
  const drained = new Promise<void>((resolve) => {
    g.uplink.on('ack', (upTo) => {
      lastAck = upTo;
      if (upTo >= backlogLast && !drainedAt) {
        drainedAt = wallNow();
        resolve();
      }
    });
  });

  const beforeSeq = appendProbe('before');
  await sleep(20); // "shortly before" the link comes up
  const h0 = await hub.stats();
  const c0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const startAt = wallNow();
  g.uplink.start();
  await once(g.uplink, 'connect');
  const firstLiveAt = await Promise.race([storedAt(beforeSeq), timeout(30_000).then(() => Number.NaN)]);
  const atConnectStoredAt = await Promise.race([storedAt(atConnectSeq), timeout(30_000).then(() => Number.NaN)]);
  // Progress while draining.
  const progress: Array<[number, number]> = [];
  const ticker = setInterval(() => progress.push([wallNow() - connectAt, lastAck]), 1000);
  const timedOut = await Promise.race([drained.then(() => false), timeout(DRAIN_TIMEOUT_MS).then(() => true)]);
  clearInterval(ticker);
  const h1 = await hub.stats();
  const cpu = cpuMsSince(c0);
  const otherCpu = Math.max(0, (machineBusyMs() - m0 - cpu - (h1.cpuMs - h0.cpuMs)) / (wallNow() - startAt));
  if (liveTimer) clearInterval(liveTimer);
  // Let the last live polls arrive, then account for every probe.
  const tailDeadline = wallNow() + 5000;
  while (g.outbox.depth > 0 && wallNow() < tailDeadline) await sleep(20);
  const counters = g.uplink.counters();
  const depthAfter = g.outbox.depth;
  const lastSeq = g.outbox.lastSeq;
  const hEnd = await hub.stats();
  await g.close();
  // Cross-check (fresh hub database): every seq 1..lastSeq stored exactly once.
  // Rows dropped by the cap (BENCH_DRAIN_CAP_ROWS) are accounted at the hub without being stored.
  const integrity = { lastSeq, hubUpTo: hEnd.upTo[gwId] ?? 0, hubStored: hEnd.readings, dropped: filled.dropped };
  const intact = integrity.hubUpTo === lastSeq && integrity.hubStored + integrity.dropped === lastSeq;

  // --- 3. results -----------------------------------------------------------------------------
  heading('3. results');
  const drainMs = (drainedAt || wallNow()) - connectAt;
    // Seqs accounted per second (stored or reported dropped), and readings actually carried.
  const drainRate = timedOut ? (Math.max(0, lastAck) / drainMs) * 1000 : (backlogLast / drainMs) * 1000;
  const carriedRate = ((h1.readings - h0.readings) / drainMs) * 1000;
  const liveLat = [...probes].filter(([, p]) => p.kind === 'live').map(([seq, p]) => (stored.has(seq) ? stored.get(seq)! - p.t : Number.NaN));
  const liveDuring = [...probes]
    .filter(([seq, p]) => p.kind === 'live' && stored.has(seq) && stored.get(seq)! <= (drainedAt || Number.POSITIVE_INFINITY))
    .map(([seq, p]) => stored.get(seq)! - p.t)
    .sort((a, b) => a - b);
  const missing = liveLat.filter((x) => Number.isNaN(x)).length;

  for (const [t, a] of progress) process.stdout.write(`  t+${fmt(t / 1000, 0)} s: acked ${fmt(a)}\n`);
  console.log();
  table(['measure', 'value'], [
    ['connect (start() → link up, ack subscribed)', `${fmt(connectAt - startAt, 1)} ms`],
    ['drain: connect → hub ack covers the backlog', `${fmt(drainMs / 1000, 2)} s${timedOut ? ' (TIMED OUT)' : ''}`],
    ['drain rate', `${fmt(drainRate)} readings/s${filled.dropped ? ` of seqs accounted; ${fmt(carriedRate)} readings/s carried` : ''}`],
    ['first live reading ("before" probe, newest row at reconnect) stored, after connect', `${fmt(firstLiveAt - connectAt, 1)} ms`],
    ['  … after start()', `${fmt(firstLiveAt - startAt, 1)} ms`],
    ['"at-connect" probe (appended on connect) stored, after connect', `${fmt(atConnectStoredAt - connectAt, 1)} ms`],
    ['live probes during the drain: append → stored p50 / p99 / max', `${fmt(quantile(liveDuring, 0.5), 1)} / ${fmt(quantile(liveDuring, 0.99), 1)} / ${fmt(liveDuring[liveDuring.length - 1], 1)} ms (${liveDuring.length} probes)`],
    ['live probes never stored', String(missing)],
    ['hub stored during the drain', `${fmt(h1.readings - h0.readings)} readings in ${fmt(h1.batches - h0.batches)} batches`],
    ['CPU during the drain: gateway / hub / other processes', `${pct(cpu / drainMs)} / ${pct((h1.cpuMs - h0.cpuMs) / (h1.t - h0.t))} / ${pct(otherCpu)}`],
    ['uplink: batches sent / resends / ack timeouts', `${fmt(counters.batchesSent)} / ${counters.resends} / ${counters.ackTimeouts}`],
    ['outbox depth after the tail', fmt(depthAfter)],
    ['integrity: hub upTo / stored (+ dropped) / gateway lastSeq',
      `${fmt(integrity.hubUpTo)} / ${fmt(integrity.hubStored)}${integrity.dropped ? ` + ${fmt(integrity.dropped)}` : ''} / ${fmt(lastSeq)} ${intact ? '(every reading once)' : 'MISMATCH'}`],
  ]);
  if (!intact) console.log('INTEGRITY MISMATCH: the hub did not store every reading exactly once — the figures above are not a valid drain.');

  heading('verdict');
  const firstLive = Math.max(firstLiveAt, atConnectStoredAt) - connectAt;
  if (LINK_KBPS || LINK_DELAY_MS) console.log(`(a ${LINK_LABEL} link: the drain is bound by the link, not by the software; the 50,000/s target is for loopback)`);
  const targets = [
    verdict({ name: `drain rate with ${fmt(ROWS)} rows waiting`, value: drainRate, bound: LINK_KBPS || LINK_DELAY_MS ? 0 : 50_000, kind: 'min', unit: 'readings/s' }),
    verdict({ name: 'first live reading at the hub after reconnect (later of the two probes)', value: firstLive, bound: 1000 + 2 * LINK_DELAY_MS, kind: 'max', unit: 'ms' }),
    verdict({ name: 'readings lost or duplicated during the run', value: intact ? 0 : Math.abs(lastSeq - integrity.hubStored) || 1, bound: 0, kind: 'max', unit: 'readings' }),
  ];
  saveResults(`drain${SYNC === SHIPPED_SYNC ? '' : `-${SYNC}`}${LINK_KBPS ? `-link${LINK_KBPS}k` : ''}${LINK_DELAY_MS ? `-delay${LINK_DELAY_MS}ms` : ''}${MAX_INFLIGHT ? `-inflight${MAX_INFLIGHT}` : ''}${CAP_ROWS ? `-cap${CAP_ROWS}` : ''}`, {
    rows: ROWS, synchronous: SYNC, linkKbps: LINK_KBPS || null, linkDelayMs: LINK_DELAY_MS || null, maxInflightBatches: MAX_INFLIGHT ?? DEFAULTS.maxInflightBatches, fillReadingsPerS: (ROWS / fillMs) * 1000,
    connectMs: connectAt - startAt, drainMs, drainRate,
    firstLiveAfterConnectMs: firstLiveAt - connectAt, firstLiveAfterStartMs: firstLiveAt - startAt,
    atConnectProbeMs: atConnectStoredAt - connectAt,
    liveDuringDrainMs: { p50: quantile(liveDuring, 0.5), p99: quantile(liveDuring, 0.99), max: liveDuring[liveDuring.length - 1] ?? null, n: liveDuring.length },
    liveNeverStored: missing, integrity, intact, otherCpu, gwCpu: cpu / drainMs, hubCpu: (h1.cpuMs - h0.cpuMs) / (h1.t - h0.t), counters, progress, targets,
  });
} finally {
  await link?.stop();
  await hub?.close();
  removeDir(gwDir);
  removeDir(hubDir);
}
