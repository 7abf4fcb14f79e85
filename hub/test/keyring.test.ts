/**
 * The hub's secret key (hub/src/secrets/keyring.ts): sealing round trip, and every way an opened
 * secret must fail (altered, other context, other key); the key file's creation and permission
 * check; a key from the environment of the wrong length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keyringFromKey, loadKeyring, SECRET_KEY_ENV } from '../src/secrets/keyring.js';
import { tempDir } from './helpers.js';

const key = () => randomBytes(32);

test('seal/open round trip; each sealing is different (random IV) and never shows the plaintext', () => {
  const k = keyringFromKey(key());
  const secret = 'JBSWY3DPEHPK3PXP';
  const a = k.seal(secret, 'user:7:totp');
  const b = k.seal(secret, 'user:7:totp');
  assert.notEqual(a, b);
  assert.ok(!a.includes(secret));
  assert.match(a, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal(k.open(a, 'user:7:totp'), secret);
  assert.equal(k.open(b, 'user:7:totp'), secret);
  assert.equal(k.open(k.seal('', 'c'), 'c'), '', 'an empty secret too');
  assert.equal(k.open(k.seal('Mật khẩu ✓', 'c'), 'c'), 'Mật khẩu ✓', 'UTF-8');
});

test('an altered sealed secret is refused (ciphertext, tag, IV, format)', () => {
  const k = keyringFromKey(key());
  const sealed = k.seal('a TOTP secret', 'user:7:totp');
  const [v, iv, tag, ct] = sealed.split('.') as [string, string, string, string];
  const flip = (b64: string) => {
    const buf = Buffer.from(b64, 'base64url');
    buf[0]! ^= 1;
    return buf.toString('base64url');
  };
  for (const altered of [[v, iv, tag, flip(ct)], [v, iv, flip(tag), ct], [v, flip(iv), tag, ct]]) {
    assert.throws(() => k.open(altered.join('.'), 'user:7:totp'), /authentication failed/);
  }
  assert.throws(() => k.open(['v2', iv, tag, ct].join('.'), 'user:7:totp'), /unknown format/);
  assert.throws(() => k.open('garbage', 'user:7:totp'), /unknown format/);
});

test('a secret sealed for one context does not open in another; nor under another key', () => {
  const k1 = keyringFromKey(key());
  const sealed = k1.seal('secret', 'user:7:totp');
  // Moving user 7's sealed secret onto user 8's row must not work.
  assert.throws(() => k1.open(sealed, 'user:8:totp'), /authentication failed/);
  assert.throws(() => keyringFromKey(key()).open(sealed, 'user:7:totp'), /authentication failed/);
});

test('subkeys are bound to their purpose and stable for one key', () => {
  const raw = key();
  const k = keyringFromKey(raw);
  assert.equal(k.subkey('seal').length, 32);
  assert.notDeepEqual(k.subkey('seal'), k.subkey('audit-chain'));
  assert.notDeepEqual(k.subkey('seal'), raw);
  assert.deepEqual(keyringFromKey(Buffer.from(raw)).subkey('audit-chain'), k.subkey('audit-chain'));
});

test('the key file is created 0600 (folder 0700) with a random 32-byte key, then read back', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'keys', 'secret.key');
  const old = process.umask(0o000); // the mode must not depend on the umask
  try {
    const k1 = loadKeyring({ file, env: {} });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
    assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').length, 32);
    assert.equal(k1.source, `file:${file}`);
    const sealed = k1.seal('x', 'c');
    // A restart reads the same key: what was sealed opens.
    assert.equal(loadKeyring({ file, env: {} }).open(sealed, 'c'), 'x');
  } finally {
    process.umask(old);
  }
});

test('a key file readable by group or others is refused; a missing one with create:false too', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'secret.key');
  loadKeyring({ file, env: {} });
  for (const mode of [0o640, 0o604, 0o644]) {
    chmodSync(file, mode);
    assert.throws(() => loadKeyring({ file, env: {} }), /readable by group or others \(chmod 600 it\)/, mode.toString(8));
  }
  chmodSync(file, 0o400);
  assert.doesNotThrow(() => loadKeyring({ file, env: {} }), 'owner-only read is fine');
  const missing = join(dir, 'nope.key');
  assert.throws(() => loadKeyring({ file: missing, env: {}, create: false }), /does not exist/);
  assert.equal(existsSync(missing), false);
});

test('a key file of the wrong length is refused', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'secret.key');
  writeFileSync(file, randomBytes(16).toString('base64'), { mode: 0o600 });
  assert.throws(() => loadKeyring({ file, env: {} }), /must be 32 bytes, base64-encoded \(got 16 bytes\)/);
});

test('$IOC_HUB_SECRET_KEY wins over the file; one of the wrong length is refused', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'secret.key');
  const raw = key();
  const k = loadKeyring({ file, env: { [SECRET_KEY_ENV]: raw.toString('base64') } });
  assert.equal(k.source, `env:${SECRET_KEY_ENV}`);
  assert.equal(existsSync(file), false, 'no file is created when the key comes from the environment');
  assert.equal(keyringFromKey(raw).open(k.seal('x', 'c'), 'c'), 'x');
  for (const bad of [randomBytes(31), randomBytes(33)]) {
    assert.throws(() => loadKeyring({ file, env: { [SECRET_KEY_ENV]: bad.toString('base64') } }), new RegExp(`${SECRET_KEY_ENV}: the secret key must be 32 bytes`));
  }
  assert.throws(() => loadKeyring({ file, env: { [SECRET_KEY_ENV]: 'not base64 at all!' } }), /must be 32 bytes/);
});

test('processes creating the key file at once all read the same whole key', async () => {
  const t = tempDir();
  const file = join(t.dir, 'secret.key');
  const mod = fileURLToPath(new URL('../src/secrets/keyring.ts', import.meta.url));
  const script = `import { loadKeyring } from ${JSON.stringify(mod)}; const k = loadKeyring({ file: ${JSON.stringify(file)}, env: {} }); process.stdout.write(k.subkey('seal').toString('hex'));`;
  const outs = await Promise.all(
    Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
    })),
  );
  assert.equal(new Set(outs).size, 1, 'one key for all');
  assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').length, 32);
  t.cleanup();
});
