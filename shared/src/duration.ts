/**
 * Durations in config files and on command lines: "90s", "15m", "24h", "30d" (one unit, no
 * fractions) — what a technician types, and what a schema pattern can check.
 */
export const DURATION_PATTERN = '^[0-9]{1,9}(s|m|h|d)$';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]{1,9})(s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Short human form for messages: 86400000 → "24h", 90000 → "90s". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
