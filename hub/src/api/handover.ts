/**
 * GET  /api/v1/handovers/current   what happened since the last handover of the caller's desk (or
 *                                  the last 24 h): alert changes, notes, open alerts — in scope
 * POST /api/v1/handovers  {note}   the outgoing shift hands over (audited); "since" moves to now
 *
 * A desk is the caller's areas: the province desk and a commune's desk keep their own handovers.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf, scopeOf } from './auth-hook.js';
import type { ApiPluginOptions } from './types.js';

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
const Text = Type.Object({ vi: Type.String(), en: Type.String() });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const AlertBriefSchema = Type.Object({
  id: Type.Integer(),
  level: Type.Integer(),
  state: Type.String(),
  category: Type.String(),
  levelLabel: Text,
  message: Text,
  deviceName: Nullable(Type.String()),
  communeCode: Type.String(),
});
const ChangeSchema = Type.Object({
  ts: Type.Integer(),
  kind: Type.String(),
  level: Type.Integer(),
  by: Nullable(Type.String()),
  note: Nullable(Type.String()),
  alert: AlertBriefSchema,
});
const HandoverSchema = Type.Object({ id: Type.Integer(), by: Type.String(), at: Type.Integer(), note: Type.String(), openAlerts: Type.Array(Type.Integer()) });
const SummarySchema = Type.Object({
  since: Type.Integer({ description: 'The last handover of this desk, or 24 h ago' }),
  lastHandover: Nullable(HandoverSchema),
  alertsChanged: Type.Array(ChangeSchema, { description: 'Opened, escalated, acknowledged, cleared, closed since then; newest first' }),
  openAlerts: Type.Array(AlertBriefSchema, { description: 'Not closed now; most severe first' }),
  notes: Type.Array(ChangeSchema, { description: 'Notes written on alerts since then; newest first' }),
});

export const handoverRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const service = deps.handovers;
  if (!service) return;

  app.get('/handovers/current', { config: { access: 'read' }, schema: { response: { 200: SummarySchema, '4xx': ErrorBody } } }, async (req) => service.current(scopeOf(req)));

  app.post(
    '/handovers',
    {
      config: { access: 'alerts.act' },
      schema: {
        body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ handover: HandoverSchema }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      const note = req.body.note.trim();
      if (!note) return reply.code(400).send({ error: 'bad_request', message: 'the handover note is empty' });
      const h = service.write(scopeOf(req), req.principal!.id, note, (rec) =>
        deps.audit.append({ actor: actorOf(req), action: 'handover.written', target: `handover:${rec.id}`, summary: note.slice(0, 200), after: { openAlerts: rec.openAlerts }, ip: req.ip }),
      );
      return { handover: { id: h.id, by: h.by, at: h.ts, note: h.note, openAlerts: h.openAlerts } };
    },
  );
};
