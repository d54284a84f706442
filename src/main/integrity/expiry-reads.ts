// HOT PATH (TTL on). The node filter that hides an index's expired documents from every read at once (SPEC A14,
// Round 2 "Reserved fields"): `NOT _miroir_expires_at <= now` for an index that ever received a document with an
// expiry (its learned fields say so, through the store's short-lived index cache), nothing for the others.
import { EXPIRES_FIELD, notExpiredClause } from '../../core/reserved.js';
import type { Store } from '../../store/store.js';

export function expiryFilter(store: Pick<Store, 'getIndexCached'>): (uid: string) => Promise<string | null> {
  return async (uid) => {
    const record = await store.getIndexCached(uid);
    if (record === null || !record.fields.includes(EXPIRES_FIELD)) return null;
    return notExpiredClause(Date.now());
  };
}
