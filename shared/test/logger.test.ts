/**
 * The logger's redaction: objects that carry secrets are logged the way the hub and the gateway
 * log them, and the written lines must not contain any of the secret values — while the
 * diagnostics next to them (usernames, error codes) stay readable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@ioc/shared';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ name: 'test', level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
  return { logger, text: () => lines.join('') };
}

// Each value is unique, so finding it anywhere in the output means it leaked.
const S = {
  password: 'pw-Hunter2-leak', newPassword: 'pw-new-leak', otp: '314159', code: '271828', bodyCode: '161803',
  secret: 'JBSWY3DPEHPK3PXP-leak', token: 'tok-leak-1', sessionToken: 'sess-leak-2', csrfToken: 'csrf-leak-3',
  apiKey: 'ioc_7.apikey-leak-4', key: 'key-material-leak-5', privateKey: '-----BEGIN PRIVATE KEY----- leak6',
  recovery: ['rc-leak-aaaa', 'rc-leak-bbbb'], authorization: 'Bearer bearer-leak-7', cookie: 'ioc_session=cookie-leak-8',
  setCookie: 'ioc_session=setcookie-leak-9; HttpOnly', xApiKey: 'xkey-leak-10',
};

test('secrets are redacted at the top level, nested, and in request/response headers and bodies', () => {
  const { logger, text } = capture();
  logger.info({ password: S.password, otp: S.otp, secret: S.secret, token: S.token, apiKey: S.apiKey, recoveryCodes: S.recovery }, 'top level');
  logger.info({ user: { username: 'amy', password: S.password, newPassword: S.newPassword, totpSecret: S.secret } }, 'one level down');
  logger.info({ req: { body: { username: 'amy', password: S.password, code: S.bodyCode } } }, 'two levels down');
  logger.info({ body: { code: S.code } }, 'a body with a TOTP code');
  logger.info({ session: { sessionToken: S.sessionToken, csrfToken: S.csrfToken } }, 'login');
  logger.info({ created: { key: S.apiKey, apiKey: { id: 7 } } }, 'api key');
  logger.info({ tls: { key: S.key, privateKey: S.privateKey } }, 'tls');
  logger.info({
    req: { method: 'POST', headers: { authorization: S.authorization, cookie: S.cookie, 'x-api-key': S.xApiKey } },
    res: { statusCode: 200, headers: { 'set-cookie': S.setCookie } },
  }, 'request');
  logger.info({ headers: { authorization: S.authorization, cookie: S.cookie } }, 'bare headers');
  logger.warn({ recovery: { recoveryCodes: S.recovery } }, 'recovery codes');
  const out = text();
  const leaked = Object.values(S).flat().filter((v) => out.includes(v) || out.includes(v.split(' ').pop()!));
  assert.deepEqual(leaked, [], `secrets in the log:\n${out}`);
  assert.ok(out.split('\n').filter(Boolean).length === 10, 'every line was written');
  assert.match(out, /"username":"amy"/, 'what is not secret stays');
  assert.match(out, /"method":"POST"/);
  assert.match(out, /\[Redacted\]/);
});

test('error codes and other diagnostics are not redacted', () => {
  const { logger, text } = capture();
  const err = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  logger.error({ err, gw: 'gw-hue-01' }, 'telemetry group commit failed');
  logger.warn({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', remote: '192.0.2.7' }, 'TLS handshake refused');
  const out = text();
  assert.match(out, /"code":"SQLITE_FULL"/);
  assert.match(out, /"code":"ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"/);
  assert.match(out, /database or disk is full/);
});
