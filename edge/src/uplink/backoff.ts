/**
 * Reconnect delays: exponential with full jitter, so a province's gateways coming back after a hub
 * outage do not reconnect in lockstep. Never below initialMs, so a missing hub costs no busy loop.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next attempt: uniform in [initialMs, min(maxMs, initialMs · 2^attempt)]. */
  next(): number {
    const cap = Math.max(this.initialMs, Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30)));
    this.attempt += 1;
    return Math.round(this.initialMs + this.random() * (cap - this.initialMs));
  }

  /** After a successful connect. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
