#!/usr/bin/env node
// Builds the web consoles (hub/web) when dist/ is missing or older than a source file: `npm start`
// and `npm test` always serve the app as it is in the tree.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = new URL('../hub/web/', import.meta.url).pathname;
const built = join(web, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.endsWith('.generated.json')) continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

export function ensureWeb() {
  const stale = !existsSync(built) || newest(join(web, 'src')) > statSync(built).mtimeMs || ['index.html', 'vite.config.ts'].some((f) => statSync(join(web, f)).mtimeMs > statSync(built).mtimeMs);
  if (!stale) return;
  console.log('# building the web consoles (hub/web)');
  const r = spawnSync('npm', ['run', 'build', '-w', '@ioc/web', '--silent'], { cwd: join(web, '..', '..'), stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (import.meta.url === `file://${process.argv[1]}`) ensureWeb();
