// Shared by edge/bin and hub/bin: run the compiled CLI when `npm run build` has produced it,
// otherwise run the TypeScript source through tsx — in THIS process. A child process would make
// the PID a user or a service manager holds a wrapper's: `kill -9 <pid>` would then leave the
// real program running with its ports, its data-directory lock and its outbox.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

export async function runCli(pkgDir) {
  const compiled = `${pkgDir}/dist/cli/main.js`;
  if (existsSync(compiled)) {
    await import(pathToFileURL(compiled).href);
    return;
  }
  // tsx's loader hooks, then ours on top (hooks run last-registered first): ours adds the
  // "ioc-source" condition and hands on to tsx, which compiles the .ts files it resolves to.
  // (tsx is a dependency of the repository root, beside this file.)
  const tsx = await import('tsx/esm/api');
  tsx.register();
  register(new URL('./ioc-source-hooks.mjs', import.meta.url));
  await import(pathToFileURL(`${pkgDir}/src/cli/main.ts`).href);
}
