// The API-key registry behind `/keys`: records by uid, lookup by derived key value, Meilisearch's list/get/
// create/update/delete semantics and errors. Persistence is the caller's (a save/delete sink): the dev node keeps
// keys in its LMDB data dir, the proxy in its store, so both answer `/keys` identically.
import { MeiliError } from '../errors.js';
import { uintQueryParam } from '../pagination.js';
import type { KeyLookup } from './authorize.js';
import {
  applyKeyUpdate,
  defaultKeys,
  deriveKeyValue,
  toKeyObject,
  validateCreateKey,
  type ApiKeyObject,
  type ApiKeyRecord,
} from './keys.js';

export interface KeySink {
  save(record: ApiKeyRecord): Promise<void> | void;
  remove(uid: string): Promise<unknown> | void;
}

export class KeyRegistry implements KeyLookup {
  readonly masterKey: string | null;
  private readonly records = new Map<string, ApiKeyRecord>();
  private byValueMap = new Map<string, string>();
  private readonly sink: KeySink;
  /** Actions accepted beyond Meilisearch's (Miroir's own, e.g. `changes.get`). */
  private readonly extraActions: ReadonlySet<string>;

  constructor(masterKey: string | null, sink: KeySink, opts: { extraActions?: readonly string[] } = {}) {
    this.masterKey = masterKey;
    this.sink = sink;
    this.extraActions = new Set(opts.extraActions ?? []);
  }

  /** Replaces the in-memory view with stored records (start-up, or a change notification from another pod). */
  load(records: Iterable<ApiKeyRecord>): void {
    this.records.clear();
    for (const r of records) this.records.set(r.uid, r);
    this.reindex();
  }

  /** Creates Meilisearch's default keys when a master key is set and no key exists yet; returns them. */
  async seedDefaults(now: string): Promise<ApiKeyRecord[]> {
    if (this.masterKey === null || this.records.size > 0) return [];
    const keys = defaultKeys(now);
    for (const k of keys) {
      this.records.set(k.uid, k);
      await this.sink.save(k);
    }
    this.reindex();
    return keys;
  }

  private reindex(): void {
    this.byValueMap = new Map();
    if (this.masterKey === null) return;
    for (const k of this.records.values()) this.byValueMap.set(deriveKeyValue(this.masterKey, k.uid), k.uid);
  }

  private requireMasterKey(): string {
    if (this.masterKey === null) {
      throw new MeiliError(
        'missing_master_key',
        'Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.',
      );
    }
    return this.masterKey;
  }

  byValue(value: string): ApiKeyRecord | null {
    const uid = this.byValueMap.get(value);
    return uid === undefined ? null : (this.records.get(uid) ?? null);
  }

  byUid(uid: string): ApiKeyRecord | null {
    return this.records.get(uid) ?? null;
  }

  all(): ApiKeyRecord[] {
    return [...this.records.values()];
  }

  find(keyOrUid: string): ApiKeyRecord {
    const found = this.records.get(keyOrUid) ?? this.byValue(keyOrUid);
    if (found === null || found === undefined)
      throw new MeiliError('api_key_not_found', `API key \`${keyOrUid}\` not found.`);
    return found;
  }

  list(query: URLSearchParams): { results: ApiKeyObject[]; offset: number; limit: number; total: number } {
    const master = this.requireMasterKey();
    const offset = uintQueryParam(query, 'offset', 0, 'invalid_api_key_offset');
    const limit = uintQueryParam(query, 'limit', 20, 'invalid_api_key_limit');
    const all = [...this.records.values()].sort((a, b) =>
      a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.uid < b.uid ? -1 : 1,
    );
    return {
      results: all.slice(offset, offset + limit).map((k) => toKeyObject(k, master)),
      offset,
      limit,
      total: all.length,
    };
  }

  get(keyOrUid: string): ApiKeyObject {
    return toKeyObject(this.find(keyOrUid), this.requireMasterKey());
  }

  async create(body: unknown, now: Date): Promise<ApiKeyObject> {
    const master = this.requireMasterKey();
    const record = validateCreateKey(body, now, this.extraActions);
    if (this.records.has(record.uid))
      throw new MeiliError(
        'api_key_already_exists',
        `\`uid\` field value \`${record.uid}\` is already an existing API key.`,
      );
    await this.sink.save(record);
    this.records.set(record.uid, record);
    this.reindex();
    return toKeyObject(record, master);
  }

  /** Installs a key record as it is, uid and dates included (a dump import); its value derives from uid + master key. */
  async restore(record: ApiKeyRecord): Promise<void> {
    await this.sink.save(record);
    this.records.set(record.uid, record);
    this.reindex();
  }

  async update(keyOrUid: string, body: unknown, now: Date): Promise<ApiKeyObject> {
    const master = this.requireMasterKey();
    const record = applyKeyUpdate(this.find(keyOrUid), body, now);
    await this.sink.save(record);
    this.records.set(record.uid, record);
    return toKeyObject(record, master);
  }

  async delete(keyOrUid: string): Promise<void> {
    this.requireMasterKey();
    const record = this.find(keyOrUid);
    await this.sink.remove(record.uid);
    this.records.delete(record.uid);
    this.reindex();
  }
}
