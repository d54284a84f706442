// The read path's lean HTTP/1.1 client (cluster/lean-http.ts) through the node client, against a raw TCP server that
// writes answers byte for byte: framings (length, chunked, until close, 1xx), keep-alive reuse and the server's hints,
// a reused socket found closed (sent once more), deadlines, refusals, aborts (running and queued), the connection
// cap, bytes nobody asked for, and what is sent (one request with the node key and a JSON body).
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { NodeApi } from '../../../src/main/cluster/node-api.js';
import { NodeRequestError, type NodeCall } from '../../../src/main/cluster/node-client.js';
import { CallAbort } from '../../../src/main/cluster/call-signal.js';
import { createMetrics } from '../../../src/main/observability/metrics.js';
import { until } from '../../support/wait.js';

interface SeenRequest {
  conn: number;
  head: string;
  body: string;
}

/** A node that answers each request with `answer(request, socket)`; it counts connections and keeps the requests. */
async function rawNode(answer: (r: SeenRequest, s: Socket) => void) {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let conns = 0;
  const server: Server = createServer((s) => {
    const conn = conns++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const r = { conn, head, body: buf.toString('utf8', end + 4, end + 4 + length) };
        buf = buf.subarray(end + 4 + length);
        seen.push(r);
        answer(r, s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push({ server, sockets });
  return { url, seen, connections: () => conns };
}

const servers: Array<{ server: Server; sockets: Set<Socket> }> = [];
const clients: NodeApi[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  for (const { server, sockets } of servers) {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

function client(url: string, opts: { timeoutMs?: number; maxConnections?: number } = {}) {
  const c = new NodeApi('node-0', url, {
    nodeMasterKey: 'node-key',
    timeoutMs: opts.timeoutMs ?? 2000,
    maxConnections: opts.maxConnections ?? 4,
    idleTimeoutMs: 10_000,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  clients.push(c);
  return c;
}

const read = (extra: Partial<NodeCall> = {}): NodeCall => ({
  method: 'POST',
  path: '/indexes/movies/search',
  body: '{"q":"é"}',
  operation: 'search',
  read: true,
  ...extra,
});

/** Writes `text` one byte per write, each on its own turn of the event loop. */
async function trickle(s: Socket, text: string): Promise<void> {
  for (const byte of Buffer.from(text)) {
    s.write(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
}

function json(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

test('one request with the node key and a JSON body; a Content-Length answer; the socket is reused', async () => {
  const node = await rawNode((_, s) => s.write(json('{"hits":[]}')));
  const c = client(node.url);
  for (let i = 0; i < 5; i++) {
    const res = await c.request(read());
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '{"hits":[]}');
    assert.equal(res.headers['content-type'], 'application/json');
  }
  assert.equal(node.connections(), 1, 'sequential reads share one keep-alive connection');
  const { head, body } = node.seen[0]!;
  assert.match(head, /^POST \/indexes\/movies\/search HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nauthorization: Bearer node-key\r\n/);
  assert.match(head, /\r\ncontent-type: application\/json\r\n/);
  assert.match(head, /\r\ncontent-length: 10(\r\n|$)/, 'the length counts bytes, not characters');
  assert.equal(body, '{"q":"é"}');
  assert.equal((await c.callBody(read())).toString(), '{"hits":[]}');
});

test('chunked answers (extensions, trailers) and interim 1xx answers, written one byte at a time', async () => {
  const node = await rawNode((_, s) => {
    void trickle(
      s,
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
        '5;name=value\r\n{"a":\r\n' +
        'a\r\n[1,2,3,4]}\r\n' +
        '0\r\nx-trailer: 1\r\n\r\n',
    );
  });
  const c = client(node.url);
  for (let i = 0; i < 2; i++) {
    const res = await c.request(read());
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '{"a":[1,2,3,4]}');
  }
  assert.equal(node.connections(), 1);
});

test('Connection: close, an answer read until the close, and a short keep-alive hint each retire the socket', async () => {
  let mode: 'close' | 'until-close' | 'hint' = 'close';
  const node = await rawNode((_, s) => {
    if (mode === 'close') s.write(json('{"x":1}', 'connection: close\r\n'));
    else if (mode === 'hint') s.write(json('{"x":3}', 'keep-alive: timeout=1\r\n'));
    else s.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{"x":2}');
  });
  const c = client(node.url);
  assert.equal((await c.callBody(read())).toString(), '{"x":1}');
  assert.equal((await c.callBody(read())).toString(), '{"x":1}');
  assert.equal(node.connections(), 2);
  mode = 'until-close';
  assert.equal((await c.callBody(read())).toString(), '{"x":2}');
  assert.equal(node.connections(), 3);
  mode = 'hint';
  assert.equal((await c.callBody(read())).toString(), '{"x":3}');
  assert.equal((await c.callBody(read())).toString(), '{"x":3}');
  assert.equal(node.connections(), 5, 'a 1 s keep-alive hint leaves no time to reuse the socket');
});

test('a reused socket closed before answering is sent once more on a new connection; a fresh one fails', async () => {
  const node = await rawNode((r, s) => {
    // Connection 0 answers its first request and drops the second without a byte, as a node closing an idle socket.
    if (r.conn === 0 && node.seen.filter((x) => x.conn === 0).length === 2) return void s.destroy();
    s.write(json('{"ok":true}'));
  });
  const c = client(node.url);
  assert.equal((await c.callBody(read())).toString(), '{"ok":true}');
  assert.equal((await c.callBody(read())).toString(), '{"ok":true}', 'the read went again on a new socket');
  assert.equal(node.connections(), 2);
  // A socket that never answered anything is not retried: the caller's retry policy decides.
  const dropping = await rawNode((_, s) => s.destroy());
  await assert.rejects(
    client(dropping.url).request(read()),
    (err: unknown) => err instanceof NodeRequestError && err.kind === 'network',
  );
  assert.equal(dropping.connections(), 1);
});

test('a node that never answers fails with kind timeout; a closed port with kind refused', async () => {
  const node = await rawNode(() => undefined);
  const c = client(node.url, { timeoutMs: 150 });
  await assert.rejects(c.request(read()), (err: unknown) => err instanceof NodeRequestError && err.kind === 'timeout');
  const closed = await rawNode(() => undefined);
  const port = new URL(closed.url).port;
  const gone = servers.pop()!;
  await new Promise<void>((r) => gone.server.close(() => r()));
  const refused = client(`http://127.0.0.1:${port}`);
  await assert.rejects(
    refused.request(read()),
    (err: unknown) => err instanceof NodeRequestError && err.kind === 'refused',
  );
});

test('an abort fails a running call (its socket closed) and a queued one; the cap holds connections to it', async () => {
  const held: Socket[] = [];
  const node = await rawNode((r, s) => {
    if (r.body.includes('hold')) held.push(s);
    else s.write(json('{"ok":1}'));
  });
  const c = client(node.url, { maxConnections: 2 });
  const a = new CallAbort();
  const running = c.request(read({ body: '{"q":"hold"}', signal: a }));
  await until(() => held.length === 1, 'the held request reached the node');
  const b = new CallAbort();
  const other = c.request(read({ body: '{"q":"hold-2"}', signal: b }));
  await until(() => held.length === 2, 'the second held request reached the node');
  const q = new CallAbort();
  const queued = c.request(read({ signal: q }));
  q.abort();
  await assert.rejects(queued);
  a.abort();
  await assert.rejects(running);
  // The aborted call's socket is gone: a new read gets a connection while `other` still holds its own.
  assert.equal((await c.callBody(read())).toString(), '{"ok":1}');
  b.abort();
  await assert.rejects(other);
  // Ten reads at once through two connections at most.
  const before = node.connections();
  const all = await Promise.all(Array.from({ length: 10 }, () => c.callBody(read())));
  assert.deepEqual(
    all.map((x) => x.toString()),
    Array.from({ length: 10 }, () => '{"ok":1}'),
  );
  assert.ok(node.connections() - before <= 2, `${node.connections() - before} new connections`);
});

test('bytes nobody asked for retire the socket; a head that is not HTTP fails the call', async () => {
  let mode: 'extra' | 'garbage' | 'ok' = 'extra';
  const node = await rawNode((_, s) => {
    if (mode === 'garbage') s.write('SMTP ready\r\n\r\n');
    else s.write(json('{"n":1}') + (mode === 'extra' ? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n' : ''));
  });
  const c = client(node.url);
  assert.equal((await c.callBody(read())).toString(), '{"n":1}');
  mode = 'ok';
  assert.equal((await c.callBody(read())).toString(), '{"n":1}');
  assert.equal(node.connections(), 2, 'the socket that sent extra bytes was not reused');
  mode = 'garbage';
  await assert.rejects(c.request(read()), (err: unknown) => err instanceof NodeRequestError && err.kind === 'network');
});
