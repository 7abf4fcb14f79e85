/**
 * One process per program and data directory, started the way a user or a unit file starts it:
 * through the installed bins (edge/bin, hub/bin — TypeScript sources, no build).
 *
 * - the PID the bin was started as IS the program: `kill -9 <pid>` frees the hub's ports and the
 *   gateway's data directory at once (no wrapper left, no orphan still holding them);
 * - a second `start` on the same data directory is refused with a message naming the first;
 * - the lock a `kill -9`ed instance held does not block its restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDirLock, DataDirLockedError } from '@ioc/shared';
import { ROOT, startProc, type Proc } from '../lib/procs.js';
import { writeEdgeConfig, writeHubConfig } from '../lib/sites.js';
import { until } from '../lib/until.js';

const HUB_BIN = join(ROOT, 'hub/bin/ioc-hub.mjs');
const EDGE_BIN = join(ROOT, 'edge/bin/ioc-edge.mjs');
const GW = 'gw-single-01';

const viaBin = (name: string, bin: string, args: string[]): Proc => startProc(name, bin, args, { nodeArgs: [] });

/** Runs a bin to its end (for the refused second instance). */
function runBin(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'info' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Resolves when this process can listen on the port itself (nobody else holds it). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Live processes whose command line mentions `needle` (an orphan would show up here). */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test('hub and gateway through their bins: one process each, a second start refused, kill -9 frees everything, restart works', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-single-'));
  const procs: Proc[] = [];
  t.after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
    // Should this test fail because a bin left its program behind, do not leave it running.
    for (const pid of processesWith(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const site = { dir, gatewayId: GW, devices: [] };
  const hubConfig = writeHubConfig(site);

  let hub = viaBin('hub', HUB_BIN, ['start', '--config', hubConfig]);
  procs.push(hub);
  const ready = await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
  const httpPort = Number(ready.httpPort);
  const mqttPort = Number(ready.mqttPort);
  const hubDataDir = String(ready.dataDir);

  const edgeConfig = writeEdgeConfig({ ...site, mqttPort, pkiDir: String(ready.pkiDir) });
  const edgeDataDir = join(dir, 'edge-data');
  let edge = viaBin('edge', EDGE_BIN, ['start', '--config', edgeConfig]);
  procs.push(edge);
  await edge.waitFor((l) => l.msg === 'gateway started', 60_000);
  await until(async () => ((await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).json()) as { broker: { clients: number } }).broker.clients === 1, 'the gateway to connect');

  // A second instance on each data directory: refused, naming the running one's pid.
  const hub2 = runBin(HUB_BIN, ['start', '--config', hubConfig]);
  assert.equal(hub2.code, 1, hub2.err);
  assert.match(hub2.err, new RegExp(`another ioc-hub is already running on ${hubDataDir} \\(pid ${hub.child.pid},`));
  const edge2 = runBin(EDGE_BIN, ['start', '--config', edgeConfig]);
  assert.equal(edge2.code, 1, edge2.err);
  assert.match(edge2.err, new RegExp(`another ioc-edge is already running on ${edgeDataDir} \\(pid ${edge.child.pid},`));
  assert.ok(!hub.child.exitCode && !edge.child.exitCode, 'the running ones are untouched');

  // kill -9 of the PIDs a user holds: the programs themselves end, nothing keeps their resources.
  await hub.kill9();
  await edge.kill9();
  assert.ok(await portIsFree(httpPort), `HTTP port ${httpPort} still held after kill -9 (an orphan process?)`);
  assert.ok(await portIsFree(mqttPort), `MQTT port ${mqttPort} still held after kill -9`);
  assert.deepEqual(processesWith(hubConfig), [], 'no process left running the hub config');
  assert.deepEqual(processesWith(edgeConfig), [], 'no process left running the gateway config');
  for (const [d, program] of [[hubDataDir, 'ioc-hub'], [edgeDataDir, 'ioc-edge']] as const) {
    const lock = acquireDirLock(d, program); // throws DataDirLockedError if anything still held it
    lock.release();
  }

  // The stale lock files of the killed instances do not block a restart.
  hub = viaBin('hub', HUB_BIN, ['start', '--config', writeHubConfig({ ...site, mqttPort, httpPort })]);
  procs.push(hub);
  await hub.waitFor((l) => l.msg === 'hub ready', 60_000);
  edge = viaBin('edge', EDGE_BIN, ['start', '--config', edgeConfig]);
  procs.push(edge);
  await edge.waitFor((l) => l.msg === 'gateway started', 60_000);
  assert.throws(() => acquireDirLock(edgeDataDir, 'ioc-edge'), DataDirLockedError, 'the restarted gateway holds its directory');

  // A graceful stop releases the lock too.
  assert.equal((await edge.stop('SIGTERM')).code, 0);
  assert.equal((await hub.stop('SIGTERM')).code, 0);
  acquireDirLock(edgeDataDir, 'ioc-edge').release();
  acquireDirLock(hubDataDir, 'ioc-hub').release();
});
