/**
 * Retry delays: exponential with full jitter, so many clients that failed together (a province's
 * gateways after a hub outage, notifications after a receiver outage) do not retry in lockstep.
 * Never below initialMs, so a missing peer costs no busy loop.
 *
 * Two ways to use it: `next()` / `reset()` for a loop that keeps its attempt count here (the
 * uplink's reconnects), or `delay(attempt)` when the count is stored elsewhere (a durable queue
 * that survives restarts).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before retry number `attempt + 1` (0-based): uniform in [initialMs, min(maxMs, initialMs · 2^attempt)]. */
  delay(attempt: number): number {
    const cap = Math.max(this.initialMs, Math.min(this.maxMs, this.initialMs * 2 ** Math.min(Math.max(0, attempt), 30)));
    return Math.round(this.initialMs + this.random() * (cap - this.initialMs));
  }

  /** Delay before the next attempt; counts it. */
  next(): number {
    const d = this.delay(this.attempt);
    this.attempt += 1;
    return d;
  }

  /** After a success. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
