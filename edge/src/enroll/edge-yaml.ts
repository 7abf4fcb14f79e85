/**
 * Reads gateway.id from edge.yaml before it is complete (a fresh gateway has no uplink section
 * yet, so the full schema would refuse it) and writes the uplink section that enrolment
 * produced, keeping everything else — other keys, comments, order — as it was.
 */
import { Document, isMap, parseDocument } from 'yaml';

export interface UplinkIdentity {
  url: string;
  ca: string;
  cert: string;
  key: string;
}

export function parseEdgeYaml(text: string, file: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${file}: not valid YAML: ${doc.errors[0]!.message}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new Error(`${file}: expected a mapping at the top`);
  return doc;
}

export function gatewayIdOf(doc: Document): string | undefined {
  const id = doc.getIn(['gateway', 'id']);
  return typeof id === 'string' ? id : undefined;
}

/** A new edge.yaml for a gateway that has none yet: the id, the rest defaults. */
export function newEdgeYaml(gatewayId: string): Document {
  const doc = new Document({ gateway: { id: gatewayId } });
  doc.commentBefore = ' ioc-edge configuration, written by `ioc-edge enroll`. Add devices and profilesDir (see firmware-configs/sites/edge.example.yaml).';
  return doc;
}

/** Sets uplink.url/ca/cert/key, keeping the section's other keys (batchSize, backoff, …). */
export function setUplink(doc: Document, u: UplinkIdentity): string {
  if (!isMap(doc.get('uplink'))) doc.set('uplink', doc.createNode({}));
  doc.setIn(['uplink', 'url'], u.url);
  doc.setIn(['uplink', 'ca'], u.ca);
  doc.setIn(['uplink', 'cert'], u.cert);
  doc.setIn(['uplink', 'key'], u.key);
  return doc.toString();
}
