// Streaming writer of Meilisearch's v6 `.dump` (tar.gz): header files first (metadata.json, keys.jsonl,
// experimental-features.json, network.json, webhooks.json), then each index (metadata.json, settings.json,
// documents.jsonl), then tasks/queue.jsonl (+ update_files) and batches/queue.jsonl. Memory stays bounded whatever
// the dump size: a JSON Lines file is written to a spool file first (tar needs its size up front), then streamed in.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import {
  DUMP_PATHS,
  dumpMetadata,
  dumpUidAt,
  indexPath,
  keyToDump,
  updateFilePath,
  type Document,
  type DumpIndexMetadata,
} from './format.js';
import type { TaskDump } from './tasks.js';

/**
 * The uid of a dump started at `at` whose `{uid}.dump` is not in `dir` yet: Meilisearch's time-based uid, moved on by a
 * millisecond while the name is taken (two dumps started in the same millisecond).
 */
export async function freeDumpUid(dir: string, at: Date): Promise<string> {
  const taken = (uid: string) =>
    access(join(dir, `${uid}.dump`)).then(
      () => true,
      () => false,
    );
  let uid = dumpUidAt(at);
  for (let bump = 1; await taken(uid); bump++) uid = dumpUidAt(new Date(at.getTime() + bump));
  return uid;
}

export interface DumpWriterOptions {
  /** `dumpDate` in metadata.json and the entries' mtime (default: now). */
  dumpDate?: Date;
  /** `dbVersion` in metadata.json (default: the Meilisearch version Miroir speaks). */
  dbVersion?: string;
  /** Written as instance_uid.uuid when set (Meilisearch writes it when it has one). */
  instanceUid?: string | null;
  /** Directory for spool files (default: the OS temporary directory). */
  tmpDir?: string;
  /** gzip level (default 6, as Meilisearch's `Compression::default()`). */
  gzipLevel?: number;
}

type Source<T> = Iterable<T> | AsyncIterable<T>;

/** A task line and, for a task still enqueued with a payload, the documents of its update file. */
export interface TaskEntry {
  task: TaskDump;
  updateFile?: Source<Document> | null;
}

type Phase = 'header' | 'indexes' | 'tasks' | 'batches' | 'done';
type EntryHeader = Parameters<ReturnType<typeof tarPack>['entry']>[0];
const PHASES: Phase[] = ['header', 'indexes', 'tasks', 'batches', 'done'];
const CHUNK = 64 * 1024;

export class DumpWriter {
  private readonly pack = tarPack();
  private readonly done: Promise<void>;
  private failure: Error | null = null;
  /** Aborted when the output pipeline fails, so no wait on the archive outlives it (and none piles up). */
  private readonly broken = new AbortController();
  private readonly mtime: Date;
  private readonly tmpRoot: string;
  private spoolDir: string | null = null;
  private spoolSeq = 0;
  private phase: Phase = 'header';
  private wroteKeys = false;
  private readonly written = new Set<string>();
  private bytes = 0;

  private constructor(out: Writable, opts: DumpWriterOptions) {
    this.mtime = opts.dumpDate ?? new Date();
    this.tmpRoot = opts.tmpDir ?? tmpdir();
    const pack = this.pack;
    const gzip = createGzip({ level: opts.gzipLevel ?? 6 });
    gzip.on('data', (c: Buffer) => (this.bytes += c.length));
    // The tar stream is a streamx Readable: fed to the pipeline as an async iterable, not as a Node stream.
    this.done = pipeline(
      async function* () {
        for await (const chunk of pack) yield chunk;
      },
      gzip,
      out,
    );
    this.done.catch((err: Error) => {
      this.failure = err;
      this.broken.abort(err);
    });
  }

  /** Starts a dump on `out` (which the writer ends) and writes metadata.json (and instance_uid.uuid). */
  static async create(out: Writable, opts: DumpWriterOptions = {}): Promise<DumpWriter> {
    const w = new DumpWriter(out, opts);
    try {
      await w.json(DUMP_PATHS.metadata, dumpMetadata(w.mtime, opts.dbVersion));
      if (opts.instanceUid !== undefined && opts.instanceUid !== null)
        await w.small(DUMP_PATHS.instanceUid, Buffer.from(opts.instanceUid));
    } catch (err) {
      await w.abort(err instanceof Error ? err : undefined);
      throw err;
    }
    return w;
  }

  /** Compressed bytes produced so far. */
  get bytesWritten(): number {
    return this.bytes;
  }

  private enter(phase: Phase, what: string): void {
    if (this.failure !== null) throw this.failure;
    if (PHASES.indexOf(phase) < PHASES.indexOf(this.phase))
      throw new Error(`DumpWriter: ${what} must come before the ${this.phase} part of the dump`);
    if (phase !== 'header' && !this.wroteKeys)
      throw new Error('DumpWriter: keys() must be written before indexes and tasks');
    this.phase = phase;
  }

  /** Waits for `emitter` to drain, or fails with the output's failure. */
  private async drained(emitter: NodeJS.EventEmitter): Promise<void> {
    try {
      await once(emitter, 'drain', { signal: this.broken.signal });
    } catch (err) {
      throw this.failure ?? err;
    }
  }

  /** Settles with an entry's completion callback, or fails with the output's failure. */
  private settled(start: (cb: (err?: Error | null) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signal = this.broken.signal;
      if (signal.aborted) return reject(this.failure);
      const onAbort = () => reject(this.failure);
      signal.addEventListener('abort', onAbort, { once: true });
      start((err) => {
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  private entry(header: EntryHeader, body?: Buffer): Promise<void> {
    if (this.written.has(header.name)) return Promise.reject(new Error(`DumpWriter: \`${header.name}\` written twice`));
    this.written.add(header.name);
    return this.settled((cb) => {
      if (body === undefined) this.pack.entry({ mtime: this.mtime, ...header }, cb);
      else this.pack.entry({ mtime: this.mtime, mode: 0o644, ...header }, body, cb);
    });
  }

  private dir(name: string): Promise<void> {
    return this.written.has(name) ? Promise.resolve() : this.entry({ name, type: 'directory', mode: 0o755 });
  }

  private small(name: string, body: Buffer): Promise<void> {
    return this.entry({ name, size: body.length, type: 'file' }, body);
  }

  private json(name: string, value: unknown): Promise<void> {
    return this.small(name, Buffer.from(JSON.stringify(value)));
  }

  /** Writes `items` as JSON Lines to a spool file, then streams that file into the archive; returns the count. */
  private async jsonl<T>(name: string, items: Source<T>, map: (item: T) => unknown = (x) => x): Promise<number> {
    if (this.spoolDir === null) this.spoolDir = await mkdtemp(join(this.tmpRoot, 'miroir-dump-'));
    const file = join(this.spoolDir, `${this.spoolSeq++}.jsonl`);
    const ws = createWriteStream(file);
    let count = 0;
    try {
      let buf = '';
      for await (const item of items) {
        buf += JSON.stringify(map(item)) + '\n';
        count++;
        if (buf.length >= CHUNK) {
          if (!ws.write(buf)) await this.drained(ws);
          buf = '';
        }
      }
      ws.end(buf);
      await finished(ws);
      const { size } = await stat(file);
      await this.stream(name, file, size);
    } finally {
      ws.destroy();
      await rm(file, { force: true });
    }
    return count;
  }

  private async stream(name: string, file: string, size: number): Promise<void> {
    if (this.written.has(name)) throw new Error(`DumpWriter: \`${name}\` written twice`);
    this.written.add(name);
    let sink!: ReturnType<typeof this.pack.entry>;
    const entryDone = this.settled(
      (cb) => (sink = this.pack.entry({ name, size, mode: 0o644, mtime: this.mtime, type: 'file' }, cb)),
    );
    entryDone.catch(() => undefined); // awaited below; a failure while streaming surfaces there or from drained()
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      if (!sink.write(chunk)) await this.drained(sink as unknown as NodeJS.EventEmitter);
    }
    sink.end(null);
    await entryDone;
  }

  // ------------------------------------------------------------------ header

  /** keys.jsonl (required; call with no keys for an empty file). */
  async keys(keys: Source<ApiKeyRecord>): Promise<number> {
    this.enter('header', 'keys');
    if (this.wroteKeys) throw new Error('DumpWriter: keys written twice');
    this.wroteKeys = true;
    return this.jsonl(DUMP_PATHS.keys, keys, keyToDump);
  }

  /** experimental-features.json (Meilisearch's RuntimeTogglableFeatures, camelCase). */
  async experimentalFeatures(features: Record<string, unknown>): Promise<void> {
    this.enter('header', 'experimental features');
    await this.json(DUMP_PATHS.features, features);
  }

  /** network.json (`self`, `remotes`, `shards`, `leader`, `version`). */
  async network(network: Record<string, unknown>): Promise<void> {
    this.enter('header', 'network');
    await this.json(DUMP_PATHS.network, network);
  }

  /** webhooks.json (`{"webhooks": {uuid: {url, headers}}}`). */
  async webhooks(webhooks: Record<string, unknown> = { webhooks: {} }): Promise<void> {
    this.enter('header', 'webhooks');
    await this.json(DUMP_PATHS.webhooks, webhooks);
  }

  /** chat-completions-settings/ (one `{name}.json` per workspace; the directory is written even when empty). */
  async chatCompletionsSettings(settings: Record<string, unknown> = {}): Promise<void> {
    this.enter('header', 'chat completions settings');
    await this.dir(DUMP_PATHS.chatDir);
    for (const [name, value] of Object.entries(settings)) await this.json(`${DUMP_PATHS.chatDir}${name}.json`, value);
  }

  // ------------------------------------------------------------------ body

  /** indexes/{uid}/: metadata.json, settings.json and the documents (streamed); returns the document count. */
  async index(
    metadata: DumpIndexMetadata,
    settings: Record<string, unknown>,
    documents: Source<Document>,
  ): Promise<number> {
    this.enter('indexes', 'an index');
    await this.dir(DUMP_PATHS.indexesDir);
    await this.dir(indexPath(metadata.uid, ''));
    await this.json(indexPath(metadata.uid, 'metadata.json'), {
      uid: metadata.uid,
      primaryKey: metadata.primaryKey,
      createdAt: metadata.createdAt,
      updatedAt: metadata.updatedAt,
    });
    await this.json(indexPath(metadata.uid, 'settings.json'), settings);
    return this.jsonl(indexPath(metadata.uid, 'documents.jsonl'), documents);
  }

  /** tasks/queue.jsonl and tasks/update_files/{uid}.jsonl; returns the task count. */
  async tasks(tasks: Source<TaskEntry>): Promise<number> {
    this.enter('tasks', 'tasks');
    await this.dir(DUMP_PATHS.indexesDir);
    await this.dir(DUMP_PATHS.tasksDir);
    await this.dir(DUMP_PATHS.updateFilesDir);
    const files: Array<{ uid: number; docs: Source<Document> }> = [];
    const count = await this.jsonl(DUMP_PATHS.taskQueue, tasks, (e) => {
      if (e.updateFile !== undefined && e.updateFile !== null) files.push({ uid: e.task.uid, docs: e.updateFile });
      return e.task;
    });
    for (const f of files) await this.jsonl(updateFilePath(f.uid), f.docs);
    return count;
  }

  /** batches/queue.jsonl (Meilisearch's `Batch` records). */
  async batches(batches: Source<Record<string, unknown>>): Promise<number> {
    this.enter('batches', 'batches');
    await this.dir(DUMP_PATHS.batchesDir);
    return this.jsonl(DUMP_PATHS.batchQueue, batches);
  }

  /** Writes what Meilisearch expects and was not written (empty keys.jsonl, indexes/, tasks/, batches/), ends. */
  async finish(): Promise<void> {
    try {
      if (!this.wroteKeys) await this.keys([]);
      if (!this.written.has(DUMP_PATHS.taskQueue)) await this.tasks([]);
      if (!this.written.has(DUMP_PATHS.batchQueue)) await this.batches([]);
      this.phase = 'done';
      this.pack.finalize();
      await this.done;
    } catch (err) {
      await this.abort(err instanceof Error ? err : undefined);
      throw err;
    } finally {
      await this.cleanup();
    }
  }

  /** Stops writing (the output is left incomplete) and removes spool files. */
  async abort(err: Error = new Error('dump aborted')): Promise<void> {
    this.phase = 'done';
    this.pack.destroy(err);
    await this.done.catch(() => undefined);
    await this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (this.spoolDir !== null) {
      const dir = this.spoolDir;
      this.spoolDir = null;
      await rm(dir, { recursive: true, force: true });
    }
  }
}
