// Reads CSV records from a byte source in batches: one batch per chunk read,
// exact byte offsets, and a broken record turned into a row error without
// losing the records after it.
//
// Why not csv-parse (which the tests use as the oracle: on valid files values
// and byte offsets match it exactly): its stream errors as a whole on the
// first malformed record, its skip option drops that record silently and stays
// in quote mode after a stray quote, and it emits one record per chunk. An
// import must report a broken row with its number and keep every valid row
// after it, and a resume must seek to an exact byte offset.

import { InputError } from "../errors.ts";
import type { SourceRecord } from "../types.ts";
import {
  isErrorFileHeader,
  isInputColumn,
  normalizeColumnName,
  unescapeErrorFileCell,
} from "../validation/columns.ts";
import type { ByteSource } from "./_byte_source.ts";
import { ChunkedRecordReader } from "./_chunked_reader.ts";
import {
  COMMA,
  ESCAPED,
  indexAfterLineBreak,
  isBlankRecord,
  NEED_MORE,
  RECORD,
  ScannedRecord,
  scanRecord,
  TEXT_AFTER_QUOTE,
} from "./_csv_scanner.ts";
import { concatBytes, emptyBytes, MAX_RECORD_BYTES, stripBom } from "./_bytes.ts";

const SPACE = 0x20;
const QUOTE = 0x22;

// ignoreBOM keeps a U+FEFF inside the data, so string offsets match bytes.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A CSV header and where the data after it starts. */
export interface CsvHeader {
  /** Normalized column names. */
  columns: string[];
  /** Absolute offset just past the header's line break. */
  end: number;
}

/**
 * Reads the header (the first non-blank record) from a source positioned at
 * the start of the input, and gives back the bytes after it. Returns `null`
 * for an input with no header at all.
 */
export async function readCsvHeader(
  source: ByteSource,
  separator: number = COMMA,
): Promise<CsvHeader | null> {
  const scanned = new ScannedRecord(separator);
  let buf = emptyBytes();
  let base = source.position;
  let pos = 0;
  let eof = false;
  let bomChecked = base !== 0;
  for (;;) {
    const chunk = await source.read();
    if (chunk === null) {
      eof = true;
    } else {
      buf = concatBytes(buf.subarray(pos), chunk);
      base += pos;
      pos = 0;
    }
    if (!bomChecked) {
      if (buf.length < 3 && !eof) continue;
      pos = stripBom(buf);
      bomChecked = true;
    }
    while (pos < buf.length) {
      const outcome = scanRecord(buf, pos, buf.length, eof, scanned);
      if (outcome === NEED_MORE) break;
      if (outcome !== RECORD) {
        const problem = outcome === TEXT_AFTER_QUOTE
          ? `the quoted name of column ${scanned.errorField + 1} is followed by more text`
          : `the quote that opens column ${scanned.errorField + 1} is never closed`;
        throw new InputError(`Cannot read the CSV header: ${problem}: fix the first line`);
      }
      if (isBlankRecord(buf, scanned)) {
        pos = scanned.end;
        continue;
      }
      const columns = decodeFields(buf, scanned).map(normalizeColumnName);
      source.unread(buf.slice(scanned.end));
      return { columns, end: base + scanned.end };
    }
    if (eof) return null;
    if (buf.length - pos > MAX_RECORD_BYTES) {
      throw new InputError(
        `Cannot read the CSV header: it is longer than ${MAX_RECORD_BYTES} bytes: check for a quote that is never closed`,
      );
    }
  }
}

function decodeFields(buf: Uint8Array, scanned: ScannedRecord): string[] {
  const values: string[] = [];
  const { bounds } = scanned;
  for (let f = 0; f < scanned.fieldCount; f++) {
    const text = decoder.decode(buf.subarray(bounds[f * 3], bounds[f * 3 + 1]));
    values.push(bounds[f * 3 + 2] & ESCAPED ? text.replaceAll('""', '"') : text);
  }
  return values;
}

/** Streams the data records after a CSV header, in batches. */
export class CsvRecordReader extends ChunkedRecordReader {
  readonly #columns: readonly string[];
  /** Per column: the field name to store the value under, or null to drop it. */
  readonly #keys: (string | null)[];
  readonly #scanned: ScannedRecord;
  /** The input is one of the importer's own CSV error files: its cells are escaped. */
  readonly #escaped: boolean;
  /** Every column is kept, not only the importer's input columns. */
  readonly #keepAll: boolean;
  #recordNumber: number;
  /** A broken record waiting for the end of its first line. */
  #skipping: SourceRecord | null = null;
  /** Where a record with doubled quotes is copied without them. */
  #scratch = new Uint8Array(1024);

  /**
   * @param source Positioned at the first byte after the header, or at a
   *   record boundary when resuming.
   * @param lastRecordNumber Number of the record before the source position.
   * @param separator The byte between fields.
   * @param keepAll Keep every column, not only the importer's (a provider's
   *   export is mapped after reading).
   */
  constructor(
    source: ByteSource,
    columns: readonly string[],
    lastRecordNumber: number,
    separator: number = COMMA,
    keepAll = false,
  ) {
    super(source);
    this.#scanned = new ScannedRecord(separator);
    this.#columns = columns;
    this.#keys = columns.map((name, index) =>
      (keepAll ? name !== "" : isInputColumn(name)) && columns.indexOf(name) === index ? name : null
    );
    this.#recordNumber = lastRecordNumber;
    this.#escaped = isErrorFileHeader(columns);
    this.#keepAll = keepAll;
  }

  protected override process(
    buf: Uint8Array,
    base: number,
    eof: boolean,
    batch: SourceRecord[],
  ): Uint8Array {
    let pos = 0;
    if (this.#skipping !== null) {
      const after = indexAfterLineBreak(buf, 0, eof);
      if (after === -1 && !eof) return emptyBytes();
      pos = after === -1 ? buf.length : after;
      this.#skipping.byteEnd = base + pos;
      batch.push(this.#skipping);
      this.#skipping = null;
    }
    const scanned = this.#scanned;
    while (pos < buf.length) {
      // Scanning stops MAX_RECORD_BYTES into a record, so that where chunks
      // happen to end never decides whether a long record is accepted.
      const limit = Math.min(buf.length, pos + MAX_RECORD_BYTES);
      const outcome = scanRecord(buf, pos, limit, eof && limit === buf.length, scanned);
      if (outcome === RECORD) {
        if (!isBlankRecord(buf, scanned)) {
          this.recordsFound++;
          if (this.countOnly) this.#recordNumber++;
          else batch.push(this.#record(buf, base, pos));
        }
        pos = scanned.end;
        continue;
      }
      let problem: string;
      if (outcome === NEED_MORE) {
        if (limit === buf.length) break;
        problem =
          `the row is longer than ${MAX_RECORD_BYTES} bytes: check for a quote that is never closed`;
      } else if (outcome === TEXT_AFTER_QUOTE) {
        problem = `the quoted value in ${
          this.#columnName(scanned.errorField)
        } is followed by more text: write a quote inside a quoted value as two quotes ("")`;
      } else {
        problem = `the quote that opens ${
          this.#columnName(scanned.errorField)
        } is never closed: close it, or write a quote inside a value as two quotes ("")`;
      }
      // Resume on the line after the broken record's first line: an
      // unbalanced quote usually swallows the rows after it.
      const after = indexAfterLineBreak(buf, pos, eof);
      const record = this.#brokenRecord(buf, pos, after === -1 ? buf.length : after, problem);
      if (after === -1 && !eof) {
        this.#skipping = record;
        return emptyBytes();
      }
      pos = after === -1 ? buf.length : after;
      record.byteEnd = base + pos;
      batch.push(record);
    }
    return pos === 0 ? buf : buf.subarray(pos);
  }

  #record(buf: Uint8Array, base: number, start: number): SourceRecord {
    const scanned = this.#scanned;
    const recordNumber = ++this.#recordNumber;
    const fields: Record<string, unknown> = {};
    const keys = this.#keys;
    const { bounds, fieldCount } = scanned;
    const count = fieldCount < keys.length ? fieldCount : keys.length;
    let parseError: string | undefined;
    let text: string | undefined;
    // The record's bytes, and where they start: with doubled quotes to
    // unescape, a copy without them, so that one decode gives every value
    // as it is (a replaceAll per value cost more than the rest of a field).
    let src = buf;
    let srcStart = start;
    let srcEnd = scanned.contentEnd;
    if (scanned.escaped) {
      srcEnd = this.#unescape(buf, start, scanned);
      src = this.#scratch;
      srcStart = 0;
    }
    if (!scanned.nonAscii) {
      text = decoder.decode(src.subarray(srcStart, srcEnd));
    } else {
      try {
        text = strictDecoder.decode(src.subarray(srcStart, srcEnd));
        toCharOffsets(src, srcStart, scanned);
      } catch {
        text = undefined;
      }
    }
    // Printable ASCII with no space at either end of a value: nothing to trim.
    let tidy = scanned.plain && !this.#escaped && !this.#keepAll;
    if (text !== undefined) {
      for (let f = 0; f < count; f++) {
        const key = keys[f];
        if (key === null) continue;
        const at = f * 3;
        if (tidy && bounds[at + 1] > bounds[at]) {
          tidy = src[bounds[at]] !== SPACE && src[bounds[at + 1] - 1] !== SPACE;
        }
        const value = text.slice(bounds[at] - srcStart, bounds[at + 1] - srcStart);
        fields[key] = this.#escaped ? unescapeErrorFileCell(value) : value;
      }
    } else {
      // Some bytes are not UTF-8: find the first column at fault, and keep
      // best-effort values for the error record.
      for (let f = 0; f < count; f++) {
        const key = keys[f];
        const at = f * 3;
        const bytes = src.subarray(bounds[at], bounds[at + 1]);
        if (parseError === undefined) {
          try {
            strictDecoder.decode(bytes);
          } catch {
            parseError = `Cannot parse row ${recordNumber}: ${
              this.#columnName(f)
            } is not valid UTF-8: save the file as UTF-8`;
          }
        }
        if (key !== null) {
          const value = decoder.decode(bytes);
          fields[key] = this.#escaped ? unescapeErrorFileCell(value) : value;
        }
      }
    }
    const record: SourceRecord = {
      recordNumber,
      fields,
      byteEnd: base + scanned.end,
      // Unescaping an error file's cells may bring back line breaks.
      plain: scanned.plain && !this.#escaped,
    };
    if (tidy) record.tidy = true;
    if (fieldCount !== keys.length) {
      const fix = fieldCount > keys.length
        ? this.#scanned.separator === COMMA
          ? "quote values that contain commas"
          : "quote values that contain the separator"
        : "add the missing values";
      record.parseError =
        `Cannot parse row ${recordNumber}: found ${fieldCount} values but the header has ${keys.length} columns: ${fix}`;
    } else if (parseError !== undefined) {
      record.parseError = parseError;
    }
    return record;
  }

  /**
   * Copies the record's bytes `buf[start..contentEnd)` into the scratch
   * buffer with every doubled quote of an escaped value made one, and moves
   * the field bounds to match (offsets into the scratch buffer).
   *
   * @returns The length of the copy.
   */
  #unescape(buf: Uint8Array, start: number, scanned: ScannedRecord): number {
    const length = scanned.contentEnd - start;
    if (this.#scratch.length < length) {
      this.#scratch = new Uint8Array(Math.max(length, 2 * this.#scratch.length));
    }
    const out = this.#scratch;
    const { bounds, fieldCount } = scanned;
    // Bytes before `from` are copied; `removed` quotes were left out so far.
    let from = start;
    let removed = 0;
    for (let f = 0; f < fieldCount; f++) {
      const at = f * 3;
      const valueStart = bounds[at];
      const valueEnd = bounds[at + 1];
      bounds[at] = valueStart - start - removed;
      if ((bounds[at + 2] & ESCAPED) === 0) {
        bounds[at + 1] = valueEnd - start - removed;
        continue;
      }
      out.set(buf.subarray(from, valueStart), from - start - removed);
      let o = bounds[at];
      for (let i = valueStart; i < valueEnd; i++) {
        const c = buf[i];
        out[o++] = c;
        // Inside a quoted value a quote is always the first of a pair.
        if (c === QUOTE) i++;
      }
      removed += valueEnd - valueStart - (o - bounds[at]);
      bounds[at + 1] = o;
      from = valueEnd;
    }
    out.set(buf.subarray(from, scanned.contentEnd), from - start - removed);
    return length - removed;
  }

  /** A row error for a record that cannot be scanned, with a best guess at its fields. */
  #brokenRecord(buf: Uint8Array, start: number, end: number, problem: string): SourceRecord {
    const recordNumber = ++this.#recordNumber;
    this.recordsFound++;
    const line = decoder.decode(buf.subarray(start, end)).replace(/\r?\n?$/, "");
    const guesses = line.split(String.fromCharCode(this.#scanned.separator));
    const fields: Record<string, unknown> = {};
    for (let f = 0; f < this.#keys.length && f < guesses.length; f++) {
      const key = this.#keys[f];
      if (key !== null) fields[key] = guesses[f];
    }
    return {
      recordNumber,
      fields,
      byteEnd: 0,
      parseError: `Cannot parse row ${recordNumber}: ${problem}`,
    };
  }

  #columnName(index: number): string {
    const name = this.#columns[index];
    return name === undefined || name === "" ? `column ${index + 1}` : JSON.stringify(name);
  }
}

/**
 * Rewrites a scanned record's field bounds from byte offsets into offsets in
 * the UTF-16 string decoded from `buf[start..]` (plus `start`), assuming the
 * bytes are valid UTF-8: every byte that is not a continuation byte starts
 * one code unit, and a 4-byte sequence makes two.
 */
function toCharOffsets(buf: Uint8Array, start: number, scanned: ScannedRecord): void {
  const { bounds } = scanned;
  const limit = scanned.fieldCount * 3;
  let units = 0;
  let byte = start;
  for (let at = 0; at < limit; at++) {
    if (at % 3 === 2) continue;
    const target = bounds[at];
    for (; byte < target; byte++) {
      const c = buf[byte];
      if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1;
    }
    bounds[at] = start + units;
  }
}
