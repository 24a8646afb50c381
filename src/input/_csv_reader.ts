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
/** The most records decoded together. */
const RUN_RECORDS = 16;
/** A run ends once it spans this many bytes. */
const RUN_BYTES = 1024;

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
  /** Builds a complete row's fields from its kept values, in column order. */
  readonly #build: FieldsBuilder | undefined;
  /** The kept values of the row being built, for {@linkcode #build}. */
  readonly #values: unknown[];
  /** A broken record waiting for the end of its first line. */
  #skipping: SourceRecord | null = null;
  /** Records scanned, waiting to be decoded together. */
  readonly #run = new RecordRun();
  /** Where a run with doubled quotes is copied without them. */
  #scratch = new Uint8Array(4096);
  // Counting keeps no view of a chunk: a broken record's text is decoded, a copy.
  protected override countKeepsNoBytes = true;

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
    const kept = this.#keys.filter((key) => key !== null) as string[];
    this.#values = new Array(kept.length).fill("");
    this.#build = fieldsBuilder(kept);
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
          else if (this.#run.add(scanned, base)) this.#flush(buf, batch);
        }
        pos = scanned.end;
        continue;
      }
      this.#flush(buf, batch);
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
    this.#flush(buf, batch);
    return pos === 0 ? buf : buf.subarray(pos);
  }

  /**
   * Builds the run's records from one decode of their bytes, and empties
   * the run. A run whose bytes are not all UTF-8 is decoded record by
   * record, so that only the records at fault fail.
   */
  #flush(buf: Uint8Array, batch: SourceRecord[]): void {
    const run = this.#run;
    if (run.count === 0) return;
    const { bounds, fields } = run;
    let src = buf;
    let from = bounds[0];
    let to = bounds[fields * 3 - 2];
    if (run.escaped) {
      // A copy without the doubled quotes, so that one decode gives every
      // value as it is (a replaceAll per value cost more than the rest of a
      // field): the bounds move into the copy.
      to = this.#unescape(buf, from, to, run);
      src = this.#scratch;
      from = 0;
    }
    let text: string | undefined = decoder.decode(src.subarray(from, to));
    if (run.nonAscii) {
      // Bytes that are not UTF-8 always decode to U+FFFD; the character
      // itself is rare enough to settle by the strict decoder, and its
      // failure by decoding record by record.
      if (text.includes("\ufffd") && !isUtf8(src.subarray(from, to))) text = undefined;
      else toCharOffsets(src, run);
    }
    for (let r = 0; r < run.count; r++) batch.push(this.#record(src, text, from, r));
    run.clear();
  }

  /**
   * The run's record `r`, its values sliced from `text` (the decoded bytes
   * of `src` from `textStart` on), or, without `text`, decoded alone.
   */
  #record(
    src: Uint8Array,
    runText: string | undefined,
    runStart: number,
    r: number,
  ): SourceRecord {
    const run = this.#run;
    const recordNumber = ++this.#recordNumber;
    const keys = this.#keys;
    const bounds = run.bounds;
    const first = run.firstField[r];
    const fieldCount = run.fieldCount[r];
    let fields: Record<string, unknown> = {};
    const plain = run.plain[r] === 1;
    const count = fieldCount < keys.length ? fieldCount : keys.length;
    let parseError: string | undefined;
    let text = runText;
    let textStart = runStart;
    if (text === undefined) {
      // The run holds bytes that are not UTF-8: this record on its own.
      textStart = bounds[first * 3];
      try {
        text = strictDecoder.decode(
          src.subarray(textStart, bounds[(first + fieldCount) * 3 - 2]),
        );
        toRecordCharOffsets(src, bounds, first, first + fieldCount, 0);
      } catch {
        text = undefined;
      }
    }
    // Printable ASCII with no space at either end of a value: nothing to trim.
    let tidy = plain && !this.#escaped && !this.#keepAll;
    const build = this.#build;
    if (text !== undefined && build !== undefined && fieldCount >= keys.length) {
      const values = this.#values;
      let v = 0;
      for (let f = 0; f < count; f++) {
        if (keys[f] === null) continue;
        const at = (first + f) * 3;
        const start = bounds[at] - textStart;
        const end = bounds[at + 1] - textStart;
        if (tidy && end > start) {
          tidy = text.charCodeAt(start) !== SPACE && text.charCodeAt(end - 1) !== SPACE;
        }
        const value = text.slice(start, end);
        values[v++] = this.#escaped ? unescapeErrorFileCell(value) : value;
      }
      fields = build(values);
    } else if (text !== undefined) {
      for (let f = 0; f < count; f++) {
        const key = keys[f];
        if (key === null) continue;
        const at = (first + f) * 3;
        const start = bounds[at] - textStart;
        const end = bounds[at + 1] - textStart;
        // Read from the text: in a run with non-ASCII records the bounds
        // are offsets into it, not into the bytes.
        if (tidy && end > start) {
          tidy = text.charCodeAt(start) !== SPACE && text.charCodeAt(end - 1) !== SPACE;
        }
        const value = text.slice(start, end);
        fields[key] = this.#escaped ? unescapeErrorFileCell(value) : value;
      }
    } else {
      // Some bytes are not UTF-8: find the first column at fault, and keep
      // best-effort values for the error record.
      for (let f = 0; f < count; f++) {
        const key = keys[f];
        const at = (first + f) * 3;
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
      byteEnd: run.byteEnd[r],
      // Unescaping an error file's cells may bring back line breaks.
      plain: plain && !this.#escaped,
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
   * Copies `buf[from..to)`, the run's bytes, into the scratch buffer with
   * every doubled quote of an escaped value made one, and moves the run's
   * field bounds to match (offsets into the scratch buffer).
   *
   * @returns The length of the copy.
   */
  #unescape(buf: Uint8Array, from: number, to: number, run: RecordRun): number {
    const length = to - from;
    if (this.#scratch.length < length) {
      this.#scratch = new Uint8Array(Math.max(length, 2 * this.#scratch.length));
    }
    const out = this.#scratch;
    const { bounds, fields } = run;
    const start = from;
    // Bytes before `from` are copied; `removed` quotes were left out so far.
    let removed = 0;
    for (let at = 0; at < fields * 3; at += 3) {
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
    out.set(buf.subarray(from, to), from - start - removed);
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

/** Makes a row's fields object from its kept values, in column order. */
type FieldsBuilder = (values: unknown[]) => Record<string, unknown>;

/**
 * A function that makes a complete row's fields as one object literal of
 * the header's kept columns, or `undefined` where it cannot be made (a
 * `__proto__` column, which a literal would take for the prototype, or a
 * runtime that forbids making code). Why: the reader stored each value
 * under a column name in a variable, a keyed store that adds a property,
 * which was half the time of building a record; a literal makes the object
 * with its shape at once, and its stores are each at a place of their own
 * (the reader alone 7-8 % less CPU time on a 100K-row file, in one process).
 * The names are written as JSON strings, so no column name is ever code.
 */
function fieldsBuilder(keys: readonly string[]): FieldsBuilder | undefined {
  if (keys.includes("__proto__")) return undefined;
  const body = keys.map((key, i) => `${JSON.stringify(key)}: v[${i}]`).join(", ");
  try {
    return new Function("v", `"use strict"; return { ${body} };`) as FieldsBuilder;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites the run's field bounds from byte offsets into offsets in the
 * UTF-16 string decoded from its bytes (plus the offset that string starts
 * at), assuming the bytes are valid UTF-8. Only records with a byte of 0x80
 * or above are walked byte by byte: in the others, and between records,
 * every byte is one code unit.
 */
function toCharOffsets(buf: Uint8Array, run: RecordRun): void {
  const { bounds, firstField, fieldCount, nonAsciiRecord } = run;
  // How many code units fewer than bytes there are so far.
  let shrink = 0;
  for (let r = 0; r < run.count; r++) {
    const first = firstField[r];
    const end = first + fieldCount[r];
    if (nonAsciiRecord[r] === 1) {
      shrink = toRecordCharOffsets(buf, bounds, first, end, shrink);
    } else if (shrink !== 0) {
      for (let at = first * 3; at < end * 3; at += 3) {
        bounds[at] -= shrink;
        bounds[at + 1] -= shrink;
      }
    }
  }
}

/**
 * Rewrites field bounds (the triples `firstField..endField` of `bounds`)
 * from byte offsets into code unit offsets, `shrink` (code units fewer than
 * bytes before the first field) included: every byte that is not a
 * continuation byte starts one code unit, and a 4-byte sequence makes two.
 *
 * @returns The shrink at the last field's end.
 */
function toRecordCharOffsets(
  buf: Uint8Array,
  bounds: Int32Array,
  firstField: number,
  endField: number,
  shrink: number,
): number {
  let byte = bounds[firstField * 3];
  for (let at = firstField * 3; at < endField * 3; at++) {
    if (at % 3 === 2) continue;
    const target = bounds[at];
    for (; byte < target; byte++) {
      const c = buf[byte];
      if ((c & 0xc0) === 0x80) shrink++;
      else if (c >= 0xf0) shrink--;
    }
    bounds[at] = target - shrink;
  }
  return shrink;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Records scanned but not built yet, built together from one decode of
 * their bytes: one `TextDecoder` call per record cost more than the rest of
 * a record's reading. A run ends at {@linkcode RUN_RECORDS} records or once
 * it spans {@linkcode RUN_BYTES}: a value longer than 12 characters is a
 * slice of its run's text, which V8 keeps alive as long as the value, so a
 * kept value holds at most its run (about a kilobyte), never a chunk.
 */
class RecordRun {
  count = 0;
  /** Field bounds of every record of the run, one after another (triples). */
  bounds: Int32Array = new Int32Array(3 * 16 * RUN_RECORDS);
  /** Triples used in {@linkcode bounds}. */
  fields = 0;
  /** Per record: its first triple in {@linkcode bounds}. */
  readonly firstField: Int32Array = new Int32Array(RUN_RECORDS);
  /** Per record: how many fields it has. */
  readonly fieldCount: Int32Array = new Int32Array(RUN_RECORDS);
  /** Per record: 1 when every value byte is printable ASCII. */
  readonly plain: Uint8Array = new Uint8Array(RUN_RECORDS);
  /** Per record: 1 when a byte is 0x80 or above. */
  readonly nonAsciiRecord: Uint8Array = new Uint8Array(RUN_RECORDS);
  /**
   * Per record: the absolute offset just past it. A plain array, not a
   * Float64Array: a number read from one is a double, and records whose
   * `byteEnd` is a double box it (an allocation per record, and every array
   * that keeps byte offsets downstream turns from small integers to boxes).
   */
  readonly byteEnd: number[] = new Array(RUN_RECORDS).fill(0);
  /** Any record has a byte of 0x80 or above. */
  nonAscii = false;
  /** Any value has doubled quotes. */
  escaped = false;

  /**
   * Adds a scanned record (`base`: the absolute offset of its buffer).
   *
   * @returns Whether the run is full now.
   */
  add(scanned: ScannedRecord, base: number): boolean {
    const r = this.count++;
    const n = scanned.fieldCount;
    if ((this.fields + n) * 3 > this.bounds.length) {
      const grown = new Int32Array(Math.max(2 * this.bounds.length, (this.fields + n) * 3));
      grown.set(this.bounds);
      this.bounds = grown;
    }
    const bounds = this.bounds;
    const from = scanned.bounds;
    for (let i = 0, at = this.fields * 3; i < n * 3; i++, at++) bounds[at] = from[i];
    this.firstField[r] = this.fields;
    this.fieldCount[r] = n;
    this.fields += n;
    this.plain[r] = scanned.plain ? 1 : 0;
    this.byteEnd[r] = base + scanned.end;
    this.nonAsciiRecord[r] = scanned.nonAscii ? 1 : 0;
    if (scanned.nonAscii) this.nonAscii = true;
    if (scanned.escaped) this.escaped = true;
    return this.count === RUN_RECORDS ||
      this.bounds[this.fields * 3 - 2] - this.bounds[0] >= RUN_BYTES;
  }

  clear(): void {
    this.count = 0;
    this.fields = 0;
    this.nonAscii = false;
    this.escaped = false;
  }
}
