/**
 * A TCP relay that limits each direction to `kbps` kilobits per second (token bucket on the bytes
 * it forwards, back-pressure on the sender), standing in for a commune's cellular uplink, and
 * optionally delays each direction by `delayMs` (propagation: the round trip grows by 2 x delayMs,
 * like a satellite or VSAT hop). TLS and MQTT pass through untouched.
 *
 * The throttle is the bottleneck's queue (what it has not yet serialized waits in it and, through
 * back-pressure, in the sender's socket buffers); the delay line after it is the pipe: it holds
 * what is on the way (up to rate x delay bytes) without back-pressure, in order.
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

/** A fixed propagation delay: each chunk comes out delayMs after it went in, in order. */
class Delay extends Transform {
  private readonly line: Array<{ due: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly delayMs: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.line.push({ due: performance.now() + this.delayMs, chunk });
    this.arm();
    done(); // no back-pressure: bytes in the pipe are not queued at the bottleneck
  }

  override _flush(done: TransformCallback): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const { chunk } of this.line.splice(0)) this.push(chunk);
    done();
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.line.length = 0;
    done(err);
  }

  private arm(): void {
    if (this.timer || this.line.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      while (this.line.length > 0 && this.line[0]!.due <= now + 0.5) this.push(this.line.shift()!.chunk);
      this.arm();
    }, Math.max(0, this.line[0]!.due - performance.now()));
  }
}

export class SlowLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  /** kbps 0: no rate limit (delay only); delayMs 0: no added delay (the default). */
  constructor(private readonly targetPort: number, private readonly kbps: number, private readonly delayMs = 0) {}

  async start(): Promise<void> {
    const bytesPerMs = (this.kbps * 1000) / 8 / 1000;
    const path = (from: Socket, to: Socket): void => {
      let s: NodeJS.ReadableStream = from;
      if (this.kbps > 0) s = s.pipe(new Throttle(bytesPerMs));
      if (this.delayMs > 0) s = s.pipe(new Delay(this.delayMs));
      s.pipe(to);
    };
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
      path(down, up);
      path(up, down);
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
