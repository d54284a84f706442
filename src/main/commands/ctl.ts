// `miroir ctl`: the operator CLI over the admin API (SPEC Decisions, C10). Admin key from `--admin-key` or
// `MIROIR_ADMIN_API_KEY`, URL from `--url` or `MIROIR_URL`; tables for people, `--json` for scripts. Task commands use
// the client API with `--api-key` (or `MIROIR_API_KEY` / `MIROIR_MASTER_KEY`). cli-table3 draws the tables and
// cli-progress the `rebalance status --watch` bar (well-kept libraries; not our core).
import { errorMessage } from '../../core/errors.js';
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

/** A list member of an admin answer (none when absent). */
function listOf(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

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
      `cannot reach ${opts.url}: ${errorMessage(err instanceof Error && err.cause instanceof Error ? err.cause : err)}`,
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
  const ops = listOf(status.operations);
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
  const moves = listOf(status.operations).flatMap((o) =>
    listOf(o.moves_pending).map((m) => [
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

/** The `--watch` progress bar (none with --json); also drawn when stdout is not a terminal: a line per update. */
function progressBar(opts: CtlOptions, format: string, intervalMs: number): SingleBar | null {
  if (opts.json) return null;
  return new SingleBar(
    {
      format,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stdout,
      noTTYOutput: true,
      notTTYSchedule: intervalMs,
    },
    Presets.shades_classic,
  );
}

async function watch(opts: CtlOptions, intervalMs: number): Promise<void> {
  const bar = progressBar(
    opts,
    '{bar} {percentage}% | shards {value}/{total} | {docs} documents copied | {phase}',
    intervalMs,
  );
  let started = false;
  for (;;) {
    const s = await call(opts, 'GET', '/_miroir/rebalance/status');
    const live = listOf(s.operations).filter((o) => o.phase !== 'done');
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

function reshardSummary(s: Json): string {
  const head = `${s.index}: ${s.old_shards} → ${s.new_shards} shards, ${s.phase}, ${s.documents_backfilled} documents backfilled`;
  const extra = [
    s.documents_repaired > 0 ? `${s.documents_repaired} repaired by verify` : null,
    s.flipped_at ? `flipped ${s.flipped_at}` : null,
    s.drop_old_at ? `old copy dropped at ${s.drop_old_at}` : null,
    s.reverted ? 'reverted' : null,
    s.error ? `error: ${s.error}` : null,
  ].filter((x) => x !== null);
  return extra.length === 0 ? head : `${head} (${extra.join('; ')})`;
}

/** Follows a reshard with a progress bar (documents backfilled of the index's count) until flipped, done or failed. */
async function watchReshard(opts: CtlOptions, uid: string, intervalMs: number): Promise<void> {
  const path = `/_miroir/indexes/${encodeURIComponent(uid)}/reshard/status`;
  const bar = progressBar(opts, '{bar} {percentage}% | {value}/{total} documents backfilled | {phase}', intervalMs);
  let started = false;
  for (;;) {
    const s = await call(opts, 'GET', path);
    const total = Math.max(s.documents_total ?? s.documents_backfilled, s.documents_backfilled, 1);
    if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else if (!started) {
      bar!.start(total, s.documents_backfilled, { phase: s.phase });
      started = true;
    } else {
      bar!.setTotal(total);
      bar!.update(s.documents_backfilled, { phase: s.phase });
    }
    if (s.phase === 'flipped' || s.phase === 'done' || s.phase === 'failed') {
      if (bar !== null) {
        if (s.phase !== 'failed') bar.update(bar.getTotal(), { phase: s.phase });
        bar.stop();
        process.stdout.write(`${reshardSummary(s)}\n`);
      }
      if (s.phase === 'failed') throw new CtlError(`reshard of ${uid} failed: ${s.error}`);
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

  const ae = ctl.command('antientropy').description('anti-entropy passes: run one now, read the last results');
  ae.command('run')
    .description('compare the replicas of every shard now (and repair, unless --report-only)')
    .option('--index <uid>', 'only this index')
    .option('--shard <n>', 'only this shard')
    .option('--report-only', 'find and report, change nothing')
    .option('--repair', 'repair even when anti_entropy.auto_repair is false')
    .action(async (a: { index?: string; shard?: string; reportOnly?: boolean; repair?: boolean }) => {
      const body: Record<string, unknown> = {};
      if (a.index !== undefined) body.index = a.index;
      if (a.shard !== undefined) {
        if (!/^\d+$/.test(a.shard)) throw new CtlError(`a shard is an integer, got \`${a.shard}\``);
        body.shard = Number(a.shard);
      }
      if (a.reportOnly && a.repair) throw new CtlError('--report-only and --repair exclude each other');
      if (a.reportOnly) body.repair = false;
      if (a.repair) body.repair = true;
      const r = await call(opts(), 'POST', '/_miroir/antientropy/run', body);
      print(opts(), r, () =>
        [
          `shards: ${r.shards}, documents: ${r.documents}, mismatches: ${r.mismatches}, repaired: ${r.repaired}` +
            ` (${r.repair ? 'repair' : 'report only'}, ${r.duration_ms} ms)`,
          table(
            ['index', 'shard', 'mismatches', 'repaired', 'in a row', 'samples', 'error'],
            listOf(r.results).map((x) => [
              x.index,
              x.shard,
              x.mismatches,
              x.repaired,
              x.consecutive_with_mismatches,
              listOf(x.samples)
                .map((s) => `${s.id}:${s.kind}`)
                .join(' '),
              x.error ?? '',
            ]),
          ),
        ].join('\n'),
      );
    });
  ae.command('status')
    .description('the last pass of every shard; shards with mismatches first')
    .action(async () => {
      const s = await call(opts(), 'GET', '/_miroir/antientropy/status');
      print(opts(), s, () => {
        if (s.enabled === false) return 'anti-entropy is off (anti_entropy.enabled: false)';
        const rows = [...listOf(s.shards)].sort((a, b) => b.mismatches - a.mismatches);
        return [
          `last pass: ${s.last_completed_at ?? 'never'}; shards with mismatches: ${s.shards_with_mismatches};` +
            ` most passes in a row with mismatches: ${s.max_consecutive_with_mismatches}`,
          table(
            ['index', 'shard', 'finished', 'documents', 'mismatches', 'repaired', 'in a row'],
            rows.map((x) => [
              x.index,
              x.shard,
              x.finished_at,
              x.documents,
              x.mismatches,
              x.repaired,
              x.consecutive_with_mismatches,
            ]),
          ),
        ].join('\n');
      });
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
  // Canaries and the traffic shadow (issue 30), when their blocks are enabled on the server.
  const canary = ctl.command('canary').description('canary status, capture and removal (canary_runner)');
  canary
    .command('status')
    .description('every canary: state, last run and what its failed assertions observed')
    .action(async () => {
      const list = listOf(await call(opts(), 'GET', '/_miroir/canaries/status'));
      print(opts(), list, () =>
        list.length === 0
          ? 'no canaries'
          : table(
              ['canary', 'index', 'state', 'last run', 'latency ms', 'failures (expected → observed)'],
              list.map((c) => [
                c.name,
                c.index,
                c.state,
                c.last_run,
                c.latency_ms,
                listOf(c.failures)
                  .map((f) => `${f.type}: ${JSON.stringify(f.expected)} → ${JSON.stringify(f.observed)}`)
                  .join('; '),
              ]),
            ),
      );
    });
  canary
    .command('capture <index>')
    .description("turn the current answers of this pod's most frequent recent searches of an index into canaries")
    .option('--count <n>', 'how many searches', '10')
    .option('--prefix <p>', 'canary name prefix (default <index>-captured-)')
    .option('--interval <s>', 'seconds between runs', '60')
    .option('--k <n>', 'top hits each canary guards', '3')
    .action(async (index: string, a: { count: string; prefix?: string; interval: string; k: string }) => {
      const int = (name: string, v: string) => {
        if (!/^\d+$/.test(v)) throw new CtlError(`--${name} must be an integer, got \`${v}\``);
        return Number(v);
      };
      const res = await call(opts(), 'POST', '/_miroir/canaries/capture', {
        index,
        count: int('count', a.count),
        interval_s: int('interval', a.interval),
        k: int('k', a.k),
        ...(a.prefix === undefined ? {} : { name_prefix: a.prefix }),
      });
      print(
        opts(),
        res,
        () =>
          `${res.canaries.length} canaries captured${res.skipped > 0 ? ` (${res.skipped} searches without hits skipped)` : ''}\n` +
          table(
            ['canary', 'query', 'assertions'],
            listOf(res.canaries).map((c) => [c.name, JSON.stringify(c.query), c.assertions.length]),
          ),
      );
    });
  canary
    .command('delete <name>')
    .description('remove a canary and its history')
    .action(async (name: string) => {
      await call(opts(), 'DELETE', `/_miroir/canaries/${encodeURIComponent(name)}`);
      print(opts(), { deleted: name }, () => `canary ${name} deleted`);
    });

  // Aliases and ILM rollover (issue 26), when `aliases` / `ilm` are enabled on the server.
  const aliasRows = (list: Json[]) =>
    table(
      ['alias', 'kind', 'targets', 'updated', 'history'],
      list.map((a) => [a.name, a.kind, a.targets.join(', '), a.updatedAt, a.history.length]),
    );
  const alias = ctl.command('alias').description('index aliases (aliases)');
  alias
    .command('list')
    .description('every alias and its targets')
    .action(async () => {
      const res = await call(opts(), 'GET', '/_miroir/aliases');
      print(opts(), res, () => (res.results.length === 0 ? 'no aliases' : aliasRows(res.results)));
    });
  alias
    .command('get <name>')
    .description('one alias with its history (newest first)')
    .action(async (name: string) => {
      const a = await call(opts(), 'GET', `/_miroir/aliases/${encodeURIComponent(name)}`);
      print(opts(), a, () =>
        [
          aliasRows([a]),
          a.history.length === 0
            ? 'no earlier targets'
            : table(
                ['until', 'targets'],
                a.history.map((h: Json) => [h.at, h.targets.join(', ')]),
              ),
        ].join('\n'),
      );
    });
  alias
    .command('create <name> <targets...>')
    .description('a new alias over one index (read-write) or several (read-only, searches merged)')
    .action(async (name: string, targets: string[]) => {
      const a = await call(opts(), 'POST', '/_miroir/aliases', { name, targets });
      print(opts(), a, () => `alias ${a.name} → ${a.targets.join(', ')}`);
    });
  alias
    .command('set <name> <targets...>')
    .description('flip an alias to new targets (one atomic change for every pod)')
    .action(async (name: string, targets: string[]) => {
      const a = await call(opts(), 'PUT', `/_miroir/aliases/${encodeURIComponent(name)}`, { targets });
      print(opts(), a, () => `alias ${a.name} → ${a.targets.join(', ')}`);
    });
  alias
    .command('delete <name>')
    .description('remove an alias (its targets stay)')
    .action(async (name: string) => {
      await call(opts(), 'DELETE', `/_miroir/aliases/${encodeURIComponent(name)}`);
      print(opts(), { deleted: name }, () => `alias ${name} deleted`);
    });
  const ilm = ctl.command('ilm').description('ILM rollover policies (ilm)');
  ilm
    .command('list')
    .description('every policy: aliases, write index, kept indexes')
    .action(async () => {
      const res = await call(opts(), 'GET', '/_miroir/ilm/policies');
      print(opts(), res, () =>
        res.results.length === 0
          ? 'no policies'
          : table(
              ['policy', 'write alias', 'read alias', 'write index', 'indexes', 'last action'],
              res.results.map((p: Json) => [
                p.name,
                p.write_alias,
                p.read_alias,
                p.write_index,
                p.indexes.length,
                p.last_action_at,
              ]),
            ),
      );
    });
  ilm
    .command('create <policy>')
    .description('a policy over a write alias and a read alias; triggers left out take the server defaults')
    .requiredOption('--write-alias <name>', 'the alias writes go through (moved to each new index)')
    .requiredOption('--read-alias <name>', 'the alias reads go through (spans the kept indexes)')
    .requiredOption('--prefix <p>', 'new indexes are <prefix>-000001, <prefix>-000002, …')
    .option('--primary-key <field>', 'primary key of the new indexes')
    .option('--max-docs <n>', 'roll over at this many documents ("none" to disable)')
    .option('--max-age <age>', 'roll over at this age, e.g. 7d, 12h ("none" to disable)')
    .option('--max-size-gb <n>', 'roll over at this size ("none" to disable)')
    .option('--keep <n>', 'indexes kept (older ones deleted, past the safety lock)')
    .action(async (name: string, o: Record<string, string | undefined>) => {
      // Not a number: sent as given, so the server names the bad member (NaN would travel as null: "disabled").
      const num = (v: string): unknown => (Number.isFinite(Number(v)) ? Number(v) : v);
      const trigger = (v: string | undefined, isNum: boolean): unknown =>
        v === undefined ? undefined : v === 'none' ? null : isNum ? num(v) : v;
      const p = await call(opts(), 'POST', '/_miroir/ilm/policies', {
        name,
        write_alias: o.writeAlias,
        read_alias: o.readAlias,
        index_template: { uid_prefix: o.prefix, primaryKey: o.primaryKey ?? null },
        triggers: {
          max_docs: trigger(o.maxDocs, true),
          max_age: trigger(o.maxAge, false),
          max_size_gb: trigger(o.maxSizeGb, true),
        },
        ...(o.keep === undefined ? {} : { retention: { keep_indexes: num(o.keep) } }),
      });
      print(opts(), p, () => `policy ${p.name}: writes go to ${p.write_index} through ${p.write_alias}`);
    });
  ilm
    .command('delete <policy>')
    .description('remove a policy (its indexes and aliases stay)')
    .action(async (name: string) => {
      await call(opts(), 'DELETE', `/_miroir/ilm/policies/${encodeURIComponent(name)}`);
      print(opts(), { deleted: name }, () => `policy ${name} deleted`);
    });
  ilm
    .command('rollover <policy>')
    .description('roll a policy over now, whatever its triggers')
    .action(async (name: string) => {
      const p = await call(opts(), 'POST', `/_miroir/ilm/policies/${encodeURIComponent(name)}/rollover`);
      print(
        opts(),
        p,
        () => `policy ${p.name}: writes now go to ${p.write_index}; reads span ${p.indexes.length} indexes`,
      );
    });

  const shadow = ctl.command('shadow').description('traffic shadow diffs (shadow)');
  shadow
    .command('diff')
    .description('how shadow targets answered differently from the client answers')
    .option('--target <name>', 'only this target')
    .option('--index <uid>', 'only this index')
    .option('--kind <kind>', 'hits_differ, order_differs, error or latency')
    .option('--limit <n>', 'how many (the newest)', '20')
    .action(async (a: { target?: string; index?: string; kind?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: a.limit });
      if (a.target) q.set('target', a.target);
      if (a.index) q.set('index', a.index);
      if (a.kind) q.set('kind', a.kind);
      const res = await call(opts(), 'GET', `/_miroir/shadow/diff?${q}`);
      print(opts(), res, () =>
        res.diffs.length === 0
          ? 'no diffs'
          : table(
              ['id', 'at', 'target', 'index', 'kind', 'tau', 'missing', 'extra', 'Δ ms', 'query'],
              listOf(res.diffs).map((d) => [
                d.id,
                d.at,
                d.target,
                d.index,
                d.kind,
                d.kendall_tau,
                d.missing_ids.join(', '),
                d.extra_ids.join(', '),
                d.latency_delta_ms,
                JSON.stringify(d.query),
              ]),
            ),
      );
    });
  // Change data capture (issue 28), when `cdc.enabled` on the server.
  const changes = ctl.command('changes').description('the change stream (cdc)');
  changes
    .command('tail')
    .description('follow GET /_miroir/changes: one line per event (JSON lines with --json) until interrupted')
    .option('--index <uid>', 'only this index')
    .option('--since <id>', 'start after this event id (0: the oldest kept)', '0')
    .option('--count <n>', 'stop after this many events')
    .option('--timeout <ms>', 'long-poll wait per request', '30000')
    .action(async (a: { index?: string; since: string; count?: string; timeout: string }) => {
      if (!/^\d+$/.test(a.since)) throw new CtlError(`--since is an event id, got \`${a.since}\``);
      const o = opts();
      const key = o.adminKey !== undefined && o.adminKey !== '' ? 'admin' : 'api';
      const limit = a.count === undefined ? Infinity : Number(a.count);
      let since = Number(a.since);
      for (let shown = 0; shown < limit;) {
        const q = new URLSearchParams({ since: String(since), timeout_ms: a.timeout, limit: '500' });
        if (a.index) q.set('index', a.index);
        const page = await call(o, 'GET', `/_miroir/changes?${q}`, undefined, key);
        for (const e of page.events as Json[]) {
          if (shown >= limit) break;
          shown++;
          process.stdout.write(
            o.json
              ? `${JSON.stringify(e)}\n`
              : `${e.event_id}\t${e.timestamp}\t${e.index}\t${e.operation}\ttask ${e.mtask_id ?? '-'}\t${
                  e.primary_keys === null ? '(keys not known)' : e.primary_keys.join(',')
                }\n`,
          );
        }
        since = page.next;
      }
    });
  // Online reshard (issue 26), when `resharding.enabled` on the server.
  const index = ctl.command('index').description('index operations: online reshard');
  index
    .command('reshard <uid>')
    .description('reshard an index online to a new shard count; --watch follows it with a progress bar')
    .requiredOption('--shards <n>', 'the new shard count')
    .option(
      '--throttle <docs>',
      'backfill documents per second (0 = unthrottled; default: resharding.throttle_docs_per_sec)',
    )
    .option('--watch', 'follow until flipped, done or failed')
    .option('--interval <ms>', 'poll interval with --watch', '1000')
    .action(async (uid: string, o: { shards: string; throttle?: string; watch?: boolean; interval: string }) => {
      const body: Record<string, number> = { new_shards: Number(o.shards) };
      if (o.throttle !== undefined) body.throttle_docs_per_sec = Number(o.throttle);
      const res = await call(opts(), 'POST', `/_miroir/indexes/${encodeURIComponent(uid)}/reshard`, body);
      if (o.watch === true) return watchReshard(opts(), uid, Number(o.interval));
      print(
        opts(),
        res,
        () =>
          `reshard of ${uid} to ${res.new_shards} shards started; follow it with \`miroir ctl index reshard-status ${uid} --watch\``,
      );
    });
  index
    .command('reshard-status <uid>')
    .description('the reshard status of an index; --watch follows it with a progress bar')
    .option('--watch', 'follow until flipped, done or failed')
    .option('--interval <ms>', 'poll interval with --watch', '1000')
    .action(async (uid: string, o: { watch?: boolean; interval: string }) => {
      if (o.watch === true) return watchReshard(opts(), uid, Number(o.interval));
      const s = await call(opts(), 'GET', `/_miroir/indexes/${encodeURIComponent(uid)}/reshard/status`);
      print(opts(), s, () => reshardSummary(s));
    });
  index
    .command('reshard-revert <uid>')
    .description('before the flip: stop the reshard and delete the copy; after it: serve the old copy again')
    .action(async (uid: string) => {
      const s = await call(opts(), 'POST', `/_miroir/indexes/${encodeURIComponent(uid)}/reshard/revert`);
      print(opts(), s, () => reshardSummary(s));
    });
  return ctl;
}
