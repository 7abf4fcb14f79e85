/**
 * Gateway identity (../enrol):
 *
 * POST /api/v1/gateways/:id/enrolment-tokens  {communeCode, ttl?}  → a one-time token and the CA fingerprint
 * POST /api/v1/enrol                          {token, csr}         → {certificate, ca, …}  (public, rate-limited, HTTPS only)
 * POST /api/v1/gateways/:id/revoke            {reason?}            → the gateway's identity, revoked
 * GET  /api/v1/gateways/:id/identity                               → enrolled / revoked / not_enrolled, certificate expiry
 *
 * Outside the caller's scope (commune or gateway) the answer is 404, as for every device query.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { DURATION_PATTERN, GATEWAY_ID_PATTERN, MAX_PEM_CHARS, parseDuration } from '@ioc/shared';
import { COMMUNE_CODE_PATTERN } from '../config/schema.js';
import { EnrolError, type EnrolErrorCode } from '../enrol/service.js';
import { enrolCommand } from '../enrol/tokens.js';
import { actorOf, scopeOf } from './auth-hook.js';
import { ErrorBody } from './auth.js';
import type { ApiPluginOptions } from './types.js';

const STATUS: Record<EnrolErrorCode, number> = {
  token_unknown: 401,
  token_used: 409,
  token_expired: 410,
  csr_invalid: 400,
  csr_cn_mismatch: 400,
  cannot_sign: 503,
  revoked: 403,
  not_found: 404,
  conflict: 409,
  bad_request: 400,
};

function sendEnrolError(reply: FastifyReply, err: unknown) {
  if (err instanceof EnrolError) return reply.code(STATUS[err.code]).send({ error: err.code, message: err.message });
  throw err;
}

const IdParams = Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }) }, { additionalProperties: false });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IdentitySchema = Type.Object({
  gateway: Type.String(),
  state: Type.Union([Type.Literal('enrolled'), Type.Literal('revoked'), Type.Literal('not_enrolled')]),
  communeCode: Nullable(Type.String()),
  inHubYaml: Type.Boolean(),
  serial: Nullable(Type.String()),
  fingerprint: Nullable(Type.String()),
  notAfter: Nullable(Type.Integer()),
  enrolledAt: Nullable(Type.Integer()),
  renewedAt: Nullable(Type.Integer()),
  revokedAt: Nullable(Type.Integer()),
  revokedBy: Nullable(Type.String()),
  revokeReason: Nullable(Type.String()),
});

export const enrolmentRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const enrolment = deps.enrolment;
  if (!enrolment) return;
  const notFound = (id: string) => ({ error: 'not_found', message: `gateway "${id}" is not in the registry` });

  app.post(
    '/gateways/:id/enrolment-tokens',
    {
      config: { access: 'gateways.enrol' },
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            communeCode: Type.String({ pattern: COMMUNE_CODE_PATTERN }),
            /** 90s, 15m, 24h, 7d (default: enrolment.tokenTtl). */
            ttl: Type.Optional(Type.String({ pattern: DURATION_PATTERN })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            token: Type.String(),
            gateway: Type.String(),
            communeCode: Type.String(),
            expiresAt: Type.Integer(),
            caFingerprint: Type.String(),
            /** Ready to paste on the gateway (the hub address is the one this request came to). */
            command: Type.String(),
          }),
          '4xx': ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      const { id } = req.params;
      if (!scope.hasArea(req.body.communeCode)) return reply.code(404).send({ error: 'not_found', message: `commune ${req.body.communeCode} is not in your areas` });
      if (deps.registry.gateways.has(id) && !scope.hasGateway(id)) return reply.code(404).send(notFound(id));
      try {
        const t = enrolment.createToken({
          gateway: id,
          communeCode: req.body.communeCode,
          ...(req.body.ttl ? { ttlMs: parseDuration(req.body.ttl)! } : {}),
          actor: actorOf(req),
          ip: req.ip,
        });
        const command = enrolCommand(`${req.protocol}://${req.headers.host ?? 'HUB'}`, t);
        return reply.code(201).send({ ...t, command });
      } catch (err) {
        return sendEnrolError(reply, err);
      }
    },
  );

  app.post(
    '/enrol',
    {
      config: { access: 'public', rateLimit: { max: deps.enrolRatePerMinute ?? 10, timeWindow: 60_000 } },
      schema: {
        body: Type.Object(
          {
            token: Type.String({ minLength: 1, maxLength: 200 }),
            csr: Type.String({ minLength: 1, maxLength: MAX_PEM_CHARS }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            gateway: Type.String(),
            communeCode: Type.String(),
            certificate: Type.String(),
            ca: Type.String(),
            caFingerprint: Type.String(),
            serial: Type.String(),
            fingerprint: Type.String(),
            notAfter: Type.Integer(),
            /** The broker's port (the gateway's uplink.url uses the host it enrolled with). */
            mqttPort: Type.Optional(Type.Integer()),
          }),
          '4xx': ErrorBody,
          '5xx': ErrorBody,
        },
      },
    },
    async (req, reply) => {
      // The token travels in this request: never over plain HTTP, even on loopback.
      if (req.protocol !== 'https') {
        return reply.code(400).send({ error: 'https_required', message: 'enrolment is only served over HTTPS (http.tls is false on this hub)' });
      }
      try {
        return { ...enrolment.enrol({ token: req.body.token, csr: req.body.csr, ip: req.ip }), ...(deps.mqttPort ? { mqttPort: deps.mqttPort } : {}) };
      } catch (err) {
        return sendEnrolError(reply, err);
      }
    },
  );

  app.post(
    '/gateways/:id/revoke',
    {
      config: { access: 'gateways.revoke' },
      schema: {
        params: IdParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false })),
        response: { 200: Type.Object({ gateway: IdentitySchema }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!scopeOf(req).hasGateway(id)) return reply.code(404).send(notFound(id));
      try {
        return { gateway: enrolment.revoke(id, actorOf(req), req.body?.reason, req.ip) };
      } catch (err) {
        return sendEnrolError(reply, err);
      }
    },
  );

  app.get(
    '/gateways/:id/identity',
    { config: { access: 'read' }, schema: { params: IdParams, response: { 200: Type.Object({ gateway: IdentitySchema }), '4xx': ErrorBody } } },
    async (req, reply) => {
      const { id } = req.params;
      const view = scopeOf(req).hasGateway(id) ? enrolment.view(id) : undefined;
      if (!view) return reply.code(404).send(notFound(id));
      return { gateway: view };
    },
  );
};
