// Meilisearch's v6 `.dump` format, shared by the dev node and the proxy: shapes (format.ts, tasks.ts), the
// streaming writer (writer.ts) and the streaming reader (reader.ts).
export * from './format.js';
export * from './tasks.js';
export { DumpWriter, freeDumpUid, type DumpWriterOptions, type TaskEntry } from './writer.js';
export {
  readDump,
  readDumpFile,
  type DocumentBatches,
  type DumpHeader,
  type DumpIndex,
  type DumpSummary,
  type DumpVisitor,
  type ReadDumpOptions,
} from './reader.js';
