// The dev node's `--data DIR` persistence on LMDB: index metadata (settings, primary key, field order), one key per
// document, tasks (with the inputs of unfinished ones), API keys and node-wide settings. Every write resolves once
// committed, so what the node reports done survives a kill.
import { existsSync, statSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import type { DocumentChanges, IndexEngineApi, IndexMeta, StoredDocument } from './engine/index.js';
import type { TaskRecord } from '../core/tasks.js';

const SCHEMA_VERSION = 1;

export class DevNodeStore {
  private readonly root: RootDatabase;
  private readonly indexes: Database<IndexMeta, string>;
  private readonly docs: Database<{ seq: number; doc: Record<string, unknown> }, [string, string]>;
  private readonly tasks: Database<TaskRecord, number>;
  private readonly keys: Database<ApiKeyRecord, string>;
  private readonly misc: Database<unknown, string>;

  constructor(dir: string) {
    // `--data` names a directory, whatever its name: lmdb would take a name with a dot (`data.d`) for a file.
    const noSubdir = existsSync(dir) && statSync(dir).isFile();
    this.root = open({ path: dir, compression: false, noSubdir });
    this.indexes = this.root.openDB({ name: 'indexes' });
    this.docs = this.root.openDB({ name: 'documents' });
    this.tasks = this.root.openDB({ name: 'tasks' });
    this.keys = this.root.openDB({ name: 'keys' });
    this.misc = this.root.openDB({ name: 'misc' });
    const version = this.misc.get('schema_version') as number | undefined;
    if (version !== undefined && version > SCHEMA_VERSION) {
      throw new Error(
        `the data directory ${dir} was written by a newer dev node (schema ${version} > ${SCHEMA_VERSION})`,
      );
    }
    if (version === undefined) this.misc.putSync('schema_version', SCHEMA_VERSION);
  }

  loadIndexes(): Array<{ meta: IndexMeta; docs: StoredDocument[] }> {
    const out: Array<{ meta: IndexMeta; docs: StoredDocument[] }> = [];
    for (const { value: meta } of this.indexes.getRange()) {
      const docs: StoredDocument[] = [];
      for (const { key, value } of this.docs.getRange({ start: [meta.uid], end: [meta.uid, '\uffff'] })) {
        docs.push({ id: key[1], seq: value.seq, doc: value.doc });
      }
      out.push({ meta, docs });
    }
    return out;
  }

  async saveIndex(index: IndexEngineApi, changes: DocumentChanges | null): Promise<void> {
    await this.root.transaction(() => {
      this.indexes.put(index.uid, index.meta());
      if (changes !== null) {
        for (const d of changes.upserted) this.docs.put([index.uid, d.id], { seq: d.seq, doc: d.doc });
        for (const id of changes.deleted) this.docs.remove([index.uid, id]);
      }
    });
  }

  /** Rewrites an index under its (possibly new) uid, removing what was stored under `oldUid`. */
  async rewriteIndex(oldUid: string, index: IndexEngineApi): Promise<void> {
    await this.root.transaction(() => {
      this.removeSync(oldUid);
      this.indexes.put(index.uid, index.meta());
      for (const d of index.allDocuments()) this.docs.put([index.uid, d.id], { seq: d.seq, doc: d.doc });
    });
  }

  private removeSync(uid: string): void {
    this.indexes.remove(uid);
    for (const { key } of this.docs.getRange({ start: [uid], end: [uid, '\uffff'] })) this.docs.remove(key);
  }

  async deleteIndex(uid: string): Promise<void> {
    await this.root.transaction(() => this.removeSync(uid));
  }

  loadTasks(): TaskRecord[] {
    return [...this.tasks.getRange()].map((e) => e.value);
  }

  async saveTask(task: TaskRecord): Promise<void> {
    await this.tasks.put(task.uid, task);
  }

  async deleteTasks(uids: number[]): Promise<void> {
    await this.root.transaction(() => {
      for (const uid of uids) this.tasks.remove(uid);
    });
  }

  loadKeys(): ApiKeyRecord[] {
    return [...this.keys.getRange()].map((e) => e.value);
  }

  async saveKey(key: ApiKeyRecord): Promise<void> {
    await this.keys.put(key.uid, key);
  }

  async deleteKey(uid: string): Promise<void> {
    await this.keys.remove(uid);
  }

  getMisc<T>(name: string): T | undefined {
    return this.misc.get(name) as T | undefined;
  }

  async putMisc(name: string, value: unknown): Promise<void> {
    await this.misc.put(name, value);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
