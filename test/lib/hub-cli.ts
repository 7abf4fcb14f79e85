/** Runs `ioc-hub` subcommands (accounts, API keys) against a site's hub.yaml, as an operator would. */
import { spawn } from 'node:child_process';
import { ROOT } from './procs.js';

const MAIN = `${ROOT}/hub/src/cli/main.ts`;

export function hubCli(configFile: string, args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=ioc-source', '--import', 'tsx', MAIN, ...args, '--config', configFile], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export interface DemoLogin {
  username: string;
  password: string;
  role: string;
  areas: string;
  name: string;
}

/** Adds the users (passwords given) and one read-only API key for scripts; returns the key. */
export async function provisionPeople(configFile: string, logins: readonly DemoLogin[]): Promise<string> {
  // The key first and alone: it creates hub.db and the secret key; the accounts then go in at once.
  const key = await hubCli(configFile, ['apikey', 'create', '--name', 'demo console', '--role', 'operator', '--areas', '*']);
  const results = [
    key,
    ...(await Promise.all(
      logins.map((l) => hubCli(configFile, ['user', 'add', l.username, '--role', l.role, '--areas', l.areas, '--name', l.name, '--password-stdin'], l.password)),
    )),
  ];
  for (const r of results) if (r.code !== 0) throw new Error(`ioc-hub failed (${r.code}): ${r.stderr}`);
  return key.stdout.trim();
}
