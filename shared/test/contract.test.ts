import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  gatewayTopic, parseGatewayTopic, gatewayTopicFilter, alertsTopic, decodePayload, batchSeqConsistent,
  validateTelemetryBatch, validateAck, validateStatus, validateGatewayEvent, MAX_PAYLOAD_BYTES, type TelemetryBatch,
} from '@ioc/shared';

const reading = { dev: 'wl-kimlong', metric: 'water_level', value: 1.25, unit: 'm', ts: 1_700_000_000_000, q: 'good' };
const batch = (over: Record<string, unknown> = {}) => JSON.stringify({ v: 1, gw: 'gw-hue-01', seq: [7, 7], readings: [reading], ...over });

test('topic builders and parser agree for every gateway topic kind', () => {
  for (const kind of ['telemetry', 'ack', 'status', 'events', 'config', 'config/applied', 'cmd', 'cmd/result'] as const) {
    const t = gatewayTopic('gw-hue-01', kind);
    assert.equal(t, `ioc/v1/gw-hue-01/${kind}`);
    assert.deepEqual(parseGatewayTopic(t), { gw: 'gw-hue-01', kind });
  }
  assert.equal(gatewayTopicFilter('telemetry'), 'ioc/v1/+/telemetry');
  assert.equal(alertsTopic('46'), 'ioc/v1/alerts/46');
});

test('parser rejects foreign, malformed and alert topics', () => {
  for (const t of ['ioc/v2/gw-1x/telemetry', 'ioc/v1/GW-UPPER/telemetry', 'ioc/v1/gw-hue-01/unknown', 'ioc/v1/gw-hue-01',
    'ioc/v1/alerts/46', 'ioc/v1/ab/telemetry', 'other/v1/gw-hue-01/telemetry', 'ioc/v1/gw-hue-01/telemetry/extra']) {
    assert.equal(parseGatewayTopic(t), null, t);
  }
  assert.throws(() => gatewayTopic('Bad Id', 'telemetry'), /invalid gateway id/);
});

test('a valid telemetry batch decodes with its type', () => {
  const r = decodePayload(batch(), validateTelemetryBatch);
  assert.equal(r.ok, true);
  if (r.ok) {
    const b: TelemetryBatch = r.value;
    assert.equal(b.readings[0]?.value, 1.25);
    assert.ok(batchSeqConsistent(b));
  }
  // booleans and null (with q bad) are values too
  const ok2 = decodePayload(batch({ readings: [{ ...reading, metric: 'smoke', value: true, unit: 'bool' }] }), validateTelemetryBatch);
  assert.equal(ok2.ok, true);
  const ok3 = decodePayload(batch({ readings: [{ ...reading, value: null, q: 'bad', reason: 'comm_error' }] }), validateTelemetryBatch);
  assert.equal(ok3.ok, true);
});

test('invalid telemetry payloads are rejected with a reason naming the problem', () => {
  const cases: Array<[string | Buffer, RegExp]> = [
    ['{not json', /malformed JSON/],
    [batch({ v: 2 }), /schema: v/],
    [batch({ gw: 'Bad GW' }), /schema: gw/],
    [batch({ extra: 1 }), /extra: unknown key/],
    [batch({ readings: [] }), /schema: readings/],
    [batch({ seq: [0, 0] }), /schema: seq/],
    [batch({ readings: [{ ...reading, q: 'great' }] }), /schema: readings\.0\.q/],
    [batch({ readings: [{ ...reading, value: 'high' }] }), /schema: readings\.0\.value/],
    [batch({ readings: [{ ...reading, ts: -5 }] }), /schema: readings\.0\.ts/],
    [batch({ readings: [{ dev: 'x', metric: 'water_level', unit: 'm', ts: 1, q: 'good' }] }), /value: required key is missing/],
    [Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 32), /payload too large/],
  ];
  for (const [payload, re] of cases) {
    const r = decodePayload(payload, validateTelemetryBatch);
    assert.equal(r.ok, false, String(payload).slice(0, 80));
    if (!r.ok) assert.match(r.reason, re);
  }
  // NaN cannot be expressed in JSON; a JSON.stringify of NaN becomes null, which needs q bad to mean anything.
  assert.equal(JSON.stringify({ v: NaN }), '{"v":null}');
});

test('non-finite numbers (JSON 1e400 parses as Infinity) fail the schema, wherever a number is', () => {
  // Raw text: JSON.stringify would never write 1e400, only a hand-made or broken sender does.
  const raw = (over: string) => `{"v":1,"gw":"gw-hue-01","seq":[7,7],"readings":[{"dev":"wl-kimlong","metric":"water_level",${over},"unit":"m","q":"good"}]}`;
  assert.equal(decodePayload(raw('"value":1.25,"ts":1700000000000'), validateTelemetryBatch).ok, true, 'the control case passes');
  for (const [payload, re] of [
    [raw('"value":1e400,"ts":1700000000000'), /readings\.0\.value/],
    [raw('"value":-1e400,"ts":1700000000000'), /readings\.0\.value/],
    [raw('"value":1.25,"ts":1e400'), /readings\.0\.ts/],
    ['{"v":1,"gw":"gw-hue-01","seq":[7,1e400],"readings":[]}', /seq/],
  ] as const) {
    const r = decodePayload(payload, validateTelemetryBatch);
    assert.equal(r.ok, false, payload);
    if (!r.ok) assert.match(r.reason, re);
  }
  assert.equal(decodePayload('{"upTo":1e400}', validateAck).ok, false, 'an ack of upTo Infinity would delete the whole outbox');
  const status = { v: 1, online: true, outbox: { depth: 1, oldestUnsentAgeS: 0, bytes: 1, dropped: 0, lastSeq: 1, ackedUpTo: 0, lastAckTs: null } };
  assert.equal(decodePayload(JSON.stringify(status).replace('"oldestUnsentAgeS":0', '"oldestUnsentAgeS":1e999'), validateStatus).ok, false);
});

test('seq range must match the number of readings', () => {
  const r = decodePayload(batch({ seq: [7, 9] }), validateTelemetryBatch);
  assert.ok(r.ok && !batchSeqConsistent(r.value));
});

test('ack, status and event payloads', () => {
  assert.equal(decodePayload('{"upTo":42}', validateAck).ok, true);
  assert.equal(decodePayload('{"upTo":-1}', validateAck).ok, false);
  assert.equal(decodePayload('{"upTo":1.5}', validateAck).ok, false);
  assert.equal(decodePayload('{"online":false}', validateStatus).ok, true, 'LWT form');
  const status = { v: 1, online: true, ts: 1, version: '0.1.0', uptimeS: 3, link: 'connected',
    outbox: { depth: 3, oldestUnsentAgeS: 1.5, bytes: 300, dropped: 0, lastSeq: 9, ackedUpTo: 6, lastAckTs: null },
    drivers: [{ dev: 'wl-kimlong', driver: 'modbus', state: 'ok' }] };
  assert.equal(decodePayload(JSON.stringify(status), validateStatus).ok, true);
  assert.equal(decodePayload(JSON.stringify({ ...status, outbox: { depth: 1 } }), validateStatus).ok, false);
  const dropped = { v: 1, kind: 'dropped', ts: 5, ranges: [[10, 20], [30, 31]], count: 13, reason: 'disk_cap' };
  assert.equal(decodePayload(JSON.stringify(dropped), validateGatewayEvent).ok, true);
  assert.equal(decodePayload(JSON.stringify({ ...dropped, ranges: [] }), validateGatewayEvent).ok, false);
  assert.equal(decodePayload(JSON.stringify({ v: 1, kind: 'device', ts: 1, dev: 'cam-1', event: 'tamper' }), validateGatewayEvent).ok, true);
});
