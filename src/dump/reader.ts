// Streaming reader of Meilisearch's v6 `.dump` (tar.gz) in one pass, memory bounded whatever the dump size. It
// hands a visitor the parts in a fixed order whatever the archive order: the header (metadata.json, keys.jsonl and
// the other small top-level files) first, then each index with its metadata and settings before its documents,
// then batches and tasks. Parts that arrive too early (Meilisearch's tar order follows its file system) are spooled
// to temporary files; a dump this module wrote arrives in order and streams straight through.
import { isObject, isObjectArray, membersOf, stringOf } from '../core/types.js';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { ApiKeyRecord } from '../core/auth/keys.js';
import { MeiliError, errorMessage } from '../core/errors.js';
import {
  DUMP_PATHS,
  invalidDump,
  isUuid,
  keyFromDump,
  parseDumpMetadata,
  parseIndexMetadata,
  type Document,
  type DumpIndexMetadata,
  type DumpMetadata,
} from './format.js';
import { jsonLines } from './lines.js';

export interface DumpHeader {
  metadata: DumpMetadata;
  instanceUid: string | null;
  keys: ApiKeyRecord[];
  /** experimental-features.json, network.json, webhooks.json: null when absent. */
  experimentalFeatures: Record<string, unknown> | null;
  network: Record<string, unknown> | null;
  webhooks: Record<string, unknown> | null;
  /** chat-completions-settings/{name}.json by name. */
  chatCompletionsSettings: Record<string, unknown>;
}

export interface DumpIndex {
  metadata: DumpIndexMetadata;
  /** settings.json as written (Meilisearch's full settings object); the consumer validates what it applies. */
  settings: Record<string, unknown>;
}

/** Documents in the order of the file, as the batches the reader parsed them in (never empty arrays). */
export type DocumentBatches = AsyncIterable<Document[]>;

/**
 * What a dump is handed to. Each callback may be async; the reader waits for it. Documents not consumed by the
 * callback are read past (and still checked) once it returns. Callbacks run in this order: header; index (per
 * index); batch (per batch, if `batch` is set); task (per task, if `task` is set).
 */
export interface DumpVisitor {
  header?(header: DumpHeader): void | Promise<void>;
  index?(index: DumpIndex, documents: DocumentBatches): void | Promise<void>;
  batch?(batch: Record<string, unknown>): void | Promise<void>;
  /** A tasks/queue.jsonl line (see taskFromDump) and the documents of its update file, if it has one. */
  task?(task: Record<string, unknown>, updateFile: DocumentBatches | null): void | Promise<void>;
}

export interface ReadDumpOptions {
  /** Directory for spool files (default: the OS temporary directory). */
  tmpDir?: string;
  /** Largest small JSON file (metadata, settings, keys.jsonl, …) held in memory; default 16 MiB. */
  maxJsonBytes?: number;
  /** Longest JSON line (one document); default 64 MiB. */
  maxLineBytes?: number;
  /** Called with the compressed bytes read, as they are read (progress). */
  onBytes?(bytes: number): void;
}

export interface DumpSummary {
  /** Complete: header files that came after the first index or task entry are filled in here. */
  header: DumpHeader;
  indexes: Array<{ uid: string; documents: number }>;
  tasks: number;
  batches: number;
  /** Compressed bytes read. */
  bytesRead: number;
  /** Bytes written to spool files because they came before what they depend on. */
  spooledBytes: number;
  /** Archive entries that are not part of the format (first 50). */
  ignored: string[];
}

interface IndexParts {
  dir: string;
  metadata: DumpIndexMetadata | null;
  settings: Record<string, unknown> | null;
  /** Spool file of documents.jsonl that came before the index was ready. */
  spooled: string | null;
  delivered: boolean;
}

type Entry = AsyncIterable<Uint8Array> & { header: { name: string; type: string | null; size?: number } };

const MiB = 1024 * 1024;

function entryName(raw: string): string | null {
  let name = raw.replace(/\\/g, '/');
  while (name.startsWith('./')) name = name.slice(2);
  name = name.replace(/^\/+/, '');
  if (name === '' || name === '.' || name.split('/').some((seg) => seg === '..')) return null;
  return name;
}

/** An archive-level failure (gzip or tar) in Meilisearch's shape. */
function archiveError(err: unknown): Error {
  if (err instanceof MeiliError) return err;
  const e = membersOf(err);
  const msg = stringOf(e.message) ?? String(err);
  const code = stringOf(e.code);
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg)) return invalidDump(`the archive is truncated (${msg}).`);
  if (/header check/i.test(msg)) return invalidDump(`it is not a gzip file (${msg}).`);
  if (code !== undefined && code.startsWith('Z_')) return invalidDump(`the archive is corrupted (${msg}).`);
  if (/tar header|Invalid header|Header exceeds/i.test(msg)) return invalidDump(`it is not a tar archive (${msg}).`);
  return err instanceof Error ? err : new Error(msg);
}

async function* noBytes(): AsyncGenerator<Uint8Array> {}

/** Hands out a generator's values without letting the consumer close it (an early `break` must not end the entry). */
function unclosable<T>(gen: AsyncGenerator<T, void, undefined>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => gen.next(),
      return: async () => ({ done: true as const, value: undefined }),
    }),
  };
}

class DumpReadState {
  private readonly maxJson: number;
  private readonly maxLine: number;
  private readonly tmpRoot: string;
  private spoolDir: string | null = null;
  private spoolSeq = 0;
  private header: DumpHeader | null = null;
  private headerEmitted = false;
  private metadata: DumpMetadata | null = null;
  private keys: ApiKeyRecord[] | null = null;
  private instanceUid: string | null = null;
  private features: Record<string, unknown> | null = null;
  private network: Record<string, unknown> | null = null;
  private webhooks: Record<string, unknown> | null = null;
  private readonly chat: Record<string, unknown> = Object.create(null);
  private readonly indexes = new Map<string, IndexParts>();
  private readonly delivered: Array<{ uid: string; documents: number }> = [];
  private readonly uids = new Set<string>();
  private sawTaskQueue = false;
  private taskQueue: string | null = null;
  private batchQueue: string | null = null;
  private readonly updateFiles = new Map<number, string>();
  private tasks = 0;
  private batches = 0;
  spooledBytes = 0;
  readonly ignored: string[] = [];

  constructor(
    private readonly visitor: DumpVisitor,
    opts: ReadDumpOptions,
  ) {
    this.maxJson = opts.maxJsonBytes ?? 16 * MiB;
    this.maxLine = opts.maxLineBytes ?? 64 * MiB;
    this.tmpRoot = opts.tmpDir ?? tmpdir();
  }

  // ---------------------------------------------------------------- entries

  async onEntry(entry: Entry): Promise<void> {
    const type = entry.header.type ?? 'file';
    const name = entryName(entry.header.name);
    if ((type !== 'file' && type !== 'contiguous-file') || name === null) return this.skip(entry, null);
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.startsWith('._')) return this.skip(entry, null); // macOS AppleDouble files in hand-made archives
    const parts = name.split('/');
    if (parts.length === 1) return this.onTopLevel(entry, name);
    if (parts.length === 2 && parts[0] === 'chat-completions-settings' && base.endsWith('.json')) {
      this.chat[base.slice(0, -5)] = await this.readJson(entry, name);
      return;
    }
    if (parts.length === 3 && parts[0] === 'indexes') return this.onIndexFile(entry, name, parts[1]!, parts[2]!);
    if (name === DUMP_PATHS.taskQueue) {
      await this.bodyStarts();
      if (this.sawTaskQueue) throw invalidDump(`\`${name}\` appears twice.`);
      this.sawTaskQueue = true;
      if (this.visitor.task === undefined) return this.skip(entry, null);
      this.taskQueue = await this.spool(entry);
      return;
    }
    if (name === DUMP_PATHS.batchQueue) {
      await this.bodyStarts();
      if (this.visitor.batch === undefined) return this.skip(entry, null);
      this.batchQueue = await this.spool(entry);
      return;
    }
    const update = /^tasks\/update_files\/(\d+)\.jsonl$/.exec(name);
    if (update !== null) {
      await this.bodyStarts();
      if (this.visitor.task === undefined) return this.skip(entry, null);
      this.updateFiles.set(Number(update[1]), await this.spool(entry));
      return;
    }
    return this.skip(entry, name);
  }

  private async onTopLevel(entry: Entry, name: string): Promise<void> {
    switch (name) {
      case DUMP_PATHS.metadata:
        this.metadata = parseDumpMetadata(await this.readJson(entry, name));
        return;
      case DUMP_PATHS.keys: {
        const keys: ApiKeyRecord[] = [];
        for await (const batch of jsonLines(this.limited(entry, name), {
          where: name,
          maxLineBytes: this.maxJson,
          objects: true,
        })) {
          for (const k of batch) keys.push(keyFromDump(k, `\`${name}\` line ${keys.length + 1}`));
        }
        this.keys = keys;
        return;
      }
      case DUMP_PATHS.instanceUid: {
        const text = (await this.readSmall(entry, name)).toString('utf8').trim();
        if (!isUuid(text)) throw invalidDump(`\`${name}\` does not hold a UUID.`);
        this.instanceUid = text.toLowerCase();
        return;
      }
      case DUMP_PATHS.features:
        this.features = this.object(await this.readJson(entry, name), name);
        return;
      case DUMP_PATHS.network:
        this.network = this.object(await this.readJson(entry, name), name);
        return;
      case DUMP_PATHS.webhooks:
        this.webhooks = this.object(await this.readJson(entry, name), name);
        return;
    }
    return this.skip(entry, name);
  }

  private async onIndexFile(entry: Entry, name: string, dir: string, file: string): Promise<void> {
    if (file !== 'metadata.json' && file !== 'settings.json' && file !== 'documents.jsonl')
      return this.skip(entry, name);
    await this.bodyStarts();
    let parts = this.indexes.get(dir);
    if (parts === undefined) {
      parts = { dir, metadata: null, settings: null, spooled: null, delivered: false };
      this.indexes.set(dir, parts);
    }
    if (parts.delivered) throw invalidDump(`\`${name}\` comes after the documents of its index.`);
    if (file === 'metadata.json') {
      if (parts.metadata !== null) throw invalidDump(`\`${name}\` appears twice.`);
      parts.metadata = parseIndexMetadata(await this.readJson(entry, name), name);
      if (this.uids.has(parts.metadata.uid)) throw invalidDump(`two indexes are named \`${parts.metadata.uid}\`.`);
      this.uids.add(parts.metadata.uid);
    } else if (file === 'settings.json') {
      if (parts.settings !== null) throw invalidDump(`\`${name}\` appears twice.`);
      parts.settings = this.object(await this.readJson(entry, name), name);
    } else {
      if (parts.spooled !== null) throw invalidDump(`\`${name}\` appears twice.`);
      if (this.ready(parts)) return this.deliverIndex(parts, entry);
      parts.spooled = await this.spool(entry);
    }
    if (parts.spooled !== null && this.ready(parts)) await this.deliverIndex(parts, null);
  }

  // ---------------------------------------------------------------- ordering

  private ready(parts: IndexParts): boolean {
    return this.headerEmitted && parts.metadata !== null && parts.settings !== null;
  }

  /** The first index or task entry: the header is complete if metadata.json and keys.jsonl were seen. */
  private async bodyStarts(): Promise<void> {
    if (this.headerEmitted || this.metadata === null || this.keys === null) return;
    await this.emitHeader();
  }

  private async emitHeader(): Promise<void> {
    if (this.metadata === null) throw invalidDump('`metadata.json` is missing (is this a Meilisearch dump?).');
    if (this.keys === null) throw invalidDump('`keys.jsonl` is missing.');
    this.headerEmitted = true;
    this.header = this.currentHeader();
    await this.visitor.header?.(this.header);
    for (const parts of this.indexes.values())
      if (parts.spooled !== null && this.ready(parts)) await this.deliverIndex(parts, null);
  }

  private currentHeader(): DumpHeader {
    return {
      metadata: this.metadata!,
      instanceUid: this.instanceUid,
      keys: this.keys!,
      experimentalFeatures: this.features,
      network: this.network,
      webhooks: this.webhooks,
      chatCompletionsSettings: this.chat,
    };
  }

  /** Hands one index to the visitor: documents from the archive entry itself, or from its spool file. */
  private async deliverIndex(parts: IndexParts, entry: Entry | null): Promise<void> {
    parts.delivered = true;
    const where = `indexes/${parts.dir}/documents.jsonl`;
    const source: AsyncIterable<Uint8Array> =
      entry ?? (parts.spooled === null ? noBytes() : createReadStream(parts.spooled, { highWaterMark: 256 * 1024 }));
    const count = await this.visitLines(source, where, async (docs) => {
      await this.visitor.index?.({ metadata: parts.metadata!, settings: parts.settings! }, docs);
    });
    this.delivered.push({ uid: parts.metadata!.uid, documents: count });
    if (parts.spooled !== null) await rm(parts.spooled, { force: true });
  }

  /** Runs `visit` over the JSON objects of `source`, then reads past what it left; returns the object count. */
  private async visitLines(
    source: AsyncIterable<Uint8Array>,
    where: string,
    visit: (docs: DocumentBatches) => Promise<void>,
  ): Promise<number> {
    let count = 0;
    const gen = (async function* (maxLineBytes: number) {
      for await (const batch of jsonLines(source, { where, maxLineBytes, objects: true })) {
        count += batch.length;
        if (!isObjectArray(batch)) throw new Error(`jsonLines yielded a value that is not an object in ${where}`);
        yield batch;
      }
    })(this.maxLine);
    await visit(unclosable(gen));
    while (!(await gen.next()).done);
    return count;
  }

  // ---------------------------------------------------------------- end

  async finish(): Promise<DumpSummary> {
    if (!this.headerEmitted) await this.emitHeader();
    for (const parts of this.indexes.values()) {
      if (parts.delivered) continue;
      if (parts.metadata === null) throw invalidDump(`\`indexes/${parts.dir}/metadata.json\` is missing.`);
      if (parts.settings === null) throw invalidDump(`\`indexes/${parts.dir}/settings.json\` is missing.`);
      await this.deliverIndex(parts, null);
    }
    if (this.visitor.batch !== undefined && this.batchQueue !== null) {
      await this.visitLines(createReadStream(this.batchQueue), DUMP_PATHS.batchQueue, async (lines) => {
        for await (const batch of lines) for (const b of batch) await this.visitor.batch!(b);
      }).then((n) => (this.batches = n));
    }
    // Meilisearch requires tasks/queue.jsonl; DumpWriter puts it after the indexes, so without it the archive was cut short.
    if (!this.sawTaskQueue) throw invalidDump(`\`${DUMP_PATHS.taskQueue}\` is missing (is the dump truncated?).`);
    if (this.visitor.task !== undefined && this.taskQueue !== null) {
      this.tasks = await this.visitLines(createReadStream(this.taskQueue), DUMP_PATHS.taskQueue, async (lines) => {
        for await (const batch of lines) {
          for (const t of batch) {
            const file = typeof t.uid === 'number' ? this.updateFiles.get(t.uid) : undefined;
            if (file === undefined) {
              await this.visitor.task!(t, null);
              continue;
            }
            await this.visitLines(createReadStream(file), `tasks/update_files/${String(t.uid)}.jsonl`, (docs) =>
              Promise.resolve(this.visitor.task!(t, docs)),
            );
          }
        }
      });
    }
    // Late header files (after the first index) complete the header object the visitor was given.
    Object.assign(this.header!, this.currentHeader());
    return {
      header: this.header!,
      indexes: this.delivered,
      tasks: this.tasks,
      batches: this.batches,
      bytesRead: 0,
      spooledBytes: this.spooledBytes,
      ignored: this.ignored,
    };
  }

  async cleanup(): Promise<void> {
    if (this.spoolDir !== null) await rm(this.spoolDir, { recursive: true, force: true });
    this.spoolDir = null;
  }

  // ---------------------------------------------------------------- bytes

  private async skip(entry: Entry, name: string | null): Promise<void> {
    if (name !== null && this.ignored.length < 50) this.ignored.push(name);
    for await (const _ of entry) void _;
  }

  /** The entry's bytes, refused past maxJsonBytes (a small file is held in memory). */
  private async *limited(entry: Entry, name: string): AsyncGenerator<Uint8Array> {
    let total = 0;
    for await (const chunk of entry) {
      total += chunk.byteLength;
      if (total > this.maxJson) throw invalidDump(`\`${name}\` is larger than ${this.maxJson} bytes.`);
      yield chunk;
    }
  }

  private async readSmall(entry: Entry, name: string): Promise<Buffer> {
    if ((entry.header.size ?? 0) > this.maxJson) throw invalidDump(`\`${name}\` is larger than ${this.maxJson} bytes.`);
    const chunks: Buffer[] = [];
    let len = 0;
    for await (const chunk of this.limited(entry, name)) {
      chunks.push(Buffer.from(chunk));
      len += chunk.byteLength;
    }
    return Buffer.concat(chunks, len);
  }

  private async readJson(entry: Entry, name: string): Promise<unknown> {
    const text = (await this.readSmall(entry, name)).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw invalidDump(`\`${name}\` is not valid JSON (${errorMessage(err)}).`);
    }
  }

  private object(v: unknown, name: string): Record<string, unknown> {
    if (!isObject(v)) throw invalidDump(`\`${name}\` is not a JSON object.`);
    return v;
  }

  private async spool(entry: Entry): Promise<string> {
    if (this.spoolDir === null) this.spoolDir = await mkdtemp(join(this.tmpRoot, 'miroir-dump-read-'));
    const file = join(this.spoolDir, String(this.spoolSeq++));
    const ws = createWriteStream(file);
    try {
      for await (const chunk of entry) {
        this.spooledBytes += chunk.byteLength;
        if (!ws.write(chunk)) await once(ws, 'drain');
      }
      ws.end();
      await finished(ws);
    } finally {
      ws.destroy();
    }
    return file;
  }
}

/**
 * Reads a v6 dump from `input` (a tar.gz byte stream) into `visitor`. A malformed or truncated dump rejects with
 * `malformed_payload` (never hangs); an error the visitor throws rejects as is. On failure `input` is unpiped and
 * left to the caller (paused); spool files are removed either way.
 */
export async function readDump(
  input: Readable,
  visitor: DumpVisitor,
  opts: ReadDumpOptions = {},
): Promise<DumpSummary> {
  const state = new DumpReadState(visitor, opts);
  const gunzip = createGunzip();
  const extract = tarExtract();
  let bytesRead = 0;
  let inputDone = false;
  let failure: Error | null = null;
  const fail = (err: unknown) => {
    failure ??= archiveError(err);
    if (!extract.destroyed) extract.destroy(failure);
  };
  const onData = (chunk: Buffer) => {
    bytesRead += chunk.length;
    opts.onBytes?.(chunk.length);
  };
  const onEnd = () => (inputDone = true);
  const onClose = () => {
    if (!inputDone) fail(invalidDump('the upload ended before the end of the archive.'));
  };
  input.on('data', onData);
  input.on('end', onEnd);
  input.on('error', fail);
  input.on('close', onClose);
  gunzip.on('error', fail);
  input.pipe(gunzip).pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) await state.onEntry(entry as unknown as Entry);
    const summary = await state.finish();
    summary.bytesRead = bytesRead;
    return summary;
  } catch (err) {
    // An archive or input failure is the cause of whatever error reading an entry then ran into.
    throw failure ?? archiveError(err);
  } finally {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', fail);
    input.off('close', onClose);
    input.unpipe(gunzip);
    gunzip.destroy();
    if (!extract.destroyed) extract.destroy();
    if (!inputDone && !input.destroyed) input.pause();
    await state.cleanup();
  }
}

/** Reads a v6 dump file (see readDump). */
export async function readDumpFile(
  path: string,
  visitor: DumpVisitor,
  opts: ReadDumpOptions = {},
): Promise<DumpSummary> {
  const input = createReadStream(path);
  try {
    await once(input, 'open');
  } catch (err) {
    input.destroy();
    const e = membersOf(err);
    throw new MeiliError(
      'dump_not_found',
      `Dump \`${path}\` cannot be read: ${e.code === 'ENOENT' ? 'no such file' : String(e.message)}.`,
    );
  }
  try {
    return await readDump(input, visitor, opts);
  } finally {
    input.destroy();
  }
}
