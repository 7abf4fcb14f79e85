/**
 * POST /api/v1/auth/login        {username, password, otp?}  → session cookie + CSRF token
 * POST /api/v1/auth/logout
 * GET  /api/v1/auth/me           who am I, my role, areas and CSRF token
 * POST /api/v1/auth/mfa/begin    a TOTP secret and its otpauth:// URI (for the QR code)
 * POST /api/v1/auth/mfa/confirm  {code} → recovery codes, shown once
 *
 * Logins are rate-limited per client address (auth.loginRatePerMinute) and locked per account
 * after repeated failures (auth.lockout*). The cookie is HttpOnly, SameSite=Strict, Secure on
 * HTTPS, and scoped to /api.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, type AuthService } from '../auth/service.js';
import { SESSION_COOKIE } from './auth-hook.js';
import type { ApiPluginOptions } from './types.js';

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
/** The error answers every route may give (the auth hook's 401/403, validation's 400, 404, 500). */
export const Errors = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

export const UserViewSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  areas: Type.Array(Type.String()),
  mfaEnabled: Type.Boolean(),
  mfaRequired: Type.Boolean(),
  recoveryCodesLeft: Type.Integer(),
  disabled: Type.Boolean(),
  lockedUntil: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  lastLoginAt: Type.Union([Type.Integer(), Type.Null()]),
});

const AUTH_STATUS: Record<AuthError['code'], number> = {
  invalid_credentials: 401,
  locked: 423,
  disabled: 403,
  mfa_required: 401,
  invalid_mfa: 401,
  mfa_not_started: 409,
  policy: 400,
  conflict: 409,
  not_found: 404,
};

export function sendAuthError(reply: FastifyReply, err: unknown) {
  if (err instanceof AuthError) return reply.code(AUTH_STATUS[err.code]).send({ error: err.code, message: err.message });
  throw err;
}

function requireAuth(auth: AuthService | null, reply: FastifyReply): auth is AuthService {
  if (auth) return true;
  void reply.code(404).send({ error: 'not_found', message: 'logins are off (auth.open: true)' });
  return false;
}

const secure = (req: FastifyRequest) => req.protocol === 'https';

export const authRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app, { deps }) => {
  const auth = deps.auth;

  app.post(
    '/auth/login',
    {
      config: { access: 'public', rateLimit: { max: deps.loginRatePerMinute ?? 10, timeWindow: 60_000 } },
      schema: {
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 256 }),
            otp: Type.Optional(Type.String({ minLength: 6, maxLength: 20 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ user: UserViewSchema, csrfToken: Type.String(), expiresAt: Type.Integer(), mfaEnrolmentRequired: Type.Boolean() }),
          '4xx': ErrorBody,
        },
      },
    },
    async (req, reply) => {
      if (!requireAuth(auth, reply)) return reply;
      try {
        const r = await auth.login({ ...req.body, ip: req.ip, ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}) });
        void reply.setCookie(SESSION_COOKIE, r.sessionToken, {
          httpOnly: true,
          sameSite: 'strict',
          secure: secure(req),
          path: '/',
          expires: new Date(r.expiresAt),
        });
        return { user: r.user, csrfToken: r.csrfToken, expiresAt: r.expiresAt, mfaEnrolmentRequired: r.mfaEnrolmentRequired };
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );

  app.post('/auth/logout', { config: { access: 'authenticated' }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }), ...Errors } } }, async (req, reply) => {
    if (auth && req.principal) auth.logout(req.principal, req.ip);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get(
    '/auth/me',
    {
      config: { access: 'authenticated' },
      schema: {
        response: {
          200: Type.Object({
            kind: Type.String(),
            id: Type.String(),
            role: Type.String(),
            areas: Type.Array(Type.String()),
            user: Type.Union([UserViewSchema, Type.Null()]),
            csrfToken: Type.Union([Type.String(), Type.Null()]),
            mfaEnrolmentRequired: Type.Boolean(),
          }),
        },
      },
    },
    async (req) => {
      const p = req.principal!;
      return {
        kind: p.kind,
        id: p.id,
        role: p.role,
        areas: [...p.scope.areas],
        user: p.kind === 'user' && auth ? (auth.user(p.id) ?? null) : null,
        csrfToken: p.session?.csrfToken ?? null,
        mfaEnrolmentRequired: p.session?.mfaPending ?? false,
      };
    },
  );

  app.post(
    '/auth/mfa/begin',
    { config: { access: 'authenticated' }, schema: { response: { 200: Type.Object({ secret: Type.String(), uri: Type.String() }), '4xx': ErrorBody } } },
    async (req, reply) => {
      if (!requireAuth(auth, reply)) return reply;
      if (req.principal!.kind !== 'user') return reply.code(400).send({ error: 'bad_request', message: 'only people enrol a second factor' });
      try {
        return auth.mfaBegin(req.principal!.id);
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );

  app.post(
    '/auth/mfa/confirm',
    {
      config: { access: 'authenticated' },
      schema: {
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), '4xx': ErrorBody },
      },
    },
    async (req, reply) => {
      if (!requireAuth(auth, reply)) return reply;
      if (req.principal!.kind !== 'user') return reply.code(400).send({ error: 'bad_request', message: 'only people enrol a second factor' });
      try {
        return { recoveryCodes: await auth.mfaConfirm(req.principal!.id, req.body.code, req.principal!.session?.idHash, req.ip) };
      } catch (err) {
        return sendAuthError(reply, err);
      }
    },
  );
};
