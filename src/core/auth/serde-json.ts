// A JSON reader that keeps byte positions, so tenant-token claim errors can be worded as Meilisearch's
// serde_json says them: `<message> at line L column C`, where C is serde's byte column of the last byte it read.
// Syntax errors are reported at the offending byte (best effort); value errors follow serde_json exactly.

export type JsonNode =
  | { kind: 'object'; entries: Array<{ key: string; keyEnd: number; value: JsonNode }>; start: number; end: number }
  | { kind: 'array'; items: JsonNode[]; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'number'; raw: string; value: number; start: number; end: number }
  | { kind: 'bool'; value: boolean; start: number; end: number }
  | { kind: 'null'; start: number; end: number };

/** A serde_json error: its message and the byte index serde's position is computed from. */
export class SerdeJsonError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line} column ${column}`);
  }
}

/** serde_json's position after having read the bytes before `index` (line 1, column = bytes since the last \n). */
export function positionOf(bytes: Uint8Array, index: number): { line: number; column: number } {
  let line = 1;
  let column = 0;
  for (let i = 0; i < index && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      column = 0;
    } else column++;
  }
  return { line, column };
}

/** An error positioned after the byte at `lastRead` (serde's `error`), or at the start (-1). */
export function errorAfter(bytes: Uint8Array, lastRead: number, reason: string): SerdeJsonError {
  const p = positionOf(bytes, lastRead + 1);
  return new SerdeJsonError(reason, p.line, p.column);
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The index of the last byte read once whitespace after `index` is skipped (what serde has read at a peek). */
export function afterWhitespace(bytes: Uint8Array, index: number): number {
  let i = index;
  while (i + 1 < bytes.length && WS.has(bytes[i + 1]!)) i++;
  return i;
}

class Reader {
  i = 0;
  constructor(private readonly b: Uint8Array) {}

  fail(reason: string, at = this.i): never {
    throw errorAfter(this.b, Math.min(at, this.b.length) - (at >= this.b.length ? 1 : 0), reason);
  }

  ws(): void {
    while (this.i < this.b.length && WS.has(this.b[this.i]!)) this.i++;
  }

  value(depth: number): JsonNode {
    if (depth > 128) this.fail('recursion limit exceeded');
    this.ws();
    if (this.i >= this.b.length) this.fail('EOF while parsing a value');
    const c = this.b[this.i]!;
    const start = this.i;
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) {
      const value = this.string();
      return { kind: 'string', value, start, end: this.i - 1 };
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
      for (let k = 0; k < word.length; k++) {
        if (this.i >= this.b.length) this.fail('EOF while parsing a value');
        if (this.b[this.i] !== word.charCodeAt(k)) this.fail('expected ident');
        this.i++;
      }
      return word === 'null'
        ? { kind: 'null', start, end: this.i - 1 }
        : { kind: 'bool', value: word === 'true', start, end: this.i - 1 };
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    this.fail('expected value');
  }

  number(): JsonNode {
    const start = this.i;
    const b = this.b;
    const digit = () => this.i < b.length && b[this.i]! >= 0x30 && b[this.i]! <= 0x39;
    if (b[this.i] === 0x2d) this.i++;
    if (!digit()) this.fail(this.i >= b.length ? 'EOF while parsing a value' : 'invalid number');
    if (b[this.i] === 0x30) {
      this.i++;
      if (digit()) this.fail('invalid number');
    } else while (digit()) this.i++;
    if (b[this.i] === 0x2e) {
      this.i++;
      if (!digit()) this.fail(this.i >= b.length ? 'EOF while parsing a value' : 'invalid number');
      while (digit()) this.i++;
    }
    if (b[this.i] === 0x65 || b[this.i] === 0x45) {
      this.i++;
      if (b[this.i] === 0x2b || b[this.i] === 0x2d) this.i++;
      if (!digit()) this.fail(this.i >= b.length ? 'EOF while parsing a value' : 'invalid number');
      while (digit()) this.i++;
    }
    const raw = Buffer.from(b.subarray(start, this.i)).toString('latin1');
    return { kind: 'number', raw, value: Number(raw), start, end: this.i - 1 };
  }

  string(): string {
    const b = this.b;
    this.i++; // opening quote
    const parts: number[] = [];
    for (;;) {
      if (this.i >= b.length) this.fail('EOF while parsing a string');
      const c = b[this.i]!;
      if (c === 0x22) {
        this.i++;
        break;
      }
      if (c < 0x20) this.fail('control character (\\u0000-\\u001F) found while parsing a string');
      if (c !== 0x5c) {
        parts.push(c);
        this.i++;
        continue;
      }
      this.i++;
      if (this.i >= b.length) this.fail('EOF while parsing a string');
      const e = b[this.i++]!;
      const simple: Record<number, number> = {
        0x22: 0x22,
        0x5c: 0x5c,
        0x2f: 0x2f,
        0x62: 0x08,
        0x66: 0x0c,
        0x6e: 0x0a,
        0x72: 0x0d,
        0x74: 0x09,
      };
      if (e in simple) parts.push(simple[e]!);
      else if (e === 0x75) {
        const hex = Buffer.from(b.subarray(this.i, this.i + 4)).toString('latin1');
        if (!/^[0-9a-fA-F]{4}$/.test(hex))
          this.fail(this.i + 4 > b.length ? 'EOF while parsing a string' : 'invalid escape');
        this.i += 4;
        let cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const low = Buffer.from(b.subarray(this.i, this.i + 6)).toString('latin1');
          if (!/^\\u[dD][c-fC-F][0-9a-fA-F]{2}$/.test(low)) this.fail('lone leading surrogate in hex escape');
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(low.slice(2), 16) - 0xdc00);
          this.i += 6;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) this.fail('invalid unicode code point');
        parts.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      } else this.fail('invalid escape', this.i - 1);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(parts));
    } catch {
      this.fail('invalid unicode code point', this.i - 1);
    }
  }

  object(depth: number): JsonNode {
    const b = this.b;
    const start = this.i++;
    const entries: Array<{ key: string; keyEnd: number; value: JsonNode }> = [];
    this.ws();
    if (b[this.i] === 0x7d) {
      this.i++;
      return { kind: 'object', entries, start, end: this.i - 1 };
    }
    for (;;) {
      this.ws();
      if (this.i >= b.length) this.fail('EOF while parsing an object');
      if (b[this.i] !== 0x22) this.fail(b[this.i] === 0x7d ? 'trailing comma' : 'key must be a string');
      const key = this.string();
      const keyEnd = this.i - 1;
      this.ws();
      if (this.i >= b.length) this.fail('EOF while parsing an object');
      if (b[this.i] !== 0x3a) this.fail('expected `:`');
      this.i++;
      entries.push({ key, keyEnd, value: this.value(depth + 1) });
      this.ws();
      if (this.i >= b.length) this.fail('EOF while parsing an object');
      if (b[this.i] === 0x2c) {
        this.i++;
        continue;
      }
      if (b[this.i] === 0x7d) {
        this.i++;
        return { kind: 'object', entries, start, end: this.i - 1 };
      }
      this.fail('expected `,` or `}`');
    }
  }

  array(depth: number): JsonNode {
    const b = this.b;
    const start = this.i++;
    const items: JsonNode[] = [];
    this.ws();
    if (b[this.i] === 0x5d) {
      this.i++;
      return { kind: 'array', items, start, end: this.i - 1 };
    }
    for (;;) {
      this.ws();
      if (b[this.i] === 0x5d && items.length > 0) this.fail('trailing comma');
      items.push(this.value(depth + 1));
      this.ws();
      if (this.i >= b.length) this.fail('EOF while parsing a list');
      if (b[this.i] === 0x2c) {
        this.i++;
        continue;
      }
      if (b[this.i] === 0x5d) {
        this.i++;
        return { kind: 'array', items, start, end: this.i - 1 };
      }
      this.fail('expected `,` or `]`');
    }
  }
}

/** Parses one JSON document (trailing whitespace allowed), or throws a positioned SerdeJsonError. */
export function parseJsonBytes(bytes: Uint8Array): JsonNode {
  const r = new Reader(bytes);
  const v = r.value(0);
  r.ws();
  if (r.i < bytes.length) r.fail('trailing characters');
  return v;
}

/** Rust's `Display` of an f64 (positional, shortest round-trip digits). */
function rustFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
  const s = String(x);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, int, frac = '', expRaw] = m;
  const exp = Number(expRaw);
  const digits = int! + frac;
  const point = int!.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Rust's `{:?}` of a string (quotes, `\\`, `\"`, `\n`, `\r`, `\t`, `\0`, other control chars as `\u{..}`). */
export function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp === 0) out += '\\0';
    else if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/** serde's `Unexpected` wording of a JSON value, e.g. `string "x"`, `integer \`5\``, `map`. */
export function unexpected(node: JsonNode): string {
  switch (node.kind) {
    case 'null':
      return 'null';
    case 'bool':
      return `boolean \`${node.value}\``;
    case 'string':
      return `string ${rustDebugString(node.value)}`;
    case 'array':
      return 'sequence';
    case 'object':
      return 'map';
    case 'number': {
      if (/^-?\d+$/.test(node.raw)) {
        const big = BigInt(node.raw);
        if (big >= 0n && big <= 18446744073709551615n) return `integer \`${big}\``;
        if (big < 0n && big >= -9223372036854775808n) return `integer \`${big}\``;
      }
      const f = rustFloat(node.value);
      return `floating point \`${/[.eEn]/.test(f) ? f : `${f}.0`}\``;
    }
  }
}

/**
 * Where serde_json reports an "invalid type" for a value a typed deserializer refused: after the value for
 * scalars (it reads them), before it for maps and sequences (it only peeks at `{` / `[`).
 */
export function invalidTypeAt(bytes: Uint8Array, node: JsonNode): number {
  void bytes;
  return node.kind === 'object' || node.kind === 'array' ? node.start - 1 : node.end;
}
