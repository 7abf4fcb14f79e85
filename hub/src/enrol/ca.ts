/**
 * The hub's CA as enrolment and renewal use it: its certificate (always), its fingerprint (shown
 * with every token, pinned by `ioc-edge enroll`), and its private key when the hub may sign —
 * the demo PKI's ca.key, or mqtt.tls.caKey for the province's own CA.
 */
import { readFileSync } from 'node:fs';
import { certificateFingerprint, parseCsr, signCsr, type ParsedCsr, type SignedCertificate } from '@ioc/shared';

export interface HubCa {
  /** PEM of the CA certificate. */
  readonly cert: string;
  readonly fingerprint: string;
  /** Why the hub cannot sign, or null when it can. */
  readonly cannotSign: string | null;
  sign(csr: ParsedCsr, cn: string, validityMs: number): SignedCertificate;
}

export function parseRequest(pem: string): ParsedCsr {
  return parseCsr(pem);
}

/**
 * `keyFile` undefined: the CA key was not configured (mqtt.tls without caKey). The key is read
 * once, at start: a key file that cannot be read is reported in `cannotSign`, not thrown — the
 * broker and the API run without enrolment.
 */
export function loadHubCa(certFile: string, keyFile: string | undefined): HubCa {
  const cert = readFileSync(certFile, 'utf8');
  const fingerprint = certificateFingerprint(cert);
  let key: string | null = null;
  let cannotSign: string | null = null;
  if (keyFile === undefined) {
    cannotSign = 'this hub cannot sign gateway certificates: mqtt.tls names the province CA but not its private key (set mqtt.tls.caKey in hub.yaml, or issue certificates with the province CA by hand)';
  } else {
    try {
      key = readFileSync(keyFile, 'utf8');
    } catch (err) {
      cannotSign = `this hub cannot sign gateway certificates: cannot read the CA key ${keyFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  }
  return {
    cert,
    fingerprint,
    cannotSign,
    sign(csr, cn, validityMs) {
      if (key === null) throw new Error(cannotSign ?? 'no CA key');
      return signCsr({ cert, key }, csr, { cn, validityMs });
    },
  };
}
