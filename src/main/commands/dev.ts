// `miroir dev`: a whole dev cluster in one command — N dev nodes (in this process) behind a Miroir proxy — with
// the URL and keys printed, everything stopped on Ctrl-C. Data lives in a fresh temporary directory unless --data.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { deriveKeyValue, defaultKeys } from '../../core/auth/keys.js';
import { DevNode } from '../../devnode/node.js';
import { startMiroir } from '../app.js';
import { resolveConfig } from '../config/load.js';
import { onShutdownSignal } from './serve.js';

function int(name: string, min: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return Number(v);
  };
}

export interface DevOptions {
  nodes: number;
  replicaGroups: number;
  rf: number;
  shards: number;
  port: number;
  masterKey?: string;
  data?: string;
}

export async function startDevCluster(opts: DevOptions) {
  const temp = opts.data === undefined ? mkdtempSync(join(tmpdir(), 'miroir-dev-')) : null;
  const root = opts.data ?? temp!;
  const masterKey = opts.masterKey ?? randomBytes(16).toString('hex');
  const nodeKey = randomBytes(16).toString('hex');
  const adminKey = randomBytes(16).toString('hex');
  const total = opts.nodes * opts.replicaGroups;
  const nodes: DevNode[] = [];
  for (let i = 0; i < total; i++) {
    const dir = join(root, `node-${i}`);
    mkdirSync(dir, { recursive: true });
    nodes.push(await DevNode.start({ port: 0, masterKey: nodeKey, dataDir: dir }));
  }
  const cfg = resolveConfig(
    {
      shards: opts.shards,
      replication_factor: opts.rf,
      replica_groups: opts.replicaGroups,
      nodes: nodes.map((n, i) => ({ id: `node-${i}`, address: n.url, replica_group: Math.floor(i / opts.nodes) })),
      master_key: masterKey,
      node_master_key: nodeKey,
      admin: { api_key: adminKey },
      admin_ui: { enabled: true }, // admin-ui (issue 31): the console, logged in with the admin key
      task_store: { backend: 'lmdb', path: join(root, 'miroir') },
      server: { port: opts.port, bind: '127.0.0.1' },
      metrics: { port: 0, bind: '127.0.0.1' },
      log: { level: 'warn' },
    },
    {},
  );
  const app = await startMiroir(cfg);
  return {
    app,
    nodes,
    masterKey,
    adminKey,
    async close() {
      await app.close();
      await Promise.all(nodes.map((n) => n.stop()));
      if (temp !== null) rmSync(temp, { recursive: true, force: true });
    },
  };
}

export function devCommand(): Command {
  return new Command('dev')
    .description('start dev nodes and a Miroir proxy in one command')
    .option('--nodes <n>', 'dev nodes per replica group', int('--nodes', 1), 3)
    .option('--replica-groups <n>', 'replica groups', int('--replica-groups', 1), 1)
    .option('--rf <n>', 'copies of each shard per group', int('--rf', 1), 1)
    .option('--shards <n>', 'logical shards', int('--shards', 1), 16)
    .option('--port <port>', 'client port (0 = any free port)', int('--port', 0), 7700)
    .option('--master-key <key>', 'master key clients use (random when omitted)')
    .option('--data <dir>', 'keep data here instead of a temporary directory')
    .action(async (opts: DevOptions) => {
      if (opts.rf > opts.nodes) throw new InvalidArgumentError(`--rf ${opts.rf} exceeds --nodes ${opts.nodes}`);
      const cluster = await startDevCluster(opts);
      const search = defaultKeys('').find((k) => k.name === 'Default Search API Key')!;
      const lines = [
        `Miroir dev cluster: ${opts.nodes * opts.replicaGroups} dev nodes, ${opts.replicaGroups} group(s), RF ${opts.rf}, ${opts.shards} shards`,
        `  URL:             ${cluster.app.url}`,
        `  master key:      ${cluster.masterKey}`,
        `  search key:      ${deriveKeyValue(cluster.masterKey, search.uid)}`,
        `  admin key:       ${cluster.adminKey}   (for /_miroir/*)`,
        `  admin console:   ${cluster.app.url}/_miroir/admin   (log in with the admin key)`,
        `  metrics:         http://127.0.0.1:${cluster.app.metricsPort}/metrics`,
        ...cluster.nodes.map((n, i) => `  node-${i}:          ${n.url}`),
        'Press Ctrl-C to stop.',
      ];
      process.stdout.write(lines.join('\n') + '\n');
      onShutdownSignal(() => cluster.close());
    });
}
