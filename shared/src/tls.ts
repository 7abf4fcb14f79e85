/**
 * Certificate helpers: a private CA for the province, server certificates for the hub's broker and
 * client certificates for gateways (CN = gateway id). Keys come from Node's crypto (fast, native);
 * node-forge builds and signs the X.509 structures.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
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

// -------------------------------------------------------------------------------------------------
// Enrolment: a gateway makes its own key and sends only a certificate signing request (PKCS #10);
// the hub's CA signs it. node-forge reads and signs RSA requests only, so gateway keys are RSA.

/** A new RSA private key (PKCS #1 PEM) for a gateway; it never leaves the machine that made it. */
export function newPrivateKeyPem(bits = 2048): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** A PKCS #10 request with subject CN = `cn`, signed with `keyPem` (RSA). */
export function createCsr(cn: string, keyPem: string): string {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: cn }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

export interface ParsedCsr {
  cn: string | undefined;
  /** The request as node-forge holds it, for signCsr. */
  readonly csr: forge.pki.CertificateSigningRequest;
}

/** Parses a PEM request and checks its self-signature (proof that the sender holds the key). */
export function parseCsr(pem: string): ParsedCsr {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (err) {
    // forge throws on anything but an RSA key, and on PEM/DER errors.
    throw new CsrError(`not a PEM certificate signing request with an RSA key (${(err as Error).message})`);
  }
  let ok = false;
  try {
    ok = csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new CsrError('the request\'s signature does not verify');
  const attr = csr.subject.getField('CN') as { value?: string } | null;
  return { cn: attr?.value, csr };
}

export interface SignedCertificate {
  cert: string;
  /** Upper-case hex, as Node's X509Certificate.serialNumber gives it. */
  serial: string;
  fingerprint: string;
  notBefore: number;
  notAfter: number;
}

/**
 * Signs a parsed request as a client certificate for `cn` (the subject is ours, not the request's:
 * only the public key is taken from it), valid for `validityMs`. notBefore is one minute in the
 * past, for gateways whose clock is a little behind.
 */
export function signCsr(ca: PemPair, req: ParsedCsr, opts: { cn: string; validityMs: number; now?: number }): SignedCertificate {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const cert = forge.pki.createCertificate();
  cert.publicKey = req.csr.publicKey as forge.pki.PublicKey;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = opts.now ?? Date.now();
  // X.509 times have whole seconds.
  cert.validity.notBefore = new Date(Math.floor((now - 60_000) / 1000) * 1000);
  cert.validity.notAfter = new Date(Math.floor((now + opts.validityMs) / 1000) * 1000);
  cert.setSubject([{ name: 'commonName', value: opts.cn }, { name: 'organizationName', value: 'IOC' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  const info = certificateInfo(pem);
  return { cert: pem, serial: info.serial, fingerprint: info.fingerprint, notBefore: info.notBefore, notAfter: info.notAfter };
}

export interface CertificateInfo {
  cn: string | undefined;
  serial: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  isCA: boolean;
}

/** Reads the first certificate of a PEM text; throws when there is none. */
export function certificateInfo(pem: string | Buffer): CertificateInfo {
  const x = new X509Certificate(pem);
  const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
  return {
    cn,
    serial: normalizeSerial(x.serialNumber),
    fingerprint: x.fingerprint256,
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    isCA: x.ca,
  };
}

/** Upper-case hex without leading zero bytes' ambiguity: how serials are compared everywhere. */
export function normalizeSerial(serial: string): string {
  return serial.replace(/^(00)+(?=.)/, '').toUpperCase();
}

/** SHA-256 fingerprint of a PEM certificate (colon hex, upper case). */
export function certificateFingerprint(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256;
}

/** "ab:CD…" or "abcd…" → "AB:CD:…"; null when it is not 32 bytes of hex. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.trim().replace(/^sha256 fingerprint=/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

/** True when `keyPem` is the private key of the certificate. */
export function keyMatchesCertificate(certPem: string | Buffer, keyPem: string | Buffer): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
}

/** True when `certPem` was issued and signed by `caPem`. */
export function issuedBy(certPem: string | Buffer, caPem: string | Buffer): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}
