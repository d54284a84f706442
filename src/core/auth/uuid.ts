// UUID parsing as Meilisearch's `uuid` crate does it: simple (32 hex), hyphenated, `{braced}` and `urn:uuid:` forms,
// answered in canonical lower-case hyphenated form, or with the crate's exact error text.

type Parsed = { uuid: string } | { error: string };

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function canonical(hex32: string): string {
  const h = hex32.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The crate's `InvalidUuid::into_err` wording for a slice that failed to parse. */
function describe(input: string): string {
  let s = input;
  let offset = 0;
  let simple = true;
  if (s.length >= 2 && s.startsWith('{') && s.endsWith('}')) {
    s = s.slice(1, -1);
    offset = 1;
    simple = false;
  } else if (s.startsWith('urn:uuid:')) {
    s = s.slice(9);
    offset = 9;
    simple = false;
  }
  let hyphens = 0;
  const bounds: number[] = [];
  let byteIndex = 0;
  for (const ch of s) {
    if (ch === '-') {
      if (hyphens < 4) bounds.push(byteIndex);
      hyphens++;
    } else if (!/^[0-9a-fA-F]$/.test(ch)) {
      const cp = ch.codePointAt(0)!;
      const shown = cp > 0xff ? ch : String.fromCharCode(cp & 0xff);
      return `invalid character: found \`${shown}\` at ${byteIndex + offset + 1}`;
    }
    byteIndex += Buffer.byteLength(ch);
  }
  if (hyphens === 0 && simple)
    return `invalid length: expected length 32 for simple format, found ${Buffer.byteLength(input)}`;
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  const starts = [0, 9, 14, 19, 24];
  const expected = [8, 4, 4, 4, 12];
  for (let i = 0; i < 4; i++) {
    if (bounds[i] !== starts[i + 1]! - 1)
      return `invalid group length in group ${i}: expected ${expected[i]}, found ${bounds[i]! - starts[i]!}`;
  }
  return `invalid group length in group 4: expected 12, found ${Buffer.byteLength(input) - starts[4]!}`;
}

/** Parses a UUID string; the error text is the `uuid` crate's Display (e.g. "invalid character: found `o` at 1"). */
export function parseUuid(input: string): Parsed {
  const len = Buffer.byteLength(input);
  let inner: string;
  if (len === 32) {
    if (HEX32.test(input)) return { uuid: canonical(input) };
    return { error: describe(input) };
  }
  if (len === 36) inner = input;
  else if (len === 38 && input.startsWith('{') && input.endsWith('}')) inner = input.slice(1, -1);
  else if (len === 45 && input.startsWith('urn:uuid:')) inner = input.slice(9);
  else return { error: describe(input) };
  if (HYPHENATED.test(inner)) return { uuid: canonical(inner.replace(/-/g, '')) };
  return { error: describe(inner) };
}
