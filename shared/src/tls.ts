/**
 * Certificate helpers: a private CA for the province, server certificates for the hub's broker and
 * client certificates for gateways (CN = gateway id). Keys come from Node's crypto (fast, native);
 * node-forge builds and signs the X.509 structures.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface PemPair {
  cert: string;
  key: string;
}

function newKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  return { forgeKey, publicKey, pem };
}

function baseCert(publicKey: forge.pki.PublicKey, cn: string, days: number, validity?: { notBefore: Date; notAfter: Date }): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: leading byte below 0x80.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = validity?.notBefore ?? new Date(now - 5 * 60_000);
  cert.validity.notAfter = validity?.notAfter ?? new Date(now + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'IOC' }]);
  return cert;
}

export function createCA(cn = 'IOC Demo CA', days = 3650): PemPair {
  const k = newKey();
  const cert = baseCert(k.publicKey, cn, days);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(k.forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: k.pem };
}

export interface IssueOptions {
  cn: string;
  usage: 'server' | 'client';
  /** DNS names and IP addresses for a server certificate. */
  altNames?: string[];
  days?: number;
  /**
   * Explicit validity instead of "from 5 minutes ago for `days`": e.g. a certificate that has
   * already expired, to test that it is refused.
   */
  validity?: { notBefore: Date; notAfter: Date };
}

export function issueCertificate(ca: PemPair, opts: IssueOptions): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const k = newKey();
  const cert = baseCert(k.publicKey, opts.cn, opts.days ?? 825, opts.validity);
  cert.setIssuer(caCert.subject.attributes);
  const alt = (opts.altNames ?? []).map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: opts.usage === 'server', clientAuth: opts.usage === 'client' },
    ...(alt.length ? [{ name: 'subjectAltName', altNames: alt }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: k.pem };
}

/** Common name of a PEM certificate's subject. */
export function certificateCN(pem: string): string | undefined {
  const attr = forge.pki.certificateFromPem(pem).subject.getField('CN') as { value?: string } | null;
  return attr?.value;
}

export interface PkiPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  client(cn: string): { cert: string; key: string };
}

export function pkiPaths(dir: string): PkiPaths {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    client: (cn) => ({ cert: join(dir, 'clients', `${cn}.crt`), key: join(dir, 'clients', `${cn}.key`) }),
  };
}

function writePair(certPath: string, keyPath: string, pair: PemPair): void {
  writeFileSync(certPath, pair.cert);
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
}

/**
 * Creates whatever of a demo PKI is missing in `dir`: CA, a server certificate for `serverNames`,
 * and one client certificate per name in `clients`. Existing files are kept as they are.
 */
export function ensurePki(dir: string, opts: { serverNames: string[]; clients?: string[] }): PkiPaths {
  const p = pkiPaths(dir);
  mkdirSync(join(dir, 'clients'), { recursive: true, mode: 0o700 });
  if (!existsSync(p.caCert) || !existsSync(p.caKey)) writePair(p.caCert, p.caKey, createCA());
  const ca = { cert: readFileSync(p.caCert, 'utf8'), key: readFileSync(p.caKey, 'utf8') };
  if (!existsSync(p.serverCert) || !existsSync(p.serverKey)) {
    const [cn = 'localhost'] = opts.serverNames;
    writePair(p.serverCert, p.serverKey, issueCertificate(ca, { cn, usage: 'server', altNames: opts.serverNames }));
  }
  for (const cn of opts.clients ?? []) {
    const c = p.client(cn);
    if (!existsSync(c.cert) || !existsSync(c.key)) writePair(c.cert, c.key, issueCertificate(ca, { cn, usage: 'client' }));
  }
  return p;
}
