/**
 * /api/v1/openapi.json: generated from the routes, structurally valid OpenAPI 3.1, and complete —
 * every operation names its 2xx answer's schema (a route added without one fails here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildApi } from '../src/api/server.js';
import type { ApiInstance } from '../src/api/types.js';
import type { HubDatabase } from '../src/db/database.js';
import { openEnrolment } from '../src/enrol/index.js';
import { LiveFeed } from '../src/live.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { ensurePki } from '@ioc/shared';
import { apiParts } from './api-fixture.js';
import { silentLogger, tempDir } from './helpers.js';

let db: HubDatabase;
let store: SqliteStore;
let app: ApiInstance;
let cleanup: () => void;
let doc: any;
let close: () => void = () => undefined;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const parts = apiParts(t.dir);
  const { cfg, registry, audit } = parts;
  ({ db, store } = parts);
  // Every route plugin present: logins (auth), enrolment, the stream.
  const pki = ensurePki(join(t.dir, 'pki'), { serverNames: ['localhost'], clients: [] });
  const enrolment = openEnrolment({ db, audit, registry, config: cfg.enrolment, logger: silentLogger(), caCertFile: pki.caCert, caKeyFile: pki.caKey });
  close = () => enrolment.close();
  app = buildApi({ ...parts.deps, version: '1.2.3', enrolment: enrolment.service, live: new LiveFeed() });
  await app.ready();
  // Public: no credentials needed.
  const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /application\/json/);
  doc = res.json();
});

after(async () => {
  await app?.close();
  close();
  store?.close();
  db?.close();
  cleanup();
});

function operations(): Array<{ path: string; method: string; op: any }> {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })),
  );
}

/** Every `$ref` in the document, with where it was found. */
function refs(node: unknown, at = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([at, v]);
      else refs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolve(pointer: string): unknown {
  assert.ok(pointer.startsWith('#/'), `only local references: ${pointer}`);
  return pointer
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => node?.[key], doc);
}

test('the document is OpenAPI 3.1 in structure: info, paths, components, security schemes; references resolve', () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info?.title, 'string');
  assert.equal(doc.info.version, '1.2.3');
  assert.equal(typeof doc.paths, 'object');
  assert.deepEqual(doc.components.securitySchemes.session, { type: 'apiKey', in: 'cookie', name: 'ioc_session', description: doc.components.securitySchemes.session.description });
  assert.equal(doc.components.securitySchemes.apiKey.type, 'http');
  assert.equal(doc.components.securitySchemes.apiKey.scheme, 'bearer');
  assert.deepEqual(doc.security, [{ session: [] }, { apiKey: [] }]);
  for (const name of ['StreamMessage', 'StreamReadings', 'StreamAlert', 'StreamStatus', 'StreamEvent', 'StreamHello', 'StreamReset']) {
    assert.equal(typeof doc.components.schemas[name], 'object', name);
  }
  for (const [at, ref] of refs(doc)) assert.ok(resolve(ref) !== undefined, `${at}: $ref ${ref} resolves`);

  const ids = new Set<string>();
  for (const { path, method, op } of operations()) {
    const where = `${method.toUpperCase()} ${path}`;
    assert.ok(path.startsWith('/'), where);
    assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where}: responses`);
    for (const [code, r] of Object.entries(op.responses as Record<string, any>)) {
      assert.match(code, /^([1-5]\d\d|[1-5]XX|default)$/, `${where}: response code ${code}`);
      assert.equal(typeof r.description, 'string', `${where} ${code}: description`);
    }
    if (op.operationId) {
      assert.ok(!ids.has(op.operationId), `${where}: operationId unique`);
      ids.add(op.operationId);
    }
    // Path templates: each {name} is declared once as a required path parameter, and nothing else is.
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path');
    assert.deepEqual(declared.map((p: any) => p.name).sort(), templated, `${where}: path parameters`);
    for (const p of declared) assert.equal(p.required, true, `${where}: path parameter ${p.name} is required`);
    for (const p of op.parameters ?? []) {
      assert.ok(['query', 'header', 'path', 'cookie'].includes(p.in), `${where}: parameter ${p.name} in ${p.in}`);
      assert.equal(typeof p.schema, 'object', `${where}: parameter ${p.name} has a schema`);
    }
    if (op.requestBody) assert.equal(typeof op.requestBody.content?.['application/json']?.schema, 'object', `${where}: request body schema`);
  }
});

test('every operation has a 2xx response with a schema, says who may call it, and only public ones need no credentials', () => {
  const ops = operations();
  assert.ok(ops.length >= 30, `all routes are described (${ops.length})`);
  const missing: string[] = [];
  for (const { path, method, op } of ops) {
    const where = `${method.toUpperCase()} ${path}`;
    const ok = Object.entries(op.responses as Record<string, any>).filter(([code]) => /^2/.test(code));
    const schema = ok.map(([, r]) => Object.values(r.content ?? {})[0] as any).find((c) => c?.schema && Object.keys(c.schema).length > 0);
    if (!schema) missing.push(where);
    assert.equal(typeof op['x-access'], 'string', `${where}: x-access`);
    assert.ok(op.tags?.length === 1 && op.tags[0], `${where}: tagged`);
    if (op['x-access'] === 'public') assert.deepEqual(op.security, [], `${where}: public`);
    else assert.equal(op.security, undefined, `${where}: the document's security applies`);
  }
  assert.deepEqual(missing, [], 'operations without a 2xx response schema');
  // The routes every console uses, and the unsafe ones with a request body.
  for (const path of ['/api/v1/health', '/api/v1/devices', '/api/v1/devices/{id}', '/api/v1/readings', '/api/v1/alerts', '/api/v1/alerts/{id}', '/api/v1/gateways', '/api/v1/gateways/{id}', '/api/v1/audit', '/api/v1/auth/me', '/api/v1/enrol', '/metrics']) {
    assert.ok(doc.paths[path], `${path} is described`);
  }
  assert.ok(doc.paths['/api/v1/alerts/{id}/ack'].post.requestBody, 'ack has a request body');
  assert.ok(doc.paths['/api/v1/readings'].get.parameters.some((p: any) => p.name === 'dev' && p.required), 'readings needs dev');
  assert.equal(doc.paths['/api/v1/health'].get['x-access'], 'public');
});
