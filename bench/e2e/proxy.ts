// Starts one Miroir proxy for the end-to-end benchmarks: 16 shards, RF 1, the given node addresses, an LMDB store
// in a temporary directory, silent logs unless asked; `close` stops it and removes the directory. `forkBenchProxy`
// runs one in a child process of its own (logging at the default level to a discarded stdout, as a pod would) with
// the stub index already known, so that its CPU can be measured apart from the bench's.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultSettings } from '../../src/core/settings.js';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';
import { createLogger } from '../../src/main/observability/logger.js';

export async function startBenchProxy(
  addresses: readonly string[],
  masterKey: string,
  nodeMasterKey: string | null,
  opts: { logLevel?: 'silent' | 'info'; config?: Record<string, unknown> } = {},
): Promise<{ app: MiroirApp; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'miroir-bench-'));
  const app = await startMiroir(
    resolveConfig(
      {
        shards: 16,
        replication_factor: 1,
        nodes: addresses.map((address, i) => ({ id: `node-${i}`, address })),
        master_key: masterKey,
        node_master_key: nodeMasterKey,
        admin: { api_key: 'bench-admin-key' },
        task_store: { path: dir },
        server: { port: 0, bind: '127.0.0.1' },
        metrics: { port: 0, bind: '127.0.0.1' },
        ...opts.config,
      },
      {},
    ),
    { logger: (opts.logLevel ?? 'silent') === 'silent' ? pino({ level: 'silent' }) : createLogger('info') },
  );
  return {
    app,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Records index `uid` (primary key `id`) in the proxy's store, as if it had been created through it. */
export async function knowIndex(app: MiroirApp, uid: string): Promise<void> {
  const now = new Date().toISOString();
  const committed = {
    primaryKey: 'id',
    settings: defaultSettings(),
    settingsVersion: 1,
    createdAt: now,
    updatedAt: now,
  };
  await app.store.casIndexes([
    {
      uid,
      expected: 0,
      next: { uid, committed, fields: ['id', 'title'], shards: app.topology.current.shards, pending: [] },
    },
  ]);
}

export interface ProxyProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * One Miroir in a child process over `addresses`, knowing index `uid`; logs at info to a discarded stdout. `config`
 * is merged over the bench config (e.g. a capability block).
 */
export async function forkBenchProxy(
  addresses: readonly string[],
  masterKey: string,
  uid: string,
  config: Record<string, unknown> = {},
): Promise<ProxyProcess> {
  const args = ['miroir', JSON.stringify(addresses), masterKey, uid, JSON.stringify(config)];
  const child = fork(fileURLToPath(import.meta.url), args, {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(m as string));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench proxy exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'miroir') {
  const { app, close } = await startBenchProxy(JSON.parse(process.argv[3]!) as string[], process.argv[4]!, null, {
    logLevel: 'info',
    config: JSON.parse(process.argv[6] ?? '{}') as Record<string, unknown>,
  });
  await knowIndex(app, process.argv[5]!);
  process.send!(app.url);
  process.on('disconnect', () => void close().then(() => process.exit(0)));
}
