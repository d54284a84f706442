// Starts a test cluster: dev nodes (in-process, guarded by a node master key) behind a Miroir proxy on ephemeral
// ports, with an LMDB store in a temp dir. `restartProxy` reopens the same store (with another config when asked); `close` stops everything.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { DevNode } from '../../src/devnode/node.js';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';
import type { MiroirConfig } from '../../src/main/config/schema.js';
import { tempDir } from './devnode.js';

export interface TestCluster {
  nodes: DevNode[];
  app: MiroirApp;
  config: Readonly<MiroirConfig>;
  masterKey: string;
  adminKey: string;
  nodeKey: string;
  /** Stops node i (its port stays reserved for `startNode`). */
  stopNode(i: number): Promise<void>;
  /** Starts node i again on the same port. */
  startNode(i: number): Promise<void>;
  /** Restarts the proxy on the same store; `overrides` replace top-level config blocks for the new process. */
  restartProxy(overrides?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  replicaGroups?: number;
  rf?: number;
  shards?: number;
  /** Extra config merged over the defaults (e.g. health intervals). */
  config?: Record<string, unknown>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const perGroup = opts.nodes ?? 3;
  const groups = opts.replicaGroups ?? 1;
  const nodeKey = randomBytes(12).toString('hex');
  const masterKey = `master-${randomBytes(12).toString('hex')}`;
  const adminKey = `admin-${randomBytes(12).toString('hex')}`;
  const data = tempDir('miroir-cluster-');
  const nodes: DevNode[] = [];
  for (let i = 0; i < perGroup * groups; i++) nodes.push(await DevNode.start({ port: 0, masterKey: nodeKey }));
  const ports = nodes.map((n) => n.port);
  const raw: Record<string, unknown> = {
    shards: opts.shards ?? 16,
    replication_factor: opts.rf ?? 1,
    replica_groups: groups,
    nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url, replica_group: Math.floor(i / perGroup) })),
    master_key: masterKey,
    node_master_key: nodeKey,
    admin: { api_key: adminKey },
    task_store: { backend: 'lmdb', path: data.dir },
    server: { port: 0, bind: '127.0.0.1' },
    metrics: { port: 0, bind: '127.0.0.1' },
    ...opts.config,
  };
  const config = resolveConfig(raw, {});
  const silent = pino({ level: 'silent' });
  let app = await startMiroir(config, { logger: silent });
  const cluster: TestCluster = {
    nodes,
    get app() {
      return app;
    },
    config,
    masterKey,
    adminKey,
    nodeKey,
    async stopNode(i) {
      await nodes[i]!.stop();
    },
    async startNode(i) {
      nodes[i] = await DevNode.start({ port: ports[i], masterKey: nodeKey });
    },
    async restartProxy(overrides) {
      await app.close();
      const next = overrides === undefined ? config : resolveConfig({ ...raw, ...overrides }, {});
      app = await startMiroir(next, { logger: silent });
    },
    async close() {
      await app.close();
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      data.cleanup();
    },
  };
  return cluster;
}
