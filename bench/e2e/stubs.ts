// Stub Meilisearch nodes for the end-to-end benches: each answers a canned search page instantly (so node work costs
// ~nothing) plus what Miroir asks at start-up and in the background (/health, /version, the index list, one index).
// `forkStubs` runs them in a child process of their own, so neither their CPU nor their memory is charged to the bench.
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const STUB_INDEX = 'bench';

/** Answers of one stub node, serialized once. `hits` hits, scores interleaving across nodes by `nodeNo`. */
function cannedAnswers(nodeNo: number, hits: number): Map<string, Buffer> {
  const page = {
    hits: Array.from({ length: hits }, (_, i) => ({
      id: `${nodeNo}-${i}`,
      title: `Stub hit ${i} from node ${nodeNo}`,
      overview: 'A short canned overview so that each hit weighs about what a small real document does.',
      genres: ['bench', 'stub'],
      year: 2000 + i,
      _rankingScore: 1 - (i * 3 + nodeNo) / 100,
    })),
    query: 'quick',
    processingTimeMs: 0,
    limit: hits,
    offset: 0,
    estimatedTotalHits: 1000,
    requestUid: '00000000-0000-4000-8000-000000000000',
  };
  const index = {
    uid: STUB_INDEX,
    primaryKey: 'id',
    createdAt: '2025-01-01T00:00:00Z',
    updatedAt: '2025-01-01T00:00:00Z',
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  return new Map([
    ['search', json(page)],
    ['GET /health', json({ status: 'available' })],
    ['GET /version', json({ commitSha: 'stub', commitDate: '2025-01-01T00:00:00Z', pkgVersion: '1.50.0' })],
    ['GET /indexes', json({ results: [index], offset: 0, limit: 20, total: 1 })],
    [`GET /indexes/${STUB_INDEX}`, json(index)],
  ]);
}

const NOT_FOUND = Buffer.from('{"message":"not found","code":"not_found","type":"invalid_request","link":""}');

/** One stub node on an ephemeral loopback port. */
export function startStubNode(nodeNo: number, hits = 20): Promise<Server> {
  const answers = cannedAnswers(nodeNo, hits);
  const search = answers.get('search')!;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const body = path.endsWith('/search') ? search : answers.get(`${req.method} ${path}`);
      res.writeHead(body === undefined ? 404 : 200, {
        'content-type': 'application/json',
        'content-length': (body ?? NOT_FOUND).length,
      });
      res.end(body ?? NOT_FOUND);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export interface StubProcess {
  addresses: string[];
  pid: number;
  stop(): Promise<void>;
}

/** Forks a process serving `count` stub nodes; `stop` disconnects it and waits for its exit. */
export async function forkStubs(count: number, hits = 20): Promise<StubProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['stubs', String(count), String(hits)], { stdio: 'inherit' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const addresses = await new Promise<string[]>((resolve, reject) => {
    child.once('message', (m) => resolve(m as string[]));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stub process exited with ${code}`)));
  });
  return {
    addresses,
    pid: child.pid!,
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'stubs') {
  const [count, hits] = [Number(process.argv[3]), Number(process.argv[4])];
  const servers = await Promise.all(Array.from({ length: count }, (_, i) => startStubNode(i, hits)));
  process.send!(servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`));
  process.on('disconnect', () => process.exit(0));
}
