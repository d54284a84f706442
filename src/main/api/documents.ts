// Document write routes (SPEC C3, C6): request-level checks (parameters, content type, CSV delimiter, ids, filters)
// here, synchronous like Meilisearch's; everything else is the document writes service's (tasks, quorum, routing).
import { MeiliError } from '../../core/errors.js';
import { checkIndexUid, parseDocumentIds, validateDeleteByFilter } from '../../core/index-requests.js';
import { csvDelimiter, parseSkipCreation, writeFormat } from '../../core/payload.js';
import type { DocumentWrites, Written } from '../writes/documents.js';
import { acceptedReply } from '../tasks/registry.js';
import type { Reply, RequestContext } from '../../http/server.js';

const DOC_PARAMS = ['primaryKey', 'csvDelimiter', 'customMetadata', 'skipCreation'];

function replied(w: Written): Reply {
  return acceptedReply(w.task, w.headers);
}

export async function addDocuments(
  writes: DocumentWrites,
  ctx: RequestContext<unknown>,
  merge: boolean,
): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  for (const k of ctx.query.keys())
    if (!DOC_PARAMS.includes(k))
      throw new MeiliError(
        'bad_request',
        `Unknown parameter \`${k}\`: expected one of ${DOC_PARAMS.map((p) => `\`${p}\``).join(', ')}`,
      );
  // Query parameters first, then the content type (Meilisearch's order of checks, as the dev node does).
  const delimiterRaw = ctx.query.get('csvDelimiter');
  const delimiter = csvDelimiter(delimiterRaw);
  const skipCreation = parseSkipCreation(ctx.query.get('skipCreation'));
  const format = writeFormat(ctx.req.headers['content-type'], delimiterRaw);
  return replied(
    await writes.add(uid, {
      body: ctx.rawBody ?? Buffer.alloc(0),
      format,
      csvDelimiter: delimiter,
      primaryKey: ctx.query.get('primaryKey'),
      customMetadata: ctx.query.get('customMetadata'),
      skipCreation,
      merge,
    }),
  );
}

export async function deleteOne(writes: DocumentWrites, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  return replied(
    await writes.deleteIds(
      uid,
      [ctx.params.id!],
      { providedIds: 1, deletedDocuments: null, originalFilter: null },
      ctx.query.get('customMetadata'),
    ),
  );
}

export async function deleteBatch(writes: DocumentWrites, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const ids = parseDocumentIds(ctx.json);
  return replied(
    await writes.deleteIds(
      uid,
      ids,
      { providedIds: ids.length, deletedDocuments: null, originalFilter: null },
      ctx.query.get('customMetadata'),
    ),
  );
}

export async function deleteByFilter(writes: DocumentWrites, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  const filter = validateDeleteByFilter(ctx.json);
  return replied(
    await writes.deleteEverywhere(
      uid,
      { filter },
      { providedIds: 0, deletedDocuments: null, originalFilter: JSON.stringify(filter) },
      ctx.query.get('customMetadata'),
    ),
  );
}

export async function deleteAll(writes: DocumentWrites, ctx: RequestContext<unknown>): Promise<Reply> {
  const uid = checkIndexUid(ctx.params.uid!);
  return replied(
    await writes.deleteEverywhere(uid, 'all', { deletedDocuments: null }, ctx.query.get('customMetadata')),
  );
}
