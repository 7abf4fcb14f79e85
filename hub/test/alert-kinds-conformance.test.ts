/**
 * The contract every rule kind in RULE_KINDS keeps, checked the same way for each: its spec refuses
 * unknown keys by name, its targets are addressable and placed, its evaluators take any garbage a
 * device or gateway can send without throwing and answer levels within 0..maxLevel, and its texts
 * exist in Vietnamese and English for every level. A new kind adds its minimal spec to MINIMAL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStatus, type Reading, type Status } from '@ioc/shared';
import { RULE_KINDS } from '../src/alerts/kinds/index.js';
import { RuleSpecError, SEVERITIES, type CompiledRule, type Evaluator, type GatewayObservation, type RuleTarget, type Verdict } from '../src/alerts/rule.js';
import { checkRuleSpec, compileRule } from '../src/alerts/spec.js';
import { resolveHubConfig } from '../src/config/load.js';
import { buildRegistry, type Registry } from '../src/config/registry.js';
import type { DeviceEntry } from '../src/config/schema.js';
import { GW, LEVELS, testConfig } from './helpers.js';

const T0 = 1_700_000_000_000;

/** The smallest spec of each kind that compiles against REGISTRY with at least one target. */
const MINIMAL: Record<string, Record<string, unknown>> = {
  'flood-levels': { kind: 'flood-levels' },
  levels: { kind: 'levels', metric: 'water_level', thresholds: [1, 2] },
  rate: { kind: 'rate', metric: 'water_level', perHour: [0.5] },
  accumulation: { kind: 'accumulation' },
  composite: { kind: 'composite', when: { metric: 'smoke', is: true } },
  'no-data': { kind: 'no-data' },
  'suspect-sensor': { kind: 'suspect-sensor' },
  'gateway-offline': { kind: 'gateway-offline' },
  'gateway-problem': { kind: 'gateway-problem' },
};

/** testConfig's registry plus a rain gauge, a station with zone and historical peak, and a site. */
function registry(): Registry {
  const base = testConfig('/nonexistent/ioc-alert-kinds');
  const extra: DeviceEntry[] = [
    { id: 'rg-aluoi', gateway: GW, profile: 'rain-gauge', name: 'A Lưới', communeCode: '19801', provinceCode: '46', lat: 16.2, lon: 107.2 },
    {
      id: 'wl-phuoc', gateway: GW, profile: 'radar-water-level', name: 'Trạm Phú Ốc', station: 'Phú Ốc', river: 'Bồ',
      communeCode: '19816', provinceCode: '46', lat: 16.5, lon: 107.5, alarmLevels: LEVELS, zone: 4, historicPeakM: 5.2,
    },
    { id: 'th-site', gateway: GW, profile: 'smoke-heat-detector', name: 'Kho A', communeCode: '19801', provinceCode: '46', lat: 16.47, lon: 107.58, site: 'kho-a' },
  ];
  const cfg = { ...base, registry: { ...base.registry, devices: [...(base.registry.devices ?? []), ...extra] } };
  return buildRegistry(resolveHubConfig(cfg, '/nonexistent').registry);
}

const REGISTRY = registry();

function specOf(kind: string): Record<string, unknown> {
  return { id: `c-${kind}`, ...MINIMAL[kind]! };
}

/** Readings no sensor should send but some will: missing values, strings, booleans for numbers, unknown metrics. */
function garbage(target: RuleTarget, ts: number): Reading[] {
  const inputs = target.inputs.length ? target.inputs : [{ dev: target.dev ?? 'nobody', metric: 'water_level' }];
  const out: unknown[] = [];
  for (const { dev, metric } of inputs) {
    const m = metric === '*' ? 'water_level' : metric;
    const r = (value: unknown, q = 'good', extra: Record<string, unknown> = {}) => ({ dev, metric: m, value, unit: 'm', ts: ts + out.length * 1000, q, ...extra });
    out.push(
      r(null, 'bad', { reason: 'comm_error' }),
      r(null),
      r(undefined),
      r('abc'),
      r('3.7'),
      r(''),
      r(true),
      r(false),
      r(7, 'bad', { reason: 'out_of_range' }),
      r(7, 'bad', { reason: 'clock_skew' }),
      r(7, 'uncertain'),
      r(-1e12),
      r(1e12),
      r(0),
      r({ nested: 1 }),
      r([1, 2]),
      { dev, metric: 'no_such_metric', value: 5, unit: '', ts: ts + out.length * 1000, q: 'good' },
      { dev: 'no-such-device', metric: m, value: 5, unit: '', ts: ts + out.length * 1000, q: 'good' },
      { dev, metric: m, value: 5, unit: '', ts: ts + out.length * 1000, q: 'no-such-quality' },
    );
  }
  return out as Reading[];
}

/** Non-finite numbers: refused on the wire (strictNumbers), so only a robustness check. */
function nonFinite(target: RuleTarget, ts: number): Reading[] {
  return target.inputs.flatMap(({ dev, metric }, i) =>
    [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map((value, k) => ({ dev, metric: metric === '*' ? 'water_level' : metric, value, unit: '', ts: ts + (i * 3 + k) * 1000, q: 'good' as const })),
  );
}

const OUTBOX = { depth: 0, oldestUnsentAgeS: 0, bytes: 0, dropped: 0, lastSeq: 0, ackedUpTo: 0, lastAckTs: null };

/** Statuses a gateway may send (each passes the wire schema) with odd or missing parts, and none at all. */
function oddStatuses(gw: string, at: number): GatewayObservation[] {
  const s = (status: Status | null, online = true) => ({ gw, online, status, at });
  return [
    s(null, false),
    s(null, true),
    s({ online: false }, false),
    s({ online: true }),
    s({ online: true, outbox: OUTBOX }),
    s({ online: true, ts: at, outbox: { ...OUTBOX, writeFailures: 3 } }),
    s({ online: true, outbox: { ...OUTBOX, lastWriteError: { ts: at, message: 'x' } } }),
    s({ online: true, ts: 0, outbox: { ...OUTBOX, writeFailures: 1, lastWriteError: { ts: at * 2, message: '' } } }),
    s({ online: true, ts: at, outbox: { ...OUTBOX, overCap: { rows: 0, bytes: 0, maxRows: 0, maxBytes: 0 } } }),
    s({ v: 1, online: true, ts: at, drivers: [{ dev: 'x', driver: 'modbus', state: 'error' }] }),
  ];
}

function assertVerdict(v: Verdict | undefined, rule: CompiledRule, what: string): void {
  if (v === undefined) return;
  assert.ok(Number.isInteger(v.level), `${what}: level ${v.level} is not an integer`);
  assert.ok(v.level >= 0 && v.level <= rule.maxLevel, `${what}: level ${v.level} outside 0..${rule.maxLevel}`);
  assert.ok(Number.isFinite(v.ts), `${what}: ts ${v.ts} is not a number`);
  assert.ok(v.value === null || Number.isFinite(v.value), `${what}: value ${String(v.value)} is neither null nor a finite number`);
}

const show = (r: Reading) => `${r.dev}/${r.metric}=${typeof r.value === 'string' ? JSON.stringify(r.value) : String(r.value)} q=${r.q}${r.reason ? `(${r.reason})` : ''}`;

/** Everything an evaluator can be given, in event-time order, each answer checked. */
function feedGarbage(rule: CompiledRule, target: RuleTarget, ev: Evaluator, start: number): number {
  let ts = start;
  for (const r of garbage(target, ts)) {
    assertVerdict(ev.reading(r), rule, `${target.key} reading ${show(r)}`);
    ts = Math.max(ts, r.ts);
  }
  for (const online of [true, false, true]) {
    ts += 60_000;
    if (ev.tick) assertVerdict(ev.tick({ now: ts, gatewayOnline: () => online }), rule, `${target.key} tick (gateway online: ${online})`);
    if (ev.gateway) for (const o of oddStatuses(target.gw ?? GW, ts)) assertVerdict(ev.gateway(o), rule, `${target.key} gateway ${JSON.stringify(o)}`);
  }
  // A long silence, then the clock far on.
  ts += 86_400_000;
  if (ev.tick) assertVerdict(ev.tick({ now: ts, gatewayOnline: () => true }), rule, `${target.key} tick after a day`);
  return ts;
}

/** Text that is there: non-empty, and no value that failed to turn into words. */
function assertText(s: unknown, what: string): void {
  assert.equal(typeof s, 'string', `${what}: not a string`);
  assert.ok((s as string).trim().length > 0, `${what}: empty`);
}

function assertCleanText(s: string, what: string): void {
  assert.doesNotMatch(s, /\bNaN\b|\bundefined\b|\bnull\b|\[object /, `${what}: "${s}"`);
}

function texts(rule: CompiledRule, target: RuleTarget): Array<{ what: string; vi: string; en: string; level: number; kind: 'label' | 'message' }> {
  const out: Array<{ what: string; vi: string; en: string; level: number; kind: 'label' | 'message' }> = [];
  for (let level = 0; level <= rule.maxLevel; level++) {
    const label = rule.levelLabel(level, target);
    out.push({ what: `${target.key} levelLabel(${level})`, ...label, level, kind: 'label' });
    for (const value of [1.25, null]) {
      const msg = rule.message(target, level, value, level === 0 ? rule.maxLevel : undefined);
      out.push({ what: `${target.key} message(${level}, ${value})`, ...msg, level, kind: 'message' });
    }
  }
  return out;
}

test('the odd statuses fed to gateway evaluators are valid on the wire', () => {
  for (const o of oddStatuses(GW, T0)) if (o.status) assert.ok(validateStatus(o.status), `${JSON.stringify(o.status)}: ${validateStatus.lastError()}`);
});

test('every registered kind has a minimal spec in this suite', () => {
  const missing = [...RULE_KINDS.keys()].filter((k) => !(k in MINIMAL));
  assert.deepEqual(missing, [], 'add a minimal spec for each new kind to MINIMAL');
  assert.deepEqual(Object.keys(MINIMAL).filter((k) => !RULE_KINDS.has(k)), [], 'MINIMAL names a kind that is not registered');
});

for (const [name, kind] of RULE_KINDS) {
  describe(`rule kind ${name}`, () => {

    test('describes itself under its registry name', () => {
      assert.equal(kind.kind, name);
      assert.ok(kind.description.trim().length > 10, 'a one-line description');
      assert.equal((kind.schema as { type?: string }).type, 'object', 'its own keys are an object schema');
    });

    test('its minimal spec compiles to a rule with targets and levels', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      assert.equal(rule.spec.id, `c-${name}`);
      assert.equal(rule.spec.kind, name);
      assert.ok(['flood', 'rain', 'fire', 'environment', 'technical'].includes(rule.category), `category ${rule.category}`);
      assert.ok(Number.isInteger(rule.maxLevel) && rule.maxLevel >= 1, `maxLevel ${rule.maxLevel}`);
      assert.ok(rule.targets.length > 0, 'the minimal spec must watch something in the test registry');
    });

    test('its spec refuses an unknown key, naming it', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      assert.throws(
        () => checkRuleSpec({ ...specOf(name), thresholdz: [1] }),
        (err: unknown) => err instanceof RuleSpecError && /thresholdz/.test(err.message) && err.ruleId === `c-${name}`,
      );
      assert.throws(
        () => checkRuleSpec({ ...specOf(name), select: { devicez: ['x'] } }),
        (err: unknown) => err instanceof RuleSpecError && /devicez/.test(err.message),
      );
      // The spec itself is fine without it.
      assert.doesNotThrow(() => checkRuleSpec(specOf(name)));
    });

    test('every target has a unique key, an area and a place in vi and en', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      const keys = rule.targets.map((t) => t.key);
      assert.equal(new Set(keys).size, keys.length, `duplicate target keys: ${keys.join(', ')}`);
      for (const t of rule.targets) {
        assert.ok(t.key.length > 0, 'a key');
        assert.ok(t.inputs.length > 0 || t.gateway !== undefined, `${t.key}: is fed by readings or by a gateway`);
        for (const i of t.inputs) assert.ok(REGISTRY.devices.has(i.dev), `${t.key}: input device ${i.dev} is registered`);
        if (t.dev !== null) assert.ok(REGISTRY.devices.has(t.dev), `${t.key}: device ${t.dev} is registered`);
        if (t.gateway !== undefined) assert.ok(REGISTRY.gateways.has(t.gateway), `${t.key}: gateway ${t.gateway} is registered`);
        assert.match(t.area.communeCode, /^[0-9]{5}$/, `${t.key}: area.communeCode`);
        assert.match(t.area.provinceCode, /^[0-9]{2}$/, `${t.key}: area.provinceCode`);
        assert.ok(Number.isFinite(t.area.lat) && Math.abs(t.area.lat) <= 90, `${t.key}: area.lat`);
        assert.ok(Number.isFinite(t.area.lon) && Math.abs(t.area.lon) <= 180, `${t.key}: area.lon`);
        assertText(t.place.vi, `${t.key}: place.vi`);
        assertText(t.place.en, `${t.key}: place.en`);
        assert.ok(t.staleAfterMs > 0, `${t.key}: staleAfterMs`);
      }
    });

    test('evaluators never throw on garbage and answer levels within 0..maxLevel', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      for (const t of rule.targets) {
        const ev = rule.evaluator(t);
        assert.ok(Number.isFinite(ev.historyMs) && ev.historyMs >= 0, `${t.key}: historyMs`);
        feedGarbage(rule, t, ev, T0);
      }
    });

    test('non-finite numbers are no judgement or a valid one', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      for (const t of rule.targets) {
        const ev = rule.evaluator(t);
        for (const r of nonFinite(t, T0)) assertVerdict(ev.reading(r), rule, `${t.key} reading ${show(r)}`);
      }
    });

    test('restore(level) for every level keeps the evaluator working', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      for (const t of rule.targets) {
        for (let level = 0; level <= rule.maxLevel; level++) {
          const ev = rule.evaluator(t);
          if (!ev.restore) continue;
          ev.restore(level);
          feedGarbage(rule, t, ev, T0 + level * 1000);
        }
      }
    });

    test('levelLabel, message and severity for every level, in vi and en', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      for (const t of rule.targets) {
        for (const x of texts(rule, t)) {
          assertText(x.vi, `${x.what}.vi`);
          assertText(x.en, `${x.what}.en`);
          // Flood and rain alerts reach the public: their messages are translated, not copied.
          if (x.kind === 'message' && x.level >= 1 && (rule.category === 'flood' || rule.category === 'rain')) {
            assert.notEqual(x.vi, x.en, `${x.what}: the vi message is the en one`);
          }
        }
        if (rule.facts) for (let level = 0; level <= rule.maxLevel; level++) assert.doesNotThrow(() => rule.facts!(t, level, level), `${t.key} facts(${level})`);
      }
      for (let level = 1; level <= rule.maxLevel; level++) assert.ok((SEVERITIES as readonly string[]).includes(rule.severity(level)), `severity(${level}) = ${rule.severity(level)}`);
      assert.doesNotThrow(() => rule.severity(0));
    });

    test('texts carry no unformatted values (NaN, undefined, null)', { skip: !(name in MINIMAL) && 'no minimal spec' }, () => {
      const rule = compileRule(specOf(name), REGISTRY);
      for (const t of rule.targets) {
        for (const x of texts(rule, t)) {
          assertCleanText(x.vi, `${x.what}.vi`);
          assertCleanText(x.en, `${x.what}.en`);
        }
      }
    });
  });
}
