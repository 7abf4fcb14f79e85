import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/** Keys that hold secrets anywhere in a logged object; pino replaces them with [Redacted]. */
export const REDACT_PATHS = [
  'password', '*.password', 'passphrase', '*.passphrase', 'secret', '*.secret', 'token', '*.token',
  'key', '*.key', 'privateKey', '*.privateKey', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
];

export interface LoggerFactoryOptions {
  name: string;
  level?: string;
  /** Extra bindings on every line (e.g. gateway id). */
  base?: Record<string, unknown>;
  destination?: DestinationStream;
}

/** JSON lines to stdout (or the given stream); async-friendly and never blocks on formatting. */
export function createLogger(opts: LoggerFactoryOptions): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { ...(opts.base ?? {}) },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
