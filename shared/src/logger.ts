import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Keys that hold a secret wherever they sit in a logged object, up to two levels down
 * (`{password}`, `{user: {password}}`, `{req: {body: {password}}}`): passwords, second factors,
 * recovery codes, session and CSRF tokens, API keys, key material.
 */
const SECRET_KEYS = [
  'password', 'newPassword', 'currentPassword', 'passphrase', 'otp', 'totp', 'secret', 'totpSecret',
  'token', 'sessionToken', 'csrfToken', 'refreshToken', 'apiKey', 'key', 'privateKey',
  'recoveryCode', 'recoveryCodes', 'authorization', 'cookie',
];

/** Header names that carry credentials, under any `headers` object (request or response). */
const SECRET_HEADERS = ['authorization', 'cookie', '"set-cookie"', '"x-api-key"', '"x-csrf-token"'];

/**
 * `code` is a TOTP or recovery code only in a request body. Anywhere else it is a diagnostic
 * that must stay readable: err.code (SQLITE_FULL, ECONNRESET, ERR_SSL_…) is what tells a disk
 * full from a refused connection, so there is no `*.code` here.
 */
const BODY_SECRETS = ['code'];

const atAnyDepth = (k: string) => [k, `*.${k}`, `*.*.${k}`];
const header = (h: string) => (h.startsWith('"') ? `[${h}]` : `.${h}`);

/** pino redact paths (fast-redact syntax); the values are replaced with [Redacted]. */
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap(atAnyDepth),
  ...SECRET_HEADERS.flatMap((h) => [`headers${header(h)}`, `*.headers${header(h)}`, `*.*.headers${header(h)}`]),
  ...BODY_SECRETS.flatMap((k) => [`body.${k}`, `*.body.${k}`]),
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
