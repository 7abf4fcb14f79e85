/**
 * GET    /api/v1/rules                 the rules in force (newest version of each), and any stored rule the registry no longer fits
 * GET    /api/v1/rules/kinds           the rule kinds this hub knows
 * GET    /api/v1/rules/:id             one rule in force
 * GET    /api/v1/rules/:id/versions    every version, oldest first
 * PUT    /api/v1/rules/:id             {rule, note?}: a new version, in force at once (admin)
 * DELETE /api/v1/rules/:id             {note?}: a deleted version; open alerts of it clear (admin)
 * POST   /api/v1/rules/backtest        {rule, days?}: what the rule would have raised over the last days of stored
 *                                      readings, and the saved rule of that id for comparison (admin; reads only)
 * Every change is audited with the whole rule; a rule that cannot work is refused with the key named.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RULE_KINDS } from '../alerts/kinds/index.js';
import { backtestRule, BACKTEST_DEFAULTS } from '../alerts/backtest.js';
import { RuleSpecError } from '../alerts/rule.js';
import { compileRule, RULE_ID_PATTERN } from '../alerts/spec.js';
import { actorOf, scopeOf } from './auth-hook.js';
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
const Text = Type.Object({ vi: Type.String(), en: Type.String() });
const BacktestResult = Type.Object({
  rule: Type.String(),
  kind: Type.String(),
  enabled: Type.Boolean(),
  from: Type.Integer(),
  to: Type.Integer(),
  coveredTo: Type.Integer(),
  tickMs: Type.Integer(),
  readings: Type.Integer(),
  capped: Type.Boolean(),
  maxReadings: Type.Integer(),
  targets: Type.Integer(),
  notReplayed: Type.Integer(),
  outOfScope: Type.Integer(),
  episodes: Type.Array(
    Type.Object({
      target: Type.String(),
      dev: Type.Union([Type.String(), Type.Null()]),
      metric: Type.Union([Type.String(), Type.Null()]),
      place: Text,
      start: Type.Integer(),
      end: Type.Union([Type.Integer(), Type.Null()]),
      maxLevel: Type.Integer(),
      maxLabel: Text,
      severity: Type.String(),
      peakValue: Type.Union([Type.Number(), Type.Null()]),
      changes: Type.Integer(),
      reopened: Type.Integer(),
    }),
  ),
  episodesListed: Type.Integer(),
  totals: Type.Object({
    episodes: Type.Integer(),
    open: Type.Integer(),
    targetsWithEpisodes: Type.Integer(),
    byMaxLevel: Type.Record(Type.String(), Type.Integer()),
    alertMs: Type.Integer(),
  }),
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

  app.post(
    '/rules/backtest',
    {
      config: { access: 'rules.manage' },
      schema: {
        body: Type.Object({ rule: Spec, days: Type.Optional(Type.Integer({ minimum: 1, maximum: 30, default: 7 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            days: Type.Integer(),
            candidate: BacktestResult,
            /** The version in force under the same id (null: none, or it no longer compiles). */
            saved: Type.Union([Type.Intersect([BacktestResult, Type.Object({ version: Type.Integer() })]), Type.Null()]),
          }),
          '4xx': Type.Intersect([ErrorBody, Type.Object({ path: Type.Optional(Type.String()), reason: Type.Optional(Type.String()) })]),
        },
      },
    },
    async (req, reply) => {
      let candidate;
      try {
        candidate = compileRule(req.body.rule, deps.registry);
      } catch (err) {
        if (err instanceof RuleSpecError) return reply.code(400).send({ error: 'invalid_rule', message: err.message, path: err.path, reason: err.reason });
        throw err;
      }
      const days = req.body.days ?? 7;
      const to = (deps.now ?? Date.now)();
      // The same window, scope and limits for both, so the two answers compare.
      const opts = { store: deps.store, scope: scopeOf(req).devices, from: to - days * 86_400_000, to, flapWindowMs: deps.flapWindowMs ?? BACKTEST_DEFAULTS.flapWindowMs };
      const current = deps.rules.current().find((v) => v.id === candidate.spec.id);
      let saved = null;
      if (current) {
        try {
          saved = { ...(await backtestRule(compileRule(current.spec, deps.registry), opts)), version: current.version };
        } catch (err) {
          if (!(err instanceof RuleSpecError)) throw err;
        }
      }
      return { days, candidate: await backtestRule(candidate, opts), saved };
    },
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
