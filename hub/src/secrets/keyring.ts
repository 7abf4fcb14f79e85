/**
 * The hub's secret key and what is derived from it. One 256-bit key, from the environment
 * (IOC_HUB_SECRET_KEY, base64) or a file (hub.secretKeyFile, created 0600 with a random key at
 * first start). Purpose-bound subkeys are derived with HKDF-SHA256, so the key that seals stored
 * secrets never also signs the audit chain.
 *
 * Keep the key apart from hub.db (another disk, a secrets manager, the environment of the unit):
 * a stolen database alone then yields no TOTP secret and cannot be re-chained after an edit.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SECRET_KEY_ENV = 'IOC_HUB_SECRET_KEY';
const KEY_BYTES = 32;

export type KeyPurpose = 'seal' | 'audit-chain';

export interface Keyring {
  /** Where the key came from, for the start-up log (never the key itself). */
  readonly source: string;
  subkey(purpose: KeyPurpose): Buffer;
  /** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to `context` (e.g. "user:7:totp"). */
  seal(plaintext: string, context: string): string;
  /** Throws when the sealed text was altered, sealed for another context or under another key. */
  open(sealed: string, context: string): string;
}

function parseKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${where}: the secret key must be ${KEY_BYTES} bytes, base64-encoded (got ${key.length} bytes)`);
  return key;
}

/**
 * Writes a new key to a private temporary file, flushed, then links it into place: the key file
 * appears whole or not at all, and of two processes creating it at once (the hub and an
 * `ioc-hub user add`) the first link wins and both read the same key.
 */
function createKeyFile(file: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(KEY_BYTES).toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Reads the key from the environment or the file, creating the file (0600) when neither exists. */
export function loadKeyring(opts: { file: string; env?: NodeJS.ProcessEnv; create?: boolean }): Keyring {
  const env = opts.env ?? process.env;
  const fromEnv = env[SECRET_KEY_ENV];
  let key: Buffer;
  let source: string;
  if (fromEnv) {
    key = parseKey(fromEnv, SECRET_KEY_ENV);
    source = `env:${SECRET_KEY_ENV}`;
  } else {
    if (!existsSync(opts.file)) {
      if (opts.create === false) throw new Error(`${opts.file}: the hub's secret key file does not exist (set ${SECRET_KEY_ENV} or hub.secretKeyFile)`);
      mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
      createKeyFile(opts.file);
    }
    const mode = statSync(opts.file).mode & 0o077;
    if (mode !== 0) throw new Error(`${opts.file}: the secret key file is readable by group or others (chmod 600 it)`);
    key = parseKey(readFileSync(opts.file, 'utf8'), opts.file);
    source = `file:${opts.file}`;
  }
  return keyringFromKey(key, source);
}

/** Where the hub keeps its key file: hub.secretKeyFile, else {dataDir}/secret.key. */
export function hubKeyFile(hub: { dataDir: string; secretKeyFile?: string | undefined }): string {
  return hub.secretKeyFile ?? join(hub.dataDir, 'secret.key');
}

/**
 * The hub's keyring as `ioc-hub start` loads it. Commands that work on an existing hub.db
 * (backup, restore) pass create: false — a new key would not open what the old one sealed.
 */
export function loadHubKeyring(hub: { dataDir: string; secretKeyFile?: string | undefined }, opts: { env?: NodeJS.ProcessEnv; create?: boolean } = {}): Keyring {
  return loadKeyring({ file: hubKeyFile(hub), ...opts });
}

export function keyringFromKey(key: Buffer, source = 'memory'): Keyring {
  const cache = new Map<KeyPurpose, Buffer>();
  const subkey = (purpose: KeyPurpose): Buffer => {
    let k = cache.get(purpose);
    if (!k) cache.set(purpose, (k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `ioc-hub/${purpose}`, KEY_BYTES))));
    return k;
  };
  return {
    source,
    subkey,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', subkey('seal'), iv);
      c.setAAD(Buffer.from(context));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [v, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined) throw new Error('sealed secret: unknown format');
      const d = createDecipheriv('aes-256-gcm', subkey('seal'), Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch {
        throw new Error('sealed secret: authentication failed (altered, or sealed under another key)');
      }
    },
  };
}
