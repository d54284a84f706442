// The per-index scoped search key the search page's requests are served with (SPEC A21): an API key with
// actions ["search"] on that one index, created by Miroir on first use and rotated `rotate_before_expiry_days`
// before its `max_age_days` expiry (or on `POST …/rotate-scoped-key`). Each pod adopts a new generation once the
// key reached its key registry and beacons the generation it uses (`…_observed:<pod>:<index>`, 60 s); the previous
// key is revoked only when every live pod beacons the new generation and the drain time has passed, so no page
// search fails during a rotation. Records change by compare-and-set, so several pods may run this at once.
import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord } from '../../core/auth/keys.js';
import type { KeyRegistry } from '../../core/auth/registry.js';
import { MeiliError } from '../../core/errors.js';
import {
  revocable,
  rotated,
  rotationDue,
  scopedKeyExpiry,
  type ScopedKeyRecord,
} from '../../core/search-ui/rotation.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../observability/logger.js';

/** How long a beacon lives without renewal (SPEC C8: EX 60). */
export const BEACON_TTL_MS = 60_000;

export interface ScopedKeysOptions {
  store: Store;
  keys: KeyRegistry;
  logger: Logger | null;
  maxAgeDays: number;
  rotateBeforeDays: number;
  drainMs: number;
  now?: () => number;
}

export interface RotationResult {
  old_key_id: string | null;
  new_key_id: string;
  generation: number;
  rotated_at: string;
}

/** RFC 3339 without fractional seconds (Meilisearch's `expiresAt` form). */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class ScopedKeys {
  private readonly o: ScopedKeysOptions;
  private readonly now: () => number;
  /** index → the generation (and key) this pod serves page requests with. */
  private readonly adopted = new Map<string, { generation: number; uid: string }>();
  private readonly syncing = new Map<string, Promise<void>>();
  /** This pod's peer URL (beacon owner) and the live pods; set by `attach` once the pod knows them. */
  private pod: string | null = null;
  private livePods: () => readonly string[] = () => (this.pod === null ? [] : [this.pod]);

  constructor(opts: ScopedKeysOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  attach(pod: string, livePods: () => readonly string[]): void {
    this.pod = pod;
    this.livePods = livePods;
  }

  /** The generation this pod uses for `index` (0 = none yet). */
  generationInUse(index: string): number {
    return this.adopted.get(index)?.generation ?? 0;
  }

  /** HOT PATH. The key a page request on `index` is served with (created on first use). */
  async keyFor(index: string): Promise<ApiKeyRecord> {
    const a = this.adopted.get(index);
    const found = a === undefined ? null : this.o.keys.byUid(a.uid);
    if (found !== null) return found;
    await this.sync(index);
    const b = this.adopted.get(index);
    const key = b === undefined ? null : this.o.keys.byUid(b.uid);
    if (key === null)
      throw new MeiliError(
        'invalid_api_key',
        `The search UI key of index \`${index}\` is not available; retry shortly.`,
      );
    return key;
  }

  /** Reads the record (creating generation 1 when there is none), adopts it and beacons; one at a time per index. */
  private sync(index: string): Promise<void> {
    let p = this.syncing.get(index);
    if (p === undefined) {
      p = (async () => {
        let record = await this.o.store.getScopedKey(index);
        if (record === null) record = await this.create(index);
        else if (
          this.o.keys.byUid(record.primary_uid) === null &&
          (await this.reloadKeys(), this.o.keys.byUid(record.primary_uid) === null)
        ) {
          // The primary key was deleted behind Miroir's back (DELETE /keys): replace it.
          this.o.logger?.warn({ index }, 'the search UI key was deleted; rotating to a new one');
          record = (await this.rotateRecord(index, record, true)).record;
        }
        await this.adopt(index, record);
      })().finally(() => this.syncing.delete(index));
      this.syncing.set(index, p);
    }
    return p;
  }

  private async reloadKeys(): Promise<void> {
    this.o.keys.load(await this.o.store.listKeys());
  }

  private async createKey(index: string, generation: number): Promise<string> {
    const uid = randomUUID();
    const now = this.now();
    await this.o.keys.create(
      {
        uid,
        name: `Search UI: ${index}`,
        description: `Created and rotated by Miroir for the search page /ui/search/${index} (generation ${generation}). Do not delete; rotate it with POST /_miroir/ui/search/${index}/rotate-scoped-key.`,
        actions: ['search'],
        indexes: [index],
        expiresAt: rfc3339(scopedKeyExpiry(now, this.o.maxAgeDays)),
      },
      new Date(now),
    );
    await this.o.store.publish('keys', uid);
    return uid;
  }

  private async dropKey(uid: string): Promise<void> {
    try {
      await this.o.keys.delete(uid);
    } catch (err) {
      if (!(err instanceof MeiliError && err.code === 'api_key_not_found')) throw err;
      await this.o.store.deleteKey(uid);
    }
    await this.o.store.publish('keys', uid);
  }

  /** Generation 1 for an index without a record (a concurrent creator on another pod may win; then theirs). */
  private async create(index: string): Promise<ScopedKeyRecord> {
    const uid = await this.createKey(index, 1);
    const record = rotated(null, uid, this.now());
    if (await this.o.store.casScopedKey(index, null, record)) {
      this.o.logger?.info({ index, key_uid: uid, generation: 1 }, 'search UI key created');
      await this.o.store.publish('search_ui', index);
      return record;
    }
    await this.dropKey(uid);
    const winner = await this.o.store.getScopedKey(index);
    if (winner === null)
      throw new MeiliError(
        'miroir_rotation_in_progress',
        `The search UI key of index \`${index}\` is changing; retry.`,
      );
    return winner;
  }

  /** Starts using `record`'s primary key once this pod's key registry holds it (never going back a generation). */
  private async adopt(index: string, record: ScopedKeyRecord): Promise<void> {
    const cur = this.adopted.get(index);
    if (cur !== undefined && cur.generation >= record.generation) return;
    if (this.o.keys.byUid(record.primary_uid) === null) await this.reloadKeys();
    if (this.o.keys.byUid(record.primary_uid) === null) return;
    this.adopted.set(index, { generation: record.generation, uid: record.primary_uid });
    this.o.logger?.info({ index, generation: record.generation }, 'search UI key generation adopted');
    await this.beacon(index, true);
  }

  /** Writes this pod's beacon for `index` (and tells the other pods when the generation changed). */
  private async beacon(index: string, changed: boolean): Promise<void> {
    const a = this.adopted.get(index);
    if (this.pod === null || a === undefined) return;
    await this.o.store.putScopedKeyObserved(this.pod, index, a.generation, BEACON_TTL_MS);
    if (changed) await this.o.store.publish('search_ui', index);
  }

  private async rotateRecord(
    index: string,
    record: ScopedKeyRecord,
    force: boolean,
  ): Promise<{ record: ScopedKeyRecord; result: RotationResult }> {
    if (record.previous_uid !== null && !force) {
      throw new MeiliError(
        'miroir_rotation_in_progress',
        `The previous rotation of the search UI key of index \`${index}\` is still waiting for every pod to use generation ${record.generation}. Retry later, or send \`{"force": true}\`.`,
      );
    }
    const uid = await this.createKey(index, record.generation + 1);
    const next = rotated(record, uid, this.now());
    if (!(await this.o.store.casScopedKey(index, record, next))) {
      await this.dropKey(uid);
      throw new MeiliError(
        'miroir_rotation_in_progress',
        `The search UI key of index \`${index}\` was rotated by another pod meanwhile; retry.`,
      );
    }
    // Forced while the previous rotation drained: the oldest key goes at once.
    if (record.previous_uid !== null) await this.dropKey(record.previous_uid);
    this.o.logger?.info(
      { index, generation: next.generation, old_key_uid: record.primary_uid, new_key_uid: uid, force },
      'search UI key rotated',
    );
    await this.o.store.publish('search_ui', index);
    return {
      record: next,
      result: {
        old_key_id: record.primary_uid,
        new_key_id: uid,
        generation: next.generation,
        rotated_at: next.rotated_at,
      },
    };
  }

  /** `POST /_miroir/ui/search/{index}/rotate-scoped-key`. */
  async rotate(index: string, force: boolean): Promise<RotationResult> {
    const record = await this.o.store.getScopedKey(index);
    if (record === null) {
      const created = await this.create(index);
      await this.adopt(index, created);
      return {
        old_key_id: null,
        new_key_id: created.primary_uid,
        generation: created.generation,
        rotated_at: created.rotated_at,
      };
    }
    const { record: next, result } = await this.rotateRecord(index, record, force);
    await this.adopt(index, next);
    return result;
  }

  /** One pass over every index's record: adopt newer generations, beacon, rotate when due, revoke when safe. */
  async tick(): Promise<void> {
    for (const { index, record } of await this.o.store.listScopedKeys()) {
      await this.adopt(index, record);
      await this.beacon(index, false);
      const now = this.now();
      if (record.previous_uid === null) {
        const primary = this.o.keys.byUid(record.primary_uid);
        const expires = primary?.expiresAt == null ? null : Date.parse(primary.expiresAt);
        if (rotationDue(expires, now, this.o.rotateBeforeDays)) {
          await this.rotateRecord(index, record, false).catch((err: unknown) => {
            if (!(err instanceof MeiliError && err.code === 'miroir_rotation_in_progress')) throw err;
          });
        }
        continue;
      }
      const pods = this.livePods();
      const observed = await this.o.store.getScopedKeyObserved(index, pods);
      if (!revocable(record, observed, pods, now, this.o.drainMs)) continue;
      if (await this.o.store.casScopedKey(index, record, { ...record, previous_uid: null })) {
        await this.dropKey(record.previous_uid);
        this.o.logger?.info(
          { index, generation: record.generation, revoked_key_uid: record.previous_uid, pods },
          'search UI key of the previous generation revoked',
        );
      }
    }
  }
}
