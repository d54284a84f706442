// The proxy's HTTP pipeline: request ids, 404/405, body limits, JSON errors shaped like Meilisearch, auth hook,
// concurrency limit, metrics and graceful close.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { request } from 'undici';
import { MeiliError } from '../../../src/core/errors.js';
import { HttpServer, type RequestContext } from '../../../src/http/server.js';
import { createMetrics } from '../../../src/main/observability/metrics.js';

const metrics = createMetrics({ defaultMetrics: false });
let release: (() => void) | null = null;
const server = new HttpServer<string>({
  routes: [
    {
      method: 'GET',
      path: '/ping',
      body: 'none',
      auth: 'public',
      handler: () => ({ status: 200, body: { pong: true } }),
    },
    {
      method: 'POST',
      path: '/echo/:name',
      body: 'json',
      auth: 'public',
      handler: (ctx: RequestContext<string>) => ({
        status: 201,
        body: { name: ctx.params.name, json: ctx.json, auth: ctx.auth },
      }),
    },
    { method: 'GET', path: '/secret', body: 'none', auth: 'key', handler: () => ({ status: 200, body: {} }) },
    {
      method: 'GET',
      path: '/slow',
      body: 'none',
      auth: 'public',
      handler: () =>
        new Promise((r) => {
          release = () => r({ status: 200, body: {} });
        }),
    },
    {
      method: 'GET',
      path: '/crash',
      body: 'none',
      auth: 'public',
      handler: () => {
        throw new TypeError('kaboom');
      },
    },
  ],
  hooks: {
    authenticate(ctx, spec) {
      if (spec === 'key' && ctx.req.headers.authorization !== 'Bearer k')
        throw new MeiliError('invalid_api_key', 'The provided API key is invalid.');
      return 'ok';
    },
  },
  maxBodyBytes: 64,
  maxConcurrentRequests: 1,
  requestTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  metrics: metrics.requests,
});
const port = await server.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${port}`;
after(() => server.close(100));

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(base + path, { method: method as 'GET', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

test('request id: generated as 8 hex, or kept when the client sent one', async () => {
  const a = await call('GET', '/ping');
  assert.equal(a.status, 200);
  assert.match(String(a.headers['x-request-id']), /^[0-9a-f]{8}$/);
  const b = await call('GET', '/ping', undefined, { 'x-request-id': 'client-id-1' });
  assert.equal(b.headers['x-request-id'], 'client-id-1');
});

test('unknown route → 404, wrong method → 405 with Allow', async () => {
  assert.equal((await call('GET', '/nope')).status, 404);
  const r = await call('DELETE', '/ping');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET');
});

test('JSON bodies: params, parsing and Meilisearch errors', async () => {
  const ok = await call('POST', '/echo/a%20b', '{"x":1}', { 'content-type': 'application/json' });
  assert.deepEqual(ok.json, { name: 'a b', json: { x: 1 }, auth: 'ok' });
  const malformed = await call('POST', '/echo/x', '{"x":', { 'content-type': 'application/json' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.code, 'malformed_payload');
  assert.deepEqual(Object.keys(malformed.json), ['message', 'code', 'type', 'link']);
  const wrongType = await call('POST', '/echo/x', '{}', { 'content-type': 'text/plain' });
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.json.code, 'invalid_content_type');
  const missingType = await call('POST', '/echo/x', '{}');
  assert.equal(missingType.json.code, 'missing_content_type');
  const tooLarge = await call('POST', '/echo/x', JSON.stringify({ x: 'y'.repeat(100) }), {
    'content-type': 'application/json',
  });
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.json.code, 'payload_too_large');
});

test('auth hook refusal and handler crashes are Meilisearch errors, never stack traces', async () => {
  const denied = await call('GET', '/secret', undefined, { authorization: 'Bearer nope' });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.code, 'invalid_api_key');
  const crash = await call('GET', '/crash');
  assert.equal(crash.status, 500);
  assert.equal(crash.json.code, 'internal');
  assert.doesNotMatch(crash.json.message, /\bat .*\.js/);
});

test('the concurrency limit answers 503 with Retry-After; metrics count requests by template', async () => {
  const slow = call('GET', '/slow');
  while (release === null) await new Promise((r) => setImmediate(r));
  const refused = await call('GET', '/ping');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '10');
  release!();
  assert.equal((await slow).status, 200);
  const text = await metrics.registry.metrics();
  assert.match(text, /miroir_requests_total\{method="POST",path_template="\/echo\/:name",status="201"\} 1/);
  assert.match(text, /miroir_requests_in_flight 0/);
});
