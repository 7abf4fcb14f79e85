#!/usr/bin/env node
// ioc-hub: runs the compiled CLI when `npm run build` has produced it; otherwise runs the
// TypeScript source through tsx in a child process with the "ioc-source" export condition (so
// @ioc/shared resolves to its sources), forwarding signals and the exit code.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const tsx = import.meta.resolve('tsx');
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=ioc-source', '--import', tsx, main, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
