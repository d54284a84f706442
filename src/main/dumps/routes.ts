// The dump routes (Round 2 "Dumps"): `POST /dumps` (Meilisearch's route, action `dumps.create`) starts a
// `dumpCreation` task; `POST /_miroir/dumps/import` streams a v6 dump into a `miroirDumpImport` task (admin key);
// `GET /_miroir/dumps/import/{taskUid}/status` answers that import's progress.
import type { AuthResult } from '../../core/auth/authorize.js';
import { PUBLIC_ROUTE, routeAuth } from '../../core/auth/route-actions.js';
import type { SettingsFeatures } from '../../core/settings.js';
import { membersOf } from '../../core/types.js';
import type { RouteSpec } from '../../http/server.js';
import type { RouteGuard } from '../api/routes.js';
import type { TopologyService } from '../cluster/topology.js';
import { DumpCreations, type DumpCreationDeps } from './create.js';
import { DumpImports, type DumpImportDeps } from './import.js';

/** The nodes' experimental features as one healthy node reports them ({} when none answers). */
export async function nodeFeatures(topology: TopologyService): Promise<SettingsFeatures> {
  for (const api of topology.healthyClients()) {
    try {
      const res = await api.forward('GET', '/experimental-features', null, 'experimental_features');
      if (res.status !== 200) continue;
      const out: Record<string, boolean | null> = {};
      for (const [name, on] of Object.entries(membersOf(JSON.parse(res.body.toString()))))
        if (typeof on === 'boolean' || on === null) out[name] = on;
      return out;
    } catch {
      // the next node
    }
  }
  return {};
}

export interface Dumps {
  imports: DumpImports;
  creations: DumpCreations;
  start(podId: string): void;
  stop(): Promise<void>;
}

export function registerDumps(
  routes: Array<RouteSpec<AuthResult>>,
  deps: Omit<DumpImportDeps, 'features'> &
    Omit<DumpCreationDeps, 'features' | 'config'> & {
      dumps: DumpCreationDeps['config'];
      topology: TopologyService;
    },
): Dumps {
  const features = () => nodeFeatures(deps.topology);
  const imports = new DumpImports({ ...deps, features });
  const creations = new DumpCreations({ ...deps, config: deps.dumps, features });
  const admin: RouteGuard = { kind: 'admin', auth: PUBLIC_ROUTE, tenant: false };
  const client: RouteGuard = { kind: 'client', auth: routeAuth('POST', '/dumps'), tenant: false };
  routes.push(
    { method: 'POST', path: '/dumps', body: 'none', auth: client, handler: () => creations.request() },
    {
      method: 'POST',
      path: '/_miroir/dumps/import',
      name: '/_miroir/dumps/import',
      body: 'stream',
      auth: admin,
      handler: (ctx) => imports.upload(ctx),
    },
    {
      method: 'GET',
      path: '/_miroir/dumps/import/:taskUid/status',
      name: '/_miroir/dumps/import/:taskUid/status',
      body: 'none',
      auth: admin,
      handler: (ctx) => imports.status(ctx.params.taskUid!),
    },
  );
  return {
    imports,
    creations,
    start: (podId) => {
      imports.start(podId);
      creations.start(podId);
    },
    async stop() {
      await imports.stop();
      await creations.stop();
    },
  };
}
