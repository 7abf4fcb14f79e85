/**
 * A TCP proxy for partition tests. `blackhole()` stops moving bytes in both directions and holds
 * new connections without answering — no FIN, no RST, like a cut fibre or a dead 4G cell: the
 * peers only find out through their own timeouts. `heal()` lets traffic flow again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export class BlackholeProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ a: Socket; b: Socket | undefined }>();
  private held = false;
  private readonly waiting: Array<() => void> = [];
  port = 0;
  connections = 0;
  /** Bytes forwarded gateway → hub ('up') and hub → gateway ('down'). */
  bytesUp = 0;
  bytesDown = 0;
  /** Called for every chunk forwarded (e.g. to act the moment a large batch is on the wire). */
  onChunk: ((dir: 'up' | 'down', bytes: number) => void) | undefined;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => this.onClient(client));
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  private onClient(client: Socket): void {
    this.connections++;
    const pair: { a: Socket; b: Socket | undefined } = { a: client, b: undefined };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => { pair.b?.destroy(); this.pairs.delete(pair); });
    const open = () => {
      if (client.destroyed) return;
      const upstream = connect(this.targetPort, this.targetHost);
      pair.b = upstream;
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('data', (chunk: Buffer) => { this.bytesUp += chunk.length; this.onChunk?.('up', chunk.length); });
      upstream.on('data', (chunk: Buffer) => { this.bytesDown += chunk.length; this.onChunk?.('down', chunk.length); });
      client.pipe(upstream);
      upstream.pipe(client);
      if (this.held) { client.pause(); upstream.pause(); }
    };
    if (this.held) {
      client.pause();
      this.waiting.push(open);
    } else open();
  }

  /** Stop all traffic silently: existing connections stall, new ones are accepted and left hanging. */
  blackhole(): void {
    this.held = true;
    for (const { a, b } of this.pairs) {
      a.unpipe(); b?.unpipe();
      a.pause(); b?.pause();
    }
  }

  heal(): void {
    this.held = false;
    for (const { a, b } of this.pairs) {
      if (b) { a.pipe(b); b.pipe(a); a.resume(); b.resume(); }
    }
    for (const open of this.waiting.splice(0)) open();
  }

  /** Cut every connection with a RST (a broker or link restart as the peers see it). */
  resetAll(): void {
    for (const { a, b } of this.pairs) { a.resetAndDestroy(); b?.resetAndDestroy(); }
  }

  async stop(): Promise<void> {
    for (const { a, b } of this.pairs) { a.destroy(); b?.destroy(); }
    this.pairs.clear();
    if (this.server) { this.server.close(); await once(this.server, 'close').catch(() => undefined); }
  }
}
