// Starts one Miroir proxy for the end-to-end benchmarks: 16 shards, RF 1, the given node addresses, an LMDB store
// in a temporary directory, silent logs; `close` stops it and removes the directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startMiroir, type MiroirApp } from '../../src/main/app.js';
import { resolveConfig } from '../../src/main/config/load.js';

export async function startBenchProxy(addresses: readonly string[], masterKey: string, nodeMasterKey: string | null): Promise<{ app: MiroirApp; close(): Promise<void> }> {
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
      },
      {},
    ),
    { logger: pino({ level: 'silent' }) },
  );
  return {
    app,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
