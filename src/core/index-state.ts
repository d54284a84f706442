// The index-state model as pure logic (SPEC Round 2 decisions "Task order and state ownership"): one record per
// index holds the committed state clients read (primary key, logical settings + settings_version, dates), the
// learned fields, the shard count, and the state changes of tasks that were sent to nodes but are not settled yet.
// `project` folds those pending changes over the committed state: writes compute what they send from that
// projection, because node queues apply every earlier task first. Settling a task commits (or drops) its changes.
// Also the logical → physical settings rules (whole settings for a node, and the delta a settings task sends).
import { applySettingsPatch, defaultSettings, type Settings } from './settings.js';
import { isReservedField } from './reserved.js';
import { SHARD_FIELD } from './shard-filter.js';
import { membersOf, numberOf } from './types.js';

export type PendingChange =
  /** `sticky`: sent on its own by a write (implicit creation), so it stands even when the rest of the task failed. */
  | { taskUid: number; kind: 'create'; primaryKey: string | null; sticky?: boolean }
  | { taskUid: number; kind: 'delete' }
  | { taskUid: number; kind: 'settings'; patch: Settings }
  | { taskUid: number; kind: 'primaryKey'; primaryKey: string; sticky?: boolean }
  /** A rename or swap in flight: writes to this index wait until it settled (its outcome decides the index). */
  | { taskUid: number; kind: 'barrier' };

/** What clients see of an index: the state after every settled task. */
export interface CommittedIndex {
  primaryKey: string | null;
  /** Full logical settings (every key, defaults included). */
  settings: Settings;
  settingsVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface IndexRecord {
  uid: string;
  /** Compare-and-set version, written by the store (1 on creation, +1 per change). */
  version: number;
  /** null while the index only exists as a pending creation. */
  committed: CommittedIndex | null;
  /** Top-level fields learned from documents in first-seen order (drives the physical searchableAttributes). */
  fields: string[];
  /** The index's shard count, fixed when it was created. */
  shards: number;
  /** State changes of tasks sent to nodes but not settled, in task order. */
  pending: PendingChange[];
}

export type IndexRecordDraft = Omit<IndexRecord, 'version'>;

/** The index as every node will hold it once its queue ran: what a new write builds on. */
export interface ProjectedIndex {
  exists: boolean;
  primaryKey: string | null;
  settings: Settings;
  /** A rename or swap is in flight: writes must wait for it to settle. */
  barrier: boolean;
}

const ABSENT: ProjectedIndex = Object.freeze({
  exists: false,
  primaryKey: null,
  settings: Object.freeze(defaultSettings()),
  barrier: false,
});

export function project(record: IndexRecord | IndexRecordDraft | null): ProjectedIndex {
  if (record === null) return ABSENT;
  const c = record.committed;
  let p: ProjectedIndex =
    c === null ? { ...ABSENT } : { exists: true, primaryKey: c.primaryKey, settings: c.settings, barrier: false };
  for (const change of record.pending) p = applyChange(p, change);
  return p;
}

function applyChange(p: ProjectedIndex, change: PendingChange): ProjectedIndex {
  switch (change.kind) {
    case 'create':
      return p.exists
        ? p
        : { exists: true, primaryKey: change.primaryKey, settings: defaultSettings(), barrier: p.barrier };
    case 'delete':
      return { ...ABSENT, barrier: p.barrier };
    case 'settings':
      // Like Meilisearch, a settings update of a missing index creates it.
      return {
        ...p,
        exists: true,
        settings: applySettingsPatch(p.exists ? p.settings : defaultSettings(), change.patch),
      };
    case 'primaryKey':
      return { ...p, exists: true, primaryKey: change.primaryKey };
    case 'barrier':
      return { ...p, barrier: true };
  }
}

/**
 * Settles one task's changes: applied to the committed state when the task succeeded, dropped when it did not —
 * except sticky ones when the task failed (not canceled) after they were sent. Returns the next record, or null
 * when nothing is left of the index (absent and nothing pending).
 */
export function settleChanges(
  record: IndexRecord | IndexRecordDraft,
  taskUid: number,
  succeeded: boolean,
  at: string,
  keepSticky = false,
): IndexRecordDraft | null {
  const mine = record.pending.filter(
    (c) => c.taskUid === taskUid && (succeeded || (keepSticky && 'sticky' in c && c.sticky === true)),
  );
  let committed = record.committed;
  {
    for (const change of mine) {
      switch (change.kind) {
        case 'create':
          if (committed === null)
            committed = {
              primaryKey: change.primaryKey,
              settings: defaultSettings(),
              settingsVersion: 1,
              createdAt: at,
              updatedAt: at,
            };
          break;
        case 'delete':
          committed = null;
          break;
        case 'settings':
          committed =
            committed === null
              ? {
                  primaryKey: null,
                  settings: applySettingsPatch(defaultSettings(), change.patch),
                  settingsVersion: 1,
                  createdAt: at,
                  updatedAt: at,
                }
              : {
                  ...committed,
                  settings: applySettingsPatch(committed.settings, change.patch),
                  settingsVersion: committed.settingsVersion + 1,
                  updatedAt: at,
                };
          break;
        case 'primaryKey':
          if (committed !== null) committed = { ...committed, primaryKey: change.primaryKey, updatedAt: at };
          break;
        case 'barrier':
          break;
      }
    }
  }
  const pending = record.pending.filter((c) => c.taskUid !== taskUid);
  if (committed === null && pending.length === 0) return null;
  return { uid: record.uid, committed, fields: record.fields, shards: record.shards, pending };
}

/** The record's draft (everything but the CAS version), for a change. */
export function draftOf(record: IndexRecord): IndexRecordDraft {
  const { version: _v, ...rest } = record;
  void _v;
  return structuredClone(rest);
}

export function emptyRecord(uid: string, shards: number): IndexRecordDraft {
  return { uid, committed: null, fields: [], shards, pending: [] };
}

function clientField(f: string): boolean {
  return !isReservedField(f);
}

/** The physical searchableAttributes for a logical value: an explicit learned list stands in for `["*"]`. */
function physicalSearchable(logical: unknown, fields: readonly string[]): unknown {
  if (Array.isArray(logical) && logical.length === 1 && logical[0] === '*' && fields.length > 0)
    return fields.filter(clientField);
  return logical;
}

/**
 * Whole physical settings for a node: logical plus `_miroir_shard` filterable (and `extraFilterable`: Miroir's other
 * physical filters, e.g. `_miroir_expires_at` with TTL on), facet over-fetch, learned fields.
 */
export function physicalSettings(
  logical: Settings,
  fields: readonly string[],
  overfetch: number,
  extraFilterable: readonly string[] = [],
): Settings {
  const p: Settings = structuredClone({ ...defaultSettings(), ...logical });
  const filterable: unknown[] = Array.isArray(p.filterableAttributes) ? p.filterableAttributes : [];
  const add = [SHARD_FIELD, ...extraFilterable].filter((f) => !filterable.includes(f));
  if (add.length > 0) p.filterableAttributes = [...filterable, ...add];
  const faceting = membersOf(p.faceting);
  p.faceting = { ...faceting, maxValuesPerFacet: (numberOf(faceting.maxValuesPerFacet) ?? 100) * overfetch };
  p.searchableAttributes = physicalSearchable(p.searchableAttributes, fields);
  return p;
}

/**
 * What a settings task sends to nodes: only the keys the client changed (node queues apply it over whatever the
 * earlier tasks left, exactly like Meilisearch applies one task after another), each turned physical. `after` is
 * the logical settings once the patch applies. A reset (null) is sent as the physical default, because a node's
 * own default would drop `_miroir_shard` or the facet over-fetch.
 */
export function physicalPatch(
  patch: Settings,
  after: Settings,
  fields: readonly string[],
  overfetch: number,
  extraFilterable: readonly string[] = [],
): Settings {
  const whole = physicalSettings(after, fields, overfetch, extraFilterable);
  const out: Settings = {};
  // An embedders patch goes as sent (its nulls remove embedders on the nodes too); it has no physical form.
  for (const key of Object.keys(patch)) out[key] = key === 'embedders' && patch[key] !== null ? patch[key] : whole[key];
  return out;
}

/** The logical settings of a projection or committed state, every key present. */
export function fullSettings(settings: Settings | undefined): Settings {
  return settings === undefined ? defaultSettings() : settings;
}
