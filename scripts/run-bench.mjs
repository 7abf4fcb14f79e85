#!/usr/bin/env node
// `npm run bench [-- name...] [-- --quick]`: runs each test/bench/*.bench.ts in its own Node process
// on the TypeScript sources (tsx, "ioc-source" export condition), one after the other, then prints
// every target's MET / MISSED from test/bench/results/latest.json. Exits non-zero only when a bench
// crashed; a missed target is a finding, printed, not a failure. See test/bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const benchDir = join(root, 'test/bench');
const resultsFile = join(benchDir, 'results/latest.json');
const args = process.argv.slice(2);

if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench [-- [--quick] [--list] [name ...]]
  name     run only the benches whose file name contains it (e.g. drain, outbox, throughput)
  --quick  shorter measuring windows (BENCH_QUICK=1): a smoke run, numbers are rougher
  --list   print the benches and exit`);
  process.exit(0);
}

// Cheapest first, so a crash shows early; any other *.bench.ts runs after these.
const ORDER = ['outbox.bench.ts', 'throughput.bench.ts', 'drain.bench.ts'];
const found = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts'));
let files = [...ORDER.filter((f) => found.includes(f)), ...found.filter((f) => !ORDER.includes(f)).sort()];
const filters = args.filter((a) => !a.startsWith('--'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (args.includes('--list')) {
  for (const f of files) console.log(relative(root, join(benchDir, f)));
  process.exit(0);
}
if (!files.length) {
  console.error(`no bench matches ${filters.join(', ')} (have: ${found.join(', ')})`);
  process.exit(2);
}

const env = { ...process.env };
if (args.includes('--quick')) env.BENCH_QUICK = '1';

const runs = [];
const started = Date.now();
for (const f of files) {
  const file = relative(root, join(benchDir, f));
  console.log(`\n======== ${file} ========`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--conditions=ioc-source', '--import', 'tsx', file], { cwd: root, stdio: 'inherit', env });
  const status = r.status ?? (r.signal ? `signal ${r.signal}` : 'unknown');
  runs.push({ file, name: f.replace(/\.bench\.ts$/, ''), status, seconds: (Date.now() - t0) / 1000 });
}

console.log('\n======== summary ========');
let results = {};
if (existsSync(resultsFile)) {
  try {
    results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    results = {};
  }
}
for (const r of runs) {
  console.log(`${r.status === 0 ? 'ok     ' : 'CRASHED'}  ${r.file}  (${r.seconds.toFixed(0)} s${r.status === 0 ? '' : `, exit ${r.status}`})`);
  const section = results[r.name];
  for (const t of section?.targets ?? []) {
    const v = t.unit === '%' ? `${(t.value * 100).toFixed(1)} %` : `${Math.round(t.value).toLocaleString('en-US')} ${t.unit}`;
    console.log(`           ${t.met ? 'MET   ' : 'MISSED'}  ${t.name}: ${v}`);
  }
}
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; figures in ${relative(root, resultsFile)}`);
process.exit(runs.some((r) => r.status !== 0) ? 1 : 0);
