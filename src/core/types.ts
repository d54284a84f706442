// The shapes every layer shares (the proxy, the dev node, the workers, the dump code): JSON values and documents,
// the validated read parameters (what core/search-params.ts returns), and type guards that read untyped JSON
// without casts — a member of the wrong type reads as absent instead of being trusted.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A parsed JSON object whose members are not known yet. */
export type JsonObject = Record<string, unknown>;
/** A document as clients send it and nodes store it (the primary key and any fields). */
export type Document = Record<string, unknown>;

/** Search parameters after validation (POST body or GET query string): each present member has its checked type. */
export interface SearchQuery {
  q?: string | null;
  offset?: number;
  limit?: number;
  page?: number;
  hitsPerPage?: number;
  attributesToRetrieve?: string[] | null;
  retrieveVectors?: boolean;
  attributesToCrop?: string[] | null;
  cropLength?: number;
  cropMarker?: string;
  attributesToHighlight?: string[] | null;
  highlightPreTag?: string;
  highlightPostTag?: string;
  showMatchesPosition?: boolean;
  showRankingScore?: boolean;
  showRankingScoreDetails?: boolean;
  showPerformanceDetails?: boolean;
  filter?: unknown;
  sort?: string[] | null;
  distinct?: string;
  facets?: string[] | null;
  matchingStrategy?: string;
  attributesToSearchOn?: string[] | null;
  rankingScoreThreshold?: number | null;
  locales?: string[] | null;
  hybrid?: JsonObject | null;
  vector?: unknown;
  [member: string]: unknown;
}

/** `GET /documents` / `POST /documents/fetch` parameters after validation. */
export interface DocumentsQuery {
  offset?: number;
  limit?: number;
  fields?: string[] | null;
  filter?: unknown;
  sort?: string[] | null;
  ids?: string[];
  retrieveVectors?: boolean;
  [member: string]: unknown;
}

/** `POST /facet-search` parameters after validation. */
export interface FacetSearchQuery extends SearchQuery {
  facetName: string;
  facetQuery?: string | null;
  exhaustiveFacetCount?: boolean;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** A number, or undefined when absent or of another type. */
export function numberOf(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A string, or undefined when absent or of another type. */
export function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A string array, or undefined when absent or of another type. */
export function stringsOf(v: unknown): string[] | undefined {
  return isStringArray(v) ? v : undefined;
}

export function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/** An array of objects (e.g. a search answer's hits). */
export function isObjectArray(v: unknown): v is JsonObject[] {
  return Array.isArray(v) && v.every(isObject);
}

/** An array of numbers, or undefined when absent or of another type. */
export function numbersOf(v: unknown): number[] | undefined {
  return isNumberArray(v) ? v : undefined;
}

/** An object's members, or none when the value is not an object. */
export function membersOf(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

/** A boolean, or undefined when absent or of another type. */
export function booleanOf(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
