/** Who is calling: a person with a session, a machine with an API key, or (open mode) loopback. */
import type { Role } from './roles.js';
import type { Scope } from './scope.js';

export interface Principal {
  kind: 'user' | 'apikey' | 'open';
  /** Username, API key id, or "loopback". */
  id: string;
  /** How the audit log names it: `user:amy`, `apikey:k3f…`, `open:loopback`. */
  actor: string;
  role: Role;
  scope: Scope;
  /** Cookie sessions only: the CSRF token unsafe requests must echo, and the session's hash. */
  session?: { idHash: string; csrfToken: string; mfaPending: boolean };
}

/** Route config: what a caller needs to reach the route. Every route declares it. */
export type Access = 'public' | 'authenticated' | import('./roles.js').Permission;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook before any handler runs; undefined only on public routes without credentials. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}
