// Opens an input up to its first record: picks the format, reads the CSV
// header or the NDJSON mode line from the start, and moves to the resume
// point. Shared by openInput and countRecords.

import type { InputFormat, SourceRecord } from "../types.ts";
import { findUnknownColumns } from "../validation/columns.ts";
import { type ByteSource, openFileSource, streamSource } from "./_byte_source.ts";
import { concatBytes, emptyBytes, hasUtf16Bom } from "./_bytes.ts";
import { CsvRecordReader, readCsvHeader } from "./_csv_reader.ts";
import { NdjsonRecordReader, readNdjsonStart } from "./_ndjson_reader.ts";
import type { InputSource, OpenInputOptions } from "./open_input.ts";

const BOM = [0xef, 0xbb, 0xbf];
/** How many leading bytes format detection may look at. */
const PEEK_LIMIT = 64 * 1024;

/** An input opened up to its first record. */
export interface OpenedReader {
  format: InputFormat;
  columns: string[];
  unknownColumns: string[];
  upsert: boolean;
  reader: { next(): Promise<SourceRecord[] | null>; count(): Promise<number> };
  bytes: ByteSource;
}

/** Opens `source` and positions a record reader at the first record to read. */
export async function openReader(
  source: InputSource,
  options: OpenInputOptions,
): Promise<OpenedReader> {
  const { resumeFrom } = options;
  if (resumeFrom !== undefined) checkResumePoint(resumeFrom.byteOffset, resumeFrom.recordNumber);
  const path = typeof source === "string" && source !== "-" ? source : undefined;
  const bytes = path !== undefined
    ? await openFileSource(path)
    : streamSource(source === "-" ? Deno.stdin.readable : source as ReadableStream<Uint8Array>);
  try {
    const label = path === undefined ? "the input" : JSON.stringify(path);
    const head = await peek(bytes);
    if (hasUtf16Bom(head)) {
      throw new TypeError(`Cannot read ${label}: it is encoded as UTF-16: save it as UTF-8`);
    }
    const format = options.format ?? detectFormatOf(path, head);
    let columns: string[] = [];
    let upsert = false;
    let start: number;
    let lastNumber: number;
    if (format === "csv") {
      const header = await readCsvHeader(bytes);
      if (header !== null) {
        columns = header.columns;
        checkHeader(columns);
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
      ? new CsvRecordReader(bytes, columns, lastNumber)
      : new NdjsonRecordReader(bytes, lastNumber);
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

function checkHeader(columns: string[]): void {
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === "") continue;
    if (seen.has(column)) {
      throw new SyntaxError(
        `Cannot read the CSV header: column ${
          JSON.stringify(column)
        } appears more than once: rename or remove one of them`,
      );
    }
    seen.add(column);
  }
  if (!seen.has("email")) {
    throw new SyntaxError(
      `Cannot read the CSV header: there is no "email" column: name the column that holds the email addresses "email"`,
    );
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
