/**
 * The hub's own backups (admins: backups.manage), made while it runs (../backup/service.ts):
 *
 * GET  /api/v1/backups   the backup folder, its files newest first (size, time, the check recorded
 *                        when each was made), whether one is running, where the secret key is
 * POST /api/v1/backups   make one now (409 while one runs); audited as hub.backup
 * POST /api/v1/backups/{name}/verify
 *                        check a kept copy again (integrity, schema version, sha256 against the
 *                        one recorded when it was made); audited as hub.backup.verify
 *
 * Restoring stays a command (`ioc-hub restore`): it needs the hub stopped.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BackupBusyError, BackupNotFoundError } from '../backup/service.js';
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
  lastVerified: Type.Union([
    Type.Object({ at: Type.Integer(), ok: Type.Boolean(), by: Type.String({ description: 'Who checked it (audit actor)' }) }),
    Type.Null(),
  ], { description: 'The last time the copy was checked again (POST …/verify); null: never' }),
});

const VerificationSchema = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  sha256: Type.String(),
  matchesRecord: Type.Union([Type.Boolean(), Type.Null()], { description: 'Still the copy the audit log recorded when it was made; null: none on record' }),
  schemaVersion: Type.Integer(),
  problems: Type.Array(Type.String(), { description: 'What is wrong, for a person (empty when ok)' }),
  durationMs: Type.Integer(),
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

  app.post(
    '/backups/:name/verify',
    {
      config: { access: 'backups.manage' },
      schema: {
        params: Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' }) }),
        response: { 200: Type.Object({ verification: VerificationSchema }), ...Errors },
      },
    },
    async (req, reply) => {
      try {
        return { verification: await backups.verify(req.params.name, actorOf(req), req.ip) };
      } catch (err) {
        if (err instanceof BackupNotFoundError) return reply.code(404).send({ error: 'not_found', message: err.message });
        throw err;
      }
    },
  );
};
