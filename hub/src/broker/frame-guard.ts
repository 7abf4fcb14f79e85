/**
 * Refuses an oversized MQTT packet from its fixed header, before anything buffers it.
 *
 * aedes' parser (mqtt-packet) collects a whole packet before a hook sees it, and MQTT's
 * remaining-length field allows 256 MiB: a client with any certificate of our CA could announce a
 * huge PUBLISH and dribble it in, and the hub would hold all of it in memory until authorizePublish
 * finally looked at its size. This duplex sits between the TLS socket and aedes and follows the
 * packet boundaries as the bytes stream through: a type byte, a remaining length of 1–4 bytes
 * (7 bits each, high bit = more), then that many bytes it only counts. When a remaining length is
 * above the limit (or its encoding is malformed) the socket is destroyed on the spot; nothing of
 * the packet has reached aedes beyond its header.
 *
 * On the hot path: per chunk one `data` event, one push; per packet a handful of arithmetic steps.
 * Payload bytes are skipped, never copied or inspected (measured: test/bench/README.md).
 */
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

export type FrameRefusal = 'oversize' | 'malformed';

export interface FrameGuardOptions {
  /** Largest remaining length accepted once connected (payload limit plus topic and header room). */
  maxRemainingLength: number;
  /**
   * Largest remaining length before the broker has accepted the client (accepted()): the CONNECT
   * (client id, will, credentials) and anything pipelined behind it, which aedes queues (up to 42
   * packets) while it authenticates. An honest client waits for CONNACK before it publishes.
   */
  firstRemainingLength: number;
  /** Called once, just before the socket is destroyed. */
  onRefuse(reason: FrameRefusal, detail: { remainingLength: number; limit: number; packets: number }): void;
}

const TYPE = 0;
const LENGTH = 1;

/** The scanner alone (no streams), so it can be tested and measured on its own. */
export class FrameScanner {
  private state = TYPE;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  /** Bytes of the current packet's body still to pass. */
  private skip = 0;
  /** Packets whose fixed header has been read. */
  packets = 0;
  /** The broker has accepted the client: the full limit applies from the next header on. */
  accepted = false;

  constructor(
    private readonly maxRemainingLength: number,
    private readonly firstRemainingLength: number,
  ) {}

  /** Follows `chunk`; returns null while every header is within the limits. */
  scan(chunk: Uint8Array): { reason: FrameRefusal; remainingLength: number; limit: number } | null {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const k = n - i < this.skip ? n - i : this.skip;
        this.skip -= k;
        i += k;
        continue;
      }
      const b = chunk[i++]!;
      if (this.state === TYPE) {
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      const limit = this.accepted ? this.maxRemainingLength : this.firstRemainingLength;
      if (b & 0x80) {
        // MQTT-2.2.3: at most four length bytes.
        if (this.lengthBytes === 4) return { reason: 'malformed', remainingLength: this.length, limit };
        // More length bytes follow, so the length is at least this much (the low digits come
        // first): a length that must exceed the limit is refused without waiting for the rest.
        if (this.length + this.multiplier > limit) return { reason: 'oversize', remainingLength: this.length + this.multiplier, limit };
        continue;
      }
      if (this.length > limit) return { reason: 'oversize', remainingLength: this.length, limit };
      this.packets++;
      this.skip = this.length;
      this.state = TYPE;
    }
    return null;
  }
}

/**
 * The TLS socket as aedes sees it: bytes in pass the scanner, bytes out go straight to the socket.
 * The TLS facts the ACL reads (peer certificate, authorized, remote address) are the socket's.
 */
export class MqttFrameGuard extends Duplex {
  private readonly scanner: FrameScanner;

  constructor(
    readonly socket: TLSSocket,
    opts: FrameGuardOptions,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new FrameScanner(opts.maxRemainingLength, opts.firstRemainingLength);
    socket.on('data', (chunk: Buffer) => {
      const bad = this.scanner.scan(chunk);
      if (bad) {
        opts.onRefuse(bad.reason, { remainingLength: bad.remainingLength, limit: bad.limit, packets: this.scanner.packets });
        socket.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** The broker authenticated the client and sent CONNACK (aedes 'clientReady'). */
  accepted(): void {
    this.scanner.accepted = true;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    // aedes writes a packet in pieces under cork(): one TLS record for all of them.
    this.socket.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.socket.write(chunk);
    this.socket.uncork();
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }

  get authorized(): boolean {
    return this.socket.authorized;
  }

  getPeerCertificate(detailed?: boolean): ReturnType<TLSSocket['getPeerCertificate']> {
    return this.socket.getPeerCertificate(detailed as true);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
}
