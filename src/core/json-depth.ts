// How deep JSON may nest: serde_json's recursion limit (128), which Meilisearch answers with a 400. Checked on the raw
// bytes before parsing, so a body nested thousands of levels deep never reaches code that walks it recursively (a
// stack overflow there would be a 500, or worse). A scan that skips string contents with indexOf: ~1 ms per MB.

export const MAX_JSON_DEPTH = 128;

/** Where the first bracket past `limit` levels sits, as serde_json reports it (1-based line and column); null if none. */
export function jsonDepthExceeded(bytes: Uint8Array, limit = MAX_JSON_DEPTH): { line: number; column: number } | null {
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === 0x22) {
      // Jump to the closing quote: one not preceded by an odd number of backslashes.
      let j = i;
      for (;;) {
        j = bytes.indexOf(0x22, j + 1);
        if (j === -1) return null; // unterminated: JSON.parse reports it
        let backslashes = 0;
        for (let k = j - 1; bytes[k] === 0x5c; k--) backslashes++;
        if ((backslashes & 1) === 0) break;
      }
      i = j;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return position(bytes, i);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return null;
}

function position(bytes: Uint8Array, at: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < at; i = bytes.indexOf(0x0a, i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: at - start + 1 };
}

/** serde_json's words for it. */
export function recursionLimitMessage(at: { line: number; column: number }): string {
  return `recursion limit exceeded at line ${at.line} column ${at.column}`;
}
