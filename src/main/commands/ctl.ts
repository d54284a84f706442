// `miroir ctl`: the operator CLI over the admin API (SPEC Decisions, C10). Admin key from `--admin-key` or
// `MIROIR_ADMIN_API_KEY`, URL from `--url` or `MIROIR_URL`; tables for people, `--json` for scripts. Task commands use
// the client API with `--api-key` (or `MIROIR_API_KEY` / `MIROIR_MASTER_KEY`). cli-table3 draws the tables and
// cli-progress the `rebalance status --watch` bar (well-kept libraries; not our core).
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { Command } from 'commander';

interface CtlOptions {
  url: string;
  adminKey?: string;
  apiKey?: string;
  json?: boolean;
}

export class CtlError extends Error {}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(
  opts: CtlOptions,
  method: string,
  path: string,
  body?: unknown,
  key: 'admin' | 'api' = 'admin',
): Promise<Json> {
  const secret = key === 'admin' ? opts.adminKey : opts.apiKey;
  if (secret === undefined || secret === '') {
    throw new CtlError(
      key === 'admin'
        ? 'no admin key: pass --admin-key or set MIROIR_ADMIN_API_KEY'
        : 'no API key: pass --api-key or set MIROIR_API_KEY',
    );
  }
  const headers: Record<string, string> = { authorization: `Bearer ${secret}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.url), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CtlError(
      `cannot reach ${opts.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
    );
  }
  const text = await res.text();
  const parsed: Json = text === '' ? null : JSON.parse(text);
  if (res.status >= 400)
    throw new CtlError(`${parsed?.message ?? `HTTP ${res.status}`}${parsed?.code ? ` (${parsed.code})` : ''}`);
  return parsed;
}

function print(opts: CtlOptions, data: unknown, render: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(data, null, 2)}\n` : `${render()}\n`);
}

function table(head: string[], rows: unknown[][]): string {
  // Compact: no rule between body rows.
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  return t.toString();
}

function operationsTable(status: Json): string {
  const ops = (status.operations ?? []) as Json[];
  if (ops.length === 0) return 'no topology changes yet';
  return table(
    ['operation', 'kind', 'target', 'phase', 'shards', 'documents copied'],
    ops.map((o) => [
      o.id,
      o.kind,
      o.node_id ?? (o.group_id !== undefined ? `group ${o.group_id}` : ''),
      o.phase,
      `${o.shards_done}/${o.shards_total}`,
      o.documents_copied,
    ]),
  );
}

function movesTable(status: Json): string {
  const moves = ((status.operations ?? []) as Json[]).flatMap((o) =>
    ((o.moves_pending ?? []) as Json[]).map((m) => [
      o.id,
      m.shard,
      m.state,
      m.owner ?? '',
      m.attempts,
      m.documents_copied,
      m.error ?? '',
    ]),
  );
  return moves.length === 0
    ? ''
    : table(['operation', 'shard', 'move', 'pod', 'attempts', 'documents copied', 'error'], moves);
}

function rebalanceSummary(status: Json): string {
  const head = status.in_progress
    ? `rebalance in progress since ${status.started_at}`
    : `no rebalance in progress${status.finished_at ? ` (last finished ${status.finished_at})` : ''}`;
  return [
    head,
    status.last_error ? `last error: ${status.last_error}` : '',
    operationsTable(status),
    movesTable(status),
  ]
    .filter(Boolean)
    .join('\n');
}

async function status(opts: CtlOptions): Promise<void> {
  const [topology, rebalance, consistency] = await Promise.all([
    call(opts, 'GET', '/_miroir/topology'),
    call(opts, 'GET', '/_miroir/rebalance/status'),
    call(opts, 'GET', '/_miroir/consistency'),
  ]);
  print(opts, { topology, rebalance, consistency }, () =>
    [
      `shards ${topology.shards}, replication factor ${topology.replication_factor}, groups ${topology.groups.map((g: Json) => `${g.id} (${g.state})`).join(', ')}; fully covered: ${topology.fully_covered ? 'yes' : 'NO'}`,
      table(
        ['node', 'address', 'group', 'state', 'health', 'shards', 'last seen'],
        topology.nodes.map((n: Json) => [
          n.id,
          n.address,
          n.replica_group,
          n.catching_up ? `${n.state} (catching up)` : n.state,
          n.error ? `${n.health}: ${n.error}` : n.health,
          n.shard_count,
          n.last_seen_ms === null ? 'never' : `${n.last_seen_ms} ms ago`,
        ]),
      ),
      rebalanceSummary(rebalance),
      `idempotency keys: ${consistency.idempotency.enabled ? consistency.idempotency.keys : 'off'}; sessions: ${consistency.session_pinning.enabled ? consistency.session_pinning.sessions : 'off'}; indexes with frozen writes: ${consistency.settings_drift_check.frozen_indexes}`,
    ].join('\n'),
  );
}

async function shards(opts: CtlOptions): Promise<void> {
  const view = await call(opts, 'GET', '/_miroir/shards');
  print(opts, view, () =>
    table(
      ['shard', ...view.groups.map((g: Json) => `group ${g.id}`)],
      Array.from({ length: view.shards }, (_, s) => [
        s,
        ...view.groups.map((g: Json) => (g.assignments[String(s)] ?? []).join(', ')),
      ]),
    ),
  );
}

function accepted(opts: CtlOptions, res: Json): void {
  print(
    opts,
    res,
    () =>
      `${res.operation.kind} queued as ${res.operation.id}; follow it with \`miroir ctl rebalance status --watch\`\n${operationsTable(res.rebalance)}`,
  );
}

async function watch(opts: CtlOptions, intervalMs: number): Promise<void> {
  const bar = opts.json
    ? null
    : new SingleBar(
        // Also drawn when stdout is not a terminal (CI logs, pipes): one line per update there.
        {
          format: '{bar} {percentage}% | shards {value}/{total} | {docs} documents copied | {phase}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stdout,
          noTTYOutput: true,
          notTTYSchedule: intervalMs,
        },
        Presets.shades_classic,
      );
  let started = false;
  for (;;) {
    const s = await call(opts, 'GET', '/_miroir/rebalance/status');
    const live = (s.operations as Json[]).filter((o) => o.phase !== 'done');
    const total = live.reduce((n, o) => n + o.shards_total, 0);
    const done = live.reduce((n, o) => n + o.shards_done, 0);
    const payload = {
      docs: live.reduce((n, o) => n + o.documents_copied, 0),
      phase: live.map((o) => `${o.kind} ${o.phase}`).join(', ') || 'idle',
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else if (!started) {
      bar!.start(Math.max(total, 1), done, payload);
      started = true;
    } else {
      bar!.setTotal(Math.max(total, 1));
      bar!.update(done, payload);
    }
    if (!s.in_progress) {
      if (bar !== null) {
        bar.update(bar.getTotal(), { ...payload, phase: 'done' });
        bar.stop();
        process.stdout.write(`${rebalanceSummary(s)}\n`);
      }
      return;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function ctlCommand(): Command {
  const ctl = new Command('ctl')
    .description('operate a Miroir cluster through its admin API')
    .option('--url <url>', 'Miroir base URL (env MIROIR_URL)', process.env.MIROIR_URL ?? 'http://127.0.0.1:7700')
    .option('--admin-key <key>', 'admin API key (env MIROIR_ADMIN_API_KEY)')
    .option('--api-key <key>', 'API key for task commands (env MIROIR_API_KEY, else MIROIR_MASTER_KEY)')
    .option('--json', 'print JSON instead of tables');
  const opts = (): CtlOptions => {
    const o = ctl.opts<CtlOptions>();
    return {
      ...o,
      adminKey: o.adminKey ?? process.env.MIROIR_ADMIN_API_KEY,
      apiKey: o.apiKey ?? process.env.MIROIR_API_KEY ?? process.env.MIROIR_MASTER_KEY,
    };
  };
  ctl
    .command('status')
    .alias('topology')
    .description('nodes, groups, coverage and the running topology change')
    .action(() => status(opts()));
  ctl
    .command('shards')
    .description('the owners of every shard in every replica group')
    .action(() => shards(opts()));

  const node = ctl.command('node').description('add, drain or remove a node');
  node
    .command('add')
    .description('add a node (a new --group id creates that replica group)')
    .requiredOption('--id <id>', 'node id (never reused)')
    .requiredOption('--address <url>', "the node's base URL")
    .option('--group <n>', 'replica group id', '0')
    .action(async (a: { id: string; address: string; group: string }) => {
      if (!/^\d+$/.test(a.group)) throw new CtlError(`--group must be an integer ≥ 0, got \`${a.group}\``);
      accepted(
        opts(),
        await call(opts(), 'POST', '/_miroir/nodes', { id: a.id, address: a.address, replica_group: Number(a.group) }),
      );
    });
  node
    .command('drain <id>')
    .description("move a node's shards to their new owners, then retire it")
    .action(async (id: string) =>
      accepted(opts(), await call(opts(), 'POST', `/_miroir/nodes/${encodeURIComponent(id)}/drain`)),
    );
  node
    .command('remove <id>')
    .description('remove a node (drained first)')
    .option('--force', 'the node is gone for good: refill its shards from replicas only (shards without one are lost)')
    .action(async (id: string, a: { force?: boolean }) =>
      accepted(
        opts(),
        await call(opts(), 'DELETE', `/_miroir/nodes/${encodeURIComponent(id)}${a.force ? '?force=true' : ''}`),
      ),
    );

  const group = ctl.command('group').description('remove a replica group');
  group
    .command('remove <id>')
    .description('stop reads from a group at once and retire its nodes')
    .action(async (id: string) =>
      accepted(opts(), await call(opts(), 'DELETE', `/_miroir/groups/${encodeURIComponent(id)}`)),
    );

  const rebalance = ctl.command('rebalance').description('start or follow a rebalance');
  rebalance
    .command('start')
    .description('converge pending work (catching-up nodes, an interrupted change)')
    .action(async () => accepted(opts(), await call(opts(), 'POST', '/_miroir/rebalance')));
  rebalance
    .command('status')
    .description('the rebalance status; --watch follows it with a progress bar until it ends')
    .option('--watch', 'follow until nothing is in progress')
    .option('--interval <ms>', 'poll interval with --watch', '1000')
    .action(async (a: { watch?: boolean; interval: string }) => {
      if (a.watch) return watch(opts(), Math.max(50, Number(a.interval) || 1000));
      const s = await call(opts(), 'GET', '/_miroir/rebalance/status');
      print(opts(), s, () => rebalanceSummary(s));
    });

  const task = ctl.command('task').description('read Miroir tasks');
  task
    .command('get <uid>')
    .description('one task')
    .action(async (uid: string) => {
      if (!/^\d+$/.test(uid)) throw new CtlError(`a task uid is an integer, got \`${uid}\``);
      const t = await call(opts(), 'GET', `/tasks/${uid}`, undefined, 'api');
      print(opts(), t, () =>
        table(
          ['field', 'value'],
          Object.entries(t).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : v]),
        ),
      );
    });
  task
    .command('list')
    .description('recent tasks, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--status <s>', 'filter, e.g. failed or enqueued,processing')
    .option('--index <uid>', 'filter by index')
    .action(async (a: { limit: string; status?: string; index?: string }) => {
      const q = new URLSearchParams({ limit: a.limit });
      if (a.status) q.set('statuses', a.status);
      if (a.index) q.set('indexUids', a.index);
      const list = await call(opts(), 'GET', `/tasks?${q}`, undefined, 'api');
      print(opts(), list, () =>
        table(
          ['uid', 'index', 'type', 'status', 'enqueued', 'finished'],
          list.results.map((t: Json) => [t.uid, t.indexUid, t.type, t.status, t.enqueuedAt, t.finishedAt]),
        ),
      );
    });
  return ctl;
}
