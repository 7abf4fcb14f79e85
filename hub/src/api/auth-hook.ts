/**
 * Authentication, authorization and CSRF for every route, in one place (a fastify onRequest hook).
 *
 * - Each route declares `config.access`: 'public', 'authenticated', or a permission
 *   (../auth/roles.ts). A route that declares nothing is refused at start-up, so no route can be
 *   added without deciding who may call it.
 * - Credentials: the session cookie (people, browsers) or `Authorization: Bearer ioc_…` (machines).
 * - A cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) must carry the session's CSRF
 *   token in `x-csrf-token` (the cookie is also SameSite=Strict). API keys are not ambient
 *   credentials, so they need none.
 * - A session of an admin who has not enrolled TOTP yet reaches only the routes that enrol it.
 * - Open mode (auth.open, loopback only): every caller is the full-scope "open:loopback" operator.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AuthService } from '../auth/service.js';
import type { Access, Principal } from '../auth/principal.js';
import { can } from '../auth/roles.js';
import type { Scope } from '../auth/scope.js';
import type { ApiInstance } from './types.js';

export const SESSION_COOKIE = 'ioc_session';
export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes an admin whose TOTP is not enrolled yet may reach. */
const MFA_ENROLMENT_ROUTES = new Set(['/api/v1/auth/me', '/api/v1/auth/logout', '/api/v1/auth/mfa/begin', '/api/v1/auth/mfa/confirm']);

export interface AuthHookOptions {
  auth: AuthService | null;
  /** Open mode's principal (null when people must log in). */
  openPrincipal: Principal | null;
}

function deny(reply: FastifyReply, status: 401 | 403, error: string, message: string) {
  return reply.code(status).send({ error, message });
}

export function installAuthHook(app: ApiInstance, opts: AuthHookOptions): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const access = (route.config as { access?: Access } | undefined)?.access;
    if (access === undefined && !route.url.startsWith('/documentation')) {
      throw new Error(`route ${route.method} ${route.url} declares no config.access: say who may call it`);
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access: Access | undefined = req.routeOptions.config.access;
    // 404s of unknown routes and the like: no principal needed.
    if (access === undefined) return;
    const principal = opts.openPrincipal ?? authenticateRequest(req, opts.auth!);
    if (principal) req.principal = principal;
    if (access === 'public') return;
    if (!principal) return deny(reply, 401, 'unauthenticated', 'log in first (POST /api/v1/auth/login) or send an API key (Authorization: Bearer ioc_…)');
    if (principal.session) {
      if (UNSAFE.has(req.method) && !opts.auth!.checkCsrf(principal, req.headers[CSRF_HEADER] as string | undefined)) {
        return deny(reply, 403, 'csrf', `missing or wrong ${CSRF_HEADER} header (the token comes with the login and GET /api/v1/auth/me)`);
      }
      if (principal.session.mfaPending && !MFA_ENROLMENT_ROUTES.has(req.routeOptions.url ?? '')) {
        return deny(reply, 403, 'mfa_enrolment_required', 'this account must enrol a second factor first (POST /api/v1/auth/mfa/begin, then /mfa/confirm)');
      }
    }
    if (access !== 'authenticated' && !can(principal.role, access)) {
      return deny(reply, 403, 'forbidden', `the ${principal.role} role may not do this (${access})`);
    }
  });
}

/** The principal of the request's credentials now (the stream re-checks a long-lived connection's). */
export function authenticateRequest(req: FastifyRequest, auth: AuthService): Principal | null {
  const h = req.headers.authorization;
  if (h !== undefined) return h.startsWith('Bearer ') ? auth.apiKeyPrincipal(h.slice(7).trim()) : null;
  const cookie = req.cookies?.[SESSION_COOKIE];
  return cookie ? auth.sessionPrincipal(cookie) : null;
}

/** The caller's scope; routes behind the hook always have a principal. */
export function scopeOf(req: FastifyRequest): Scope {
  if (!req.principal) throw new Error('scopeOf: route without a principal (is its access public?)');
  return req.principal.scope;
}

export function actorOf(req: FastifyRequest): string {
  return req.principal?.actor ?? 'anonymous';
}
