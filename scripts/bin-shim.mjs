// Shared by edge/bin and hub/bin: run the compiled CLI when `npm run build` has produced it,
// otherwise run the TypeScript source through tsx in a child process (signals forwarded).
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { pathToFileURL } from 'node:url';

export async function runCli(pkgDir) {
  const compiled = `${pkgDir}/dist/cli/main.js`;
  if (existsSync(compiled)) {
    await import(pathToFileURL(compiled).href);
    return;
  }
  const require = createRequire(`${pkgDir}/package.json`);
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(
    process.execPath,
    ['--conditions=ioc-source', '--import', tsx, `${pkgDir}/src/cli/main.ts`, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
