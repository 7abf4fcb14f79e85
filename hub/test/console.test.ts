/**
 * The web consoles at `/`: the built app's assets cached for good, every page path answered with
 * index.html, API paths never swallowed, the consoles' content security policy (the tile server
 * and nothing else from outside), and GET /api/v1/console/config scoped to the caller's areas.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import { apiParts, login } from './api-fixture.js';
import { tempDir, testConfig } from './helpers.js';

const PW = 'correct horse battery';
const TILES = { url: 'https://tiles.ioc.example.vn/{z}/{x}/{y}.png', attribution: '© Sở TT&TT' };
let cleanup: () => void;
let app: ApiInstance;
let bare: ApiInstance;

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const cfg = testConfig(t.dir, {
    registry: {
      ...testConfig(t.dir).registry,
      communes: [
        { code: '19816', name: 'Phường Kim Long', provinceCode: '46', lat: 16.46, lon: 107.55 },
        { code: '19801', name: 'Phường Đông Ba', provinceCode: '46' },
      ],
    },
  });
  const { auth, deps } = apiParts(t.dir, { config: cfg });
  await auth.addUser({ username: 'xa', role: 'commune', areas: ['19816'], password: PW }, 'cli:test');
  // A built app as vite leaves it: index.html and hashed assets.
  const dist = join(t.dir, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>IOC</title><div id="app"></div><script type="module" src="/assets/index-abc.js"></script>');
  writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log("ioc")');
  app = buildApi({ ...deps, console: { dir: dist, tiles: TILES } });
  bare = buildApi({ ...deps, console: { dir: join(t.dir, 'not-built'), tiles: null } });
  await Promise.all([app.ready(), bare.ready()]);
});

after(async () => {
  await Promise.all([app?.close(), bare?.close()]);
  cleanup?.();
});

test('a page path is answered with the app (no-cache) under the consoles\' policy: the tile server\'s images and nothing else from outside', async () => {
  for (const url of ['/', '/watch', '/watch/alerts/12', '/commune/devices/wl-kimlong']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, url);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /<div id="app">/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /img-src 'self' data: https:\/\/tiles\.ioc\.example\.vn(;|$)/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
  }
});

test('hashed assets are cached for good; a missing asset or a path outside the app is not found', async () => {
  const js = await app.inject({ method: 'GET', url: '/assets/index-abc.js' });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers['cache-control']), /max-age=31536000.*immutable|immutable.*max-age=31536000/);
  assert.equal((await app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode, 404);
  const escape = await app.inject({ method: 'GET', url: '/assets/..%2f..%2fhub.db' });
  assert.notEqual(escape.statusCode, 200);
});

test('API paths are never answered with the app: an unknown one is a JSON 404', async () => {
  for (const url of ['/api/v1/no-such-route', '/api/v2/alerts', '/api']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 404, url);
    assert.equal(r.json().error, 'not_found');
  }
});

test('console config: who is not logged in gets 401; a commune user gets the tile server and only their communes', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/console/config' })).statusCode, 401);
  const { status, cookie } = await login(app, 'xa', PW);
  assert.equal(status, 200);
  const r = await app.inject({ method: 'GET', url: '/api/v1/console/config', headers: { cookie } });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.deepEqual(body.tiles, TILES);
  assert.deepEqual(body.communes, [{ code: '19816', name: 'Phường Kim Long', provinceCode: '46', lat: 16.46, lon: 107.55 }]);
});

test('consoles not built: pages are not found, the API still answers', async () => {
  assert.equal((await bare.inject({ method: 'GET', url: '/' })).statusCode, 404);
  assert.equal((await bare.inject({ method: 'GET', url: '/api/v1/health' })).statusCode, 200);
});

test('paths under /metrics are not pages', async () => {
  const r = await app.inject({ method: 'GET', url: '/metrics/anything' });
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().error, 'not_found');
});
