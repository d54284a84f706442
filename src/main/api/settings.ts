// Settings through the proxy (SPEC Decisions "Logical vs physical settings", A5/C5): Miroir keeps each index's
// logical settings (what the client set; all GETs answer them) and pushes physical ones to every node —
// `_miroir_shard` filterable, `faceting.maxValuesPerFacet` × `scatter.faceting_overfetch`, and an explicit
// searchable list of learned fields when the logical one is `["*"]`. Two-phase by default: push to every node,
// then (settle step) read back and compare sha256(canonical JSON) per node, repair mismatches with backoff, roll
// back when a node stays wrong, and commit `settings_version` only when every node matches.
import { settingsHash } from '../../core/canonical-json.js';
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid } from '../../core/index-requests.js';
import { applySettingsPatch, defaultSettings, SETTINGS_ROUTES, validateSettings, type Settings } from '../../core/settings.js';
import { SHARD_FIELD } from '../../core/shard-filter.js';
import type { IndexState, TaskRow } from '../../store/store.js';
import { acceptedReply } from '../tasks/registry.js';
import { NodeClient } from '../cluster/node-client.js';
import type { Reply, RequestContext } from '../server/http.js';
import { waitForNodeTasks, type IndexDeps } from './indexes.js';

export interface SettingsDeps extends IndexDeps {
  strategy: 'two_phase' | 'sequential';
  maxRepairRetries: number;
  facetingOverfetch: number;
  /** This pod's id once known (Mode B lease `settings_broadcast:<index>` owner); absent → no lease (one pod). */
  podId?: () => string;
  leaseTtlMs?: number;
}

/**
 * Mode B for settings: one pod at a time verifies, repairs and commits an index's settings (lease
 * `settings_broadcast:<index>`, held while the step runs). A pod that waited re-reads the task and does nothing when
 * the holder already finished it, so a settings version is never committed twice.
 */
async function withSettingsLease(deps: SettingsDeps, uid: string, taskUid: number, step: () => Promise<void>): Promise<void> {
  const owner = deps.podId?.() ?? '';
  if (owner === '') return step();
  const scope = `settings_broadcast:${uid}`;
  const ttl = deps.leaseTtlMs ?? 10_000;
  const deadline = Date.now() + deps.verifyTimeoutMs;
  while (!(await deps.store.acquireLease(scope, owner, ttl))) {
    if (Date.now() > deadline) throw new MeiliError('internal', `another Miroir pod kept the settings of \`${uid}\` busy for ${deps.verifyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Renew while the step runs (verification with repairs may outlast one TTL).
  const renew = setInterval(() => void deps.store.acquireLease(scope, owner, ttl).catch(() => undefined), Math.max(100, Math.floor(ttl / 3))).unref();
  try {
    const stored = await deps.store.getTask(taskUid);
    if (stored !== null && stored.status !== 'enqueued' && stored.status !== 'processing') return;
    if ((await deps.store.getIndex(uid))?.settingsTaskUid === taskUid) return; // committed by the holder before us
    await step();
  } finally {
    clearInterval(renew);
    await deps.store.releaseLease(scope, owner).catch(() => undefined);
  }
}

const SETTINGS_VERSION_HEADER = 'x-miroir-settings-version';

/** Physical settings for a node from the logical ones and the fields learned so far. */
export function physicalSettings(logical: Settings, fields: readonly string[], overfetch: number): Settings {
  const p: Settings = structuredClone({ ...defaultSettings(), ...logical });
  const filterable = p.filterableAttributes as unknown[];
  if (!filterable.includes(SHARD_FIELD)) p.filterableAttributes = [...filterable, SHARD_FIELD];
  const faceting = p.faceting as { maxValuesPerFacet: number; sortFacetValuesBy: Record<string, string> };
  p.faceting = { ...faceting, maxValuesPerFacet: faceting.maxValuesPerFacet * overfetch };
  const searchable = p.searchableAttributes as string[];
  if (searchable.length === 1 && searchable[0] === '*' && fields.length > 0) p.searchableAttributes = fields.filter((f) => !f.startsWith('_miroir_'));
  return p;
}

async function pushTo(client: NodeClient, uid: string, physical: Settings): Promise<{ nodeId: string; taskUid: number } | null> {
  try {
    const res = await client.request({ method: 'PATCH', path: `/indexes/${encodeURIComponent(uid)}/settings`, body: JSON.stringify(physical), operation: 'settings_update' });
    return res.status === 202 ? { nodeId: client.nodeId, taskUid: NodeClient.json<{ taskUid: number }>(res).taskUid } : null;
  } catch {
    return null;
  }
}

async function nodeHash(client: NodeClient, uid: string): Promise<string | null> {
  try {
    const res = await client.request({ method: 'GET', path: `/indexes/${encodeURIComponent(uid)}/settings`, operation: 'settings_get' });
    return res.status === 200 ? settingsHash(NodeClient.json(res)) : null;
  } catch {
    return null;
  }
}

async function indexState(deps: IndexDeps, uid: string): Promise<IndexState> {
  const state = await deps.store.getIndex(uid);
  if (state === null) throw new MeiliError('index_not_found', `Index \`${uid}\` not found.`);
  return state;
}

function fullLogical(state: IndexState | null): Settings {
  return { ...defaultSettings(), ...(state?.settings ?? {}) };
}

export async function getSettings(deps: IndexDeps, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const state = await indexState(deps, uid);
  const logical = fullLogical(state);
  ctx.replyHeaders[SETTINGS_VERSION_HEADER] = String(state.settingsVersion);
  const route = ctx.params.setting;
  if (route === undefined) return { status: 200, body: logical };
  const spec = SETTINGS_ROUTES[route];
  if (spec === undefined) return { status: 404 };
  return { status: 200, body: logical[spec.key] };
}

/** PATCH /settings (route null), PUT|PATCH /settings/{setting}, DELETE /settings[/{setting}] (reset). */
export async function updateSettings(deps: SettingsDeps, ctx: RequestContext<unknown>, mode: { route: string | null; verb: 'PUT' | 'PATCH' | 'DELETE' }): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  if (mode.route !== null) {
    const spec = SETTINGS_ROUTES[mode.route];
    if (spec === undefined) return { status: 404 };
    if (mode.verb !== 'DELETE' && spec.updateVerb !== mode.verb) return { status: 405, headers: { allow: `GET, ${spec.updateVerb}, DELETE` } };
  }
  const state = await deps.store.getIndex(uid);
  const current = fullLogical(state);
  let details: Settings;
  if (mode.verb === 'DELETE') {
    details = mode.route === null ? Object.fromEntries(Object.keys(defaultSettings()).map((k) => [k, null])) : { [SETTINGS_ROUTES[mode.route]!.key]: null };
  } else {
    validateSettings(ctx.json, mode.route, current);
    details = mode.route === null ? (ctx.json as Settings) : { [SETTINGS_ROUTES[mode.route]!.key]: ctx.json };
  }
  const next = applySettingsPatch(current, validateSettings(details, null, current));
  const physical = physicalSettings(next, state?.fields ?? [], deps.facetingOverfetch);
  const clients = deps.topology.liveClients();
  const acks: Array<{ nodeId: string; taskUid: number }> = [];
  if (deps.strategy === 'sequential') {
    // Node by node, each verified before the next; any failure reverts the nodes already changed.
    const previous = physicalSettings(current, state?.fields ?? [], deps.facetingOverfetch);
    for (const c of clients) {
      const ack = await pushTo(c, uid, physical);
      const ok = ack !== null && (await waitForNodeTasks(deps.topology, [ack], deps.verifyTimeoutMs).then(() => true, () => false)) && (await nodeHash(c, uid)) === settingsHash(physical);
      if (!ok) {
        for (const done of acks) {
          const back = await pushTo(deps.topology.client(done.nodeId)!, uid, previous);
          if (back !== null) await waitForNodeTasks(deps.topology, [back], deps.verifyTimeoutMs).catch(() => undefined);
        }
        throw new MeiliError('miroir_no_quorum', `Settings could not be applied on ${c.nodeId}; the nodes already changed were reverted.`);
      }
      acks.push(ack!);
    }
  } else {
    for (const ack of await Promise.all(clients.map((c) => pushTo(c, uid, physical)))) if (ack !== null) acks.push(ack);
    if (acks.length === 0) throw new MeiliError('miroir_no_quorum', `No node accepted the settings update of \`${uid}\`.`);
  }
  return acceptedReply(await deps.tasks.create({ type: 'settingsUpdate', indexUid: uid, details, acks }));
}

/** Phase 2 of a settings update: verify every node's hash, repair with backoff, roll back or commit the version. */
export function registerSettingsSettleStep(deps: SettingsDeps): void {
  deps.tasks.onSettle('settingsUpdate', (task) => withSettingsLease(deps, task.indexUid!, task.uid, () => settle(task)));
  const settle = async (task: TaskRow): Promise<void> => {
    const uid = task.indexUid!;
    const state = await deps.store.getIndex(uid);
    const current = fullLogical(state);
    const next = applySettingsPatch(current, validateSettings(task.details ?? {}, null, current));
    const fields = state?.fields ?? [];
    const physical = physicalSettings(next, fields, deps.facetingOverfetch);
    const expected = settingsHash(physical);
    const repaired: string[] = [];
    for (const client of deps.topology.liveClients()) {
      let ok = (await nodeHash(client, uid)) === expected;
      for (let attempt = 0; !ok && attempt < deps.maxRepairRetries; attempt++) {
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const ack = await pushTo(client, uid, physical);
        if (ack !== null) await waitForNodeTasks(deps.topology, [ack], deps.verifyTimeoutMs).catch(() => undefined);
        ok = (await nodeHash(client, uid)) === expected;
        if (ok) repaired.push(client.nodeId);
      }
      if (!ok) {
        const previous = physicalSettings(current, fields, deps.facetingOverfetch);
        await Promise.all(deps.topology.liveClients().map((c) => pushTo(c, uid, previous)));
        throw new MeiliError('internal', `Settings of \`${uid}\` could not be applied on ${client.nodeId} after ${deps.maxRepairRetries} repairs; every node was rolled back to settings version ${state?.settingsVersion ?? 0}.`);
      }
    }
    const version = (state?.settingsVersion ?? 0) + 1;
    const now = new Date().toISOString();
    await deps.store.putIndex({ uid, primaryKey: state?.primaryKey ?? null, settings: next, settingsVersion: version, fields, createdAt: state?.createdAt ?? now, updatedAt: now, settingsTaskUid: task.uid });
    await Promise.all(deps.topology.liveClients().map((c) => deps.store.setNodeSettingsVersion(uid, c.nodeId, version)));
    await deps.store.publish('settings', `${uid}:${version}`);
    if (repaired.length > 0) task.details = { ...(task.details ?? {}), miroirRepairedNodes: repaired };
  };
}
