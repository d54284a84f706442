// The node client (deadlines, error classes, auth header, metrics) and the health checker's thresholds, against a
// tiny local HTTP server that can be told to answer, fail or hang.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { HealthChecker } from '../../../src/main/cluster/health.js';
import { NodeRequestError } from '../../../src/main/cluster/node-client.js';
import { NodeApi as NodeClient } from '../../../src/main/cluster/node-api.js';
import { createMetrics } from '../../../src/main/observability/metrics.js';

type Mode = 'ok' | 'fail' | 'hang';

async function fakeNode(): Promise<{
  url: string;
  port: number;
  server: Server;
  mode: { value: Mode };
  seenAuth: string[];
}> {
  const mode = { value: 'ok' as Mode };
  const seenAuth: string[] = [];
  const server = createServer((req, res) => {
    seenAuth.push(String(req.headers.authorization));
    if (mode.value === 'hang') return; // never answers
    if (mode.value === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"boom"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"available"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, mode, seenAuth };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const servers: Server[] = [];
const clients: NodeClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

function client(id: string, url: string, timeoutMs = 2000, metrics = createMetrics({ defaultMetrics: false })) {
  const c = new NodeClient(id, url, {
    nodeMasterKey: 'node-key',
    timeoutMs,
    maxConnections: 4,
    idleTimeoutMs: 1000,
    metrics,
  });
  clients.push(c);
  return c;
}

test('node client sends the node master key, returns any status, and records metrics', async () => {
  const node = await fakeNode();
  servers.push(node.server);
  const metrics = createMetrics({ defaultMetrics: false });
  const c = client('node-0', node.url, 2000, metrics);
  const ok = await c.request({ method: 'GET', path: '/health', operation: 'health' });
  assert.equal(ok.status, 200);
  assert.deepEqual(NodeClient.json(ok), { status: 'available' });
  assert.equal(node.seenAuth.at(-1), 'Bearer node-key');
  node.mode.value = 'fail';
  const bad = await c.request({ method: 'GET', path: '/health', operation: 'health' });
  assert.equal(bad.status, 500);
  const text = await metrics.registry.metrics();
  assert.match(text, /miroir_node_request_duration_seconds_count\{node_id="node-0",operation="health"\} 2/);
  assert.match(text, /miroir_node_errors_total\{node_id="node-0",error_type="5xx"\} 1/);
});

test('node client classifies a hang past the deadline as timeout and a closed port as refused', async () => {
  const node = await fakeNode();
  servers.push(node.server);
  node.mode.value = 'hang';
  const c = client('node-1', node.url, 150);
  await assert.rejects(
    c.request({ method: 'GET', path: '/health', operation: 'health' }),
    (e: unknown) => e instanceof NodeRequestError && e.kind === 'timeout',
  );
  const dead = client('node-2', `http://127.0.0.1:${await freePort()}`, 1000);
  await assert.rejects(
    dead.request({ method: 'GET', path: '/health', operation: 'health' }),
    (e: unknown) => e instanceof NodeRequestError && e.kind === 'refused',
  );
});

test('health checker: initial probe decides at once; thresholds decide afterwards', async () => {
  const node = await fakeNode();
  servers.push(node.server);
  const c = client('node-3', node.url, 200);
  const changes: string[] = [];
  const checker = new HealthChecker({
    intervalMs: 60_000,
    timeoutMs: 200,
    unhealthyThreshold: 3,
    recoveryThreshold: 2,
    clients: () => [c],
    onChange: (id, h) => changes.push(`${id}:${h}`),
  });
  await checker.probeAll();
  assert.equal(checker.get('node-3').health, 'healthy');
  assert.notEqual(checker.get('node-3').lastSeenAt, null);
  node.mode.value = 'fail';
  // Drive rounds by hand through probeAll's sibling: rounds are what start() schedules.
  const round = () => (checker as unknown as { runRound(): Promise<void> }).runRound();
  await round();
  await round();
  assert.equal(checker.get('node-3').health, 'healthy', 'two failures stay below unhealthy_threshold 3');
  await round();
  assert.equal(checker.get('node-3').health, 'unhealthy');
  assert.match(checker.get('node-3').error ?? '', /500/);
  node.mode.value = 'ok';
  await round();
  assert.equal(checker.get('node-3').health, 'unhealthy', 'one success stays below recovery_threshold 2');
  await round();
  assert.equal(checker.get('node-3').health, 'healthy');
  assert.deepEqual(
    changes,
    ['node-3:healthy', 'node-3:unhealthy', 'node-3:healthy'],
    'the first probe reports the first state',
  );
});
