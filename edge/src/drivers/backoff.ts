/** Exponential backoff with jitter, so many devices behind one failed link do not retry in step. */
export class Backoff {
  private attempt = 0;

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next retry: initial, 2×, 4×, … up to maxMs, each ±20 %. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (this.attempt < 30) this.attempt++;
    return Math.min(this.maxMs, Math.round(base * (0.8 + 0.4 * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }
}
