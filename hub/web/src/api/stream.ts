/**
 * The live feed (/api/v1/stream) for every console: one WebSocket, resumed after a drop with
 * `since=` the highest id seen, so nothing published while the link was down is missed; a
 * `reset` (the hub no longer holds that far back) tells the pages to reload through the REST API.
 * Its state ('live', 'connecting', 'down') drives the "data not live" banner.
 */
import { Backoff } from '@ioc/shared/backoff';
import type { AlertHistoryEntry, AlertView, LocalizedText } from './types.js';

export type LinkState = 'connecting' | 'live' | 'down';

export interface AlertMessage {
  id: number;
  type: 'alert';
  alert: AlertView;
  event: AlertHistoryEntry & { kind: string };
  message: LocalizedText;
}
export interface ReadingsMessage {
  id: number;
  type: 'readings';
  gw: string;
  readings: Array<{ dev: string; metric: string; ts: number; value: number | boolean | null; q: string; gw: string; seq: number }>;
}
export interface StatusMessage {
  id: number;
  type: 'status';
  gw: string;
  online: boolean;
  lastSeen: number | null;
  status: Record<string, unknown> | null;
  statusAt: number | null;
}
export type StreamMessage = AlertMessage | ReadingsMessage | StatusMessage | { id: number; type: 'hello'; resumed: boolean } | { id: number; type: 'reset'; reason: string } | { id: number; type: 'event'; gw: string; event: Record<string, unknown> };

type Listener = (m: StreamMessage) => void;

export class LiveStream {
  private ws: WebSocket | null = null;
  private since: number | null = null;
  private readonly backoff = new Backoff(500, 10_000);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(s: LinkState) => void>();
  state: LinkState = 'connecting';

  constructor(
    private readonly query = '',
    private readonly onCredentialsGone: () => void = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  subscribe(f: Listener): () => void {
    this.listeners.add(f);
    return () => void this.listeners.delete(f);
  }

  onState(f: (s: LinkState) => void): () => void {
    this.stateListeners.add(f);
    return () => void this.stateListeners.delete(f);
  }

  private setState(s: LinkState): void {
    if (s === this.state) return;
    this.state = s;
    for (const f of this.stateListeners) f(s);
  }

  private connect(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams(this.query);
    if (this.since !== null) params.set('since', String(this.since));
    const qs = params.toString();
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/stream${qs ? '?' + qs : ''}`);
    this.ws = ws;
    ws.onmessage = (e) => {
      let m: StreamMessage;
      try {
        m = JSON.parse(String(e.data)) as StreamMessage;
      } catch {
        return;
      }
      if (m.type === 'hello' || m.type === 'reset') {
        this.backoff.reset();
        this.setState('live');
      }
      if (this.since === null || m.id > this.since) this.since = m.id;
      for (const f of this.listeners) f(m);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.setState('down');
      if (e.code === 4401) {
        this.onCredentialsGone();
        return;
      }
      this.timer = setTimeout(() => this.connect(), this.backoff.next());
    };
  }
}
