// Document payloads as Meilisearch accepts them: JSON (array or single object), NDJSON, and CSV (typed headers
// `name:number` / `name:boolean`, `csvDelimiter`), with Meilisearch's content-type and malformed-payload errors.
import { isObject } from './types.js';
import { MeiliError, errorMessage } from './errors.js';
import { jsonDepthExceeded, recursionLimitMessage } from './json-depth.js';

export type PayloadFormat = 'json' | 'ndjson' | 'csv';

const ACCEPTED = '`application/json`, `application/x-ndjson`, `text/csv`';

export function payloadFormat(contentType: string | undefined): PayloadFormat {
  if (contentType === undefined || contentType.trim() === '') {
    throw new MeiliError(
      'missing_content_type',
      `A Content-Type header is missing. Accepted values for the Content-Type header are: ${ACCEPTED}`,
    );
  }
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-ndjson') return 'ndjson';
  if (type === 'text/csv') return 'csv';
  throw new MeiliError(
    'invalid_content_type',
    `The Content-Type \`${type}\` is invalid. Accepted values for the Content-Type header are: ${ACCEPTED}`,
  );
}

/**
 * The payload format of a document write, with the `csvDelimiter` rule: a delimiter with a non-CSV content type
 * is a 415 invalid_content_type (after the content type itself was checked).
 */
export function writeFormat(contentType: string | undefined, csvDelimiterRaw: string | null): PayloadFormat {
  const format = payloadFormat(contentType);
  if (csvDelimiterRaw !== null && format !== 'csv') {
    const type = contentType!.split(';')[0]!.trim();
    throw new MeiliError(
      'invalid_content_type',
      `The Content-Type \`${type}\` does not support the use of a csv delimiter. The csv delimiter can only be used with the Content-Type \`text/csv\`.`,
    );
  }
  return format;
}

/** `skipCreation`: `true`/`false` in any case (Meilisearch's rule), else 400 invalid_skip_creation. */
export function parseSkipCreation(raw: string | null): boolean {
  if (raw === null) return false;
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw new MeiliError('invalid_skip_creation', `skipCreation must be either \`true\` or \`false\`. Found: \`${raw}\``);
}

function malformed(kind: string, detail: string): MeiliError {
  // Meilisearch words CSV errors `…malformed: \`…\`.` and JSON/NDJSON ones `…malformed. \`Couldn't serialize …\`.`.
  if (kind === 'csv')
    return new MeiliError('malformed_payload', `The \`csv\` payload provided is malformed: \`${detail}\`.`);
  return new MeiliError(
    'malformed_payload',
    `The \`${kind}\` payload provided is malformed. \`Couldn't serialize document value: ${detail}\`.`,
  );
}

export function parseDocuments(
  body: Buffer,
  format: PayloadFormat,
  csvDelimiter = ',',
): Array<Record<string, unknown>> {
  if (body.length === 0) throw new MeiliError('missing_payload', `A ${format} payload is missing.`);
  if (format !== 'csv') {
    const tooDeep = jsonDepthExceeded(body);
    if (tooDeep !== null) throw malformed(format, recursionLimitMessage(tooDeep));
  }
  const text = body.toString('utf8');
  if (format === 'json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw malformed('json', errorMessage(err));
    }
    if (isObject(v)) return [v];
    if (!Array.isArray(v) || v.some((d) => !isObject(d)))
      throw malformed('json', 'data are neither an object nor a list of objects');
    return v as Array<Record<string, unknown>>;
  }
  if (format === 'ndjson') {
    const out: Array<Record<string, unknown>> = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        throw malformed('ndjson', `${errorMessage(err)} at line ${i + 1}`);
      }
      if (!isObject(v)) throw malformed('ndjson', `invalid type: expected a map at line ${i + 1}`);
      out.push(v);
    });
    return out;
  }
  return parseCsv(text, csvDelimiter);
}

function splitCsvLine(line: string, delim: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === delim) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) return null;
  out.push(cur);
  return out;
}

/** Splits CSV text into records (with the byte offset each starts at), keeping newlines inside quoted fields. */
function csvRecords(text: string): Array<{ line: string; byte: number }> {
  const out: Array<{ line: string; byte: number }> = [];
  let cur = '';
  let start = 0;
  let byte = 0;
  let quoted = false;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (ch === '"') quoted = !quoted;
    if ((ch === '\n' || ch === '\r') && !quoted) {
      if (cur !== '') out.push({ line: cur, byte: start });
      cur = '';
      byte += size;
      start = byte;
      continue;
    }
    cur += ch;
    byte += size;
  }
  if (cur !== '') out.push({ line: cur, byte: start });
  return out;
}

export function parseCsv(text: string, delim: string): Array<Record<string, unknown>> {
  const records = csvRecords(text);
  if (records.length === 0) throw new MeiliError('missing_payload', 'A csv payload is missing.');
  const header = splitCsvLine(records[0]!.line, delim);
  if (header === null) throw malformed('csv', 'unterminated quote in the header');
  const columns = header.map((h) => {
    const m = /^(.*):(number|boolean|string)$/.exec(h);
    return m ? { name: m[1]!, type: m[2]! } : { name: h, type: 'string' };
  });
  const out: Array<Record<string, unknown>> = [];
  for (let r = 1; r < records.length; r++) {
    const cells = splitCsvLine(records[r]!.line, delim);
    if (cells === null) throw malformed('csv', `unterminated quote at line ${r}`);
    if (cells.length !== columns.length) {
      throw malformed(
        'csv',
        `CSV error: record ${r} (line: ${r + 1}, byte: ${records[r]!.byte}): found record with ${cells.length} fields, but the previous record has ${columns.length} fields`,
      );
    }
    const doc: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      const raw = cells[i]!;
      if (c.type === 'number') {
        if (raw.trim() === '') doc[c.name] = null;
        else {
          const n = Number(raw);
          if (!Number.isFinite(n))
            throw malformed('csv', `Error parsing number "${raw}" at line ${r}: invalid float literal`);
          doc[c.name] = n;
        }
      } else if (c.type === 'boolean') {
        if (raw.trim() === '') doc[c.name] = null;
        else if (raw === 'true' || raw === 'false') doc[c.name] = raw === 'true';
        else
          throw malformed(
            'csv',
            `Error parsing boolean "${raw}" at line ${r}: provided string was not \`true\` or \`false\``,
          );
      } else doc[c.name] = raw === '' ? null : raw;
    });
    out.push(doc);
  }
  return out;
}

/** Validates the `csvDelimiter` query parameter (one ASCII character). */
export function csvDelimiter(raw: string | null): string {
  if (raw === null) return ',';
  const chars = [...raw];
  if (chars.length !== 1) {
    throw new MeiliError(
      'invalid_document_csv_delimiter',
      `Invalid value in parameter \`csvDelimiter\`: expected a string of one character, but found the following string of ${chars.length} characters: \`${raw}\``,
    );
  }
  if (raw.codePointAt(0)! > 127)
    throw new MeiliError(
      'invalid_document_csv_delimiter',
      `csv delimiter must be an ascii character. Found: \`${raw}\``,
    );
  return raw;
}
