/**
 * The API's TLS material (http.tls). By default the API serves the broker's own server
 * certificate, so one CA — the one whose fingerprint comes with every enrolment token — stands
 * behind both ports. The CA certificate is sent after the server certificate: `ioc-edge enroll`
 * finds it in the chain, compares it with the fingerprint it was given, and only then trusts it.
 */
import { readFileSync } from 'node:fs';
import { issuedBy } from '@ioc/shared';
import type { ResolvedHubConfig } from '../config/schema.js';

export interface ApiTls {
  /** PEM chain: server certificate, then the hub CA when it issued it. */
  cert: string;
  key: string | Buffer;
}

export function apiTls(http: ResolvedHubConfig['http'], broker: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer }): ApiTls | undefined {
  if (http.tls === false) return undefined;
  const cert = http.tls ? readFileSync(http.tls.cert, 'utf8') : broker.cert.toString();
  const key = http.tls ? readFileSync(http.tls.key) : broker.key;
  const ca = broker.ca.toString();
  // A certificate from another CA (e.g. one browsers trust) goes out with its own chain as given.
  const chain = issuedBy(cert, ca) ? `${cert.trimEnd()}\n${ca.trimEnd()}\n` : cert;
  return { cert: chain, key };
}
