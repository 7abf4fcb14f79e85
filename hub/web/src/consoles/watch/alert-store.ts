/**
 * The watch desk's live set of alerts that are not closed, shared by the board and the alert page,
 * and the alarm it drives. It lives for the whole session (not the board's lifetime) so that the
 * alarm keeps sounding while the operator looks at an alert's detail, and stops when they
 * acknowledge it there.
 *
 * Stream messages carry the whole alert view: an alert is replaced by id (the newer `updatedAt`
 * wins, so a REST load racing the stream never goes back in time); closed ones leave the set.
 * Changes are applied in batches, at most every APPLY_MS (ui/coalesce.ts): 200 changes/s over
 * 1,000 alerts must not cost a sort and a render each, nor one every frame. An alert that starts
 * the alarm is applied in the next frame.
 */
import { api } from '../../api/client.js';
import type { AlertMessage, LiveStream, StreamMessage } from '../../api/stream.js';
import type { AlertView } from '../../api/types.js';
import { currentAlarm, silenceAlarm, soundAlarm, type AlarmKind } from '../../ui/alarm.js';
import { coalesce } from '../../ui/coalesce.js';

/** At most four board updates a second: still live to the eye, a fraction of the work under load. */
const APPLY_MS = 250;

/** Events that bring an alert to a level it was not at: they can make it "new". */
const RISING = new Set(['raised', 'escalated', 'reopened', 'announced']);

/** What rings: a flood at BĐ3 or above, or any fire. */
export function alarmKindOf(a: Pick<AlertView, 'category' | 'level'>): AlarmKind | null {
  if (a.category === 'fire' && a.level >= 1) return 'fire';
  if (a.category === 'flood' && a.level >= 3) return 'flood';
  return null;
}

const SEVERITY_RANK: Record<string, number> = { extreme: 4, severe: 3, moderate: 2, minor: 1, unknown: 0 };

/** Most severe first: severity, then level, then the newest. */
export function compareAlerts(a: AlertView, b: AlertView): number {
  return (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) || b.level - a.level || b.openedAt - a.openedAt || b.id - a.id;
}

export type LoadState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

class AlertStore {
  readonly alerts = new Map<number, AlertView>();
  /** Alerts that rang since the console opened and are not acknowledged yet. */
  readonly alarming = new Map<number, AlarmKind>();
  load: LoadState = { kind: 'loading' };
  /** Bumped on every applied batch: the board's memo key. */
  version = 0;
  private stream: LiveStream | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly incoming = coalesce<AlertMessage>((batch) => this.flush(batch), APPLY_MS);
  private readonly listeners = new Set<() => void>();
  private loading: Promise<void> | null = null;
  private helloSeen = false;
  /** Closed alerts' last update, by id. */
  private readonly closed = new Map<number, number>();

  /** Attaches to the session's stream once (idempotent) and loads the board. */
  attach(stream: LiveStream): void {
    if (this.stream === stream) return;
    this.unsubscribe?.();
    this.incoming.cancel();
    this.stream = stream;
    this.alerts.clear();
    this.alarming.clear();
    this.closed.clear();
    this.helloSeen = false;
    this.load = { kind: 'loading' };
    silenceAlarm();
    this.unsubscribe = stream.subscribe((m) => this.onMessage(m));
    void this.reload();
  }

  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => void this.listeners.delete(f);
  }

  /** The whole board again through the REST API (first load, and after the stream's `reset`). */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const { alerts } = await api<{ alerts: AlertView[] }>('/alerts?open=true&limit=1000');
        const seen = new Set<number>();
        for (const a of alerts) {
          seen.add(a.id);
          this.put(a, false);
        }
        // Anything the hub no longer lists as open is gone (closed while we were not listening).
        for (const id of [...this.alerts.keys()]) if (!seen.has(id)) this.drop(id);
        this.load = { kind: 'ready' };
      } catch (err) {
        this.load = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
      } finally {
        this.loading = null;
        this.changed();
      }
    })();
    return this.loading;
  }

  /** An alert's newest view from an action's answer (the stream echoes it too; whichever first). */
  apply(a: AlertView): void {
    this.put(a, false);
    this.changed();
  }

  private onMessage(m: StreamMessage): void {
    // A reconnection the hub could not resume (or a reset): what was missed comes from the REST API.
    const missed = m.type === 'reset' || (m.type === 'hello' && !m.resumed && this.helloSeen);
    if (m.type === 'hello') this.helloSeen = true;
    if (missed) {
      void this.reload();
      return;
    }
    if (m.type !== 'alert') return;
    this.incoming.push(m, RISING.has(m.event.kind) && alarmKindOf(m.alert) !== null);
  }

  private flush(batch: AlertMessage[]): void {
    for (const m of batch) this.put(m.alert, RISING.has(m.event.kind));
    this.changed();
  }

  private put(a: AlertView, rising: boolean): void {
    const old = this.alerts.get(a.id);
    if (old && old.updatedAt > a.updatedAt) return;
    // A REST answer older than the close the stream already told must not bring it back.
    const closedAt = this.closed.get(a.id);
    if (closedAt !== undefined && closedAt >= a.updatedAt) return;
    if (a.state === 'closed') {
      this.closed.set(a.id, a.updatedAt);
      this.drop(a.id);
      return;
    }
    this.alerts.set(a.id, a);
    const kind = alarmKindOf(a);
    // Rang while the console is open, at that level, not acknowledged, not shelved, not a report of the past.
    if (rising && kind && a.state === 'open' && a.active && !a.missed && !(a.shelvedUntil && a.shelvedUntil > Date.now())) this.alarming.set(a.id, kind);
    else if (this.alarming.has(a.id) && (a.state !== 'open' || !kind)) this.alarming.delete(a.id);
  }

  private drop(id: number): void {
    this.alerts.delete(id);
    this.alarming.delete(id);
  }

  private changed(): void {
    this.version += 1;
    this.syncAlarm();
    for (const f of this.listeners) f();
  }

  /** Fire outranks flood; silence once nothing unacknowledged rings. */
  private syncAlarm(): void {
    const kinds = new Set(this.alarming.values());
    const want: AlarmKind | null = kinds.has('fire') ? 'fire' : kinds.has('flood') ? 'flood' : null;
    // Only on a change: soundAlarm restarts the pattern, and batches arrive several times a second.
    if (want === currentAlarm()) return;
    silenceAlarm();
    if (want) soundAlarm(want);
  }
}

export const alertStore = new AlertStore();
