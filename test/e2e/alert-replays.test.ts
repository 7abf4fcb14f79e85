/**
 * Alert replays end to end: Modbus simulators → real ioc-edge processes → the hub's broker (mutual
 * TLS) → ingest → alert engine → /api/v1/alerts (API key). One hub and two gateways serve every
 * replay at once; each replay has its own devices and asserts exactly its episodes, their level
 * histories and the changes the hub announced (its live feed, seen in the hub's log), nothing more.
 *
 * Time is compressed: one hour of a flood or of a rain day lasts S_PER_HOUR seconds. Rules judge
 * readings at their measurement time, stamped by the gateway's clock, so the rules whose meaning
 * is a duration are given windows compressed by the same factor (the rain bands' 3 h and 24 h).
 * Gateway B sits behind a TCP proxy that can cut its link without a FIN or RST.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compressHours, KIM_LONG_12_NOV_2020_HOURS, WaterLevelStationSimulator,
} from '../simulators/modbus-water-level.js';
import { HEAVY_RAIN_DAY, RainGaugeSimulator } from '../simulators/modbus-rain-gauge.js';
import { SmokeHeatDetectorSimulator } from '../simulators/modbus-smoke-heat.js';
import type { ModbusSimulator } from '../simulators/modbus-sim-server.js';
import { startEdgeProc, startHubProc, type Proc } from '../lib/procs.js';
import { writeEdgeConfig, writeHubConfig, type SiteDevice } from '../lib/sites.js';
import { hubClient, type ApiAlert } from '../lib/hub-client.js';
import { provisionPeople } from '../lib/hub-cli.js';
import { BlackholeProxy } from '../lib/proxy.js';
import { until } from '../lib/until.js';

const GW_A = 'gw-replay-a';
const GW_B = 'gw-replay-b';
const KIM_LONG = { bd1: 1.0, bd2: 2.0, bd3: 3.5 };
/** One hour of a replay in seconds of the simulators', the gateways' and the rules' clocks. */
const S_PER_HOUR = 0.5;
const HOUR_AS_HOURS = S_PER_HOUR / 3600;
const POLL_MS = 200;
/** A reading judged this long after it was measured is late (alerts.lateAfterS). */
const LATE_AFTER_S = 5;

const DEV = {
  flood: 'wl-kimlong-2020',
  strong: 'wl-kimlong-strong',
  rain: 'rg-kimlong',
  fire: 'fd-dongba',
  silent: 'wl-phu-oc',
  missed: 'wl-truong-tien',
  late: 'wl-phu-cam',
} as const;

/** The same wave peaking at 3.7 m: above BĐ3, below the BĐ3 + 0.3 m tier. */
const STRONG_HOURS = KIM_LONG_12_NOV_2020_HOURS.map(([h, m]) => [h, Math.round((0.6 + ((m - 0.6) * (3.7 - 0.6)) / (3.15 - 0.6)) * 100) / 100] as const);

/** Every rule in force, decided here so that each expectation is exact. */
const RULES = [
  { id: 'flood', kind: 'flood-levels', deadbandM: 0.05, forS: 0 },
  // The built-in rate rule, unchanged: it needs a rise seen over at least half its 30 minutes of
  // event time, and a whole compressed flood lasts 24 s, so it must say nothing.
  { id: 'water-rising', kind: 'rate', metric: 'water_level', perHour: [0.5, 1.0], windowMinutes: 30, unit: 'm', select: { profiles: ['radar-water-level'] } },
  // The national bands (3 h ≥ 70/100/200 mm, 24 h ≥ 100/200/400 mm) with the hours compressed.
  {
    id: 'heavy-rain', kind: 'accumulation', select: { devices: [DEV.rain] },
    windows: [{ hours: 3 * HOUR_AS_HOURS, bands: [70, 100, 200] }, { hours: 24 * HOUR_AS_HOURS, bands: [100, 200, 400] }],
  },
  {
    id: 'fire', kind: 'composite', select: { devices: [DEV.fire] },
    when: { all: [{ metric: 'smoke', is: true }, { any: [{ metric: 'temperature', gte: 57 }, { metric: 'temperature', risePerMin: 8 }] }] },
  },
];

type Alert = Omit<ApiAlert, 'history'> & {
  id: number; rule: string; kind: string; category: string; severity: string; target: string;
  maxLevel: number; missed: boolean; stale: boolean; late: boolean; openedAt: number; clearedAt: number | null;
  history: Array<{ ts: number; kind: string; level: number; value: number | null }>;
};

interface Site {
  sims: {
    flood: WaterLevelStationSimulator; strong: WaterLevelStationSimulator; rain: RainGaugeSimulator; fire: SmokeHeatDetectorSimulator;
    silent: WaterLevelStationSimulator; missed: WaterLevelStationSimulator; late: WaterLevelStationSimulator;
  };
  hub: Proc;
  edgeB: Proc;
  proxy: BlackholeProxy;
  api: ReturnType<typeof hubClient>;
  stop(): Promise<void>;
}

let site: Site;

const station = (id: string, name: string, port: number, gateway: string, registry?: Record<string, unknown>): SiteDevice => ({
  id, profile: 'radar-water-level', port, pollIntervalMs: POLL_MS, name: `Trạm ${name}`, station: name, river: 'Hương', alarmLevels: KIM_LONG, gateway,
  ...(registry ? { registry } : {}),
});

async function startSite(): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-replays-'));
  const sims = {
    flood: new WaterLevelStationSimulator(), strong: new WaterLevelStationSimulator(), rain: new RainGaugeSimulator(),
    fire: new SmokeHeatDetectorSimulator(), silent: new WaterLevelStationSimulator(), missed: new WaterLevelStationSimulator(),
    late: new WaterLevelStationSimulator(),
  };
  await Promise.all(Object.values(sims).map((s: ModbusSimulator) => s.start()));
  for (const s of [sims.flood, sims.strong, sims.silent, sims.missed, sims.late]) s.setLevel(0.6);
  const procs: Proc[] = [];
  let proxy: BlackholeProxy | undefined;
  const stop = async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    await proxy?.stop();
    await Promise.allSettled(Object.values(sims).map((s: ModbusSimulator) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const devicesA: SiteDevice[] = [
      station(DEV.flood, 'Kim Long', sims.flood.port, GW_A),
      station(DEV.strong, 'Kim Long (lũ mạnh)', sims.strong.port, GW_A),
      // Reports every 0.2 s: its open alert is stale after 2 s without readings.
      station(DEV.silent, 'Phú Ốc', sims.silent.port, GW_A, { intervalS: POLL_MS / 1000, staleAfterS: 2 }),
      { id: DEV.rain, profile: 'rain-gauge-float', port: sims.rain.port, pollIntervalMs: POLL_MS, name: 'Trạm đo mưa Kim Long', station: 'Kim Long', gateway: GW_A },
      { id: DEV.fire, profile: 'smoke-heat-detector', port: sims.fire.port, pollIntervalMs: POLL_MS, name: 'Chợ Đông Ba', communeCode: '19801', gateway: GW_A },
    ];
    const devicesB = [station(DEV.missed, 'Trường Tiền', sims.missed.port, GW_B), station(DEV.late, 'Phú Cam', sims.late.port, GW_B)];
    const hubConfig = writeHubConfig({
      dir, gatewayId: GW_A, devices: [...devicesA, ...devicesB], openApi: false, httpTls: false,
      hubExtra: { alerts: { rules: RULES, lateAfterS: LATE_AFTER_S, tickS: 0.2 } },
    });
    const key = await provisionPeople(hubConfig, []);
    const hub = startHubProc(hubConfig);
    procs.push(hub);
    const ready = await hub.waitFor((l) => l.msg === 'hub ready');
    const mqttPort = Number(ready.mqttPort);
    const pkiDir = String(ready.pkiDir);
    proxy = new BlackholeProxy(mqttPort);
    await proxy.start();
    // The gateways use the hub's demo PKI certificates (enrolment is test/e2e/enrol.test.ts's).
    const edgeA = startEdgeProc(writeEdgeConfig({ dir: join(dir, 'gw-a'), gatewayId: GW_A, devices: devicesA, mqttPort, pkiDir }));
    // Gateway B notices a dead link by its keepalive (5 s) and retries within a second.
    const edgeB = startEdgeProc(writeEdgeConfig(
      { dir: join(dir, 'gw-b'), gatewayId: GW_B, devices: devicesB, mqttPort: proxy.port, pkiDir },
      { uplink: { keepaliveS: 5, backoff: { initialMs: 200, maxMs: 1000 } } },
    ));
    procs.push(edgeA, edgeB);
    await Promise.all([edgeA.waitFor((l) => l.msg === 'gateway started'), edgeB.waitFor((l) => l.msg === 'gateway started')]);
    const api = hubClient(`http://127.0.0.1:${ready.httpPort}`, { apiKey: key });
    // Every device reports before a replay starts.
    await until(async () => {
      const counts = await Promise.all(Object.values(DEV).map((d) => api.readings(d, d === DEV.rain ? 'rainfall' : d === DEV.fire ? 'smoke' : 'water_level', 5)));
      return counts.every((c) => c.length > 0);
    }, 'every device to report', 30_000, 300);
    return { sims, hub, edgeB, proxy, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A device's episodes, oldest first. */
async function episodes(dev: string): Promise<Alert[]> {
  return ((await site.api.alerts(dev)) as Alert[]).sort((a, b) => a.id - b.id);
}

const history = (a: Alert) => a.history.map((h) => `${h.kind}:${h.level}`);

/** What the hub announced about a device's alerts (its live feed; the engine logs each change it emits). */
function announced(dev: string): string[] {
  return site.hub.logs
    .filter((l) => l.area === 'alerts' && typeof l.alert === 'number' && typeof l.kind === 'string' && l.target === dev)
    .map((l) => `${String(l.rule)} ${String(l.kind)}:${String(l.alertLevel)}`);
}

/** Waits until the hub has stored `n` readings of `dev` matching `pred` measured at or after `since`. */
async function stored(dev: string, metric: string, what: string, pred: (v: unknown) => boolean, n = 3, since = 0): Promise<void> {
  await until(async () => (await site.api.readings(dev, metric, 10_000)).filter((r) => r.ts >= since && pred(r.value)).length >= n, `hub to store ${what}`, 30_000, 250);
}

describe('alert replays end to end (simulators → ioc-edge → hub → /api/v1/alerts)', { concurrency: true, timeout: 240_000 }, () => {
  before(async () => {
    site = await startSite();
  }, { timeout: 120_000 });
  after(async () => {
    await site?.stop();
  });

  it('flood: Kim Long on 12 Nov 2020 (peak 3.15 m) is one episode BĐ1 → BĐ2 → BĐ1 → cleared; a stronger wave (3.7 m) reaches BĐ3; no rate alert', async () => {
    const { flood, strong } = site.sims;
    await Promise.all([
      flood.replay(compressHours(KIM_LONG_12_NOV_2020_HOURS, S_PER_HOUR)),
      strong.replay(compressHours(STRONG_HOURS, S_PER_HOUR)),
    ]);
    const end = Date.now();
    // The falls end at 0.70 and 0.72 m: once the hub has those the whole waves were judged.
    await Promise.all([
      stored(DEV.flood, 'water_level', 'the end of the 2020 wave', (v) => v === 0.7, 3, end),
      stored(DEV.strong, 'water_level', 'the end of the strong wave', (v) => v === 0.72, 3, end),
    ]);

    const [a2020, aStrong] = [await episodes(DEV.flood), await episodes(DEV.strong)];
    assert.equal(a2020.length, 1, `one episode, got ${JSON.stringify(a2020)}`);
    assert.deepEqual(
      { rule: a2020[0]!.rule, state: a2020[0]!.state, active: a2020[0]!.active, maxLevel: a2020[0]!.maxLevel, history: history(a2020[0]!) },
      // On the way down the river passes BĐ1 again (below 1.95 m) before it is under BĐ1 − 5 cm.
      { rule: 'flood', state: 'cleared', active: false, maxLevel: 2, history: ['raised:1', 'escalated:2', 'deescalated:1', 'cleared:0'] },
    );
    assert.deepEqual(announced(DEV.flood), ['flood raised:1', 'flood escalated:2', 'flood deescalated:1', 'flood cleared:0']);

    assert.equal(aStrong.length, 1, `one episode, got ${JSON.stringify(aStrong)}`);
    assert.deepEqual(
      { rule: aStrong[0]!.rule, state: aStrong[0]!.state, maxLevel: aStrong[0]!.maxLevel, severity: aStrong[0]!.severity, history: history(aStrong[0]!) },
      { rule: 'flood', state: 'cleared', maxLevel: 3, severity: 'extreme', history: ['raised:1', 'escalated:2', 'escalated:3', 'deescalated:2', 'deescalated:1', 'cleared:0'] },
    );
    assert.deepEqual(announced(DEV.strong), ['flood raised:1', 'flood escalated:2', 'flood escalated:3', 'flood deescalated:2', 'flood deescalated:1', 'flood cleared:0']);

    // Each level was entered by the first reading past its threshold, at the gateway's time.
    const readings = (await site.api.readings(DEV.strong, 'water_level', 10_000)).sort((x, y) => x.ts - y.ts);
    const firstAtOrAbove = (m: number) => readings.find((r) => (r.value as number) >= m)!;
    const [raised, bd2, bd3] = aStrong[0]!.history;
    assert.deepEqual([raised!.ts, bd2!.ts, bd3!.ts], [firstAtOrAbove(1.0).ts, firstAtOrAbove(2.0).ts, firstAtOrAbove(3.5).ts]);
    assert.equal(aStrong[0]!.openedAt, raised!.ts);

    const rate = (await site.api.alerts()).filter((a) => (a as Alert).rule === 'water-rising');
    assert.deepEqual(rate, [], 'a 24 s replay is no rise over 15 minutes of event time');
  });

  it('rain: a 24-hour series crossing the 3 h and 24 h bands is one episode 1 → 2 → 3, held by the 24 h window, cleared as the storm leaves it', async () => {
    const rain = site.sims.rain;
    const start = Date.now();
    // The day's total from the logger, then the next observation day (the total resets to 0, dry).
    rain.replay([...HEAVY_RAIN_DAY, { hours: 24.01, totalMm: 0 }], { hoursPerS: 1 / S_PER_HOUR });
    const hours = (ts: number) => (ts - start) / 1000 / S_PER_HOUR;
    // The storm's rain (h 9–15) leaves the 24 h window between h 33 and h 39.
    const a = await until(async () => (await episodes(DEV.rain)).find((x) => x.state === 'cleared'), 'the heavy-rain episode to clear', 60_000, 300);
    await stored(DEV.rain, 'rainfall', 'the dry day after', (v) => v === 0, 3, Date.now());
    const all = await episodes(DEV.rain);
    assert.equal(all.length, 1, `one episode, got ${JSON.stringify(all)}`);
    // Level 1 at 3 h ≥ 70 mm (h 8.8), 2 at 3 h ≥ 100 mm (h 11.2), 3 at 3 h ≥ 200 mm (h 14.4); after the
    // rain the 24 h sum (453 mm) holds level 3 until it falls under 360 mm (h 33.2), 2 under
    // 180 mm (h 37.2), 1 under 90 mm (h 38.4): the bands less their 10 % clearing margin.
    assert.deepEqual({ rule: a.rule, category: a.category, maxLevel: a.maxLevel, history: history(a) }, {
      rule: 'heavy-rain', category: 'rain', maxLevel: 3,
      history: ['raised:1', 'escalated:2', 'escalated:3', 'deescalated:2', 'deescalated:1', 'cleared:0'],
    });
    assert.deepEqual(announced(DEV.rain), ['raised:1', 'escalated:2', 'escalated:3', 'deescalated:2', 'deescalated:1', 'cleared:0'].map((x) => `heavy-rain ${x}`));
    const at = a.history.map((h) => Math.round(hours(h.ts) * 10) / 10);
    const expected = [8.8, 11.2, 14.4, 33.2, 37.2, 38.4];
    at.forEach((h, i) => assert.ok(Math.abs(h - expected[i]!) <= 1.0, `change ${i + 1} at series hour ${h}, expected about ${expected[i]} (all: ${at.join(', ')})`));
  });

  it('fire: heat alone raises nothing; smoke with heat is one extreme fire alert, cleared when the smoke stops', async () => {
    const fire = site.sims.fire;
    // A fire heating the room 10 °C/s, up to 90 °C, with a clean smoke chamber.
    fire.startFire({ riseCPerS: 1, speed: 10, peakC: 90, smokeAfterS: 1e9 });
    const heatFrom = Date.now();
    await stored(DEV.fire, 'temperature', 'temperatures ≥ 57 °C without smoke', (v) => (v as number) >= 57, 5, heatFrom);
    await stored(DEV.fire, 'smoke', 'no smoke meanwhile', (v) => v === false, 5, heatFrom);
    assert.deepEqual(await episodes(DEV.fire), [], 'heat without smoke is no fire');

    fire.setSmoke(true);
    const burning = await until(async () => (await episodes(DEV.fire)).find((a) => a.active), 'the fire alert', 20_000, 250);
    assert.deepEqual(
      { rule: burning.rule, kind: burning.kind, category: burning.category, level: burning.level, severity: burning.severity, state: burning.state },
      { rule: 'fire', kind: 'composite', category: 'fire', level: 1, severity: 'extreme', state: 'open' },
    );

    fire.setSmoke(false);
    const out = Date.now();
    await until(async () => (await episodes(DEV.fire)).some((a) => a.state === 'cleared'), 'the fire alert to clear', 20_000, 250);
    // Still hot, no smoke: nothing more.
    await stored(DEV.fire, 'smoke', 'no smoke after the fire', (v) => v === false, 5, out);
    await stored(DEV.fire, 'temperature', 'heat after the smoke', (v) => (v as number) >= 57, 5, out);
    const all = await episodes(DEV.fire);
    assert.equal(all.length, 1, `one episode, got ${JSON.stringify(all)}`);
    assert.deepEqual(history(all[0]!), ['raised:1', 'cleared:0']);
    assert.equal(all[0]!.severity, 'extreme');
    assert.deepEqual(announced(DEV.fire), ['fire raised:1', 'fire cleared:0']);
  });

  it('a station silent above BĐ2 keeps its alert open, marked stale, and fresh when it reports again', async () => {
    const sim = site.sims.silent;
    sim.setLevel(2.4);
    const open = await until(async () => (await episodes(DEV.silent)).find((a) => a.level === 2), 'the BĐ2 alert', 20_000, 250);
    assert.deepEqual(history(open), ['raised:2']);

    // The station loses power: the gateway records one comm_error per point, then hears nothing.
    await sim.stop();
    const stale = await until(async () => (await episodes(DEV.silent)).find((a) => a.stale), 'the alert to be marked stale', 20_000, 250);
    assert.deepEqual(
      { state: stale.state, active: stale.active, level: stale.level, stale: stale.stale, history: history(stale) },
      { state: 'open', active: true, level: 2, stale: true, history: ['raised:2', 'stale:2'] },
      'silence never clears',
    );

    await sim.start({ port: sim.port });
    const fresh = await until(async () => (await episodes(DEV.silent)).find((a) => !a.stale && a.history.some((h) => h.kind === 'fresh')), 'the alert to be fresh again', 30_000, 250);
    assert.deepEqual({ state: fresh.state, level: fresh.level, history: history(fresh) }, { state: 'open', level: 2, history: ['raised:2', 'stale:2', 'fresh:2'] });
    assert.equal((await episodes(DEV.silent)).length, 1);
    assert.deepEqual(announced(DEV.silent), ['flood raised:2', 'flood stale:2', 'flood fresh:2']);
  });

  it('backlog: a flood that began and ended while the link was cut is one missed report; one still going on is announced with its true start', async () => {
    const { missed, late } = site.sims;
    const { proxy, api } = site;
    const servedAt = (sim: WaterLevelStationSimulator, m: number, since: number) =>
      sim.served.filter((s) => s.address === 0 && s.ts >= since && s.raw === Math.round(m * 100)).length;
    const polled = (sim: WaterLevelStationSimulator, m: number, since: number, what: string) =>
      until(() => servedAt(sim, m, since) >= 5, `the gateway to poll ${what}`, 10_000, 50);

    proxy.blackhole();
    const cut = Date.now();
    await polled(missed, 0.6, cut, 'the low river after the cut');
    // Trường Tiền rises through BĐ1 to BĐ2 and falls back; Phú Cam rises above BĐ1 and stays.
    missed.setLevel(1.5);
    late.setLevel(1.5);
    const rise = Date.now();
    await polled(missed, 1.5, rise, 'BĐ1 at Trường Tiền');
    missed.setLevel(2.4);
    await polled(missed, 2.4, rise, 'BĐ2 at Trường Tiền');
    missed.setLevel(0.6);
    const fell = Date.now();
    await polled(missed, 0.6, fell, 'the fall at Trường Tiền');
    // Keep the link down until the whole of that episode is older than alerts.lateAfterS.
    await until(() => Date.now() - fell > (LATE_AFTER_S + 3) * 1000, 'the episode to be late', 20_000, 100);
    const highBeforeHeal = (await api.readings(DEV.late, 'water_level', 10_000)).filter((r) => (r.value as number) >= 1.0);
    assert.deepEqual(highBeforeHeal, [], 'nothing passed the cut link');

    // While the backlog drains, any view of Trường Tiền's episode before it is a report says late.
    const seen: Alert[] = [];
    const watch = setInterval(() => void episodes(DEV.missed).then((as) => seen.push(...as), () => undefined), 100);
    proxy.heal();
    try {
      await until(async () => (await episodes(DEV.missed)).some((a) => a.missed), 'the missed report', 30_000, 250);
      await until(async () => (await episodes(DEV.late)).some((a) => a.history.some((h) => h.kind === 'announced')), 'the late episode to be announced', 30_000, 250);
    } finally {
      clearInterval(watch);
    }
    const m = await episodes(DEV.missed);
    assert.equal(m.length, 1, `one episode at Trường Tiền, got ${JSON.stringify(m)}`);
    assert.deepEqual(
      { state: m[0]!.state, active: m[0]!.active, missed: m[0]!.missed, maxLevel: m[0]!.maxLevel, history: history(m[0]!) },
      { state: 'cleared', active: false, missed: true, maxLevel: 2, history: ['raised:1', 'escalated:2', 'cleared:0', 'missed:0'] },
    );
    for (const v of seen) assert.ok(v.missed || v.late, `never shown as a live alert: ${JSON.stringify({ state: v.state, late: v.late, missed: v.missed })}`);
    assert.deepEqual(announced(DEV.missed), ['flood missed:0'], 'a report, never rung');

    // Phú Cam: announced at once, opened at the first reading above BĐ1 (measured during the cut).
    const firstHigh = (await api.readings(DEV.late, 'water_level', 10_000)).sort((x, y) => x.ts - y.ts).find((r) => (r.value as number) >= 1.0)!;
    assert.ok(firstHigh.ts < rise + 2_000, 'the first high reading was measured during the cut');
    let l = await episodes(DEV.late);
    assert.equal(l.length, 1, `one episode at Phú Cam, got ${JSON.stringify(l)}`);
    assert.deepEqual({ openedAt: l[0]!.openedAt, state: l[0]!.state, active: l[0]!.active, missed: l[0]!.missed, late: l[0]!.late, history: history(l[0]!) },
      { openedAt: firstHigh.ts, state: 'open', active: true, missed: false, late: false, history: ['raised:1', 'announced:1'] });
    assert.equal(l[0]!.history[0]!.ts, firstHigh.ts);

    // The river goes down with the link up: an ordinary, announced clearing.
    late.setLevel(0.6);
    l = [await until(async () => (await episodes(DEV.late)).find((a) => a.state === 'cleared'), 'Phú Cam to clear', 20_000, 250)];
    assert.deepEqual(history(l[0]!), ['raised:1', 'announced:1', 'cleared:0']);
    assert.equal(l[0]!.missed, false);
    assert.deepEqual(announced(DEV.late), ['flood announced:1', 'flood cleared:0']);
  });
});
