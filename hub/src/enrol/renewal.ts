/**
 * Certificate renewal over the gateway's own mutual-TLS link: the gateway publishes a CSR on
 * ioc/v1/{gw}/cert/csr, the hub answers on ioc/v1/{gw}/cert. Who is asking needs no further
 * proof: the broker let the client in only with a certificate of our CA whose CN is its client id,
 * and the ACL lets it publish only on its own topics — so the {gw} of the topic is the
 * authenticated gateway. The service refuses a revoked gateway and a CSR naming anyone else.
 */
import { WIRE_VERSION, decodePayload, gatewayTopic, gatewayTopicFilter, parseGatewayTopic, validateCertRequest, type CertResponse, type Logger } from '@ioc/shared';
import type { Bus } from '../broker/bus.js';
import { rateLimitedLog } from '../util/rate-limited-log.js';
import { EnrolError, type EnrolmentService } from './service.js';

export async function startRenewal(opts: { bus: Bus; service: EnrolmentService; logger: Logger }): Promise<void> {
  const log = rateLimitedLog(opts.logger);
  await opts.bus.subscribe(gatewayTopicFilter('cert/csr'), async (topic, payload) => {
    const gw = parseGatewayTopic(topic)?.gw;
    if (!gw) return;
    const req = decodePayload(payload, validateCertRequest);
    if (!req.ok) {
      log(`renewal:bad:${gw}`, 'warn', { gw, reason: req.reason }, 'certificate request refused: not a valid cert/csr message');
      return;
    }
    let answer: CertResponse;
    try {
      const signed = opts.service.renew(gw, req.value.csr);
      answer = { v: WIRE_VERSION, id: req.value.id, ok: true, certificate: signed.cert, ca: opts.service.caCert, notAfter: signed.notAfter };
      opts.logger.info({ gw, serial: signed.serial, notAfter: new Date(signed.notAfter).toISOString() }, 'gateway certificate renewed');
    } catch (err) {
      if (!(err instanceof EnrolError)) {
        opts.logger.error({ err, gw }, 'certificate renewal failed');
        answer = { v: WIRE_VERSION, id: req.value.id, ok: false, error: 'internal', message: 'the hub could not sign the request' };
      } else {
        log(`renewal:${err.code}:${gw}`, 'warn', { gw, code: err.code, err: err.message }, 'certificate renewal refused');
        answer = { v: WIRE_VERSION, id: req.value.id, ok: false, error: err.code, message: err.message };
      }
    }
    await opts.bus.publish(gatewayTopic(gw, 'cert'), JSON.stringify(answer), { qos: 1, retain: false });
  });
}
