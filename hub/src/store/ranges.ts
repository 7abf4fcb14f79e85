/**
 * Sets of accounted seq numbers as sorted, disjoint, non-adjacent inclusive ranges
 * ([1,5],[6,9] is always stored as [1,9]). Pure functions; the store persists the result.
 */
export type Range = readonly [first: number, last: number];

/** Index of the first range whose last >= seq (ranges.length when none). */
function lowerBound(ranges: readonly Range[], seq: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]![1] < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The parts of [first, last] not covered by `ranges`, in order. */
export function subtractRanges(ranges: readonly Range[], first: number, last: number): Range[] {
  const out: Range[] = [];
  let cursor = first;
  for (let i = lowerBound(ranges, first); i < ranges.length && cursor <= last; i++) {
    const [a, b] = ranges[i]!;
    if (a > last) break;
    if (a > cursor) out.push([cursor, a - 1]);
    cursor = Math.max(cursor, b + 1);
  }
  if (cursor <= last) out.push([cursor, last]);
  return out;
}

export interface MergeResult {
  ranges: Range[];
  /** Ranges of the input that were absorbed into `merged` (to delete from storage). */
  removed: Range[];
  /** The range that now covers [first, last] (to insert). */
  merged: Range;
}

/** Adds [first, last], merging overlapping and adjacent ranges; `ranges` is left as it was. */
export function mergeRange(ranges: readonly Range[], first: number, last: number): MergeResult {
  const copy = ranges.slice();
  return { ranges: copy, ...mergeRangeInPlace(copy, first, last) };
}

/**
 * mergeRange on the caller's own array: one splice instead of a copy of the whole list. After a
 * cap drop a gateway's accounted set can be tens of thousands of ranges, and a drain fills the
 * gaps between them one short batch at a time; copying the list per batch made that quadratic.
 */
export function mergeRangeInPlace(ranges: Range[], first: number, last: number): Omit<MergeResult, 'ranges'> {
  // Ranges that overlap or touch [first-1, last+1].
  let i = lowerBound(ranges, first - 1);
  const start = i;
  let a = first;
  let b = last;
  while (i < ranges.length && ranges[i]![0] <= last + 1) {
    a = Math.min(a, ranges[i]![0]);
    b = Math.max(b, ranges[i]![1]);
    i++;
  }
  const merged: Range = [a, b];
  const removed = ranges.splice(start, i - start, merged);
  return { removed, merged };
}

/** Highest seq such that every seq 1..upTo is accounted (0 when seq 1 is not). */
export function contiguousUpTo(ranges: readonly Range[]): number {
  const r = ranges[0];
  return r && r[0] <= 1 ? r[1] : 0;
}

/** Number of seqs in a list of ranges. */
export function rangeCount(ranges: readonly Range[]): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}
