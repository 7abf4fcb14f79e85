/**
 * What the hub's MQTT frame guard (hub/src/broker/frame-guard.ts) costs on the hot path: every byte
 * a gateway sends passes it between the TLS socket and aedes.
 *
 * The same stream of PUBLISH packets (batches of 500 readings as the uplink builds them, cut into
 * 16 KiB chunks as TLS records arrive) is read the way aedes reads a connection ('readable', then
 * read()), once straight from a stand-in socket and once through the guard. Printed: CPU per chunk
 * and per 1,000 readings for each path, the difference, and the scanner alone. The hub's whole
 * ingest costs about 3,600 µs per 1,000 readings (throughput.bench.ts E), for scale.
 *
 * Run: npm run bench -- frame-guard
 */
import { PassThrough, type Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { FrameScanner, MqttFrameGuard } from '../../hub/src/broker/frame-guard.js';
import { batchPrefix, telemetryPayload } from '../../edge/src/uplink/payload.js';
import { Field, fmt, heading, saveResults, seconds, table, warnIfBusy } from './lib/common.js';

console.log('# frame-guard.bench — the MQTT fixed-header guard between TLS and aedes');
await warnIfBusy();

const BATCH = 500;
const CHUNK = 16 * 1024;
const field = new Field(0);
const topic = Buffer.from('ioc/v1/gw-bench-01/telemetry');

/** One QoS 1 PUBLISH packet carrying `payload`. */
function publishPacket(payload: Buffer, id: number): Buffer {
  const len = 2 + topic.length + 2 + payload.length;
  const header = [0x32];
  for (let n = len; ; ) {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    header.push(b);
    if (n === 0) break;
  }
  return Buffer.concat([Buffer.from(header), Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([id >> 8, id & 0xff]), payload]);
}

// 32 different batches, then cut into TLS-record-sized chunks regardless of packet boundaries.
const packets = Array.from({ length: 32 }, (_, k) => {
  const bodies = field.poll(BATCH).readings.map((r) => JSON.stringify(r));
  return publishPacket(Buffer.from(telemetryPayload(batchPrefix('gw-bench-01'), 1 + k * BATCH, (k + 1) * BATCH, 'live', bodies, (k + 1) * BATCH)), k + 1);
});
const stream = Buffer.concat(packets);
const chunks: Buffer[] = [];
for (let i = 0; i < stream.length; i += CHUNK) chunks.push(stream.subarray(i, i + CHUNK));
const readingsPerChunk = (32 * BATCH) / chunks.length;

/** Reads `conn` as aedes does; resolves after `n` chunks' worth of bytes. */
function drain(conn: Duplex, bytes: number): Promise<void> {
  let got = 0;
  return new Promise((resolve) => {
    conn.on('readable', () => {
      for (let b = conn.read() as Buffer | null; b; b = conn.read() as Buffer | null) got += b.length;
      if (got >= bytes) resolve();
    });
  });
}

async function run(guarded: boolean, rounds: number): Promise<{ cpuUs: number; chunks: number }> {
  const socket = new PassThrough();
  const conn: Duplex = guarded
    ? new MqttFrameGuard(socket as unknown as TLSSocket, { maxRemainingLength: 2 * 1024 * 1024 + 65_536, firstRemainingLength: 1 << 30, onRefuse: () => { throw new Error('refused'); } })
    : socket;
  const done = drain(conn, stream.length * rounds);
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (const c of chunks) socket.write(c);
    await new Promise((res) => setImmediate(res));
  }
  await done;
  const c = process.cpuUsage(c0);
  conn.destroy();
  return { cpuUs: c.user + c.system, chunks: chunks.length * rounds };
}

function scanOnly(rounds: number): { cpuUs: number; chunks: number } {
  const s = new FrameScanner(2 * 1024 * 1024 + 65_536, 1 << 30);
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const c of chunks) if (s.scan(c)) throw new Error('refused');
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, chunks: chunks.length * rounds };
}

const rounds = Math.max(50, Math.round(seconds(400)));
// Warm up both paths, then alternate so that drift hits both alike.
await run(false, 20);
await run(true, 20);
const plain: number[] = [];
const guard: number[] = [];
for (let i = 0; i < 5; i++) {
  const p = await run(false, rounds);
  plain.push(p.cpuUs / p.chunks);
  const g = await run(true, rounds);
  guard.push(g.cpuUs / g.chunks);
}
const scan = scanOnly(rounds * 5);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const perChunk = { plain: med(plain), guard: med(guard), scan: scan.cpuUs / scan.chunks };
const per1k = (us: number) => (us / readingsPerChunk) * 1000;

heading(`reading ${fmt(chunks.length * rounds)} chunks of 16 KiB per run (${fmt(stream.length / 32)} bytes per 500-reading batch, ${readingsPerChunk.toFixed(0)} readings per chunk), median of 5`);
table(['path', 'CPU µs / chunk', 'CPU µs / 1,000 readings'], [
  ['stand-in socket → aedes-style read', perChunk.plain.toFixed(2), per1k(perChunk.plain).toFixed(2)],
  ['… through the frame guard', perChunk.guard.toFixed(2), per1k(perChunk.guard).toFixed(2)],
  ['the guard\'s cost', (perChunk.guard - perChunk.plain).toFixed(2), per1k(perChunk.guard - perChunk.plain).toFixed(2)],
  ['the scanner alone', perChunk.scan.toFixed(3), per1k(perChunk.scan).toFixed(3)],
]);
const share = per1k(perChunk.guard - perChunk.plain) / 3600;
console.log(`\nthe guard costs ${(share * 100).toFixed(2)} % of the hub's ingest CPU per reading (≈3,600 µs per 1,000 readings)`);
saveResults('frameGuard', { perChunkUs: perChunk, per1kReadingsUs: { plain: per1k(perChunk.plain), guard: per1k(perChunk.guard), scan: per1k(perChunk.scan) }, shareOfIngest: share });
