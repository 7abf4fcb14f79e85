/**
 * GET /api/v1/openapi.json — the API described as OpenAPI 3.1, generated from the routes' own
 * request and response schemas (@fastify/swagger), so it cannot drift from what they accept and
 * answer. Public: it holds no data, only the shape of an API whose source is open; tools and
 * console developers read it before they have a key.
 *
 * Each operation says who may call it (`x-access`, the route's config.access) and which
 * credentials work: the session cookie or an API key as a bearer token; public ones need none.
 * The WebSocket stream is not an OpenAPI operation: its messages are in components.schemas
 * (StreamMessage and its variants) and the README.
 */
import swagger from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Access } from '../auth/principal.js';
import { StreamAlert, StreamEvent, StreamHello, StreamMessage, StreamReadings, StreamReset, StreamStatus } from '../stream/messages.js';
import { SESSION_COOKIE } from './auth-hook.js';
import type { ApiInstance, ApiPluginOptions } from './types.js';

const SECURITY: Array<Record<string, string[]>> = [{ session: [] }, { apiKey: [] }];

/** Registers the generator; must come before the routes it describes. */
export function registerOpenApi(app: ApiInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'IOC hub API',
        version,
        description:
          "The hub's HTTP API: registry, readings, alerts, gateways, people and audit. Every query is scoped to the caller's areas " +
          '(ids outside them answer 404). Live data comes over the WebSocket stream /api/v1/stream (see components.schemas.StreamMessage).',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/v1/auth/login; unsafe methods also need the x-csrf-token header' },
          apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'ioc_<id>.<secret>', description: 'An API key made by an admin (POST /api/v1/api-keys)' },
        },
        schemas: { StreamMessage, StreamHello, StreamReset, StreamReadings, StreamAlert, StreamStatus, StreamEvent } as Record<string, object>,
      },
      security: SECURITY,
    },
    transform: ({ schema, url, route }) => {
      const access = (route.config as { access?: Access } | undefined)?.access;
      const tag = url.replace(/^\/api\/v1/, '').split('/').find(Boolean) ?? 'api';
      return {
        url,
        schema: {
          ...schema,
          tags: [tag],
          ...(access === 'public' ? { security: [] } : {}),
          ...(access ? { 'x-access': access } : {}),
        } as typeof schema,
      };
    },
  });
}

export const openapiRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions> = async (app) => {
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
};
