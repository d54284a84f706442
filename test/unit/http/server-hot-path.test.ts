// The server kernel's per-request work: one socket write per response, one log line per request (with the fields
// handlers add, nothing built when info is off), request metrics from cached cells in prom-client's exposition
// format (histogram + counter by method, template and status; HEAD and unmatched apart; reset; in-flight at scrape).
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import { request } from 'undici';
import { createLogger, isoNow } from '../../../src/main/observability/logger.js';
import { createMetrics } from '../../../src/main/observability/metrics.js';
import { HttpServer, type RequestContext, type RouteSpec } from '../../../src/http/server.js';

const routes: Array<RouteSpec<string>> = [
  {
    method: 'GET',
    path: '/ping',
    body: 'none',
    auth: 'public',
    handler: () => ({ status: 200, body: { pong: true } }),
  },
  {
    method: 'POST',
    path: '/indexes/:uid/search',
    body: 'json',
    auth: 'public',
    handler: (ctx: RequestContext<string>) => {
      seenLogging.push(ctx.logging);
      if (ctx.logging) ctx.logFields = { index: ctx.params.uid, node_count: 3, estimated_hits: 7, degraded: false };
      return { status: 200, body: { hits: [] } };
    },
  },
  {
    method: 'GET',
    path: '/typed',
    body: 'none',
    auth: 'public',
    handler: (ctx: RequestContext<string>) => {
      ctx.replyHeaders['x-a'] = 'from-ctx';
      return { status: 200, raw: 'hi', headers: { 'x-a': 'from-reply', 'content-type': 'text/plain' } };
    },
  },
];
const seenLogging: boolean[] = [];

function start(level: 'info' | 'warn', metrics = createMetrics({ defaultMetrics: false })) {
  const lines: string[] = [];
  const server = new HttpServer<string>({
    routes,
    hooks: { authenticate: () => 'ok' },
    maxBodyBytes: 1024,
    maxConcurrentRequests: 10,
    requestTimeoutMs: 5000,
    keepAliveTimeoutMs: 5000,
    metrics: metrics.requests,
    logger: createLogger(level, { write: (s: string) => void lines.push(s) }),
  });
  return { server, lines, metrics };
}

const info = start('info');
const warn = start('warn');
const infoBase = `http://127.0.0.1:${await info.server.listen(0, '127.0.0.1')}`;
const warnBase = `http://127.0.0.1:${await warn.server.listen(0, '127.0.0.1')}`;
after(() => Promise.all([info.server.close(100), warn.server.close(100)]));

// Socket writes per connection (a write of several corked chunks is one _writev call).
const writes = new Map<Socket, number>();
info.server.server.on('connection', (socket: Socket) => {
  writes.set(socket, 0);
  const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const [w, wv] = [s._write.bind(socket), s._writev.bind(socket)];
  s._write = (...a) => (writes.set(socket, writes.get(socket)! + 1), w(...a));
  s._writev = (...a) => (writes.set(socket, writes.get(socket)! + 1), wv(...a));
});

async function call(base: string, method: string, path: string, body?: string) {
  const res = await request(base + path, {
    method: method as 'GET',
    body,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('one socket write per response: status line, headers and body together', async () => {
  const before = [...writes.values()].reduce((a, b) => a + b, 0);
  for (let i = 0; i < 5; i++) assert.equal((await call(infoBase, 'GET', '/ping')).status, 200);
  assert.equal((await call(infoBase, 'POST', '/indexes/movies/search', '{"q":"x"}')).status, 200);
  assert.equal((await call(infoBase, 'GET', '/nope')).status, 404);
  assert.equal([...writes.values()].reduce((a, b) => a + b, 0) - before, 7);
});

test("reply headers win over the request-wide ones, each header once; framing headers are the server's", async () => {
  const r = await call(infoBase, 'GET', '/typed');
  assert.equal(r.text, 'hi');
  assert.equal(r.headers['x-a'], 'from-reply');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['content-length'], '2');
  assert.match(String(r.headers['x-request-id']), /^[0-9a-f]{8}$/);
});

test('one log line per request, with the fields its handler added; none, and no fields built, below info', async () => {
  info.lines.length = 0;
  seenLogging.length = 0;
  await call(infoBase, 'POST', '/indexes/movies/search', '{"q":"x"}');
  await call(infoBase, 'GET', '/ping');
  const lines = info.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  const [search, ping] = lines as [Record<string, unknown>, Record<string, unknown>];
  assert.deepEqual(Object.keys(search).slice(0, 2), ['level', 'timestamp']);
  assert.match(String(search.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(search.message, 'request');
  assert.equal(search.level, 'info');
  assert.equal(search.method, 'POST');
  assert.equal(search.path_template, '/indexes/:uid/search');
  assert.equal(search.status, 200);
  assert.equal(typeof search.duration_ms, 'number');
  assert.match(String(search.request_id), /^[0-9a-f]{8}$/);
  assert.deepEqual([search.index, search.node_count, search.estimated_hits, search.degraded], ['movies', 3, 7, false]);
  assert.equal(ping.path_template, '/ping');
  assert.equal(ping.index, undefined);
  assert.deepEqual(seenLogging, [true]);

  await call(warnBase, 'POST', '/indexes/movies/search', '{"q":"x"}');
  assert.deepEqual(seenLogging, [true, false]);
  assert.deepEqual(warn.lines, []);
});

test('request metrics: histogram and counter per method, template and status; HEAD and unmatched apart', async () => {
  const m = start('warn');
  const base = `http://127.0.0.1:${await m.server.listen(0, '127.0.0.1')}`;
  try {
    await call(base, 'GET', '/ping');
    await call(base, 'GET', '/ping');
    await call(base, 'HEAD', '/ping');
    await call(base, 'GET', '/nope');
    await call(base, 'DELETE', '/ping');
    const text = await m.metrics.registry.metrics();
    assert.match(text, /# TYPE miroir_request_duration_seconds histogram/);
    assert.match(text, /# TYPE miroir_requests_total counter/);
    const labels = 'method="GET",path_template="/ping",status="200"';
    assert.ok(text.includes(`miroir_request_duration_seconds_count{${labels}} 2`), text);
    assert.ok(text.includes(`miroir_request_duration_seconds_bucket{le="+Inf",${labels}} 2`));
    assert.match(text, new RegExp(`miroir_request_duration_seconds_sum\\{${labels}\\} [0-9.e-]+`));
    const buckets = [
      ...text.matchAll(new RegExp(`miroir_request_duration_seconds_bucket\\{le="([^"]+)",${labels}\\} (\\d+)`, 'g')),
    ].map((x) => Number(x[2]));
    assert.equal(buckets.length, 15);
    assert.ok(
      buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!),
      'cumulative buckets',
    );
    assert.ok(text.includes(`miroir_requests_total{${labels}} 2`));
    assert.ok(text.includes('miroir_requests_total{method="HEAD",path_template="/ping",status="200"} 1'));
    assert.ok(text.includes('miroir_requests_total{method="GET",path_template="unmatched",status="404"} 1'));
    assert.ok(text.includes('miroir_requests_total{method="DELETE",path_template="unmatched",status="405"} 1'));
    assert.ok(text.includes('miroir_requests_in_flight 0'));
    m.metrics.registry.resetMetrics();
    await call(base, 'GET', '/ping');
    const again = await m.metrics.registry.metrics();
    assert.ok(again.includes(`miroir_requests_total{${labels}} 1`));
    assert.ok(!again.includes('method="HEAD"'), 'series reset to zero are not exported');
  } finally {
    await m.server.close(100);
  }
});

test('isoNow formats like Date#toISOString', () => {
  for (const t of [0, 7, 42, 999, 1000, 1_767_225_599_999, 1_767_225_600_000, 1_767_225_600_005, Date.now()]) {
    assert.equal(isoNow(t), new Date(t).toISOString());
  }
});
