/**
 * GET    /api/v1/rules                 the rules in force (newest version of each), and any stored rule the registry no longer fits
 * GET    /api/v1/rules/kinds           the rule kinds this hub knows
 * GET    /api/v1/rules/:id             one rule in force
 * GET    /api/v1/rules/:id/versions    every version, oldest first
 * PUT    /api/v1/rules/:id             {rule, note?}: a new version, in force at once (admin)
 * DELETE /api/v1/rules/:id             {note?}: a deleted version; open alerts of it clear (admin)
 * Every change is audited with the whole rule; a rule that cannot work is refused with the key named.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RULE_KINDS } from '../alerts/kinds/index.js';
import { RuleSpecError } from '../alerts/rule.js';
import { RULE_ID_PATTERN } from '../alerts/spec.js';
import { actorOf } from './auth-hook.js';
import type { ApiPluginOptions } from './types.js';

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
const Spec = Type.Object({ id: Type.String(), kind: Type.String() }, { additionalProperties: true });
/** A stored rule: the common keys and the kind's own (see the README, "Alert rules"). */
const StoredSpec = Type.Record(Type.String(), Type.Unknown());
const Version = Type.Object({
  id: Type.String(),
  version: Type.Integer(),
  spec: StoredSpec,
  source: Type.String(),
  deleted: Type.Boolean(),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
});
const IdParams = Type.Object({ id: Type.String({ pattern: RULE_ID_PATTERN }) }, { additionalProperties: false });

export const rulesRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/rules',
    {
      config: { access: 'read' },
      schema: {
        response: {
          200: Type.Object({
            rules: Type.Array(Type.Intersect([Version, Type.Object({ targets: Type.Integer() })])),
            invalid: Type.Array(Type.Object({ id: Type.String(), version: Type.Integer(), error: Type.String() })),
          }),
        },
      },
    },
    async () => {
      const targets = new Map(deps.rules.rules.map((r) => [r.spec.id, r.targets.length]));
      return { rules: deps.rules.current().map((v) => ({ ...v, targets: targets.get(v.id) ?? 0 })), invalid: deps.rules.invalid };
    },
  );

  app.get(
    '/rules/kinds',
    { config: { access: 'read' }, schema: { response: { 200: Type.Object({ kinds: Type.Array(Type.Object({ kind: Type.String(), description: Type.String() })) }) } } },
    async () => ({ kinds: [...RULE_KINDS.values()].map((k) => ({ kind: k.kind, description: k.description })) }),
  );

  app.get('/rules/:id', { config: { access: 'read' }, schema: { params: IdParams, response: { 200: Type.Object({ rule: Version }), '4xx': ErrorBody } } }, async (req, reply) => {
    const rule = deps.rules.current().find((v) => v.id === req.params.id);
    if (!rule) return reply.code(404).send({ error: 'not_found', message: `rule ${req.params.id} not found` });
    return { rule };
  });

  app.get(
    '/rules/:id/versions',
    { config: { access: 'read' }, schema: { params: IdParams, response: { 200: Type.Object({ versions: Type.Array(Version) }), '4xx': ErrorBody } } },
    async (req, reply) => {
      const versions = deps.rules.versions(req.params.id);
      if (!versions.length) return reply.code(404).send({ error: 'not_found', message: `rule ${req.params.id} not found` });
      return { versions };
    },
  );

  app.put(
    '/rules/:id',
    {
      config: { access: 'rules.manage' },
      schema: {
        params: IdParams,
        body: Type.Object({ rule: Spec, note: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ rule: Version }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      if (req.body.rule.id !== req.params.id) return reply.code(400).send({ error: 'invalid', message: `the rule's id "${req.body.rule.id}" differs from the URL's "${req.params.id}"` });
      try {
        const rule = deps.rules.put(req.body.rule, { by: actorOf(req), note: req.body.note, audit: { ip: req.ip } });
        return { rule };
      } catch (err) {
        if (err instanceof RuleSpecError) return reply.code(400).send({ error: 'invalid_rule', message: err.message });
        throw err;
      }
    },
  );

  app.delete(
    '/rules/:id',
    {
      config: { access: 'rules.manage' },
      schema: {
        params: IdParams,
        body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false })),
        response: { 200: Type.Object({ rule: Version }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      const rule = deps.rules.delete(req.params.id, { by: actorOf(req), note: req.body?.note, audit: { ip: req.ip } });
      if (!rule) return reply.code(404).send({ error: 'not_found', message: `rule ${req.params.id} not found` });
      return { rule };
    },
  );
};
