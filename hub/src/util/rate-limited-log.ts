/**
 * Logs at most `burst` lines per key per interval; the next line logged for a key after a quiet
 * spell carries `suppressed: n`. A misbehaving gateway sending garbage at line rate cannot flood
 * the log, and nothing is hidden: every rejection is still counted in /metrics.
 */
import type { Logger } from '@ioc/shared';

type Level = 'debug' | 'info' | 'warn' | 'error';

export type RateLimitedLog = (key: string, level: Level, obj: Record<string, unknown>, msg: string) => void;

export function rateLimitedLog(logger: Logger, opts: { intervalMs?: number; burst?: number; now?: () => number } = {}): RateLimitedLog {
  const intervalMs = opts.intervalMs ?? 10_000;
  const burst = opts.burst ?? 5;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number; suppressed: number }>();
  return (key, level, obj, msg) => {
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= intervalMs) {
      const suppressed = w?.suppressed ?? 0;
      if (windows.size > 1000) windows.clear();
      w = { start: t, count: 0, suppressed: 0 };
      windows.set(key, w);
      if (suppressed) obj = { ...obj, suppressed };
    }
    if (w.count < burst) {
      w.count++;
      logger[level](obj, msg);
    } else {
      w.suppressed++;
    }
  };
}
