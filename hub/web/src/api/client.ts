/**
 * Calls to the hub's API from the consoles: same origin, the session cookie, the CSRF token on
 * every unsafe request, JSON in and out. A 401 tells the app the session is gone (login again).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const unauthenticated = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onUnauthenticated(f: () => void): () => void {
  unauthenticated.add(f);
  return () => void unauthenticated.delete(f);
}

export const API = '/api/v1';

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(API + path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const body = (data && typeof data === 'object' ? data : {}) as { error?: string; message?: string };
    if (res.status === 401 && !path.startsWith('/auth/login')) for (const f of unauthenticated) f();
    throw new ApiError(res.status, body.error ?? String(res.status), body.message ?? res.statusText);
  }
  return data as T;
}

/** Text answers (CAP XML). */
export async function apiText(path: string): Promise<string> {
  const res = await fetch(API + path, { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, String(res.status), res.statusText);
  return res.text();
}
