/**
 * Checks of the uplink section that a schema cannot express, each naming its key. Used when the
 * file is loaded (./load.ts) and again by the uplink itself, so a config built in code cannot
 * skip them.
 */
import { MAX_PAYLOAD_BYTES } from '@ioc/shared';
import { BATCH_ENVELOPE_BYTES, MIN_READING_BYTES } from '../uplink/payload.js';
import type { UplinkConfig } from './schema.js';

type UplinkChecked = Pick<UplinkConfig, 'url' | 'batchSize' | 'backoff'> & Partial<Pick<UplinkConfig, 'insecure' | 'maxPayloadBytes'>>;

export function uplinkConfigProblems(u: UplinkChecked): string[] {
  const problems: string[] = [];
  // Without TLS nothing proves the peer is the hub: a spoofed broker could acknowledge rows it
  // never stored, and the gateway deletes what is acknowledged.
  if (/^mqtt:/i.test(u.url) && u.insecure !== true) {
    problems.push(
      'uplink.url: mqtt:// has no TLS: a broker posing as the hub could acknowledge readings it never stored and the gateway would delete them; use mqtts://, or set uplink.insecure: true for a lab set-up',
    );
  }
  if (u.backoff.initialMs > u.backoff.maxMs) {
    problems.push(`uplink.backoff.initialMs: ${u.backoff.initialMs} is above uplink.backoff.maxMs (${u.backoff.maxMs})`);
  }
  // A batch of batchSize readings must be possible at all: even the smallest reading takes
  // MIN_READING_BYTES. (Real readings are larger; then batches are cut by bytes, which is fine.)
  const maxPayload = u.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const fits = Math.floor((maxPayload - BATCH_ENVELOPE_BYTES) / MIN_READING_BYTES);
  if (u.batchSize > fits) {
    problems.push(
      `uplink.batchSize: ${u.batchSize} readings cannot fit in uplink.maxPayloadBytes (${maxPayload} bytes; even the smallest reading takes ${MIN_READING_BYTES}): lower batchSize to at most ${fits} or raise maxPayloadBytes`,
    );
  }
  return problems;
}
