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
      method: 'POST',
      path: '/stream',
      body: 'stream',
      auth: 'public',
      handler: async (ctx: RequestContext<string>) => {
        let bytes = 0;
        for await (const chunk of ctx.req) bytes += Buffer.byteLength(chunk);
        return { status: 200, body: { bytes, rawBody: ctx.rawBody } };
      },
    },
    {
      method: 'GET',
      path: '/probe',
      body: 'none',
      auth: 'public',
      probe: true,
      handler: () => ({ status: 200, body: { status: 'available' } }),
    },
    {
      method: 'GET',
      path: '/unserializable',
      body: 'none',
      auth: 'public',
      handler: () => ({ status: 200, body: { n: 10n } }),
    },
    {
      method: 'GET',
      path: '/bad-header',
      body: 'none',
      auth: 'public',
      handler: () => ({ status: 200, body: {}, headers: { 'x-bad': 'line\nbreak' } }),
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
  headersTimeoutMs: 400,
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

test('a `stream` route hands the unread body to its handler, past maxBodyBytes (the handler bounds it)', async () => {
  const res = await request(`${base}/stream`, { method: 'POST', body: Buffer.alloc(100_000, 1) });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { bytes: 100_000, rawBody: null });
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
  // Liveness and readiness probes are answered even then.
  const probe = await call('GET', '/probe');
  assert.equal(probe.status, 200);
  release!();
  assert.equal((await slow).status, 200);
  const text = await metrics.registry.metrics();
  assert.match(text, /miroir_requests_total\{method="POST",path_template="\/echo\/:name",status="201"\} 1/);
  assert.match(text, /miroir_requests_in_flight 0/);
});

test('a reply that does not serialize, or a header Node refuses, is an internal error and the server lives on', async () => {
  const big = await call('GET', '/unserializable');
  assert.equal(big.status, 500);
  assert.equal(big.json.code, 'internal');
  const header = await call('GET', '/bad-header');
  assert.equal(header.status, 500);
  assert.equal(header.json.code, 'internal');
  assert.equal((await call('GET', '/ping')).status, 200);
});

test('JSON nested past 128 levels is a 400 malformed_payload naming where, never a stack overflow', async () => {
  const deep = '{"x":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
  // The body limit of this server is 64 bytes; nesting is checked on any body that fits, so use a smaller one.
  const server2 = new HttpServer<string>({
    routes: [
      {
        method: 'POST',
        path: '/echo',
        body: 'json',
        auth: 'public',
        handler: (ctx) => ({ status: 200, body: ctx.json }),
      },
    ],
    hooks: { authenticate: () => 'ok' },
    maxBodyBytes: 1 << 20,
    maxConcurrentRequests: 10,
    requestTimeoutMs: 5000,
    keepAliveTimeoutMs: 5000,
  });
  const p2 = await server2.listen(0, '127.0.0.1');
  try {
    const post = async (body: string) => {
      const res = await request(`http://127.0.0.1:${p2}/echo`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      return { status: res.statusCode, json: (await res.body.json()) as any };
    };
    const refused = await post(deep);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.code, 'malformed_payload');
    assert.equal(
      refused.json.message,
      'The json payload provided is malformed. `recursion limit exceeded at line 1 column 133`.',
    );
    // Brackets inside strings do not count; 128 levels are fine.
    const fine = { s: '[[[[{{{{'.repeat(100), a: JSON.parse('['.repeat(127) + ']'.repeat(127)) };
    assert.equal((await post(JSON.stringify(fine))).status, 200);
  } finally {
    await server2.close(100);
  }
});

test('connections that send nothing, or stop halfway through the headers, are closed after the headers timeout', async () => {
  const { connect } = await import('node:net');
  const open = (data: string | null) =>
    new Promise<string>((resolve, reject) => {
      let got = '';
      const s = connect(port, '127.0.0.1', () => {
        if (data !== null) s.write(data);
      });
      s.on('data', (d) => (got += String(d)));
      s.on('error', reject);
      s.on('close', () => resolve(got));
    });
  const [silent, half] = await Promise.all([open(null), open('GET /ping HTTP/1.1\r\nHost: x\r\n')]);
  assert.match(silent, /^(HTTP\/1\.1 408|$)/);
  assert.match(half, /^HTTP\/1\.1 408/);
});
