/**
 * The ioc-hub command line as a process: the "hub ready" line, SIGTERM, a bad config, kill -9
 * with acknowledged data surviving, and `import` of an outbox export file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DETECTOR, GW, KIM_LONG, batch, collect, connectGateway, tempDir, testConfig, wl } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/ioc-hub.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Proc {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  stderr: string[];
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, any>>;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

function run(args: string[], opts: { direct?: boolean } = {}): Proc {
  // `direct` runs main.ts in this process's child (SIGKILL reaches the hub itself, not the bin wrapper).
  const argv = opts.direct ? ['--conditions=ioc-source', '--import', 'tsx', MAIN, ...args] : [BIN, ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  const lines: Proc['lines'] = [];
  const stderr: string[] = [];
  const waiters: Array<{ msg: string; resolve: (l: Record<string, any>) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    let o: Record<string, any>;
    try {
      o = JSON.parse(l);
    } catch {
      o = { raw: l };
    }
    lines.push(o);
    for (const w of waiters.splice(0)) if (o.msg === w.msg) w.resolve(o);
    else waiters.push(w);
  });
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    lines,
    stderr,
    exit,
    waitFor(msg, timeoutMs = 20_000) {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "${msg}" line; stdout ${JSON.stringify(lines.slice(-5))} stderr ${stderr.slice(-5).join('\n')}`)), timeoutMs);
        void exit.then(() => reject(new Error(`exited before "${msg}": ${stderr.join('\n')}`)));
        waiters.push({ msg, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
    },
  };
}

function writeConfig(dir: string): string {
  const file = join(dir, 'hub.yaml');
  // Relative dataDir: resolved against the config file's folder.
  writeFileSync(file, stringify({ ...testConfig('./hub-data'), log: { level: 'info' } }));
  return file;
}

test('start: one "hub ready" line with the ports, API and PKI; SIGTERM stops cleanly', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const hub = run(['start', '--config', writeConfig(dir)]);
  t.after(() => hub.child.kill('SIGKILL'));
  const ready = await hub.waitFor('hub ready');
  assert.equal(typeof ready.mqttPort, 'number');
  assert.equal(typeof ready.httpPort, 'number');
  assert.equal(ready.api, `http://127.0.0.1:${ready.httpPort}/api/v1`);
  assert.equal(ready.pkiDir, join(dir, 'hub-data', 'pki'));
  assert.equal(hub.lines.filter((l) => l.msg === 'hub ready').length, 1);
  const health = (await (await fetch(`${ready.api}/health`)).json()) as { status: string };
  assert.equal(health.status, 'ok');

  hub.child.kill('SIGTERM');
  const [code] = await hub.exit;
  assert.equal(code, 0);
  assert.ok(hub.lines.some((l) => l.msg === 'hub stopped'));
});

test('start with a bad config exits 2 with the key named; --help shows examples', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'hub.yaml');
  writeFileSync(file, stringify({ ...testConfig('./d'), http: { port: 8080, bind: 'x' } }));
  const bad = run(['start', '--config', file]);
  const [code] = await bad.exit;
  assert.equal(code, 2);
  assert.match(bad.stderr.join('\n'), /config error: .*hub\.yaml: http\.bind: unknown key/);

  const help = run(['import', '--help']);
  await help.exit;
  const text = help.lines.map((l) => l.raw).join('\n');
  assert.match(text, /Examples:\n\s+ioc-hub import \/media\/usb\/gw-hue-01\.jsonl --config/);
});

test('kill -9 after an ack: the acknowledged readings and the high-water mark survive', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const config = writeConfig(dir);
  let hub = run(['start', '--config', config], { direct: true });
  t.after(() => hub.child.kill('SIGKILL'));
  let ready = await hub.waitFor('hub ready');
  let gw = await connectGateway({ port: ready.mqttPort, pkiDir: ready.pkiDir, clientId: GW });
  let acks = collect(gw, `ioc/v1/${GW}/ack`);
  await gw.subscribeAsync(`ioc/v1/${GW}/ack`, { qos: 1 });
  await acks.next();
  const ts = Date.now();
  await gw.publishAsync(`ioc/v1/${GW}/telemetry`, JSON.stringify(batch(GW, 1, [wl(1.2, ts), wl(2.3, ts + 1000), wl(3.7, ts + 2000)])), { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 3 });
  hub.child.kill('SIGKILL');
  await hub.exit;
  gw.end(true);

  hub = run(['start', '--config', config], { direct: true });
  ready = await hub.waitFor('hub ready');
  gw = await connectGateway({ port: ready.mqttPort, pkiDir: ready.pkiDir, clientId: GW });
  t.after(() => gw.end(true));
  acks = collect(gw, `ioc/v1/${GW}/ack`);
  await gw.subscribeAsync(`ioc/v1/${GW}/ack`, { qos: 1 });
  assert.deepEqual(await acks.next(), { upTo: 3 });
  const body = (await (await fetch(`${ready.api}/readings?dev=${KIM_LONG}&metric=water_level`)).json()) as { readings: Array<{ seq: number }> };
  assert.deepEqual(body.readings.map((r) => r.seq), [1, 2, 3]);
  const alerts = (await (await fetch(`${ready.api}/alerts?dev=${KIM_LONG}`)).json()) as { alerts: Array<{ level: number; history: Array<{ level: number }> }> };
  assert.equal(alerts.alerts.length, 1);
  assert.deepEqual(alerts.alerts[0]!.history.map((h) => h.level), [1, 2, 3]);
  hub.child.kill('SIGTERM');
  assert.equal((await hub.exit)[0], 0);
});

test('import: rows, batches and dropped notices from an export file, de-duplicated on a second run', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const config = writeConfig(dir);
  const file = join(dir, `${GW}.jsonl`);
  const ts = 1_700_000_000_000;
  const lines = [
    { kind: 'ioc-outbox-export', v: 1, gw: GW, exportedAt: ts, rows: 6, ackedUpTo: 0, lastSeq: 8 },
    { seq: 1, reading: wl(0.5, ts) },
    { seq: 2, reading: wl(0.6, ts + 1000) },
    { seq: 3, reading: wl(0.7, ts + 2000) },
    batch(GW, 4, [wl(0.8, ts + 3000), { dev: DETECTOR, metric: 'smoke', value: false, unit: 'bool', ts: ts + 3000, q: 'good' }]),
    { v: 1, kind: 'dropped', ts: ts + 4000, ranges: [[6, 7]], count: 2, reason: 'outbox_full' },
    { seq: 8, reading: wl(0.9, ts + 5000, 'good', 'wl-unregistered') },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');

  let p = run(['import', file, '--config', config, '--json']);
  let [code] = await p.exit;
  assert.equal(code, 1, 'an invalid line makes the exit code 1');
  let s = p.lines.find((l) => l.gw === GW)!;
  assert.deepEqual(
    [s.readings, s.stored, s.duplicates, s.quarantined, s.dropped, s.invalid, s.upTo],
    [6, 5, 0, 1, 2, 1, 8],
  );
  assert.deepEqual(s.invalidLines.map((l: any) => l.line), [8]);

  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  p = run(['import', file, '--config', config]);
  [code] = await p.exit;
  assert.equal(code, 0);
  const out = p.lines.map((l) => l.raw).join('\n');
  assert.match(out, /6 readings — 0 stored, 6 duplicates, 0 quarantined, 0 reported dropped, 0 invalid line\(s\); hub upTo 8/);
  // Each import is in the audit log: who brought which data in by hand.
  p = run(['audit', 'list', '--action', 'data.imported', '--config', config]);
  await p.exit;
  const audit = p.lines.map((l) => l.raw).join('\n');
  assert.equal(audit.match(/data\.imported gateway:gw-test-01/g)?.length, 2, audit);
});
