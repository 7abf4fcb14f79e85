/**
 * One stream client: a cursor over the live feed's history. The client's messages are sent from
 * the history while its socket has room (bufferedAmount under highWaterBytes), so a slow client
 * costs at most that much memory; one whose next message has left the history, or is older than
 * maxLagMs, has fallen behind for good and is closed (it can reconnect with since= and get a reset).
 */
import type { WebSocket } from 'ws';
import type { LiveEntry, LiveFeed } from '../live.js';
import type { StreamFilter } from './filter.js';
import { CLOSE } from './messages.js';
import { render } from './render.js';

export interface ClientLimits {
  /** Sending pauses while the socket holds this much unsent data. */
  highWaterBytes: number;
  /** A client whose next message waited longer than this is closed as slow. */
  maxLagMs: number;
  /** After closing a client, it is cut off if it has not gone within this time (a stalled client never reads the close frame). */
  closeGraceMs: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = { highWaterBytes: 1024 * 1024, maxLagMs: 30_000, closeGraceMs: 5_000 };

export type CloseReason = 'slow' | 'heartbeat' | 'credentials' | 'shutdown';

export class StreamClient {
  /** Id of the last publication handled (sent, or not for this client). */
  private cursor: number;
  /** Waiting for the socket to drain below the high-water mark. */
  private waiting = false;
  private closing = false;
  /** Answered the last ping. */
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly feed: LiveFeed,
    private readonly filter: StreamFilter,
    start: number,
    private readonly limits: ClientLimits,
    private readonly onClosing: (reason: CloseReason) => void,
  ) {
    this.cursor = start;
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  get closed(): boolean {
    return this.closing;
  }

  ping(): void {
    this.ws.ping();
  }

  /** Sends a control message (hello, reset) outside the feed. */
  sendControl(msg: object): void {
    this.ws.send(JSON.stringify(msg), this.sent);
  }

  /** Sends what the feed has beyond the cursor, while the socket has room. */
  pump(): void {
    if (this.closing || this.waiting) return;
    const last = this.feed.lastId;
    while (this.cursor < last) {
      if (this.ws.bufferedAmount >= this.limits.highWaterBytes) {
        this.waiting = true;
        this.checkLag();
        return;
      }
      const entry = this.feed.history.get(this.cursor + 1);
      if (!entry) return this.close('slow', CLOSE.slow, `too slow: the hub no longer holds message ${this.cursor + 1}; reconnect with since=`);
      this.cursor = entry.id;
      const text = render(entry, this.filter);
      if (text !== null) this.ws.send(text, this.sent);
    }
  }

  /** A new publication: sent now unless the client is still draining (then checked for lag). */
  onEntry(_e: LiveEntry): void {
    if (this.waiting) this.checkLag();
    else this.pump();
  }

  close(reason: CloseReason, code: number, text: string): void {
    if (this.closing) return;
    this.closing = true;
    this.onClosing(reason);
    this.ws.close(code, text.slice(0, 120));
    setTimeout(() => this.ws.terminate(), this.limits.closeGraceMs).unref();
  }

  terminate(reason: CloseReason): void {
    if (!this.closing) {
      this.closing = true;
      this.onClosing(reason);
    }
    this.ws.terminate();
  }

  private checkLag(): void {
    const next = this.feed.history.get(this.cursor + 1);
    if (this.cursor < this.feed.lastId && (!next || Date.now() - next.at > this.limits.maxLagMs)) {
      this.close('slow', CLOSE.slow, 'too slow: fell behind the live stream; reconnect with since=');
    }
  }

  /** Send callback: once the socket has drained below the mark, carry on. */
  private readonly sent = (err?: Error): void => {
    if (err || !this.waiting || this.ws.bufferedAmount >= this.limits.highWaterBytes) return;
    this.waiting = false;
    this.pump();
  };
}
