/**
 * Loss and danger at a gateway made visible at the hub: a status reporting failed outbox writes or
 * an outbox over its cap (alerting rows that are never dropped) shows in GET /api/v1/gateways
 * (`gatewayProblems`, `outbox`), in /metrics, as a gateway event in hub.db, and in the log at
 * error level once when it starts — not at every status — and at info level when it is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { startHub } from '../src/hub.js';
import { WRITE_FAILURE_CURRENT_MS } from '../src/health/gateway-problems.js';
import { GW, capturingLogger, connectGateway, metricValue, tempDir, testConfig } from './helpers.js';
import { until } from '../../test/lib/until.js';

const outbox = (extra: Record<string, unknown> = {}) => ({ depth: 12, oldestUnsentAgeS: 3, bytes: 4000, dropped: 0, lastSeq: 40, ackedUpTo: 0, lastAckTs: null, ...extra });

test('write failures and an over-cap outbox in a status: view, metrics, event, one error line each', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { logger, lines } = capturingLogger('info');
  const hub = await startHub(testConfig(dir), { logger });
  t.after(() => hub.close());
  const gw = await connectGateway({ port: hub.mqttPort, pkiDir: hub.pkiDir!, clientId: GW });
  t.after(() => gw.end(true));
  let statuses = 0;
  const sendStatus = async (ts: number, o: Record<string, unknown>) => {
    await gw.publishAsync(`ioc/v1/${GW}/status`, JSON.stringify({ v: 1, online: true, ts, link: 'online', outbox: o }), { qos: 1, retain: true });
    statuses++;
    // The status is handled when its statusAt moves (one per publish).
    await until(() => hub.store.gatewayState(GW)?.status?.ts === ts, 'the status to be stored');
  };
  const view = async () => ((await (await fetch(`${hub.apiUrl}/gateways/${GW}`)).json()) as { gateway: { gatewayProblems: Array<{ problem: string; message: string; detail: Record<string, unknown> }>; outbox: Record<string, unknown> } }).gateway;
  const metrics = async () => (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
  const problemErrors = () => lines.filter((l) => l.level === 50 && /^gateway problem/.test(l.msg));

  const t0 = Date.now();
  await sendStatus(t0, outbox());
  assert.deepEqual((await view()).gatewayProblems, []);
  assert.equal(metricValue(await metrics(), 'ioc_hub_gateway_outbox_write_failures', { gw: GW }), 0);

  // Polls lost at the gateway: a disk full there.
  const lastWriteError = { ts: t0 + 1000, code: 'SQLITE_FULL', message: 'database or disk is full' };
  await sendStatus(t0 + 1000, outbox({ writeFailures: 3, writeFailedReadings: 9, lastWriteError }));
  let v = await view();
  assert.deepEqual(v.gatewayProblems.map((p) => p.problem), ['outbox_write_failed']);
  assert.match(v.gatewayProblems[0]!.message, /3 poll\(s\), 9 reading\(s\).*are lost \(SQLITE_FULL: database or disk is full\); check the gateway's free disk space/);
  assert.equal(v.outbox.writeFailures, 3);
  let m = await metrics();
  assert.equal(metricValue(m, 'ioc_hub_gateway_outbox_write_failures', { gw: GW }), 3);
  assert.equal(metricValue(m, 'ioc_hub_gateway_problem', { gw: GW, problem: 'outbox_write_failed' }), 1);
  assert.equal(metricValue(m, 'ioc_hub_gateway_problems_total', { gw: GW, problem: 'outbox_write_failed' }), 1);
  const events = hub.store.deviceEvents(GW, 10, SYSTEM_SCOPE);
  assert.deepEqual(events.map((e) => [e.gw, e.dev, e.event]), [[GW, GW, 'outbox_write_failed']]);
  assert.equal(problemErrors().length, 1);
  assert.equal(problemErrors()[0]!.problem, 'outbox_write_failed');
  // …and a technical alert for the watch desk and technicians (the built-in gateway-problem rule).
  const technical = async () =>
    ((await (await fetch(`${hub.apiUrl}/alerts?rule=gateway-problem`)).json()) as { alerts: Array<{ level: number; active: boolean; category: string; gw: string; dev: string | null; message: { vi: string } }> }).alerts;
  const [alert] = await technical();
  assert.deepEqual([alert!.level, alert!.active, alert!.category, alert!.gw, alert!.dev], [2, true, 'technical', GW, null]);
  assert.match(alert!.message.vi, /Gateway không ghi được dữ liệu/);

  // It goes on (more polls lost, status after status): no new event, no error line per status.
  for (let i = 2; i <= 6; i++) {
    await sendStatus(t0 + i * 1000, outbox({ writeFailures: 3 * i, writeFailedReadings: 9 * i, lastWriteError: { ...lastWriteError, ts: t0 + i * 1000 } }));
  }
  assert.equal(problemErrors().length, 1, 'one error line, not one per status');
  assert.equal(hub.store.deviceEvents(GW, 10, SYSTEM_SCOPE).length, 1);
  assert.equal(metricValue(await metrics(), 'ioc_hub_gateway_outbox_write_failures', { gw: GW }), 18);

  // Only alerting rows left and still above the cap.
  const overCap = { rows: 5000, bytes: 1_200_000, maxRows: 100_000, maxBytes: 67_108_864 };
  await sendStatus(t0 + 7000, outbox({ writeFailures: 18, writeFailedReadings: 54, lastWriteError: { ...lastWriteError, ts: t0 + 6000 }, overCap }));
  v = await view();
  assert.deepEqual(v.gatewayProblems.map((p) => p.problem).sort(), ['outbox_over_cap', 'outbox_write_failed']);
  m = await metrics();
  assert.equal(metricValue(m, 'ioc_hub_gateway_outbox_over_cap_rows', { gw: GW }), 5000);
  assert.equal(metricValue(m, 'ioc_hub_gateway_outbox_over_cap_bytes', { gw: GW }), 1_200_000);
  assert.equal(metricValue(m, 'ioc_hub_gateway_problem', { gw: GW, problem: 'outbox_over_cap' }), 1);
  assert.deepEqual(problemErrors().map((l) => l.problem), ['outbox_write_failed', 'outbox_over_cap']);

  // The LWT (offline, no outbox) keeps the last known figures: problems stay.
  await gw.publishAsync(`ioc/v1/${GW}/status`, JSON.stringify({ v: 1, online: false, link: 'lost' }), { qos: 1, retain: true });
  await until(() => hub.store.gatewayState(GW)?.online === false, 'offline');
  assert.equal((await view()).gatewayProblems.length, 2);

  // Link back, no failure for longer than WRITE_FAILURE_CURRENT_MS, within the cap: both over.
  await sendStatus(t0 + 6000 + WRITE_FAILURE_CURRENT_MS, outbox({ writeFailures: 18, writeFailedReadings: 54, lastWriteError: { ...lastWriteError, ts: t0 + 6000 } }));
  assert.deepEqual((await view()).gatewayProblems, []);
  m = await metrics();
  assert.equal(metricValue(m, 'ioc_hub_gateway_problem', { gw: GW, problem: 'outbox_write_failed' }), undefined);
  assert.equal(metricValue(m, 'ioc_hub_gateway_outbox_over_cap_rows', { gw: GW }), 0);
  assert.equal(metricValue(m, 'ioc_hub_gateway_outbox_write_failures', { gw: GW }), 18, 'the count of lost polls stays visible');
  assert.deepEqual(lines.filter((l) => l.msg === 'gateway problem over').map((l) => l.problem).sort(), ['outbox_over_cap', 'outbox_write_failed']);
  const after = await technical();
  assert.equal(after.length, 1, 'one episode for the whole problem');
  assert.deepEqual([after[0]!.level, after[0]!.active], [0, false], 'cleared when the gateway reports it over');
  assert.ok(statuses >= 9);
});
