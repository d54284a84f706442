// JSON Lines out of a byte stream, memory bounded: splits chunks on `\n` (a line may span chunks, up to
// `maxLineBytes`), parses each line and yields the values parsed from one chunk together. Errors name the file
// and line number.
import { errorMessage } from '../core/errors.js';
import { invalidDump } from './format.js';

export interface JsonLinesOptions {
  /** Name shown in errors, e.g. `indexes/movies/documents.jsonl`. */
  where: string;
  maxLineBytes: number;
  /** Every value must be a JSON object (documents, keys, tasks). */
  objects?: boolean;
}

function parseLine(line: Buffer, lineNo: number, opts: JsonLinesOptions, out: unknown[]): void {
  let end = line.length;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  const text = line.toString('utf8', 0, end);
  if (text.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidDump(`\`${opts.where}\` line ${lineNo} is not valid JSON (${errorMessage(err)}).`);
  }
  if (opts.objects === true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalidDump(`\`${opts.where}\` line ${lineNo} is not a JSON object.`);
  }
  out.push(value);
}

function tooLong(opts: JsonLinesOptions, lineNo: number): Error {
  return invalidDump(`\`${opts.where}\` line ${lineNo} is longer than ${opts.maxLineBytes} bytes.`);
}

/** Yields, per input chunk, the values of the lines that chunk completed (never an empty array). */
export async function* jsonLines(
  source: AsyncIterable<Uint8Array>,
  opts: JsonLinesOptions,
): AsyncGenerator<unknown[], void, undefined> {
  let carry: Buffer[] = [];
  let carryLen = 0;
  let lineNo = 0;
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: unknown[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1) break;
      lineNo++;
      let line: Buffer;
      if (carryLen > 0) {
        if (carryLen + nl - start > opts.maxLineBytes) throw tooLong(opts, lineNo);
        carry.push(buf.subarray(start, nl));
        line = Buffer.concat(carry, carryLen + nl - start);
        carry = [];
        carryLen = 0;
      } else {
        if (nl - start > opts.maxLineBytes) throw tooLong(opts, lineNo);
        line = buf.subarray(start, nl);
      }
      parseLine(line, lineNo, opts, out);
      start = nl + 1;
    }
    if (start < buf.length) {
      carryLen += buf.length - start;
      if (carryLen > opts.maxLineBytes) throw tooLong(opts, lineNo + 1);
      carry.push(buf.subarray(start));
    }
    if (out.length > 0) yield out;
  }
  if (carryLen > 0) {
    const out: unknown[] = [];
    parseLine(Buffer.concat(carry, carryLen), lineNo + 1, opts, out);
    if (out.length > 0) yield out;
  }
}
