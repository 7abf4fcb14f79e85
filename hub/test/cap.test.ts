/**
 * CAP 1.2: one flood episode through the real alert engine becomes Alert → Update… → Cancel;
 * every message validates against the OASIS schema (xmllint) and Google Public Alerts' rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Reading } from '@ioc/shared';
import type { AlertView } from '../src/alerts/types.js';
import { episodeMessages } from '../src/cap/episode.js';
import { capFeedXml, inFeed } from '../src/cap/feed.js';
import { capInputFromAlert } from '../src/cap/from-alert.js';
import { CATEGORY, activeGrade, derivedSeverity } from '../src/cap/grading.js';
import { capAlertXml } from '../src/cap/message.js';
import { capSettings } from '../src/cap/settings.js';
import { capTime } from '../src/cap/time.js';
import type { CapSettings } from '../src/cap/types.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry } from '../src/config/registry.js';
import { createAdmission } from '../src/ingest/admission.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SYSTEM_SCOPE } from '../src/store/types.js';
import { capAlertsInFeed, googleProblems, infoOf, parametersOf, parseCap, xmllint, xmllintMissing } from './cap-check.js';
import { GW, alertStack, tempDir, testConfig, wl, type TestLike } from './helpers.js';

/** 12 Nov 2020 12:00 in Huế (05:00 UTC), the day of the Kim Long flood. */
const T0 = Date.UTC(2020, 10, 12, 5, 0, 0);
const MIN = 60_000;
const SETTINGS = capSettings({}, 'hub-test');

/** A real store and flood engine; `feed` stores readings and runs the rule over them. */
function floodRig(t: TestLike) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const registry = buildRegistry(resolveHubConfig(testConfig(dir), dir).registry);
  const store = openSqliteStore({ path: join(dir, 'hub.db'), admit: createAdmission(registry) });
  t.after(() => store.close());
  const { engine, views } = alertStack(store, registry, { now: () => T0 + 24 * 60 * MIN, flapWindowMs: 0 });
  let seq = 0;
  const feed = (...readings: Reading[]) => {
    const res = store.writeBatch(GW, seq + 1, readings);
    seq += readings.length;
    engine.evaluate(res.fresh);
  };
  const only = (): AlertView => {
    const all = views.list({ scope: SYSTEM_SCOPE });
    assert.equal(all.length, 1);
    return all[0]!;
  };
  return { store, engine, views, feed, only };
}

/** The latest message of an alert as XML. */
function latest(view: AlertView, settings: CapSettings = SETTINGS): string {
  const input = capInputFromAlert(view);
  return capAlertXml(input, episodeMessages(input, settings).at(-1)!, settings);
}

function allMessages(view: AlertView, settings: CapSettings = SETTINGS): string[] {
  const input = capInputFromAlert(view);
  return episodeMessages(input, settings).map((m) => capAlertXml(input, m, settings));
}

function assertValid(docs: string[], t: { diagnostic(s: string): void }) {
  for (const xml of docs) assert.deepEqual(googleProblems(xml), [], xml);
  const missing = xmllintMissing();
  if (missing) {
    t.diagnostic(`schema validation skipped: ${missing}`);
    return;
  }
  const r = xmllint(docs);
  assert.ok(r.ok, r.output);
}

/** BĐ1 → BĐ2 → BĐ3 → BĐ2 → cleared (Kim Long: 1.0 / 2.0 / 3.5 m). */
const EPISODE: Array<[minutes: number, metres: number]> = [[0, 0.5], [10, 1.2], [60, 2.3], [120, 3.6], [240, 2.5], [360, 0.6]];

test('a flood episode: Alert, Update, Update, Update, Cancel with growing references, valid CAP 1.2', (t) => {
  const rig = floodRig(t);
  const seen: string[] = [];
  for (const [m, v] of EPISODE) {
    // 789 ms past the minute: CAP times carry whole seconds.
    rig.feed(wl(v, T0 + m * MIN + 789));
    if (m > 0) seen.push(latest(rig.only()));
  }
  const view = rig.only();
  assert.deepEqual(view.history.map((h) => `${h.kind}:${h.level}`), ['raised:1', 'escalated:2', 'escalated:3', 'deescalated:2', 'cleared:0']);
  const docs = allMessages(view);
  const msgs = docs.map(parseCap);
  assert.deepEqual(msgs.map((m) => m.msgType), ['Alert', 'Update', 'Update', 'Update', 'Cancel']);
  assert.deepEqual(msgs.map((m) => m.identifier), [1, 2, 3, 4, 5].map((n) => `ioc@hub-test.alert.${view.id}.${n}`));
  assert.deepEqual(msgs.map((m) => m.sent), ['12:10', '13:00', '14:00', '16:00', '18:00'].map((hm) => `2020-11-12T${hm}:00+07:00`));
  assert.ok(msgs.every((m) => m.sender === 'ioc@hub-test' && m.status === 'Actual' && m.scope === 'Public'));
  // Each Update/Cancel names every earlier message: sender,identifier,sent.
  assert.equal(msgs[0]!.references, undefined);
  for (let i = 1; i < msgs.length; i++) {
    const expected = msgs.slice(0, i).map((m) => `${m.sender},${m.identifier},${m.sent}`).join(' ');
    assert.equal(msgs[i]!.references, expected, `references of message ${i + 1}`);
  }
  // Message n reads the same whether asked for when it was the latest or afterwards.
  assert.deepEqual(seen, docs);

  // Urgency, severity, certainty, response from the level (README table).
  const grade = docs.map((xml) => {
    const i = infoOf(xml, 'en-US');
    return [i.urgency, i.severity, i.certainty, i.responseType].join('/');
  });
  assert.deepEqual(grade, [
    'Expected/Moderate/Observed/Monitor',
    'Expected/Severe/Observed/Prepare',
    'Immediate/Extreme/Observed/Evacuate',
    'Expected/Severe/Observed/Prepare',
    'Past/Minor/Observed/AllClear',
  ]);
  // Active messages expire 6 h after they were sent, the Cancel after 1 h.
  assert.equal(infoOf(docs[0]!, 'vi-VN').expires, '2020-11-12T18:10:00+07:00');
  assert.equal(infoOf(docs[4]!, 'vi-VN').expires, '2020-11-12T19:00:00+07:00');
  assertValid(docs, t);
});

test('vi-VN and en-US texts: diacritics, station and river, value, time, area', (t) => {
  const rig = floodRig(t);
  for (const [m, v] of EPISODE) rig.feed(wl(v, T0 + m * MIN));
  const docs = allMessages(rig.only());
  const vi = infoOf(docs[1]!, 'vi-VN');
  assert.equal(vi.event, 'Báo động lũ');
  assert.equal(vi.category, 'Met');
  assert.equal(vi.headline, 'Lũ tại Trạm Kim Long (sông Hương): Báo động II');
  assert.equal(vi.description, ['Mực nước tại Trạm Kim Long (sông Hương) lên mức Báo động II lúc 13:00 ngày 12/11/2020 (giờ Việt Nam).', 'Mực nước: 2,30 m.', 'Trạm đo: Kim Long, sông Hương.'].join('\n'));
  assert.match(String(vi.instruction), /sẵn sàng sơ tán khi chính quyền địa phương yêu cầu/);
  const en = infoOf(docs[1]!, 'en-US');
  assert.equal(en.event, 'Flood warning');
  assert.equal(en.headline, 'Flood at Kim Long station (Hương river): Alarm level II');
  assert.match(String(en.description), /^Water level at Kim Long station \(Hương river\) rose to Alarm level II at 12 Nov 2020 13:00 \(UTC\+7\)\.\nWater level: 2\.30 m\./);
  assert.deepEqual(parametersOf(en), { alertId: String(rig.only().id), rule: 'flood-levels', level: '2', levelName: 'Alarm level II', peakLevel: '2', metric: 'water_level', value: '2.3', unit: 'm' });
  // The de-escalation says how high the episode went.
  assert.match(String(infoOf(docs[3]!, 'vi-VN').description), /xuống mức Báo động II .*\nMức cao nhất trong đợt: Báo động III\./);
  const cancel = infoOf(docs[4]!, 'vi-VN');
  assert.equal(cancel.headline, 'Kết thúc: lũ tại Trạm Kim Long (sông Hương)');
  assert.match(String(cancel.description), /^Hết báo động tại Trạm Kim Long \(sông Hương\) lúc 18:00 ngày 12\/11\/2020 \(giờ Việt Nam\)\. Mức cao nhất trong đợt: Báo động III\./);
  // No commune name in the registry: the commune code; a 5 km circle around the station.
  const area = vi.area as Record<string, unknown>;
  assert.equal(area.areaDesc, 'Xã/phường mã 19816');
  assert.equal(area.circle, '16.4637,107.5588 5');
  assert.deepEqual(area.geocode, [{ valueName: 'VN-commune', value: '19816' }, { valueName: 'VN-province', value: '46' }]);
  assertValid(docs, t);
});

test('a drill is Exercise; a test hub is Test; sender, radius, expiry and console link from config', (t) => {
  const rig = floodRig(t);
  rig.feed(wl(2.2, T0));
  const view = rig.only();
  const drill = allMessages({ ...view, exercise: true } as AlertView);
  assert.equal(parseCap(drill[0]!).status, 'Exercise');
  assert.match(String(infoOf(drill[0]!, 'vi-VN').description), /DIỄN TẬP — không phải báo động thật\./);
  const cfg = resolveHubConfig({ ...testConfig('/tmp'), cap: { sender: 'ioc@hue.gov.vn', senderName: 'Sở NN&PTNT Thừa Thiên Huế', status: 'Test', expiresHours: 3, radiusKm: 2.5, webBase: 'https://ioc.hue.gov.vn/console/' } }, '/tmp');
  const settings = capSettings(cfg.cap);
  const [xml] = allMessages(view, settings);
  const msg = parseCap(xml!);
  assert.equal(msg.status, 'Test');
  assert.equal(msg.identifier, `ioc@hue.gov.vn.alert.${view.id}.1`);
  const vi = infoOf(xml!, 'vi-VN');
  assert.equal(vi.senderName, 'Sở NN&PTNT Thừa Thiên Huế');
  assert.equal(vi.expires, capTime(T0 + 3 * 3_600_000));
  assert.equal((vi.area as Record<string, unknown>).circle, '16.4637,107.5588 2.5');
  assert.equal(vi.web, `https://ioc.hue.gov.vn/console/alerts/${view.id}`);
  assert.ok(xml!.includes('Sở NN&amp;PTNT'), 'an ampersand is escaped');
  // A drill stays Exercise on a Test hub.
  assert.equal(parseCap(allMessages({ ...view, exercise: true } as AlertView, settings)[0]!).status, 'Exercise');
  assert.throws(() => resolveHubConfig({ ...testConfig('/tmp'), cap: { sender: 'ioc hue, vn' } }, '/tmp'), /cap\/sender|sender/);
  assert.throws(() => resolveHubConfig({ ...testConfig('/tmp'), cap: { status: 'Exercise' as 'Test' } }, '/tmp'), /status/);
  assert.equal(capSettings(resolveHubConfig(testConfig('/tmp'), '/tmp').cap, 'hub-1').sender, 'ioc@hub-1', 'works with no cap config');
  assertValid([...drill, xml!], t);
});

/** A hand-made alert of the model the lead is moving to (category, area, levelLabel…), read defensively. */
function modelAlert(over: Record<string, unknown> = {}): AlertView {
  return {
    id: 42, dev: 'fd-dongba', metric: 'temperature', rule: 'fire', level: 1, maxLevel: 1, state: 'open', active: true,
    openedAt: T0, updatedAt: T0, clearedAt: null, acknowledgedBy: null, acknowledgedAt: null, resolvedBy: null, resolvedAt: null, note: null, lastValue: 68,
    message: { vi: 'Cháy', en: 'Fire' },
    device: { name: 'Chợ Đông Ba', communeCode: '19801', provinceCode: '46', lat: 16.4722, lon: 107.5856 },
    history: [{ ts: T0, kind: 'raised', level: 1, value: 68, by: null, note: null }],
    kind: 'fire', category: 'fire', severity: 'severe',
    area: { communeCode: '19801', provinceCode: '46', communeName: 'Phường Đông Ba', lat: 16.4722, lon: 107.5856 },
    ...over,
  } as unknown as AlertView;
}

test('fire and technical alerts: category, grading, commune name; hostile text stays well-formed', (t) => {
  const fire = allMessages(modelAlert());
  const vi = infoOf(fire[0]!, 'vi-VN');
  assert.deepEqual([vi.category, vi.urgency, vi.severity, vi.responseType], ['Fire', 'Immediate', 'Severe', 'Evacuate']);
  assert.equal(vi.headline, 'Cháy tại Chợ Đông Ba: Phát hiện cháy');
  assert.match(String(vi.description), /\nNhiệt độ: 68 °C\./);
  assert.equal((vi.area as Record<string, unknown>).areaDesc, 'Phường Đông Ba');

  const tech = allMessages(modelAlert({ id: 43, kind: 'no-data', category: 'technical', rule: 'no-data', severity: undefined, history: [{ ts: T0, kind: 'raised', level: 1, value: null, by: null, note: null }] }));
  const en = infoOf(tech[0]!, 'en-US');
  assert.deepEqual([en.category, en.severity, en.responseType], ['Infra', 'Minor', 'Assess']);
  assert.equal(en.headline, 'Technical fault at Chợ Đông Ba: No data');

  // Names with markup, an ampersand, a control character and a commune name over 50 characters.
  const hostile = allMessages(
    modelAlert({
      id: 44,
      device: { name: 'Chợ <Đông> Ba & "Co" \u0001]]>', communeCode: '19801', provinceCode: '46', lat: 16.4722, lon: 107.5856 },
      area: { communeCode: '19801', provinceCode: '46', communeName: 'Phường Đông Ba thuộc thành phố Huế, tỉnh Thừa Thiên Huế (cũ)', lat: 1e-7, lon: 107.5856 },
    }),
  );
  const h = infoOf(hostile[0]!, 'vi-VN');
  assert.equal(h.headline, 'Cháy tại Chợ <Đông> Ba & "Co" \uFFFD]]>: Phát hiện cháy');
  const areaDesc = String((h.area as Record<string, unknown>).areaDesc);
  assert.ok([...areaDesc].length < 50 && areaDesc.endsWith('…'), areaDesc);
  assert.equal((h.area as Record<string, unknown>).circle, '0,107.5856 5');
  assertValid([...fire, ...tech, ...hostile], t);
});

test('what the alert model says at an event (level name, severity, candidate risk level) goes into that message only', (t) => {
  const ev = (m: number, kind: string, level: number, value: number | null, extra: Record<string, unknown> = {}) => ({ ts: T0 + m * MIN, kind, level, value, by: null, note: null, ...extra });
  const view = modelAlert({
    dev: 'wl-kimlong', metric: 'water_level', rule: 'flood-levels', kind: 'flood-levels', category: 'flood',
    device: { name: 'Trạm Kim Long', station: 'Kim Long', river: 'Hương', communeCode: '19816', provinceCode: '46', lat: 16.4637, lon: 107.5588 },
    area: { communeCode: '19816', provinceCode: '46', communeName: 'Phường Kim Long', lat: 16.4637, lon: 107.5588 },
    history: [
      ev(0, 'raised', 3, 3.6),
      ev(30, 'escalated', 4, 3.85, { levelLabel: { vi: 'BĐ3 + 0,3 m', en: 'BĐ3 + 0.3 m' }, severity: 'extreme', candidateRiskLevel: 3 }),
    ],
  });
  const docs = allMessages(view);
  const first = infoOf(docs[0]!, 'vi-VN');
  assert.equal(parametersOf(first).candidateRiskLevel, undefined);
  const second = infoOf(docs[1]!, 'vi-VN');
  assert.equal(second.headline, 'Lũ tại Trạm Kim Long (sông Hương): BĐ3 + 0,3 m');
  assert.match(String(second.description), /\nCấp độ rủi ro thiên tai đề xuất: cấp 3 \(chờ cơ quan dự báo xác nhận\)\./);
  assert.deepEqual([parametersOf(second).candidateRiskLevel, parametersOf(second).levelName], ['3', 'BĐ3 + 0,3 m']);
  assert.equal((second.area as Record<string, unknown>).areaDesc, 'Phường Kim Long');
  assertValid(docs, t);
});

test('the end: a clear then a close is one Cancel; a close while active is the Cancel; a missed episode is a report', (t) => {
  const at = (m: number) => T0 + m * MIN;
  const ev = (m: number, kind: string, level: number, value: number | null = null) => ({ ts: at(m), kind, level, value, by: null, note: null });
  const cleared = modelAlert({ history: [ev(0, 'raised', 1, 70), ev(5, 'acknowledged', 1), ev(30, 'cleared', 0, 40), ev(40, 'resolved', 0), ev(41, 'closed', 0)] });
  assert.deepEqual(allMessages(cleared).map((x) => parseCap(x).msgType), ['Alert', 'Cancel']);
  const closed = allMessages(modelAlert({ history: [ev(0, 'raised', 1, 70), ev(20, 'closed', 1)] }));
  assert.deepEqual(closed.map((x) => parseCap(x).msgType), ['Alert', 'Cancel']);
  assert.match(String(infoOf(closed[1]!, 'en-US').description), /^The duty officer closed the alert at Chợ Đông Ba/);

  const missed = modelAlert({ missed: true, history: [ev(0, 'raised', 1, 70), ev(30, 'cleared', 0, 40)] });
  const docs = allMessages(missed);
  assert.equal(infoOf(docs[0]!, 'en-US').urgency, 'Past');
  assert.equal(infoOf(docs[0]!, 'en-US').responseType, 'None');
  const input = capInputFromAlert(missed);
  const last = episodeMessages(input, SETTINGS).at(-1)!;
  assert.equal(inFeed({ input, msg: last }, SETTINGS, at(31)), false, 'a missed episode is not in the feed');
  assertValid([...docs, ...closed], t);
});

test('grading table: flood and rain levels, fire, technical', () => {
  assert.deepEqual([1, 2, 3, 4, 6].map((l) => derivedSeverity('flood', l)), ['moderate', 'severe', 'extreme', 'extreme', 'extreme']);
  assert.deepEqual([1, 2, 3].map((l) => derivedSeverity('rain', l)), ['moderate', 'severe', 'extreme']);
  assert.equal(derivedSeverity('technical', 3), 'minor');
  assert.deepEqual(CATEGORY, { flood: 'Met', rain: 'Met', fire: 'Fire', technical: 'Infra' });
  assert.deepEqual(activeGrade('rain', 'severe', false), { urgency: 'Expected', severity: 'Severe', certainty: 'Observed', responseType: 'Prepare' });
});

test('CAP times: +07:00, whole seconds', () => {
  assert.equal(capTime(Date.UTC(2020, 10, 12, 17, 30, 59, 999)), '2020-11-13T00:30:59+07:00');
});

test('the checks can fail: xmllint refuses a broken message; the Google rules flag what is missing', (t) => {
  const input = capInputFromAlert(modelAlert({ history: [{ ts: T0, kind: 'raised', level: 1, value: 70, by: null, note: null }, { ts: T0 + MIN, kind: 'escalated', level: 2, value: 90, by: null, note: null }] }));
  const [alert, update] = episodeMessages(input, SETTINGS).map((m) => capAlertXml(input, m, SETTINGS)) as [string, string];
  const broken = [
    update.replace(/<references>.*<\/references>\n/, ''),
    alert.replace(/<expires>.*<\/expires>\n/g, ''),
    alert.replace(/<description>[\s\S]*?<\/description>\n/g, ''),
    alert.replace(/<area>[\s\S]*?<\/area>\n/g, ''),
    alert.replace(/<areaDesc>Phường Đông Ba<\/areaDesc>/g, `<areaDesc>${'x'.repeat(50)}</areaDesc>`),
    alert.replace(/(<sent>[^<]*)\+07:00/, '$1'),
  ];
  assert.deepEqual(broken.map((x) => googleProblems(x).length > 0), broken.map(() => true));
  const missing = xmllintMissing();
  if (missing) return t.skip(missing);
  assert.ok(xmllint([alert]).ok);
  for (const bad of [alert.replace('<msgType>Alert</msgType>', '<msgType>Bogus</msgType>'), alert.replace(/(<sent>[^<]*)\+07:00/, '$1Z'), alert.replace(/<scope>Public<\/scope>\n/, '')]) {
    assert.equal(xmllint([bad]).ok, false, bad.slice(0, 400));
  }
});

test('the feed: an Atom document carrying each current message inline and linked', (t) => {
  const a = capInputFromAlert(modelAlert());
  const b = capInputFromAlert(modelAlert({ id: 45, history: [{ ts: T0 + MIN, kind: 'raised', level: 1, value: 70, by: null, note: null }] }));
  const items = [a, b].map((input) => ({ input, msg: episodeMessages(input, SETTINGS).at(-1)! }));
  const xml = capFeedXml({ items, settings: SETTINGS, feedUrl: 'https://hub/api/v1/cap/alerts.xml', messageUrl: (id, n) => `https://hub/api/v1/alerts/${id}/cap.xml?n=${n}`, now: T0 + 5 * MIN });
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
  assert.match(xml, /<updated>2020-11-12T12:01:00\+07:00<\/updated>/, 'the feed is as new as its newest entry');
  const ids = [...xml.matchAll(/<entry>\s*<id>([^<]+)<\/id>/g)].map((m) => m[1]);
  assert.deepEqual(ids, ['https://hub/api/v1/alerts/45/cap.xml?n=1', 'https://hub/api/v1/alerts/42/cap.xml?n=1'], 'newest first');
  assert.match(xml, /<link rel="alternate" type="application\/cap\+xml" href="https:\/\/hub\/api\/v1\/alerts\/45\/cap.xml\?n=1"\/>/);
  const inline = capAlertsInFeed(xml);
  assert.equal(inline.length, 2);
  assertValid(inline, t);
  if (!xmllintMissing()) assert.ok(xmllint([xml], false).ok, 'the feed is well-formed');
});
