/**
 * `ioc-edge enroll`: a fresh gateway gets its identity from the hub with a one-time token.
 *
 * 1. Pin: the hub's CA must have the fingerprint printed with the token (./pin.ts), checked
 *    before anything is sent.
 * 2. The key pair is made here (RSA 2048); the private key never leaves the gateway and is written
 *    0600. Only a certificate signing request with CN = gateway.id goes to the hub.
 * 3. POST /api/v1/enrol over HTTPS trusting only the pinned CA (chain and host name verified).
 * 4. The answer is checked (our key, our CN, signed by the pinned CA), the files are written
 *    atomically and edge.yaml's uplink section is set; the rest of the file is kept.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  GATEWAY_ID_PATTERN, certificateFingerprint, certificateInfo, createCsr, isGatewayId, issuedBy, keyMatchesCertificate,
  newPrivateKeyPem, normalizeFingerprint,
} from '@ioc/shared';
import { gatewayIdOf, newEdgeYaml, parseEdgeYaml, setUplink } from './edge-yaml.js';
import { writeFileAtomic } from './files.js';
import { postJson } from './https.js';
import { PinError, fetchPinnedCa } from './pin.js';

export class EnrollError extends Error {
  constructor(
    /** usage: the command line or edge.yaml is wrong (exit 2); refused: the hub or the pin said no (exit 1). */
    readonly kind: 'usage' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

export interface EnrollOptions {
  /** https://host:port of the hub's API. */
  hub: string;
  token: string;
  caFingerprint: string;
  /** edge.yaml; created when missing (then `id` is needed). */
  config: string;
  /** Where the key, certificate and CA go (default: pki/ beside edge.yaml). */
  dir?: string;
  /** Gateway id when edge.yaml does not exist yet (must equal gateway.id when it does). */
  id?: string;
  /** The broker's URL for uplink.url (default: mqtts://{hub host}:{the hub's MQTT port}). */
  mqttUrl?: string;
  /** Progress lines for a person at the terminal. */
  say?: (line: string) => void;
}

export interface EnrollResult {
  gateway: string;
  communeCode: string;
  config: string;
  ca: string;
  cert: string;
  key: string;
  mqttUrl: string;
  notAfter: number;
  caFingerprint: string;
}

const usage = (m: string): never => {
  throw new EnrollError('usage', m);
};
const refused = (m: string): never => {
  throw new EnrollError('refused', m);
};

function readConfig(path: string, id: string | undefined) {
  if (!existsSync(path)) {
    if (!id) return usage(`${path} does not exist: give --id <gateway id> to create it, or --config with the gateway's edge.yaml`);
    return { doc: newEdgeYaml(id), id };
  }
  let doc;
  try {
    doc = parseEdgeYaml(readFileSync(path, 'utf8'), path);
  } catch (err) {
    return usage((err as Error).message);
  }
  const inFile = gatewayIdOf(doc);
  if (inFile && id && inFile !== id) return usage(`--id ${id} differs from gateway.id "${inFile}" in ${path}`);
  const gw = id ?? inFile;
  if (!gw) return usage(`${path}: gateway.id is missing (it becomes the CN of the gateway's certificate)`);
  if (!inFile) doc.setIn(['gateway', 'id'], gw);
  return { doc, id: gw };
}

function hubRefusal(status: number, body: Record<string, unknown>): string {
  const code = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const message = typeof body.message === 'string' ? body.message : '';
  return `enrolment refused by the hub (${code}): ${message}`;
}

export async function enroll(o: EnrollOptions): Promise<EnrollResult> {
  const say = o.say ?? (() => undefined);
  let url: URL;
  try {
    url = new URL(o.hub);
  } catch {
    return usage(`--hub: "${o.hub}" is not a URL (e.g. https://hub.example:8080)`);
  }
  if (url.protocol !== 'https:') usage(`--hub must be an https:// address (got ${url.protocol}//): the token never travels in clear`);
  const fingerprint = normalizeFingerprint(o.caFingerprint) ?? usage(`--ca-fingerprint: "${o.caFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  const token = o.token.trim();
  if (!token) usage('--token is empty');
  if (o.id !== undefined && !isGatewayId(o.id)) usage(`--id: "${o.id}" must match ${GATEWAY_ID_PATTERN}`);
  const configPath = resolve(o.config);
  const { doc, id } = readConfig(configPath, o.id);
  if (!isGatewayId(id)) usage(`gateway.id "${id}" must match ${GATEWAY_ID_PATTERN}`);
  const dir = resolve(o.dir ?? join(dirname(configPath), 'pki'));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);

  say(`checking the hub's CA at ${url.host} against ${fingerprint} …`);
  let ca;
  try {
    ca = await fetchPinnedCa(host, port, fingerprint);
  } catch (err) {
    if (err instanceof PinError) return refused(err.message);
    throw err;
  }

  say(`making a key pair and a certificate request for ${id} …`);
  const key = newPrivateKeyPem();
  const csr = createCsr(id, key);

  let res;
  try {
    res = await postJson(new URL('/api/v1/enrol', url), { token, csr }, ca.pem);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return refused(`the hub's certificate comes from the pinned CA but is not for "${host}" (${e.message}): use a --hub address named in it (mqtt.serverNames for the demo PKI)`);
    }
    return refused(`the enrolment request failed: ${e.code ?? e.message}`);
  }
  if (res.status !== 200) return refused(hubRefusal(res.status, res.body));
  const { certificate, ca: caPem, communeCode, mqttPort } = res.body as { certificate?: string; ca?: string; communeCode?: string; mqttPort?: number };
  if (typeof certificate !== 'string' || typeof caPem !== 'string') return refused('the hub answered without a certificate');

  // Trust nothing in the answer that the pin does not back.
  if (certificateFingerprint(caPem) !== fingerprint) refused('the hub answered with a CA other than the pinned one: nothing written');
  const info = certificateInfo(certificate);
  if (info.cn !== id) refused(`the hub signed a certificate for "${info.cn ?? ''}", not ${id}: nothing written`);
  if (!keyMatchesCertificate(certificate, key)) refused('the certificate the hub sent is not for the key made here: nothing written');
  if (!issuedBy(certificate, caPem)) refused('the certificate the hub sent is not signed by the pinned CA: nothing written');

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = { ca: join(dir, 'ca.crt'), cert: join(dir, `${id}.crt`), key: join(dir, `${id}.key`) };
  writeFileAtomic(paths.key, key, 0o600);
  chmodSync(paths.key, 0o600);
  writeFileAtomic(paths.ca, caPem);
  writeFileAtomic(paths.cert, certificate);

  const urlHost = host.includes(':') ? `[${host}]` : host;
  const mqttUrl = o.mqttUrl ?? `mqtts://${urlHost}:${typeof mqttPort === 'number' ? mqttPort : 8883}`;
  writeFileAtomic(configPath, setUplink(doc, { url: mqttUrl, ...paths }));
  return {
    gateway: id,
    communeCode: typeof communeCode === 'string' ? communeCode : '',
    config: configPath,
    ...paths,
    mqttUrl,
    notAfter: info.notAfter,
    caFingerprint: fingerprint,
  };
}
