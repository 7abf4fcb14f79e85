/**
 * The partition proxy the chaos tests rely on (test/lib/proxy.ts), against a plain TCP upstream:
 * it forwards both ways; blackhole() stalls existing connections and holds new ones with no FIN and
 * no RST (the peers notice nothing); heal() delivers what was held, in order; resetAll() cuts with
 * RST; stop() refuses new connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { BlackholeProxy } from '../lib/proxy.js';
import { sleep } from '../lib/chaos.js';

interface Peer {
  socket: Socket;
  received: string;
  events: string[];
}

function track(socket: Socket): Peer {
  const p: Peer = { socket, received: '', events: [] };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => { p.received += d; });
  socket.on('end', () => p.events.push('end'));
  socket.on('close', () => p.events.push('close'));
  socket.on('error', (err: NodeJS.ErrnoException) => p.events.push(`error:${err.code ?? err.message}`));
  return p;
}

async function waitUntil(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('BlackholeProxy: forwards, blackholes silently, heals in order, resets, stops', { timeout: 30_000 }, async (t) => {
  const upstreams: Peer[] = [];
  const server = createServer((s) => void upstreams.push(track(s)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy = new BlackholeProxy((server.address() as { port: number }).port);
  await proxy.start();
  const clients: Peer[] = [];
  t.after(async () => {
    for (const c of clients) c.socket.destroy();
    await proxy.stop();
    for (const u of upstreams) u.socket.destroy();
    server.close();
  });
  const open = async (): Promise<Peer> => {
    const c = track(connect(proxy.port, '127.0.0.1'));
    clients.push(c);
    await once(c.socket, 'connect');
    return c;
  };
  const chunks: string[] = [];
  proxy.onChunk = (dir, n) => chunks.push(`${dir}:${n}`);

  // Forwarding both ways.
  const a = await open();
  a.socket.write('hello');
  await waitUntil(() => upstreams[0]?.received === 'hello', 'upstream to get hello');
  upstreams[0]!.socket.write('back');
  await waitUntil(() => a.received === 'back', 'client to get back');
  assert.equal(proxy.bytesUp, 5);
  assert.equal(proxy.bytesDown, 4);
  assert.deepEqual(chunks, ['up:5', 'down:4']);

  // Blackhole: nothing moves, nobody is told.
  proxy.blackhole();
  a.socket.write('during-1');
  upstreams[0]!.socket.write('stuck');
  const b = await open(); // accepted by the proxy …
  b.socket.write('early');
  await sleep(400);
  assert.equal(upstreams[0]!.received, 'hello', 'stalled towards the upstream');
  assert.equal(a.received, 'back', 'stalled towards the client');
  assert.equal(upstreams.length, 1, '… but not connected onwards while blackholed');
  a.socket.write('during-2');
  await sleep(100);
  for (const p of [a, b, upstreams[0]!]) assert.deepEqual(p.events, [], 'no FIN, no RST, no error');

  // Heal: what was held arrives, in order; the held connection is connected now.
  proxy.heal();
  await waitUntil(() => upstreams[0]!.received === 'helloduring-1during-2', 'held bytes upstream');
  await waitUntil(() => a.received === 'backstuck', 'held bytes to the client');
  await waitUntil(() => upstreams[1]?.received === 'early', 'the held connection to open with its bytes');
  upstreams[1]!.socket.write('hi-b');
  await waitUntil(() => b.received === 'hi-b', 'second connection both ways');
  assert.equal(proxy.connections, 2);

  // resetAll: both ends see the connection die with a reset.
  proxy.resetAll();
  await waitUntil(() => a.events.includes('close') && b.events.includes('close'), 'clients to close');
  assert.ok(a.events.some((e) => e === 'error:ECONNRESET'), `client saw a reset: ${a.events.join(',')}`);
  await waitUntil(() => upstreams.every((u) => u.events.includes('close')), 'upstreams to close');

  // After a reset, new connections still work; after stop(), they are refused.
  const c = await open();
  c.socket.write('again');
  await waitUntil(() => upstreams[2]?.received === 'again', 'a new connection after the reset');
  await proxy.stop();
  await waitUntil(() => c.events.includes('close'), 'stop() to close open connections');
  const refused = connect(proxy.port, '127.0.0.1');
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});
