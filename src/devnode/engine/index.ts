// The dev node's engine as the HTTP layer uses it (see api.ts for the contract).
import type { EngineContext, IndexEngineApi, IndexMeta, StoredDocument } from './api.js';
import { IndexEngine } from './index-engine.js';

export { defaultSettings, validateSettings, SETTINGS_ROUTES, resetAllDetails } from '../../core/settings.js';
export {
  parseSearchQuery,
  parseDocumentsQuery,
  parseFacetSearchQuery,
  parseMultiSearch,
} from '../../core/search-params.js';
export { federatedSearch } from './federation.js';
export type * from './api.js';

export function createIndexEngine(
  uid: string,
  primaryKey: string | null,
  now: string,
  ctx: EngineContext,
): IndexEngineApi {
  return new IndexEngine(uid, primaryKey, now, ctx);
}

export function restoreIndexEngine(
  meta: IndexMeta,
  docs: Iterable<StoredDocument>,
  ctx: EngineContext,
): IndexEngineApi {
  return IndexEngine.restore(meta, docs, ctx);
}
