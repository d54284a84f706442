// Selecting fields of a document by dotted selectors the way Meilisearch does (permissive JSON pointers): `a`
// keeps the whole field, `a.b` keeps `b` inside `a` (inside every object of an array), and the relations between a
// selector and a field path used to decide which options apply to a leaf.
import type { Document } from './api.js';
import { isObject } from '../../core/types.js';

/** Whether `selector` designates `key` or something inside it (`a.b.c` is contained in `a` and `a.b`). */
export function containedIn(selector: string, key: string): boolean {
  return selector.startsWith(key) && (selector.length === key.length || selector[key.length] === '.');
}

/** A new document holding only what `selectors` designate (null selects everything), in the document's order. */
export function selectValues(doc: Document, selectors: readonly string[] | null): Document {
  if (selectors === null) return { ...doc };
  return selectIn(doc, new Set(selectors));
}

function selectIn(doc: Document, selectors: Set<string>): Document {
  const out: Document = {};
  const pending = new Set(selectors);
  for (const [key, value] of Object.entries(doc)) {
    if (pending.has(key) && !key.includes('.')) {
      pending.delete(key);
      out[key] = value;
      continue;
    }
    const sub = new Set<string>();
    for (const s of pending) if (s !== key && containedIn(s, key)) sub.add(s.slice(key.length + 1));
    if (sub.size > 0) {
      if (Array.isArray(value)) out[key] = selectInArray(value, sub);
      else if (isObject(value)) out[key] = selectIn(value, sub);
    } else if (pending.has(key)) out[key] = value;
  }
  return out;
}

function selectInArray(values: unknown[], selectors: Set<string>): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(selectInArray(v, selectors));
    else if (isObject(v)) {
      const o = selectIn(v, selectors);
      if (Object.keys(o).length > 0) out.push(o);
    }
  }
  return out;
}

/**
 * Visits every leaf (non-object, non-array value) of `doc` whose path relates to one of `selectors` (null: every
 * leaf), with its dotted path and the indexes of the arrays it sits in; `visit` returns the leaf's replacement.
 */
export function mapLeaves(
  doc: Document,
  selectors: readonly string[] | null,
  visit: (key: string, indices: number[], value: unknown) => unknown,
): void {
  mapInObject(doc, selectors, '', [], visit);
}

function mapInObject(
  obj: Document,
  selectors: readonly string[] | null,
  base: string,
  indices: number[],
  visit: (key: string, indices: number[], value: unknown) => unknown,
): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = base === '' ? k : `${base}.${k}`;
    if (selectors !== null && !selectors.some((s) => containedIn(s, key) || containedIn(key, s))) continue;
    obj[k] = mapValue(v, selectors, key, indices, visit);
  }
}

function mapValue(
  v: unknown,
  selectors: readonly string[] | null,
  key: string,
  indices: number[],
  visit: (key: string, indices: number[], value: unknown) => unknown,
): unknown {
  if (Array.isArray(v)) return v.map((x, i) => mapValue(x, selectors, key, [...indices, i], visit));
  if (isObject(v)) {
    const copy = { ...v };
    mapInObject(copy, selectors, key, indices, visit);
    return copy;
  }
  return visit(key, indices, v);
}
