/**
 * Hub shutdown order: the broker stops reading and PUBACKing first (listener and client
 * connections closed), then the telemetry group still queued is committed, then the store closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHub } from '../src/hub.js';
import { dispatch } from '../src/ingest/index.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';
import { GW, batch, capturingLogger, connectGateway, ingestRig, tempDir, testConfig, wl } from './helpers.js';

const T0 = Date.now() - 60_000;
const LWT = '{"v":1,"online":false,"link":"lost"}';

test('ingest close(): the queued group is committed without acks; later deliveries are ignored and never reach the closed store', async (t) => {
  const r = ingestRig(t);
  r.send([wl(0.5, T0)]);
  r.send([wl(0.6, T0 + 1000)]);
  assert.equal(r.count('readings'), 0, 'still queued for the group commit');
  r.ctx.close();
  assert.equal(r.count('readings'), 2, 'committed by close()');
  assert.equal(r.store.upTo(GW), 2);
  assert.deepEqual(r.acks, [], 'no acks: the broker has closed its clients by then');
  assert.ok(r.ctx.closed);

  r.store.close(); // what the hub does next
  r.send([wl(0.7, T0 + 2000)]);
  dispatch(r.ctx, `ioc/v1/${GW}/status`, Buffer.from(LWT));
  dispatch(r.ctx, `ioc/v1/${GW}/events`, Buffer.from(JSON.stringify({ v: 1, kind: 'dropped', ts: T0, ranges: [[3, 3]], reason: 'cap', count: 1 })));
  await r.turn();
  assert.deepEqual(r.logs.filter((l) => l.level >= 40), [], 'nothing refused, nothing failed');
  assert.deepEqual(r.acks, []);
});

test('stopping the hub mid-stream: every batch the broker PUBACKed is stored; nothing reaches the store after it closed; no error logged', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { logger, lines } = capturingLogger('warn');
  const hub = await startHub(testConfig(dir), { logger });

  // Any use of the store after its close() is a violation.
  const store = hub.store;
  const methods = store as unknown as Record<string, (...a: unknown[]) => unknown>;
  let storeClosed = false;
  const late: string[] = [];
  for (const name of ['writeBatches', 'writeBatch', 'markDropped', 'setGatewayStatus', 'touchGateway', 'addDeviceEvent', 'upTo', 'gatewayState'] satisfies Array<keyof Store>) {
    const real = methods[name]!.bind(store);
    methods[name] = (...args: unknown[]) => {
      if (storeClosed) late.push(name);
      return real(...args);
    };
  }
  const realClose = store.close.bind(store);
  store.close = () => {
    storeClosed = true;
    realClose();
  };

  const c = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW, will: { topic: `ioc/v1/${GW}/status`, payload: LWT, qos: 1, retain: true } });
  c.on('error', () => undefined);
  t.after(() => void c.end(true));
  // A window of QoS 1 publishes kept full (each PUBACK sends the next one), still going while the
  // hub stops: publishes land in every phase of the shutdown.
  const pubacked: number[] = [];
  let seq = 1;
  let closing: Promise<void> | undefined;
  const publishNext = () => {
    const first = seq;
    seq += 10;
    const payload = JSON.stringify(batch(GW, first, Array.from({ length: 10 }, (_, i) => wl(0.5, T0 + first + i))));
    c.publish(`ioc/v1/${GW}/telemetry`, payload, { qos: 1 }, (err) => {
      if (err) return;
      pubacked.push(first);
      if (pubacked.length === 40) closing = hub.close();
      publishNext();
    });
  };
  for (let i = 0; i < 8; i++) publishNext();
  const deadline = Date.now() + 20_000;
  while (!closing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(closing, 'the hub got 40 batches before stopping');
  await closing;
  c.end(true);

  const reopened = openSqliteStore({ path: join(dir, 'hub.db') });
  const stored = new Set(reopened.storedSeqs(GW, 0, 1_000_000));
  reopened.close();
  const lost = pubacked.filter((first) => !stored.has(first));
  assert.deepEqual(lost, [], `of ${pubacked.length} PUBACKed batches, these first seqs were not stored`);
  assert.deepEqual(late, [], 'store used after close');
  assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'errors logged while stopping');
});
