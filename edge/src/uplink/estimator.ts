/**
 * How many backlog bytes may be in flight: a link estimate in the manner of BBR, from the hub's
 * acks of backlog batches only. Pure (no clock, no I/O): the caller feeds one sample per acked
 * batch and asks for the cap before sending.
 *
 * Two quantities, as BBR has them:
 *   - rate: max over the last few per-ack delivery-rate samples (backlog bytes acked from a
 *     batch's send to its ack, over the longer of that ack interval and the matching send
 *     interval, as BBR samples it), so that the cap itself cannot talk it down;
 *   - rtProp: the propagation round trip, from the min send → ack time of a batch that had
 *     nothing ahead of it (on a slow link every other batch waits for the one ahead, and at
 *     connect the live tail goes first), less that batch's own transmission (bytes / median rate
 *     sample: ~0.2 s for 50 KB at 2 Mbit/s, which is not propagation either).
 *
 * Steady, the cap is rate × (rtProp + targetMs): the pipe (bandwidth-delay product) plus
 * `targetMs` of queue, which is what a live batch waits behind. Never below floorBytes.
 *
 * That needs a rate measured with the link full. Held at the floor, a fast link with a long round
 * trip delivers only floor / RTT (a 600 ms satellite hop drains ~2 batches, ~170 KB/s, per round
 * trip), so after connect the estimator starts up as BBR does: while batches sent behind others in
 * flight come back without queueing (less than targetMs / 4 over the least round trip seen), the
 * cap may also be probeGain × the most bytes in flight so carried: it grows by probeGain (and
 * more, as the pipe term grows with the rate) per round trip, until three batches in a row have
 * queued (a standing queue, not the tail of a burst). Growth also needs batches that are cheap
 * for the link: the second of a burst (sent on the same ack as the one ahead, as at connect)
 * waits for the first one's transmission, which on a 2 Mbit/s link is ~0.2 s per 50 KB, about the
 * whole budget: there the floor's two batches already fill the pipe and the cap does not grow.
 *
 * ProbeRTT, as BBR: when the propagation round trip is older than `minRttWindowMs` (or startup
 * ended without one), the cap drops to the pipe alone, rate × rtProp (no floor, no queue budget;
 * the caller still lets one batch go), and the first batch sent after that gives the new one; then
 * startup looks for room again. Without it a standing queue would creep into the min RTT window by
 * window; with it a route change to a longer path is followed within one window (a shorter one as
 * soon as a batch sent on an empty pipe shows it, at the latest at the next ProbeRTT).
 */

/** A queue below this share of targetMs is no queue (startup goes on); at or above, the link is full. */
const FULL_QUEUE = 0.25;
/** Samples in the queue filters: a standing queue shows in all of them, a burst's in some. */
const RECENT = 3;

function keep(xs: number[], x: number): void {
  xs.push(x);
  if (xs.length > RECENT) xs.shift();
}

export interface EstimatorOptions {
  /** Queueing budget: longest a live batch should wait behind backlog bytes (default 250 ms). */
  targetMs?: number;
  /** Backlog bytes always allowed in flight, also before the first sample (default 64 KiB). */
  floorBytes?: number;
  /** A min RTT older than this is measured again (default 10 s). */
  minRttWindowMs?: number;
  /** Cap growth per round trip in startup (default 1.25). */
  probeGain?: number;
  /** Delivery-rate samples in the max filter (default 8). */
  rateSamples?: number;
}

/** One acked backlog batch. */
export interface AckSample {
  /** When it was sent (ms, the caller's monotonic clock). */
  sentAt: number;
  /** When the hub's ack covering it arrived. */
  ackedAt: number;
  /** Its bytes. */
  bytes: number;
  /** Backlog bytes in flight ahead of it when it was sent. */
  aheadBytes: number;
  /**
   * Sent on the same ack as the backlog batch just ahead of it (a burst): it waits for that one's
   * transmission however much room the link has, so its queueing does not show a full link; it
   * shows what one more batch costs.
   */
  burst?: boolean;
  /** Other bytes sent just before it and maybe still on their way (live batches not yet PUBACKed). */
  otherAheadBytes?: number;
  /** Backlog bytes acked from its send up to this ack, itself included. */
  deliveredBytes: number;
  /**
   * The time those bytes took (default: its round trip). BBR's: the longer of the time since the
   * ack before its send and the time between the send of the batch acked then and its own, so that
   * acks bunched by the link do not read as a faster link than sending was.
   */
  intervalMs?: number;
}

/**
 * startup: the cap may grow while the link carries the flight without queueing (after connect
 * and after each ProbeRTT); steady: cap = pipe + budget; probe-rtt: re-measuring the min RTT.
 */
export type LinkPhase = 'startup' | 'steady' | 'probe-rtt';

export interface LinkEstimate {
  phase: LinkPhase;
  /** Bytes per ms (0 before the first sample). */
  rate: number;
  /** ms: the least round trip seen, queueing is measured against (NaN before the first sample). */
  minRtt: number;
  /** ms: propagation round trip (0 before one was measured on an empty pipe). */
  rtProp: number;
  /** How long the last batch sent behind others queued, ms. */
  queueMs: number;
  /** What one more batch costs: the least queueing of a batch sent in a burst lately, ms. */
  batchMs: number;
  cap: number;
}

export class LinkEstimator {
  readonly targetMs: number;
  readonly floorBytes: number;
  readonly minRttWindowMs: number;
  readonly probeGain: number;
  private readonly rateSamples: number;

  private rates: number[] = [];
  /** The min RTT (any batch): the reference queueing is measured against. */
  private minRtt = Number.NaN;
  private minRttBytes = 0;
  /**
   * The min RTT of batches sent with nothing ahead (or in ProbeRTT), for the pipe: on a slow link
   * every other batch waits for the one ahead, and that wait is not propagation.
   */
  private cleanRtt = Number.NaN;
  private cleanBytes = 0;
  /** When the clean min RTT was measured (before one: the first sample). */
  private cleanAt = Number.NaN;
  /** Send time from which a batch's round trip is a fresh min-RTT measurement, or null. */
  private probeSince: number | null = null;
  private startup = true;
  /** Most bytes in flight at a send that the link then carried without queueing, this startup. */
  private carriedBytes = 0;
  private queueMs = Number.NaN;
  /** Queueing of the last few batches sent behind others, and of the last few sent in a burst. */
  private queues: number[] = [];
  private bursts: number[] = [];

  constructor(opts: EstimatorOptions = {}) {
    this.targetMs = opts.targetMs ?? 250;
    this.floorBytes = opts.floorBytes ?? 64 * 1024;
    this.minRttWindowMs = opts.minRttWindowMs ?? 10_000;
    this.probeGain = opts.probeGain ?? 1.25;
    this.rateSamples = opts.rateSamples ?? 8;
  }

  /** A new connection may be a different link: measure again from the floor. */
  reset(): void {
    this.rates = [];
    this.minRtt = Number.NaN;
    this.minRttBytes = 0;
    this.cleanRtt = Number.NaN;
    this.cleanBytes = 0;
    this.cleanAt = Number.NaN;
    this.probeSince = null;
    this.startup = true;
    this.carriedBytes = 0;
    this.queueMs = Number.NaN;
    this.queues = [];
    this.bursts = [];
  }

  onAck(s: AckSample): void {
    const rtt = s.ackedAt - s.sentAt;
    if (!(rtt > 0)) return;
    if (Number.isNaN(this.cleanAt)) this.cleanAt = s.ackedAt;
    this.rates.push(s.deliveredBytes / Math.max(rtt, s.intervalMs ?? 0));
    if (this.rates.length > this.rateSamples) this.rates.shift();
    const clean = s.aheadBytes === 0 && (s.otherAheadBytes ?? 0) <= s.bytes / 2;
    // Its round trip over the min one, less the difference in transmission: queueing.
    const excess = Number.isNaN(this.minRtt) ? 0 : rtt - this.minRtt - (s.bytes - this.minRttBytes) / this.rate();

    if (this.probeSince !== null) {
      // Sent after the flight had shrunk to the pipe: no backlog queue ahead of it.
      const fresh = s.sentAt >= this.probeSince;
      if (fresh || excess <= 0) this.setMinRtt(rtt, s.bytes, fresh || clean, s.ackedAt);
      if (this.probeSince === null) {
        this.startup = true;
        this.carriedBytes = 0;
        this.queues = [];
      }
      return;
    }
    if (clean && (Number.isNaN(this.cleanRtt) || rtt - this.cleanRtt <= (s.bytes - this.cleanBytes) / this.rate())) {
      this.cleanRtt = rtt;
      this.cleanBytes = s.bytes;
      this.cleanAt = s.ackedAt;
    }
    if (excess <= 0) this.setMinRtt(rtt, s.bytes, false, s.ackedAt);
    if (s.ackedAt - this.cleanAt > this.minRttWindowMs) {
      this.probeSince = s.ackedAt;
      return;
    }
    // Only a batch sent behind others, and about as large as the min-RTT one (the rate may be far
    // too low to correct for the difference while the cap holds it down), shows queueing.
    if (s.aheadBytes === 0 || Math.abs(s.bytes - this.minRttBytes) > this.minRttBytes / 2) return;
    this.queueMs = Math.max(0, excess);
    keep(this.queues, this.queueMs);
    if (s.burst) keep(this.bursts, this.queueMs);
    if (!this.startup) return;
    const full = this.targetMs * FULL_QUEUE;
    if (this.queueMs < full) {
      if (Math.min(...this.bursts) < full) this.carriedBytes = Math.max(this.carriedBytes, s.aheadBytes + s.bytes);
    } else if (this.queues.length === RECENT && Math.min(...this.queues) >= full) {
      // A standing queue (not just the tail of a burst, or acks the link released in a lump).
      this.startup = false;
      // No round trip measured on an empty pipe yet (at connect the live tail goes first and the
      // backlog two batches at a time): measure one now.
      if (Number.isNaN(this.cleanRtt)) this.probeSince = s.ackedAt;
    }
  }

  /** Backlog bytes that may be in flight now (the caller always allows one batch). */
  cap(): number {
    if (this.rates.length === 0) return this.floorBytes;
    const rate = this.rate();
    // Without a clean min RTT yet, the flight shrinks to what the min so far says the pipe holds.
    if (this.probeSince !== null) {
      return rate * (Number.isNaN(this.cleanRtt) ? this.propagation(this.minRtt, this.minRttBytes) : this.rtProp());
    }
    const steady = rate * (this.rtProp() + this.targetMs);
    return Math.max(this.floorBytes, steady, this.startup ? this.probeGain * this.carriedBytes : 0);
  }

  /** For tests, logs and status. */
  estimate(): LinkEstimate {
    return {
      phase: this.probeSince !== null ? 'probe-rtt' : this.startup ? 'startup' : 'steady',
      rate: this.rates.length ? this.rate() : 0,
      minRtt: this.minRtt,
      rtProp: this.rates.length ? this.rtProp() : Number.NaN,
      queueMs: this.queueMs,
      batchMs: this.bursts.length ? Math.min(...this.bursts) : Number.NaN,
      cap: this.cap(),
    };
  }

  private rate(): number {
    return Math.max(...this.rates);
  }

  /**
   * Propagation round trip: the clean min RTT less its batch's transmission (0 before one), at the
   * median rate sample: a sample inflated by acks the link released in a lump (the max filter keeps
   * it for a while) must not also inflate the pipe.
   */
  private rtProp(): number {
    return Number.isNaN(this.cleanRtt) ? 0 : this.propagation(this.cleanRtt, this.cleanBytes);
  }

  private propagation(rtt: number, bytes: number): number {
    const sorted = [...this.rates].sort((a, b) => a - b);
    return Math.max(0, rtt - bytes / sorted[sorted.length >> 1]!);
  }

  /** A clean one (from ProbeRTT) replaces the clean min RTT too, even a higher one (a longer route). */
  private setMinRtt(rtt: number, bytes: number, clean: boolean, at: number): void {
    this.minRtt = rtt;
    this.minRttBytes = bytes;
    if (!clean) return;
    this.cleanRtt = rtt;
    this.cleanBytes = bytes;
    this.cleanAt = at;
    this.probeSince = null;
  }
}
