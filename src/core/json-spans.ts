// Where each document sits in a JSON or NDJSON payload, as byte spans, found in one scan of the raw bytes (strings
// skipped with indexOf). A big batch can then be read one document at a time and forwarded as the bytes the client
// sent, instead of being held whole as objects and re-serialized. Only plainly shaped payloads get spans — a JSON
// array of objects (or one object), NDJSON lines of objects, nesting within MAX_JSON_DEPTH; anything else is null
// and the caller parses the payload whole, which words Meilisearch's exact error.
import { MAX_JSON_DEPTH } from './json-depth.js';

// JSON's structural bytes (core/answer-spans.ts reads them too).
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;
const NEWLINE = 0x0a;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i])) i++;
  return i;
}

/** Index just past the closing quote of the string opening at `i`, or -1. */
function skipString(b: Uint8Array, i: number): number {
  let j = i;
  for (;;) {
    j = b.indexOf(QUOTE, j + 1);
    if (j === -1) return -1;
    let backslashes = 0;
    for (let k = j - 1; b[k] === BACKSLASH; k--) backslashes++;
    if ((backslashes & 1) === 0) return j + 1;
  }
}

/** Index just past the object opening at `i` (nesting at most `room` more levels), or -1. */
function skipObject(b: Uint8Array, i: number, room: number): number {
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) {
      const end = skipString(b, j);
      if (end === -1) return -1;
      j = end - 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > room) return -1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) return c === CLOSE_OBJECT ? j + 1 : -1;
    }
  }
  return -1;
}

/**
 * Byte spans of the documents: `[start0, end0, start1, end1, …]`, each span one JSON object as the client wrote it;
 * null when the payload is not a plain array of objects, one object, or NDJSON lines of objects.
 */
export function documentSpans(b: Uint8Array, format: 'json' | 'ndjson'): Uint32Array | null {
  const spans: number[] = [];
  if (format === 'ndjson') {
    let start = 0;
    while (start < b.length) {
      let end = b.indexOf(NEWLINE, start);
      if (end === -1) end = b.length;
      const s = skipSpace(b, start);
      if (s < end) {
        if (b[s] !== OPEN_OBJECT) return null;
        const close = skipObject(b, s, MAX_JSON_DEPTH);
        if (close === -1 || close > end || skipSpace(b, close) < end) return null;
        spans.push(s, close);
      }
      start = end + 1;
    }
    return Uint32Array.from(spans);
  }
  let i = skipSpace(b, 0);
  if (b[i] === OPEN_OBJECT) {
    const close = skipObject(b, i, MAX_JSON_DEPTH);
    if (close === -1 || skipSpace(b, close) !== b.length) return null;
    return Uint32Array.of(i, close);
  }
  if (b[i] !== OPEN_ARRAY) return null;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_ARRAY) return skipSpace(b, i + 1) === b.length ? new Uint32Array(0) : null;
  for (;;) {
    if (b[i] !== OPEN_OBJECT) return null;
    const close = skipObject(b, i, MAX_JSON_DEPTH - 1);
    if (close === -1) return null;
    spans.push(i, close);
    i = skipSpace(b, close);
    if (b[i] === COMMA) i = skipSpace(b, i + 1);
    else if (b[i] === CLOSE_ARRAY) return skipSpace(b, i + 1) === b.length ? Uint32Array.from(spans) : null;
    else return null;
  }
}
