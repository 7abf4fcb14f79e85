/**
 * The hub's own backups (admins: backups.manage), made while it runs (../backup/service.ts):
 *
 * GET  /api/v1/backups   the backup folder, its files newest first (size, time, the check recorded
 *                        when each was made), whether one is running, where the secret key is
 * POST /api/v1/backups   make one now (409 while one runs); audited as hub.backup
 *
 * Restoring stays a command (`ioc-hub restore`): it needs the hub stopped.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BackupBusyError } from '../backup/service.js';
import { actorOf } from './auth-hook.js';
import { Errors } from './auth.js';
import type { ApiPluginOptions } from './types.js';

const BackupSchema = Type.Object({
  name: Type.String(),
  file: Type.String({ description: 'Absolute path on the hub' }),
  bytes: Type.Integer(),
  createdAt: Type.Integer({ description: 'When the copy got its name, epoch ms' }),
  check: Type.Union([
    Type.Object({
      sha256: Type.String(),
      schemaVersion: Type.Integer(),
      by: Type.String({ description: 'Who made it (audit actor)' }),
      auditSeq: Type.Integer(),
    }),
    Type.Null(),
  ], { description: 'The integrity and schema check recorded in the audit log when the copy was made; null: none on record' }),
});

export const backupsRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const backups = deps.backups;
  if (!backups) return;

  app.get(
    '/backups',
    {
      config: { access: 'backups.manage' },
      schema: {
        response: {
          200: Type.Object({ dir: Type.String(), secretKey: Type.String(), running: Type.Boolean(), backups: Type.Array(BackupSchema) }),
          ...Errors,
        },
      },
    },
    async () => ({ dir: backups.dir, secretKey: backups.secretKey, running: backups.busy, backups: backups.list() }),
  );

  app.post(
    '/backups',
    {
      config: { access: 'backups.manage' },
      schema: { response: { 201: Type.Object({ backup: Type.Object({ ...BackupSchema.properties, durationMs: Type.Integer() }) }), ...Errors } },
    },
    async (req, reply) => {
      try {
        return reply.code(201).send({ backup: await backups.create(actorOf(req), req.ip) });
      } catch (err) {
        if (err instanceof BackupBusyError) return reply.code(409).send({ error: 'conflict', message: err.message });
        deps.logger.error({ err }, 'backup failed');
        return reply.code(500).send({ error: 'backup_failed', message: (err as Error).message });
      }
    },
  );
};
