#!/usr/bin/env node
// `npm test`: type-check everything, then run every package's tests and the cross-package tests
// with Node's test runner on the TypeScript sources (tsx, "ioc-source" export condition).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureWeb } from './ensure-web.mjs';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);

function findTests(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name === 'bench') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!args.includes('--no-typecheck')) {
  console.log('# type-check (tsc, strict)');
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.test.json']);
  console.log('# type-check the web consoles (tsc, strict)');
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'hub/web/tsconfig.json']);
}
ensureWeb();
const filters = args.filter((a) => !a.startsWith('--'));
let files = ['shared', 'edge', 'hub', 'test'].flatMap((d) => findTests(join(root, d))).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
// Unit tests first in parallel; the slow process-level suites (e2e, chaos, security fuzz, browser) one at a time after.
const slow = files.filter((f) => ['test/e2e/', 'test/chaos/', 'test/security/', 'test/browser/'].some((d) => f.startsWith(d)));
const fast = files.filter((f) => !slow.includes(f));
const node = [process.execPath, '--conditions=ioc-source', '--import', 'tsx', '--test', '--test-reporter=spec'];
if (fast.length) run(node[0], [...node.slice(1), '--test-concurrency=2', ...fast]);
if (slow.length) run(node[0], [...node.slice(1), '--test-concurrency=1', ...slow]);
