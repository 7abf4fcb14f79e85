/**
 * Runs the real hub and gateway CLIs as child processes (tsx on the sources), waits for their
 * ready lines, and stops them gently (SIGTERM) or hard (SIGKILL) — the way chaos tests need.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Proc {
  child: ChildProcess;
  name: string;
  /** Every JSON log line seen so far (parsed), and the raw lines that were not JSON. */
  logs: Array<Record<string, unknown>>;
  raw: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
}

export interface ProcOptions {
  env?: NodeJS.ProcessEnv;
  /** Copy of every output line (e.g. to a log file). */
  onLine?: (line: string) => void;
  /** Keep at most this many parsed lines in memory (long-running demo). */
  retain?: number;
  /** Node options before the script (default: tsx on the sources); [] runs a bin as installed. */
  nodeArgs?: string[];
}

export function startProc(name: string, script: string, args: string[], opts: ProcOptions = {}): Proc {
  const env = opts.env ?? {};
  const nodeArgs = opts.nodeArgs ?? ['--conditions=ioc-source', '--import', 'tsx'];
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const waiters = new Set<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }>();
  const onLine = (line: string) => {
    opts.onLine?.(line);
    let obj: Record<string, unknown> | undefined;
    try { obj = JSON.parse(line); } catch { raw.push(line); }
    if (!obj || typeof obj !== 'object') return;
    logs.push(obj);
    if (opts.retain !== undefined && logs.length > opts.retain) logs.splice(0, logs.length - opts.retain);
    for (const w of waiters) if (w.pred(obj)) { waiters.delete(w); w.resolve(obj); }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (l) => { opts.onLine?.(l); raw.push(l); if (opts.retain !== undefined && raw.length > opts.retain) raw.shift(); if (process.env.TEST_VERBOSE) console.error(`[${name}] ${l}`); });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const proc: Proc = {
    child, name, logs, raw, exited,
    waitFor(pred, timeoutMs = 30_000) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (l: Record<string, unknown>) => { clearTimeout(t); resolve(l); } };
        const t = setTimeout(() => { waiters.delete(w); reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for a log line; last output:\n${[...raw.slice(-15), ...logs.slice(-10).map((l) => JSON.stringify(l))].join('\n')}`)); }, timeoutMs);
        waiters.add(w);
        void exited.then((e) => { if (waiters.delete(w)) { clearTimeout(t); reject(new Error(`${name} exited (${e.code ?? e.signal}) before the awaited line; output:\n${raw.slice(-20).join('\n')}`)); } });
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}

export const HUB_MAIN = 'hub/src/cli/main.ts';
export const EDGE_MAIN = 'edge/src/cli/main.ts';

export function startHubProc(configPath: string, opts?: ProcOptions): Proc {
  return startProc('hub', HUB_MAIN, ['start', '--config', configPath], opts);
}

export function startEdgeProc(configPath: string, opts?: ProcOptions): Proc {
  return startProc('edge', EDGE_MAIN, ['start', '--config', configPath], opts);
}

export interface RequestOptions {
  /** The hub CA (PEM) for an https:// URL: Node's fetch cannot be given one, so node:https is used. */
  ca?: string | Buffer;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request; resolves with the status and the parsed JSON body (or the text when not JSON). */
export function requestJson<T = unknown>(url: string, opts: RequestOptions = {}): Promise<{ status: number; body: T; headers: import('node:http').IncomingHttpHeaders }> {
  const u = new URL(url);
  const data = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: opts.method ?? (data ? 'POST' : 'GET'),
        ...(u.protocol === 'https:' ? { ca: opts.ca, rejectUnauthorized: true } : {}),
        headers: { ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try { body = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export async function getJson<T = unknown>(url: string, opts: { ca?: string | Buffer; headers?: Record<string, string> } = {}): Promise<T> {
  const res = await requestJson<T>(url, opts);
  if (res.status < 200 || res.status >= 300) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
