/**
 * Accounts and API keys (admins: users.manage / apikeys.manage).
 *
 * GET   /api/v1/users
 * POST  /api/v1/users                    {username, displayName?, role, areas, password}
 * PATCH /api/v1/users/:username          {displayName?, role?, areas?, password?, disabled?, unlock?}
 * POST  /api/v1/users/:username/reset-mfa
 * GET   /api/v1/api-keys
 * POST  /api/v1/api-keys                 {name, role, areas, expiresAt?} → the key, shown once
 * POST  /api/v1/api-keys/:id/revoke
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../auth/roles.js';
import { AREA_PATTERN } from '../auth/scope.js';
import { actorOf } from './auth-hook.js';
import { ErrorBody, sendAuthError, UserViewSchema } from './auth.js';
import type { ApiPluginOptions } from './types.js';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Areas = Type.Array(Type.String({ pattern: AREA_PATTERN }), { maxItems: 200, uniqueItems: true });
const Username = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{1,63}$' });

const ApiKeyViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  areas: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
});

export const usersRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const auth = deps.auth;
  // Open mode has no accounts: these routes do not exist there.
  if (!auth) return;

  app.get('/users', { config: { access: 'users.manage' }, schema: { response: { 200: Type.Object({ users: Type.Array(UserViewSchema) }), '4xx': ErrorBody } } }, async () => ({
    users: auth.users(),
  }));

  app.post(
    '/users',
    {
      config: { access: 'users.manage' },
      schema: {
        body: Type.Object(
          {
            username: Username,
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            role: RoleSchema,
            areas: Areas,
            password: Type.String({ minLength: 1, maxLength: 256 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ user: UserViewSchema }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      try {
        const user = await auth.addUser(req.body, actorOf(req), req.ip);
        return reply.code(201).send({ user });
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );

  app.patch(
    '/users/:username',
    {
      config: { access: 'users.manage' },
      schema: {
        params: Type.Object({ username: Username }),
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            role: Type.Optional(RoleSchema),
            areas: Type.Optional(Areas),
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
            disabled: Type.Optional(Type.Boolean()),
            unlock: Type.Optional(Type.Literal(true)),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Type.Object({ user: UserViewSchema }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      if (req.params.username === req.principal!.id && (req.body.disabled || (req.body.role && req.body.role !== 'admin'))) {
        return reply.code(409).send({ error: 'conflict', message: 'an admin cannot disable or demote their own account (ask another admin)' });
      }
      try {
        return { user: await auth.updateUser(req.params.username, req.body, actorOf(req), req.ip) };
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );

  app.post(
    '/users/:username/reset-mfa',
    { config: { access: 'users.manage' }, schema: { params: Type.Object({ username: Username }), response: { 200: Type.Object({ user: UserViewSchema }), '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        return { user: auth.resetMfa(req.params.username, actorOf(req), req.ip) };
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );

  app.get('/api-keys', { config: { access: 'apikeys.manage' }, schema: { response: { 200: Type.Object({ apiKeys: Type.Array(ApiKeyViewSchema) }), '4xx': ErrorBody } } }, async () => ({
    apiKeys: auth.apiKeys(),
  }));

  app.post(
    '/api-keys',
    {
      config: { access: 'apikeys.manage' },
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            role: RoleSchema,
            areas: Areas,
            expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ key: Type.String(), apiKey: ApiKeyViewSchema }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => reply.code(201).send(auth.createApiKey(req.body, actorOf(req), req.ip)),
  );

  app.post(
    '/api-keys/:id/revoke',
    { config: { access: 'apikeys.manage' }, schema: { params: Type.Object({ id: Type.String({ pattern: '^[a-z0-9]{16}$' }) }), response: { 200: Type.Object({ apiKey: ApiKeyViewSchema }), '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        return { apiKey: auth.revokeApiKey(req.params.id, actorOf(req), req.ip) };
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );
};
