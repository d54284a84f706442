// HOT PATH. A node's search answer read without building its hits: one strict scan of the JSON bytes (RFC 8259
// grammar, nesting within MAX_JSON_DEPTH) finds each hit's byte span and its members' spans, so the merge reads only
// what it compares (`_rankingScore`, details when sorting, the primary key on a tie) and the merged answer is written
// from the nodes' own hit bytes instead of objects parsed and serialized again. Every other top-level member
// (totals, facets, processingTimeMs) is small and parsed as usual.
//
// The scan is the Rust addon's `scanAnswer` (native/src/answer_scan.rs) when it is loaded; `scanAnswerTs` below is the
// same scan in TypeScript, with identical output (a test holds them together), for tests and for machines without
// the addon. The proxy only takes this route with the addon: the TypeScript scan is slower than JSON.parse (measured,
// see docs/design/node-calls.md), so without the addon answers are parsed and merged as objects — the same answer.
//
// Layout written into `out` (u32s), the return value being how many were written:
//   H, then per hit: start, end, M, then M × (keyStart, keyEnd, valueStart, valueEnd)   (keys with their quotes)
//   T, then per top-level member, in order, the `hits` one included: keyStart, keyEnd, valueStart, valueEnd
// NOT_SCANNABLE: not an object with exactly one `"hits"` member holding an array of objects, a key of a hit or of the
// answer written with an escape, not valid JSON, or not UTF-8; OUT_TOO_SMALL: `out` cannot hold the spans.
import { MAX_JSON_DEPTH } from './json-depth.js';
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from './json-spans.js';
import { membersOf } from './types.js';

export const NOT_SCANNABLE = -1;
export const OUT_TOO_SMALL = -2;

export type AnswerScanner = (bytes: Uint8Array, out: Uint32Array) => number;

const HITS_KEY = Buffer.from('"hits"');

/** The TypeScript scan: same grammar, same spans, same refusals as the addon's. */
class Scan {
  i = 0;
  /** Whether the last string scanned held an escape. */
  escaped = false;
  pos = 1;
  overflow = false;
  constructor(
    private readonly b: Uint8Array,
    private readonly out: Uint32Array,
  ) {}

  push(v: number): void {
    if (this.pos < this.out.length) this.out[this.pos++] = v;
    else this.overflow = true;
  }

  ws(): void {
    const b = this.b;
    let i = this.i;
    for (;;) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }

  string(): boolean {
    const b = this.b;
    let i = this.i + 1;
    this.escaped = false;
    for (;;) {
      if (i >= b.length) return false;
      const c = b[i]!;
      if (c === QUOTE) {
        this.i = i + 1;
        return true;
      }
      if (c === BACKSLASH) {
        this.escaped = true;
        const e = b[i + 1];
        if (
          e === 0x22 ||
          e === 0x5c ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        )
          i += 2;
        else if (e === 0x75) {
          if (i + 5 >= b.length) return false;
          for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k]!)) return false;
          i += 6;
        } else return false;
      } else if (c < 0x20) return false;
      else i++;
    }
  }

  digits(): number {
    const start = this.i;
    while (isDigit(this.b[this.i])) this.i++;
    return this.i - start;
  }

  number(): boolean {
    const b = this.b;
    if (b[this.i] === 0x2d) this.i++;
    const c = b[this.i];
    if (c === 0x30) this.i++;
    else if (c !== undefined && c >= 0x31 && c <= 0x39) this.digits();
    else return false;
    if (b[this.i] === 0x2e) {
      this.i++;
      if (this.digits() === 0) return false;
    }
    if (b[this.i] === 0x65 || b[this.i] === 0x45) {
      this.i++;
      if (b[this.i] === 0x2b || b[this.i] === 0x2d) this.i++;
      if (this.digits() === 0) return false;
    }
    return true;
  }

  literal(text: string): boolean {
    for (let k = 0; k < text.length; k++) if (this.b[this.i + k] !== text.charCodeAt(k)) return false;
    this.i += text.length;
    return true;
  }

  value(depth: number): boolean {
    switch (this.b[this.i]) {
      case QUOTE:
        return this.string();
      case OPEN_OBJECT:
        return this.object(depth + 1, false);
      case OPEN_ARRAY:
        return this.array(depth + 1);
      case 0x74:
        return this.literal('true');
      case 0x66:
        return this.literal('false');
      case 0x6e:
        return this.literal('null');
      default:
        return this.number();
    }
  }

  /** At an opening bracket: past the list that `close` ends, each item read by `item`, commas between them. */
  list(close: number, item: () => boolean): boolean {
    this.i++;
    this.ws();
    if (this.b[this.i] === close) {
      this.i++;
      return true;
    }
    for (;;) {
      if (!item()) return false;
      this.ws();
      const c = this.b[this.i];
      if (c === COMMA) {
        this.i++;
        this.ws();
      } else if (c === close) {
        this.i++;
        return true;
      } else return false;
    }
  }

  /** One member: its key (refused with an escape when `plainKey`), then `value(keyStart, keyEnd)` reads its value. */
  member(plainKey: boolean, value: (keyStart: number, keyEnd: number) => boolean): boolean {
    if (this.b[this.i] !== QUOTE) return false;
    const keyStart = this.i;
    if (!this.string() || (plainKey && this.escaped)) return false;
    const keyEnd = this.i;
    this.ws();
    if (this.b[this.i] !== COLON) return false;
    this.i++;
    this.ws();
    return value(keyStart, keyEnd);
  }

  array(depth: number): boolean {
    return depth <= MAX_JSON_DEPTH && this.list(CLOSE_ARRAY, () => this.value(depth));
  }

  /** At `{`: past the object; `record` writes each member's spans (a key with an escape refuses the answer). */
  object(depth: number, record: boolean): boolean {
    if (depth > MAX_JSON_DEPTH) return false;
    return this.list(CLOSE_OBJECT, () =>
      this.member(record, (keyStart, keyEnd) => {
        const valueStart = this.i;
        if (!this.value(depth)) return false;
        if (record) {
          this.push(keyStart);
          this.push(keyEnd);
          this.push(valueStart);
          this.push(this.i);
        }
        return true;
      }),
    );
  }

  /** At the `[` of `hits`: the hit count, or -1. */
  hits(): number {
    let count = 0;
    const read = this.list(CLOSE_ARRAY, () => {
      if (this.b[this.i] !== OPEN_OBJECT) return false;
      const at = this.pos;
      this.push(this.i);
      this.push(0);
      this.push(0);
      if (!this.object(2, true)) return false;
      if (!this.overflow) {
        this.out[at + 1] = this.i;
        this.out[at + 2] = (this.pos - at - 3) / 4;
      }
      count++;
      return true;
    });
    return read ? count : -1;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isHitsKey(b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== HITS_KEY.length) return false;
  for (let k = 0; k < HITS_KEY.length; k++) if (b[start + k] !== HITS_KEY[k]) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The answer scan in TypeScript (the addon's `scanAnswer`, byte for byte). */
export const scanAnswerTs: AnswerScanner = (b, out) => {
  if (b.length >= 0xffffffff || !isUtf8(b)) return NOT_SCANNABLE;
  const s = new Scan(b, out);
  const top: number[] = [];
  let hitCount = -1;
  s.ws();
  if (b[s.i] !== OPEN_OBJECT) return NOT_SCANNABLE;
  const read = s.list(CLOSE_OBJECT, () =>
    s.member(true, (keyStart, keyEnd) => {
      const valueStart = s.i;
      if (isHitsKey(b, keyStart, keyEnd)) {
        if (hitCount !== -1 || b[s.i] !== OPEN_ARRAY) return false;
        hitCount = s.hits();
        if (hitCount === -1) return false;
      } else if (!s.value(1)) return false;
      top.push(keyStart, keyEnd, valueStart, s.i);
      return true;
    }),
  );
  if (!read) return NOT_SCANNABLE;
  s.ws();
  if (hitCount === -1 || s.i !== b.length) return NOT_SCANNABLE;
  s.push(top.length / 4);
  for (const v of top) s.push(v);
  if (s.overflow || out.length === 0) return OUT_TOO_SMALL;
  out[0] = hitCount;
  return s.pos;
};

let nativeScanner: AnswerScanner | null = null;

/** Installs (or removes) the addon's scan; the search path reads answers this way only while one is installed. */
export function setNativeAnswerScanner(scanner: AnswerScanner | null): void {
  nativeScanner = scanner;
}

/** The addon's scan, or null when the addon is not loaded. */
export function nativeAnswerScanner(): AnswerScanner | null {
  return nativeScanner;
}

/** One hit of a scanned answer: where it sits and, per member, its key's and value's spans (`spans` from `at`). */
export class ScannedHit {
  constructor(
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
    /** Member count. */
    readonly size: number,
    readonly spans: Uint32Array,
    /** Index in `spans` of the first member's key start. */
    readonly at: number,
  ) {}

  keyStart(m: number): number {
    return this.spans[this.at + m * 4]!;
  }

  keyEnd(m: number): number {
    return this.spans[this.at + m * 4 + 1]!;
  }

  valueStart(m: number): number {
    return this.spans[this.at + m * 4 + 2]!;
  }

  valueEnd(m: number): number {
    return this.spans[this.at + m * 4 + 3]!;
  }

  /** Member `m`'s key (keys of scanned hits never hold escapes). */
  key(m: number): string {
    return this.bytes.toString('utf8', this.keyStart(m) + 1, this.keyEnd(m) - 1);
  }

  /** Whether member `m`'s key, quotes included, is `quoted`. */
  keyIs(m: number, quoted: Uint8Array): boolean {
    const s = this.keyStart(m);
    if (this.keyEnd(m) - s !== quoted.length) return false;
    const b = this.bytes;
    for (let k = 0; k < quoted.length; k++) if (b[s + k] !== quoted[k]) return false;
    return true;
  }

  /** The last member keyed `quoted` (as JSON.parse keeps the last), or -1. */
  find(quoted: Uint8Array): number {
    for (let m = this.size - 1; m >= 0; m--) if (this.keyIs(m, quoted)) return m;
    return -1;
  }

  /** Member `m`'s value, parsed. */
  valueAt(m: number): unknown {
    return JSON.parse(this.bytes.toString('utf8', this.valueStart(m), this.valueEnd(m)));
  }

  /** The value of the member keyed `quoted`, parsed; undefined when absent. */
  value(quoted: Uint8Array): unknown {
    const m = this.find(quoted);
    return m === -1 ? undefined : this.valueAt(m);
  }

  /** A numeric member as a number (0 when absent or not a number), parsing nothing else. */
  number(quoted: Uint8Array): number {
    const m = this.find(quoted);
    if (m === -1) return 0;
    const c = this.bytes[this.valueStart(m)]!;
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) return 0;
    return Number(this.bytes.toString('latin1', this.valueStart(m), this.valueEnd(m)));
  }
}

/** A node's search answer: every top-level member but `hits` parsed, the hits scanned. */
export class ScannedAnswer {
  constructor(
    readonly bytes: Buffer,
    /** The top-level members but `hits`, parsed, in the answer's order. */
    readonly members: Record<string, unknown>,
    readonly hits: readonly ScannedHit[],
  ) {}
}

const quotedKeys = new Map<string, Buffer>();

/** A key as JSON text with its quotes, for `ScannedHit.keyIs` / `find` (kept: an index has few such names). */
export function quotedKey(name: string): Buffer {
  let quoted = quotedKeys.get(name);
  if (quoted === undefined) {
    quoted = Buffer.from(JSON.stringify(name));
    if (quotedKeys.size < 1_000) quotedKeys.set(name, quoted);
  }
  return quoted;
}

// Spans are written straight into a shared slab and each answer keeps its own view of it: a typed array of its own
// per answer (a new ArrayBuffer) cost more than the scan itself (~5 µs for 600 spans). A full slab is replaced; the
// old one lives on while answers still view it.
const SLAB_SPANS = 262_144;
let slab = new Uint32Array(SLAB_SPANS);
let slabUsed = 0;

/**
 * A node's answer bytes scanned with `scanner`; null when the scanner refuses them: the caller parses them whole, and
 * JSON.parse words any error.
 */
export function scanAnswer(bytes: Buffer, scanner: AnswerScanner): ScannedAnswer | null {
  let n = scanner(bytes, slab.subarray(slabUsed));
  while (n === OUT_TOO_SMALL) {
    slab = new Uint32Array(Math.max(SLAB_SPANS, (slab.length - slabUsed) * 4));
    slabUsed = 0;
    n = scanner(bytes, slab);
  }
  if (n < 0) return null;
  const spans = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  const hits: ScannedHit[] = new Array<ScannedHit>(spans[0]!);
  let i = 1;
  for (let h = 0; h < hits.length; h++) {
    const size = spans[i + 2]!;
    hits[h] = new ScannedHit(bytes, spans[i]!, spans[i + 1]!, size, spans, i + 3);
    i += 3 + size * 4;
  }
  // The other top-level members in one parse of their own text, as JSON.parse of the whole answer reads them: the
  // run of members before `hits` and the run after it, each one slice of the bytes.
  const top = spans[i]!;
  i++;
  let before = '';
  let after = '';
  for (let m = 0; m < top; m++, i += 4) {
    if (!isHitsKey(bytes, spans[i]!, spans[i + 1]!)) continue;
    if (m > 0) before = bytes.toString('utf8', spans[i - 4 * m]!, spans[i - 1]!);
    if (m < top - 1) after = bytes.toString('utf8', spans[i + 4]!, spans[i + 4 * (top - m - 1) + 3]!);
    break;
  }
  const rest = before === '' ? after : after === '' ? before : `${before},${after}`;
  return new ScannedAnswer(bytes, membersOf(JSON.parse(`{${rest}}`)), hits);
}
