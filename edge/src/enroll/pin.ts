/**
 * Trust on first use, done right: before the gateway sends its token anywhere, it opens a TLS
 * connection to the hub that verifies nothing, reads the certificate chain the hub presents, and
 * looks for the CA whose SHA-256 fingerprint it was given (`--ca-fingerprint`, printed with the
 * token). Only that CA is trusted afterwards, with full verification (chain and host name): a
 * hub, or a machine in between, without a certificate from that CA is refused before the token
 * leaves the gateway. Nothing is written on this first connection.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate } from 'node:tls';

export class PinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PinError';
  }
}

export interface PinnedCa {
  /** PEM of the CA whose fingerprint matched. */
  pem: string;
  fingerprint: string;
}

/** The certificates of the presented chain, leaf first, each once. */
function chainOf(leaf: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

export function fetchPinnedCa(host: string, port: number, fingerprint: string, timeoutMs = 20_000): Promise<PinnedCa> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false, timeout: timeoutMs });
    const done = (err: Error | null, v?: PinnedCa) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(v!);
    };
    socket.once('timeout', () => done(new PinError(`no TLS answer from ${host}:${port} within ${timeoutMs / 1000} s`)));
    socket.once('error', (err: NodeJS.ErrnoException) => done(new PinError(`cannot reach the hub at ${host}:${port}: ${err.code ?? err.message}`)));
    socket.once('secureConnect', () => {
      const chain = chainOf(socket.getPeerCertificate(true));
      if (chain.length === 0) return done(new PinError(`the hub at ${host}:${port} presented no certificate`));
      const match = chain.find((c) => c.fingerprint256 === fingerprint);
      if (!match) {
        const seen = chain.map((c) => `${c.subject.replace(/\n/g, ', ')} (${c.fingerprint256})`).join('; ');
        return done(
          new PinError(
            `the hub's CA does not match --ca-fingerprint ${fingerprint}: it presented ${seen}. ` +
              'Nothing was sent. Check the fingerprint printed with the token and the --hub address; a mismatch can mean someone is between the gateway and the hub.',
          ),
        );
      }
      if (!match.ca) return done(new PinError(`the certificate with fingerprint ${fingerprint} is not a CA certificate`));
      done(null, { pem: match.toString(), fingerprint: match.fingerprint256 });
    });
  });
}
