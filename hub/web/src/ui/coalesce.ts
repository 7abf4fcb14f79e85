/**
 * Stream messages applied in batches: at most one batch every `everyMs`, in an animation frame.
 * A busy hub sends hundreds of changes a second; applying each (or even each frame's) re-sorts
 * and re-renders a thousand rows far more often than an operator can read them. A message marked
 * urgent (an alarm starting) is applied in the next frame, whatever the interval (at once in a
 * hidden tab).
 */
export interface Coalescer<T> {
  push(item: T, urgent?: boolean): void;
  /** Drops what is waiting and stops the timers. */
  cancel(): void;
}

export function coalesce<T>(apply: (batch: T[]) => void, everyMs: number): Coalescer<T> {
  let queued: T[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** The pending flush: an animation frame, or a timeout in a hidden tab (it gets no frames). */
  let frame: { id: number; hidden: boolean } | null = null;
  let last = -Infinity;
  const flush = () => {
    frame = null;
    last = performance.now();
    const batch = queued;
    queued = [];
    if (batch.length) apply(batch);
  };
  const inFrame = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (frame !== null) return;
    // A hidden tab gets no animation frames, and its alarm must still ring.
    frame = typeof document !== 'undefined' && document.hidden ? { id: window.setTimeout(flush, 0), hidden: true } : { id: requestAnimationFrame(flush), hidden: false };
  };
  return {
    push(item, urgent = false) {
      queued.push(item);
      if (frame !== null) return;
      const wait = last + everyMs - performance.now();
      if (urgent || wait <= 0) inFrame();
      else timer ??= setTimeout(inFrame, wait);
    },
    cancel() {
      queued = [];
      if (timer !== null) clearTimeout(timer);
      if (frame?.hidden) clearTimeout(frame.id);
      else if (frame !== null) cancelAnimationFrame(frame.id);
      timer = frame = null;
    },
  };
}
