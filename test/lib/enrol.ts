/**
 * Enrolment the way a technician does it, with the real command lines: `ioc-hub gateway token`
 * on the hub's machine, then `ioc-edge enroll` on the gateway with only the token and the CA
 * fingerprint. Run asynchronously: a simulator in the calling process keeps answering meanwhile.
 */
import { spawn } from 'node:child_process';
import type { IssuedToken as TokenInfo } from '../../hub/src/enrol/views.js';
import { EDGE_MAIN, HUB_MAIN, ROOT } from './procs.js';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs one CLI (tsx on the sources) to its end. */
export function runCli(main: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=ioc-source', '--import', 'tsx', main, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

export const hubCli = (args: string[]) => runCli(HUB_MAIN, args);
export const edgeCli = (args: string[]) => runCli(EDGE_MAIN, args);

export type { TokenInfo };

export async function makeToken(hubConfig: string, gatewayId: string, commune = '19816', ttl?: string): Promise<TokenInfo> {
  const r = await hubCli(['gateway', 'token', gatewayId, '--commune', commune, '--config', hubConfig, '--json', ...(ttl ? ['--ttl', ttl] : [])]);
  if (r.code !== 0) throw new Error(`ioc-hub gateway token exited ${r.code}: ${r.err}${r.out}`);
  return JSON.parse(r.out) as TokenInfo;
}

/** Token from the hub's CLI, then `ioc-edge enroll` against the hub's HTTPS API; throws on failure. */
export async function enrolGateway(o: { hubConfig: string; httpPort: number; gatewayId: string; edgeConfig: string; commune?: string }): Promise<TokenInfo> {
  const t = await makeToken(o.hubConfig, o.gatewayId, o.commune);
  const r = await edgeCli(['enroll', '--hub', `https://localhost:${o.httpPort}`, '--token', t.token, '--ca-fingerprint', t.caFingerprint, '--config', o.edgeConfig]);
  if (r.code !== 0) throw new Error(`ioc-edge enroll exited ${r.code}: ${r.err}${r.out}`);
  return t;
}
