/**
 * The web consoles (hub/web, built to hub/web/dist) at `/`: the hashed assets cached for good,
 * every other path answered with the app's index.html (its router shows the page), and
 * GET /api/v1/console/config — what the app needs besides the API: the tile server (if any) and
 * the commune centres of the caller's areas.
 *
 * The pages need no credentials to load (the login page is one of them); all data comes through
 * the API, behind the auth hook. Their content security policy allows the configured tile server's
 * images and nothing else from outside the hub.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { scopeOf } from './auth-hook.js';
import { Errors } from './auth.js';
import type { ApiPluginOptions, ConsoleSettings } from './types.js';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));


const CommuneView = Type.Object({
  code: Type.String(),
  name: Type.String(),
  provinceCode: Type.Optional(Type.String()),
  lat: Type.Optional(Type.Number()),
  lon: Type.Optional(Type.Number()),
});

function consolePolicy(tiles: ConsoleSettings['tiles']): string {
  const tileOrigin = tiles ? ' ' + new URL(tiles.url.replace(/\{[a-z]\}/g, 'x')).origin : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Leaflet and uPlot position their elements with inline style attributes.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data:${tileOrigin}`,
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** The console's index and assets at `/`; the config route under the API prefix. */
export const consoleRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions & { settings: ConsoleSettings }> = async (app, { deps, settings }) => {
  const dir = settings.dir;
  const built = dir !== null && existsSync(join(dir, 'index.html'));
  if (dir !== null && !built) deps.logger.warn({ dir }, 'web consoles not built: run `npm run build:web` (the API works without them)');
  const csp = consolePolicy(settings.tiles);

  if (built) {
    await app.register(fastifyStatic, { root: dir, serve: false });
    app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
      const path = (req.params as { '*': string })['*'];
      if (/^(api|metrics)(\/|$)/.test(path)) {
        return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} /${path.split('?')[0]}` });
      }
      void reply.header('content-security-policy', csp);
      if (path.startsWith('assets/')) return reply.sendFile(path, { immutable: true, maxAge: 365 * 86_400_000 });
      // Any other path is a page of the app: its router decides (and the API scopes the data).
      void reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html', { cacheControl: false });
    });
  }
};

export const consoleConfigRoutes: FastifyPluginAsyncTypebox<ApiPluginOptions & { settings: ConsoleSettings }> = async (app, { deps, settings }) => {
  app.get(
    '/console/config',
    {
      config: { access: 'authenticated' },
      schema: {
        response: {
          200: Type.Object({
            version: Type.String(),
            tiles: Type.Union([Type.Object({ url: Type.String(), attribution: Type.String() }), Type.Null()]),
            communes: Type.Array(CommuneView, { description: "Communes of the caller's areas, with their centres where the registry has them" }),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const communes = [...deps.registry.communes.values()].filter((c) => scope.hasArea(c.code));
      return { version: deps.version, tiles: settings.tiles, communes };
    },
  );
};
