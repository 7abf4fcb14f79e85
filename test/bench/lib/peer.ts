/** Parent side of ./peer-child.ts: start it, ask for its counters, hear its probe reports, stop it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ROOT } from './common.js';
import type { PeerSpec, PeerStats } from './peer-child.js';

const CHILD = fileURLToPath(new URL('./peer-child.ts', import.meta.url));

export interface ProbeReport {
  gw: string;
  seq: number;
  value: number;
  /** Wall-clock ms when the hub reported the reading stored. */
  t: number;
}

export class Peer extends EventEmitter<{ probe: [ProbeReport] }> {
  private nextId = 1;
  private readonly pending = new Map<number, (m: Record<string, unknown>) => void>();
  private exited = false;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    /** The hub's HTTP API port (hub mode). */
    readonly httpPort: number | undefined,
  ) {
    super();
  }

  static async start(spec: PeerSpec, extraNodeArgs: string[] = []): Promise<Peer> {
    const child = spawn(
      process.execPath,
      // BENCH_PEER_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" profiles the hub side of any bench.
      [...(process.env.BENCH_PEER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...extraNodeArgs, '--conditions=ioc-source', '--import', 'tsx', CHILD, JSON.stringify(spec)],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let peer: Peer | null = null;
    let httpPort: number | undefined;
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${spec.mode} peer did not start within 60 s`)), 60_000);
      child.once('exit', (code, signal) => reject(new Error(`${spec.mode} peer exited (${code ?? signal}) before it was ready`)));
      child.on('message', (m: Record<string, unknown>) => {
        if (m.event === 'ready') {
          clearTimeout(t);
          httpPort = m.httpPort as number | undefined;
          resolve(m.port as number);
        } else if (m.event === 'probe') peer?.emit('probe', m as unknown as ProbeReport);
        else if (typeof m.id === 'number') {
          const done = peer?.pending.get(m.id);
          peer?.pending.delete(m.id);
          done?.(m);
        }
      });
    });
    peer = new Peer(child, port, httpPort);
    const p = peer;
    child.on('exit', (code, signal) => {
      p.exited = true;
      for (const done of p.pending.values()) done({ error: `peer exited (${code ?? signal})` });
      p.pending.clear();
    });
    return peer;
  }

  private request(cmd: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error('peer has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(String(m.error))) : resolve(m)));
      this.child.send({ id, cmd });
    });
  }

  async stats(): Promise<PeerStats> {
    return (await this.request('stats')) as unknown as PeerStats;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await Promise.race([this.request('close').catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(kill);
  }
}
