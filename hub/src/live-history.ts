/**
 * The live feed's recent past, kept in memory so a stream client that reconnects (`?since=<id>`)
 * or falls a little behind gets exactly what it missed. Bounded in items (a readings entry counts
 * its readings, anything else counts 1) and in age; the ids it holds are contiguous, so an entry is
 * found by arithmetic.
 */
export interface HistoryBounds {
  /** Readings, alert changes, statuses and events kept at most. */
  maxItems: number;
  /** Entries older than this are let go. */
  maxAgeMs: number;
}

export const DEFAULT_HISTORY_BOUNDS: HistoryBounds = { maxItems: 100_000, maxAgeMs: 10 * 60_000 };

export interface HistoryEntry {
  id: number;
  /** Epoch ms when it was published. */
  at: number;
  /** What it costs against maxItems. */
  items: number;
}

export class LiveHistory<E extends HistoryEntry> {
  private entries: E[] = [];
  /** Index in `entries` of the oldest entry kept (the ones before it are let go, compacted now and then). */
  private head = 0;
  private items = 0;

  constructor(
    private readonly bounds: HistoryBounds,
    private readonly now: () => number = Date.now,
  ) {}

  append(e: E): void {
    const last = this.entries[this.entries.length - 1];
    if (last && e.id !== last.id + 1) throw new Error(`live history: id ${e.id} does not follow ${last.id}`);
    this.entries.push(e);
    this.items += e.items;
    this.trim();
  }

  /** The entry with this id, if still kept. */
  get(id: number): E | undefined {
    const first = this.entries[this.head];
    if (!first) return undefined;
    const i = this.head + (id - first.id);
    return i >= this.head && i < this.entries.length ? this.entries[i] : undefined;
  }

  /** Id of the oldest entry kept (undefined when none is). */
  oldestId(): number | undefined {
    this.trim();
    return this.entries[this.head]?.id;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Lets go of the oldest entries beyond the bounds; the newest one always stays. */
  private trim(): void {
    const cutoff = this.now() - this.bounds.maxAgeMs;
    while (this.entries.length - this.head > 1) {
      const oldest = this.entries[this.head]!;
      if (this.items <= this.bounds.maxItems && oldest.at >= cutoff) break;
      this.items -= oldest.items;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
