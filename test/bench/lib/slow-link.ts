/**
 * A TCP relay that limits each direction to `kbps` kilobits per second (token bucket on the bytes
 * it forwards, back-pressure on the sender), standing in for a commune's cellular uplink. TLS and
 * MQTT pass through untouched.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

class Throttle extends Transform {
  private nextFree = 0;

  constructor(private readonly bytesPerMs: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const now = performance.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + chunk.length / this.bytesPerMs;
    const wait = this.nextFree - now;
    if (wait < 1) {
      this.push(chunk);
      done();
    } else {
      setTimeout(() => {
        this.push(chunk);
        done();
      }, wait);
    }
  }
}

export class SlowLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number, private readonly kbps: number) {}

  async start(): Promise<void> {
    const bytesPerMs = (this.kbps * 1000) / 8 / 1000;
    this.server = createServer((down) => {
      const up = connect(this.targetPort, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(new Throttle(bytesPerMs)).pipe(up);
      up.pipe(new Throttle(bytesPerMs)).pipe(down);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) {
      this.server.close();
      await once(this.server, 'close').catch(() => undefined);
    }
  }
}
