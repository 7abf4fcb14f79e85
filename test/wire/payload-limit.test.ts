/**
 * A hub whose mqtt.maxPayloadBytes is far below the gateway's batch size: the hub announces its
 * limit (retained on ioc/v1/{gw}/config) and the real uplink cuts every payload under it — batches
 * and drop notices alike — so the outbox drains completely with not one publish refused, not one
 * reconnect, not one resend. Before, the first 50 KB batch closed the connection, and the gateway
 * resent it after every reconnect, for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, createLogger, pkiPaths, type Reading } from '@ioc/shared';
import { UplinkConfig } from '../../edge/src/config/schema.js';
import { Outbox } from '../../edge/src/outbox/index.js';
import { Uplink } from '../../edge/src/uplink/index.js';
import { startHub } from '../../hub/src/hub.js';
import { metricValue } from '../../hub/test/helpers.js';
import { until } from '../lib/until.js';

const GW = 'gw-limit-01';
const DEV = 'wl-limit';
const HUB_LIMIT = 8192;
const log = createLogger({ name: 'payload-limit', level: process.env.LOG_LEVEL ?? 'silent' });

test('hub maxPayloadBytes 8 KiB, gateway batchSize 500 (~55 KB): the backlog and its drop notices drain with nothing refused or resent', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-payload-limit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hub = await startHub({
    hub: { dataDir: join(dir, 'hub') },
    mqtt: { host: '127.0.0.1', port: 0, maxPayloadBytes: HUB_LIMIT },
    http: { host: '127.0.0.1', port: 0 },
    registry: {
      gateways: [{ id: GW }],
      devices: [{ id: DEV, gateway: GW, profile: 'radar-water-level', name: 'Limit', communeCode: '19816', provinceCode: '46', lat: 16.46, lon: 107.55 }],
    },
  }, { logger: log });
  t.after(() => hub.close());

  // A gateway back from an outage: 3,000 readings waiting, the routine half of them partly
  // dropped by the outbox cap, leaving hundreds of one-seq drop ranges (a notice of ~20 KB).
  const outbox = Outbox.open({ path: join(dir, 'edge', 'outbox.db'), maxRows: 1000 });
  t.after(() => outbox.close());
  const now = Date.now();
  for (let i = 0; i < 3000; i += 100) {
    const rs: Reading[] = Array.from({ length: 100 }, (_, k) => ({ dev: DEV, metric: 'water_level', value: (i + k) / 1000, unit: 'm', ts: now - 3_600_000 + (i + k) * 1000, q: 'good' }));
    outbox.append(rs, rs.map((_, k) => k % 2 === 0));
  }
  const pending = outbox.pendingDrops().reduce((n, d) => n + d.ranges.length, 0);
  assert.ok(pending > 300, `enough drop ranges to need several notices (${pending})`);
  const lastSeq = outbox.lastSeq;

  const cfg: Record<string, unknown> = {
    url: `mqtts://localhost:${hub.mqttPort}`, ca: pkiPaths(hub.pkiDir!).caCert, ...pkiPaths(hub.pkiDir!).client(GW),
  };
  assert.ok(compile(UplinkConfig)(cfg), 'the shipped defaults: batchSize 500');
  const uplink = new Uplink({ gatewayId: GW, config: cfg as UplinkConfig, outbox, logger: log, version: 'test', drivers: () => [] });
  t.after(() => uplink.stop());
  uplink.start();

  await until(() => outbox.ackedUpTo === lastSeq, 'the outbox to drain', 60_000);
  assert.equal(hub.store.upTo(GW), lastSeq);
  assert.equal(uplink.payloadLimit(), HUB_LIMIT, 'the gateway learned the hub\'s limit');
  const text = await hub.metrics.registry.metrics();
  const m = (name: string, labels: Record<string, string>) => metricValue(text, name, labels) ?? 0;
  assert.equal(m('ioc_hub_broker_refused_total', { action: 'publish', reason: 'oversize' }), 0);
  assert.equal(m('ioc_hub_broker_refused_total', { action: 'packet', reason: 'oversize' }), 0);
  assert.equal(m('ioc_hub_rejected_total', { reason: 'oversize' }), 0);
  assert.equal(m('ioc_hub_rejected_total', { reason: 'seq_ahead' }), 0, 'every drop notice within what the gateway had shown');
  const c = uplink.counters();
  assert.deepEqual([c.reconnects, c.connectFailures, c.resends, c.ackTimeouts], [0, 0, 0, 0], 'one connection, nothing sent twice');
  assert.ok(c.dropEventsSent > 1, `the drop notice was split (${c.dropEventsSent} notices)`);
  assert.ok(c.batchesSent >= Math.ceil(outbox.stats().lastSeq / 2 / 100), `batches cut by bytes, not by batchSize (${c.batchesSent})`);
});
