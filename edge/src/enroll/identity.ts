/**
 * `ioc-edge check` for the gateway's identity: the files uplink.ca/cert/key exist and are
 * readable, the key is the certificate's, the certificate's CN is gateway.id, it is valid now and
 * signed by uplink.ca. Each failure is named with its key, so a technician knows which to fix.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import type { EdgeConfig } from '../config/schema.js';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readable(key: string, path: string, problems: string[]): Buffer | null {
  if (!existsSync(path)) {
    problems.push(`${key}: file not found: ${path}`);
    return null;
  }
  try {
    if (!statSync(path).isFile()) {
      problems.push(`${key}: not a file: ${path}`);
      return null;
    }
    accessSync(path, constants.R_OK);
    return readFileSync(path);
  } catch (err) {
    problems.push(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return null;
  }
}

/** Problems with the gateway's certificate files; empty when all is well. */
export function checkIdentity(config: Pick<EdgeConfig, 'gateway' | 'uplink'>, now = Date.now()): string[] {
  const u = config.uplink;
  const problems: string[] = [];
  const caPem = readable('uplink.ca', u.ca, problems);
  const certPem = readable('uplink.cert', u.cert, problems);
  const keyPem = readable('uplink.key', u.key, problems);

  let ca: X509Certificate | null = null;
  if (caPem) {
    try {
      ca = new X509Certificate(caPem);
    } catch {
      problems.push(`uplink.ca: not a PEM certificate: ${u.ca}`);
    }
  }
  let cert: X509Certificate | null = null;
  if (certPem) {
    try {
      cert = new X509Certificate(certPem);
    } catch {
      problems.push(`uplink.cert: not a PEM certificate: ${u.cert}`);
    }
  }
  let key = null;
  if (keyPem) {
    try {
      key = createPrivateKey(keyPem);
    } catch {
      problems.push(`uplink.key: not a PEM private key: ${u.key}`);
    }
  }
  if (cert) {
    const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
    if (cn !== config.gateway.id) problems.push(`uplink.cert: CN "${cn ?? ''}" is not gateway.id "${config.gateway.id}" (the hub refuses a certificate of another gateway)`);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (to <= now) problems.push(`uplink.cert: expired on ${iso(to)} (enrol again: ioc-edge enroll with a new token)`);
    else if (from > now) problems.push(`uplink.cert: not valid before ${iso(from)} (is the gateway's clock right? it says ${iso(now)})`);
    if (key && !cert.checkPrivateKey(key)) problems.push(`uplink.key: does not match the certificate in uplink.cert (${u.key} is not the key of ${u.cert})`);
    if (ca && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) problems.push(`uplink.cert: not signed by the CA in uplink.ca (${u.ca})`);
  }
  return problems;
}
