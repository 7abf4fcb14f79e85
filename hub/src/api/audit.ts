/**
 * GET /api/v1/audit?action=&actor=&target=&from=&to=&before=&limit=   newest first (admins)
 * GET /api/v1/audit/verify                                             walks the chain
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors } from './auth.js';
import type { ApiPluginOptions } from './types.js';

const Entry = Type.Object({
  seq: Type.Integer(),
  ts: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  ip: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  hash: Type.String(),
});

export const auditRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  app.get(
    '/audit',
    {
      config: { access: 'audit.read' },
      schema: {
        querystring: Type.Object(
          {
            action: Type.Optional(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)?$' })),
            actor: Type.Optional(Type.String({ maxLength: 100 })),
            target: Type.Optional(Type.String({ maxLength: 200 })),
            from: Type.Optional(Type.Integer({ minimum: 0 })),
            to: Type.Optional(Type.Integer({ minimum: 0 })),
            before: Type.Optional(Type.Integer({ minimum: 1 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(Entry) }), ...Errors },
      },
    },
    async (req) => {
      const q = req.query;
      const entries = deps.audit.list({
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.target !== undefined ? { target: q.target } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        ...(q.before !== undefined ? { beforeSeq: q.before } : {}),
        limit: q.limit ?? 100,
      });
      return { entries };
    },
  );

  app.get(
    '/audit/verify',
    {
      config: { access: 'audit.read' },
      schema: {
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            head: Type.Optional(Type.String()),
            firstBad: Type.Optional(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
            message: Type.Optional(Type.String()),
          }),
          ...Errors,
        },
      },
    },
    async () => deps.audit.verify(),
  );
};
