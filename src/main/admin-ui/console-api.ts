// The admin API routes the console reads and acts through besides the topology ones: an index overview (documents,
// settings version, nodes behind on settings, pending changes), the task list and one task, and API keys (list without
// values — a key's value is shown once, when it is created — create, delete). Admin auth (key or console session);
// they call the same services as the Meilisearch routes, with every index visible.
import type { AuthResult } from '../../core/auth/authorize.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { MeiliError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import { indexStats, type StatsDeps } from '../api/stats.js';
import { getTask, listTasks, type TaskApiDeps } from '../api/tasks.js';
import type { Reply, RequestContext } from '../../http/server.js';
import type { IndexStateService } from '../state/index-state.js';

export interface ConsoleApiDeps extends StatsDeps, TaskApiDeps {
  store: Store;
  state: IndexStateService;
  keys: KeyRegistry;
}

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

const MASTER: AuthResult = Object.freeze({ kind: 'master' });

function pageParam(query: URLSearchParams, name: 'offset' | 'limit', dflt: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw))
    throw new MeiliError(
      'bad_request',
      `Invalid value in parameter \`${name}\`: \`${raw}\` is not a positive integer.`,
    );
  return Math.min(Number(raw), max);
}

/** `GET /_miroir/indexes?offset&limit`: each index's documents (logical count), settings version and drift. */
async function indexOverview(deps: ConsoleApiDeps, query: URLSearchParams): Promise<Reply> {
  const offset = pageParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = pageParam(query, 'limit', 20, 100);
  const all = await deps.state.listForClients();
  const live = new Set(deps.topology.current.nodes.filter((n) => n.state !== 'removed').map((n) => n.id));
  const results = await Promise.all(
    all.slice(offset, offset + limit).map(async (index) => {
      const [record, versions, documents] = await Promise.all([
        deps.state.record(index.uid),
        deps.store.getNodeSettingsVersions(index.uid),
        indexStats(deps, index.uid).then(
          (s) => ({ count: s.numberOfDocuments as number | null, error: null as string | null }),
          (err: unknown) => ({ count: null, error: err instanceof MeiliError ? err.message : 'unavailable' }),
        ),
      ]);
      const behind = Object.entries(versions)
        .filter(([node, v]) => live.has(node) && v < index.settingsVersion)
        .map(([node_id, settings_version]) => ({ node_id, settings_version }))
        .sort((a, b) => (a.node_id < b.node_id ? -1 : 1));
      return {
        uid: index.uid,
        primaryKey: index.primaryKey,
        createdAt: index.createdAt,
        updatedAt: index.updatedAt,
        shards: index.shards,
        numberOfDocuments: documents.count,
        documents_error: documents.error,
        settings_version: index.settingsVersion,
        nodes_behind: behind,
        pending_changes: record?.pending.length ?? 0,
      };
    }),
  );
  return { status: 200, body: { results, offset, limit, total: all.length } };
}

export function consoleApiRoutes(
  deps: ConsoleApiDeps,
): Array<[method: 'GET' | 'POST' | 'DELETE', path: string, handler: Handler]> {
  return [
    ['GET', '/_miroir/indexes', (ctx) => indexOverview(deps, ctx.query)],
    ['GET', '/_miroir/tasks', async (ctx) => ({ status: 200, body: await listTasks(deps, ctx.query, MASTER) })],
    [
      'GET',
      '/_miroir/tasks/:taskUid',
      async (ctx) => ({ status: 200, body: await getTask(deps, ctx.params.taskUid!, MASTER) }),
    ],
    [
      'GET',
      '/_miroir/keys',
      (ctx) => {
        const page = deps.keys.list(ctx.query);
        return { status: 200, body: { ...page, results: page.results.map(({ key: _value, ...rest }) => rest) } };
      },
    ],
    [
      'POST',
      '/_miroir/keys',
      async (ctx) => {
        const created = await deps.keys.create(ctx.json, new Date());
        await deps.store.publish('keys', created.uid);
        return { status: 201, body: created };
      },
    ],
    [
      'DELETE',
      '/_miroir/keys/:key',
      async (ctx) => {
        await deps.keys.delete(ctx.params.key!);
        await deps.store.publish('keys', ctx.params.key!);
        return { status: 204 };
      },
    ],
  ];
}
