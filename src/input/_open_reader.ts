// Opens an input up to its first record: picks the format, reads the CSV
// header or the NDJSON mode line from the start, and moves to the resume
// point. Shared by openInput and countRecords.

import { InputError } from "../errors.ts";
import type { InputFormat, SourceRecord } from "../types.ts";
import { findUnknownColumns } from "../validation/columns.ts";
import {
  type ByteSource,
  FILE_READ_SIZE,
  LARGE_READ_SIZE,
  openFileSource,
  streamSource,
} from "./_byte_source.ts";
import { concatBytes, emptyBytes, hasUtf16Bom } from "./_bytes.ts";
import type { ChunkedRecordReader } from "./_chunked_reader.ts";
import { CsvRecordReader, readCsvHeader } from "./_csv_reader.ts";
import { type HandOverLines, NdjsonRecordReader, readNdjsonStart } from "./_ndjson_reader.ts";
import type { InputSource, OpenInputOptions } from "./input_options.ts";
import { openProviderReader } from "./providers/mod.ts";
import { openInWorker, wantsReadWorker } from "./providers/_worker_client.ts";
import type { OpenedFacts } from "./_worker_protocol.ts";

const BOM = [0xef, 0xbb, 0xbf];
/** How many leading bytes format detection may look at. */
const PEEK_LIMIT = 64 * 1024;

/** An input opened up to its first record. */
export interface OpenedReader extends OpenedFacts {
  reader: {
    next(): Promise<SourceRecord[] | null>;
    count(): Promise<number>;
    /** The reader as a stream stage from the source's bytes to record batches, when it can be one. */
    transform?(): ReadableWritablePair<SourceRecord[], Uint8Array>;
  };
  bytes: ByteSource;
}

/**
 * The facts of an opened input, without its reader, in the order `openInput`
 * gives them (`namesOrganizations` only when the reader knows).
 *
 * @example
 * ```ts
 * import { openedFacts } from "./_open_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const facts = { format: "ndjson" as const, columns: [], unknownColumns: [], upsert: true };
 * deepEqual(openedFacts({ ...facts, namesOrganizations: undefined }), facts);
 * ```
 */
export function openedFacts(opened: OpenedFacts): OpenedFacts {
  return {
    format: opened.format,
    columns: opened.columns,
    unknownColumns: opened.unknownColumns,
    upsert: opened.upsert,
    ...(opened.namesOrganizations === undefined
      ? {}
      : { namesOrganizations: opened.namesOrganizations }),
  };
}

/**
 * Opens `source` and positions a record reader at the first record to read:
 * a large provider export in a read worker (the same reader, run on the
 * second core; see providers/_worker_client.ts), any other input here.
 */
export async function openReader(
  source: InputSource,
  options: OpenInputOptions,
): Promise<OpenedReader> {
  const { resumeFrom } = options;
  if (resumeFrom !== undefined) checkResumePoint(resumeFrom.byteOffset, resumeFrom.recordNumber);
  if (typeof source === "string" && source !== "-" && wantsReadWorker(source, options)) {
    const opened = await openInWorker(source, options);
    if (opened !== undefined) return opened;
  }
  return await openReaderHere(source, options);
}

/**
 * {@linkcode openReader} in this thread (the read worker runs it too, with
 * `handOverLines` for the lines it may hand to the main thread).
 */
export async function openReaderHere(
  source: InputSource,
  options: OpenInputOptions,
  here: { handOverLines?: HandOverLines } = {},
): Promise<OpenedReader> {
  const { resumeFrom } = options;
  if (resumeFrom !== undefined) checkResumePoint(resumeFrom.byteOffset, resumeFrom.recordNumber);
  const path = typeof source === "string" && source !== "-" ? source : undefined;
  const bytes = path !== undefined
    ? await openFileSource(
      path,
      options.provider && options.provider.from !== "package" ? LARGE_READ_SIZE : FILE_READ_SIZE,
    )
    : streamSource(source === "-" ? Deno.stdin.readable : source as ReadableStream<Uint8Array>);
  try {
    const label = path === undefined ? "the input" : JSON.stringify(path);
    const head = await peekOrExplain(bytes, label);
    if (hasUtf16Bom(head)) {
      throw new InputError(`Cannot read ${label}: it is encoded as UTF-16: save it as UTF-8`);
    }
    if (looksBinary(head)) {
      throw new InputError(
        `Cannot read ${label}: it is not text (it holds bytes no CSV or NDJSON file has): give a CSV or NDJSON file`,
      );
    }
    if (options.provider !== undefined) {
      const provider = await openProviderReader(
        bytes,
        { ...options.provider, map: options.provider.map ?? options.columnMap },
        { label, resumeFrom, onWarning: options.onWarning, handOverLines: here.handOverLines },
      );
      return { ...provider, unknownColumns: [], upsert: false, bytes };
    }
    const columnMap = options.columnMap;
    const format = options.format ?? detectFormatOf(path, head);
    let columns: string[] = [];
    let upsert = false;
    let start: number;
    let lastNumber: number;
    const separator = separatorByte(options.delimiter);
    if (format === "csv") {
      const header = await readCsvHeader(bytes, separator);
      if (header !== null) {
        columns = columnMap === undefined
          ? header.columns
          : renameColumns(header.columns, columnMap);
        checkHeader(columns, separator);
      }
      start = header?.end ?? bytes.position;
      lastNumber = 0;
    } else {
      const begin = await readNdjsonStart(bytes);
      upsert = begin.upsert;
      start = begin.end;
      lastNumber = begin.lines;
    }
    if (resumeFrom !== undefined && resumeFrom.byteOffset > 0) {
      if (resumeFrom.byteOffset < start) {
        throw new RangeError(
          `Cannot resume at byte ${resumeFrom.byteOffset}: the records of ${label} start at byte ${start}`,
        );
      }
      await bytes.skipTo(resumeFrom.byteOffset);
      lastNumber = resumeFrom.recordNumber;
    }
    const reader = format === "csv"
      ? new CsvRecordReader(bytes, columns, lastNumber, separator)
      : columnMap === undefined
      ? new NdjsonRecordReader(bytes, lastNumber)
      : new RenamingReader(new NdjsonRecordReader(bytes, lastNumber), columnMap);
    return {
      format,
      columns,
      unknownColumns: format === "csv" ? findUnknownColumns(columns) : [],
      upsert,
      reader,
      bytes,
    };
  } catch (error) {
    bytes.close();
    throw error;
  }
}

function checkResumePoint(byteOffset: number, recordNumber: number): void {
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
    throw new RangeError(
      `Cannot resume at byte ${byteOffset}: the offset must be a whole number of at least 0`,
    );
  }
  if (!Number.isSafeInteger(recordNumber) || recordNumber < 0) {
    throw new RangeError(
      `Cannot resume after record ${recordNumber}: the record number must be a whole number of at least 0`,
    );
  }
}

/** The byte a `delimiter` option names (a comma when absent). */
export function separatorByte(delimiter: string | undefined): number {
  if (delimiter === undefined) return 0x2c;
  const code = delimiter.length === 1 ? delimiter.charCodeAt(0) : -1;
  if (code < 0x01 || code > 0x7e || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new RangeError(
      `Cannot use delimiter ${
        JSON.stringify(delimiter)
      }: it must be one ASCII character other than a quote or line break`,
    );
  }
  return code;
}

function checkHeader(columns: string[], separator: number): void {
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === "") continue;
    if (seen.has(column)) {
      throw new InputError(
        `Cannot read the CSV header: column ${
          JSON.stringify(column)
        } appears more than once: rename or remove one of them`,
      );
    }
    seen.add(column);
  }
  if (!seen.has("email")) {
    const other = separatorOf(columns, separator);
    throw new InputError(
      other === undefined
        ? `Cannot read the CSV header: there is no "email" column: name the column that holds the email addresses "email"`
        : `Cannot read the CSV header: there is no "email" column: the file seems to separate columns with ${other.name}${
          separator === 0x2c ? ", not commas" : ""
        }: add --delimiter ${other.flag}`,
    );
  }
}

/** Separators other than the comma that exports commonly use. */
const OTHER_SEPARATORS: ReadonlyArray<{ char: string; name: string; flag: string }> = [
  { char: ";", name: '";"', flag: '";"' },
  { char: "\t", name: "tabs", flag: "tab" },
  { char: "|", name: '"|"', flag: '"|"' },
];

/** The separator a header seems to use when read as one column, if any. */
function separatorOf(
  columns: readonly string[],
  used: number,
): { char: string; name: string; flag: string } | undefined {
  const joined = columns.join(String.fromCharCode(used));
  let best: { char: string; name: string; flag: string } | undefined;
  let bestCount = 0;
  const candidates = [{ char: ",", name: "commas", flag: '","' }, ...OTHER_SEPARATORS];
  for (const separator of candidates) {
    if (separator.char.charCodeAt(0) === used) continue;
    const count = joined.split(separator.char).length - 1;
    if (count > bestCount) {
      best = separator;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Whether the first bytes are not text: NUL bytes (a stray one is a row
 * error, many are a binary file), mostly control bytes, or mostly bytes that
 * are not UTF-8.
 */
function looksBinary(head: Uint8Array): boolean {
  const sample = head.subarray(0, 8192);
  if (sample.length === 0) return false;
  let nul = 0;
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) nul++;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) {
      control++;
    }
  }
  if (nul >= 8 || control / sample.length > 0.1) return true;
  const text = new TextDecoder("utf-8").decode(sample);
  let replaced = 0;
  for (const char of text) if (char === "\ufffd") replaced++;
  return replaced / text.length > 0.1;
}

/** Peeks, turning "it is a directory" into a message. */
async function peekOrExplain(bytes: ByteSource, label: string): Promise<Uint8Array> {
  try {
    return await peek(bytes);
  } catch (error) {
    if (error instanceof Deno.errors.IsADirectory) {
      throw new InputError(`Cannot read ${label}: it is a directory: give a CSV or NDJSON file`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Reads enough leading bytes to detect the format, then gives them back. */
async function peek(bytes: ByteSource): Promise<Uint8Array> {
  let head = emptyBytes();
  while (head.length < PEEK_LIMIT && firstSignificantByte(head) === -1) {
    const chunk = await bytes.read();
    if (chunk === null) break;
    head = concatBytes(head, chunk);
  }
  bytes.unread(head);
  return head;
}

/** The first byte that is not a byte order mark or whitespace, or -1. */
export function firstSignificantByte(bytes: Uint8Array): number {
  // A byte order mark split across chunks is not a significant byte yet.
  if (bytes.length < 3 && bytes.every((byte, index) => byte === BOM[index])) return -1;
  let i = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return -1;
}

/** Format from the file name's extension, else from the first significant byte. */
export function detectFormatOf(path: string | undefined, firstBytes: Uint8Array): InputFormat {
  const name = path?.toLowerCase() ?? "";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "ndjson";
  return firstSignificantByte(firstBytes) === 0x7b ? "ndjson" : "csv";
}

/** CSV header names after `--map`: a mapped name takes the importer column's. */
function renameColumns(
  columns: readonly string[],
  map: Readonly<Record<string, string>>,
): string[] {
  return columns.map((column) => map[column] ?? column);
}

/** Renames NDJSON fields after `--map`. */
class RenamingReader {
  readonly #inner: ChunkedRecordReader;
  readonly #map: Array<[string, string]>;

  constructor(inner: ChunkedRecordReader, map: Readonly<Record<string, string>>) {
    this.#inner = inner;
    this.#map = Object.entries(map);
  }

  async next(): Promise<SourceRecord[] | null> {
    const batch = await this.#inner.next();
    return batch === null ? null : this.#rename(batch);
  }

  transform(): ReadableWritablePair<SourceRecord[], Uint8Array> {
    const parse = this.#inner.transform();
    const rename = new TransformStream<SourceRecord[], SourceRecord[]>({
      transform: (batch, controller) => controller.enqueue(this.#rename(batch)),
    });
    return { writable: parse.writable, readable: parse.readable.pipeThrough(rename) };
  }

  count(): Promise<number> {
    return this.#inner.count();
  }

  #rename(batch: SourceRecord[]): SourceRecord[] {
    for (const record of batch) {
      const fields = record.fields;
      for (const [from, to] of this.#map) {
        if (!(from in fields)) continue;
        fields[to] = fields[from];
        delete fields[from];
      }
    }
    return batch;
  }
}
