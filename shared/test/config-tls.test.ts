import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { parseConfig, loadConfigFile, ConfigError, ensurePki, certificateCN, createLogger } from '@ioc/shared';
import { Writable } from 'node:stream';

const Schema = Type.Object({
  server: Type.Object({ port: Type.Integer({ minimum: 1, default: 8080 }), host: Type.String() }, { additionalProperties: false }),
}, { additionalProperties: false });

test('config: valid YAML gets defaults', () => {
  const c = parseConfig('server:\n  host: 127.0.0.1\n', Schema);
  assert.deepEqual(c, { server: { host: '127.0.0.1', port: 8080 } });
});

test('config: a bad key fails naming the key; bad types name the path', () => {
  assert.throws(() => parseConfig('server:\n  host: a\n  prot: 1\n', Schema, 'hub.yaml'), (e: unknown) =>
    e instanceof ConfigError && /hub\.yaml: server\.prot: unknown key/.test(e.message));
  assert.throws(() => parseConfig('server:\n  host: a\n  port: -3\n', Schema, 'x.yaml'), /server\.port: must be >= 1/);
  assert.throws(() => parseConfig('server: [1', Schema, 'x.yaml'), /not valid YAML/);
  assert.throws(() => parseConfig('- 1\n', Schema, 'x.yaml'), /mapping/);
  assert.throws(() => loadConfigFile('/nonexistent/edge.yaml', Schema), /cannot read: ENOENT/);
});

test('TLS: demo PKI issues a CA, a server cert with SANs and client certs with CN = gateway id', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  try {
    const p = ensurePki(dir, { serverNames: ['localhost', '127.0.0.1'], clients: ['gw-hue-01'] });
    const ca = new X509Certificate(readFileSync(p.caCert));
    const server = new X509Certificate(readFileSync(p.serverCert));
    const client = new X509Certificate(readFileSync(p.client('gw-hue-01').cert));
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey));
    assert.match(server.subjectAltName ?? '', /DNS:localhost/);
    assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(certificateCN(readFileSync(p.client('gw-hue-01').cert, 'utf8')), 'gw-hue-01');
    assert.equal(statSync(p.caKey).mode & 0o077, 0, 'private keys are not world-readable');
    // A second call keeps existing files (a restart must not rotate the CA under the gateways).
    const before = readFileSync(p.caCert, 'utf8');
    ensurePki(dir, { serverNames: ['localhost'], clients: ['gw-hue-01', 'gw-hue-02'] });
    assert.equal(readFileSync(p.caCert, 'utf8'), before);
    assert.ok(new X509Certificate(readFileSync(p.client('gw-hue-02').cert)).verify(ca.publicKey));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logger redacts secrets', async () => {
  const lines: string[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ name: 't', destination: dest as never });
  log.info({ tls: { key: 'PRIVATE' }, password: 'hunter2', user: 'an' }, 'hello');
  await new Promise((r) => setImmediate(r));
  const out = lines.join('');
  assert.doesNotMatch(out, /PRIVATE|hunter2/);
  assert.match(out, /\[Redacted\]/);
  assert.match(out, /"user":"an"/);
});
