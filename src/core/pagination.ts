// Meilisearch's search pagination math (meili-api.md §3, prepare_search): offset/limit or page/hitsPerPage,
// both clamped by `pagination.maxTotalHits`, and the hits-info block of the response. Shared by the dev node and
// the proxy's merger so both answer exactly like one node.

import { MeiliError, type ErrorCode } from './errors.js';
import { numberOf } from './types.js';

export interface PageRequest {
  offset?: number;
  limit?: number;
  page?: number;
  hitsPerPage?: number;
}

export interface PageWindow {
  pageMode: boolean;
  /** Hits to skip and to return after ranking. */
  offset: number;
  limit: number;
  hitsPerPage: number;
  page: number;
}

/** The paging members of a validated body (federation, query): each a number or absent. */
export function pageRequestOf(o: Record<string, unknown>): PageRequest {
  return {
    offset: numberOf(o.offset),
    limit: numberOf(o.limit),
    page: numberOf(o.page),
    hitsPerPage: numberOf(o.hitsPerPage),
  };
}

export function pageWindow(q: PageRequest, maxTotalHits: number): PageWindow {
  const pageMode = q.page !== undefined || q.hitsPerPage !== undefined;
  const hitsPerPage = q.hitsPerPage ?? 20;
  const page = q.page ?? 1;
  let offset: number;
  let limit: number;
  if (pageMode) {
    offset = page === 0 ? 0 : hitsPerPage * (page - 1);
    limit = page === 0 ? 0 : hitsPerPage;
  } else {
    offset = q.offset ?? 0;
    limit = q.limit ?? 20;
  }
  offset = Math.min(offset, maxTotalHits);
  limit = Math.min(limit, maxTotalHits - offset);
  return { pageMode, offset, limit, hitsPerPage, page };
}

/** The hits-info keys in Meilisearch's order for a (capped) candidate count. */
export function hitsInfo(
  q: PageRequest,
  w: PageWindow,
  candidates: number,
  maxTotalHits: number,
): Record<string, number> {
  const total = Math.min(candidates, maxTotalHits);
  if (w.pageMode) {
    return {
      hitsPerPage: w.hitsPerPage,
      page: w.page,
      totalPages: w.hitsPerPage === 0 ? 0 : Math.ceil(total / w.hitsPerPage),
      totalHits: total,
    };
  }
  return { limit: q.limit ?? 20, offset: q.offset ?? 0, estimatedTotalHits: total };
}

/**
 * A list route's `offset`/`limit` query parameter (`GET /indexes`, `GET /keys`): decimal digits, else a 400 with
 * the route's own code and Meilisearch's message; absent gives the default.
 */
export function uintQueryParam(q: URLSearchParams, name: string, dflt: number, code: ErrorCode): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw))
    throw new MeiliError(
      code,
      `Invalid value in parameter \`${name}\`: could not parse \`${raw}\` as a positive integer`,
    );
  return Number(raw);
}
