/**
 * Error files (`--errors-out`): every failed row streamed to disk as CSV, a
 * JSON array or JSON lines, never held in memory, in a file only its owner
 * can read.
 *
 * A CSV error file starts with the input's own columns (passwords and hashes
 * removed), then the error columns, so it can be fixed in a spreadsheet and
 * fed back as input: the importer knows the error columns and ignores them.
 *
 * @example Write failed rows as CSV
 * ```ts
 * import { openErrorWriter } from "./error_writer.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * {
 *   await using errors = await openErrorWriter(path, { columns: ["email", "first_name"] });
 *   await errors.write([{
 *     recordNumber: 12,
 *     email: "ada@example",
 *     errorType: "validation",
 *     errorMessage: `Cannot import row 12: "email" is not valid`,
 *     timestamp: new Date().toISOString(),
 *     rawRow: { email: "ada@example", first_name: "Ada" },
 *   }]);
 * }
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import { type CsvStringify, loadCsvStringify } from "./_csv_stringify.ts";
import type { ErrorRecord } from "../types.ts";
import { ERROR_FILE_COLUMNS } from "../validation/columns.ts";
import { OrderedFileWriter, writeAll } from "./_ordered_file_writer.ts";

/** The formats an error file can have. */
export type ErrorFileFormat = "csv" | "json" | "jsonl";

/** The fields of every error record, in file order. */
export const ERROR_FIELDS: readonly string[] = Object.freeze([
  "recordNumber",
  "email",
  "errorType",
  "errorMessage",
  "httpStatus",
  "workosCode",
  "workosRequestId",
  "timestamp",
]);

/** Input columns never written to an error file, because they hold secrets. */
export const SECRET_COLUMNS: readonly string[] = Object.freeze([
  "password",
  "password_hash",
  "totp_secret",
]);

const EXTENSIONS: Readonly<Record<string, ErrorFileFormat>> = {
  ".csv": "csv",
  ".json": "json",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
};

function extensionOf(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot).toLowerCase();
}

/**
 * The error file format a path asks for, by its extension (any case):
 * `.csv` is CSV, `.json` a JSON array, `.jsonl` (or `.ndjson`) JSON lines.
 * Any other extension gets a JSON array, as the earlier importer wrote; use
 * {@linkcode errorFileFormatWarning} to tell the user.
 *
 * @example Formats by extension
 * ```ts
 * import { errorFileFormat } from "./error_writer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorFileFormat("errors.csv"), "csv");
 * assert.equal(errorFileFormat("errors.JSONL"), "jsonl");
 * assert.equal(errorFileFormat("errors.txt"), "json");
 * ```
 *
 * @param path The error file's path.
 * @returns The format to write.
 */
export function errorFileFormat(path: string): ErrorFileFormat {
  return EXTENSIONS[extensionOf(path)] ?? "json";
}

/**
 * The warning to show when a path's extension names no error file format
 * (so a JSON array will be written), or `undefined` when it names one.
 *
 * @example Warn about an unknown extension
 * ```ts
 * import { errorFileFormatWarning } from "./error_writer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorFileFormatWarning("errors.csv"), undefined);
 * assert.equal(
 *   errorFileFormatWarning("errors.txt"),
 *   `Writing errors as a JSON array to "errors.txt": use a .csv, .json or .jsonl extension to choose the format`,
 * );
 * ```
 *
 * @param path The error file's path.
 * @returns The warning, or `undefined`.
 */
export function errorFileFormatWarning(path: string): string | undefined {
  if (extensionOf(path) in EXTENSIONS) return undefined;
  return `Writing errors as a JSON array to "${path}": use a .csv, .json or .jsonl extension to choose the format`;
}

/**
 * A value made safe for a spreadsheet cell: a value starting with `=`, `+`,
 * `-`, `@`, a tab or a carriage return would be run as a formula by Excel,
 * LibreOffice or Google Sheets (CSV injection), so it gets a leading `'`.
 * So does a value that starts with `'` itself, so that the importer, fed
 * its own error file back, can remove exactly the `'` it added
 * (`unescapeErrorFileCell` in `src/validation/columns.ts`; see
 * docs/error-files.md). Quoting is left to the CSV writer.
 *
 * @example Escape a formula
 * ```ts
 * import { toCsvCell } from "./error_writer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toCsvCell("=HYPERLINK(\"http://evil\")"), "'=HYPERLINK(\"http://evil\")");
 * assert.equal(toCsvCell("ada@example.com"), "ada@example.com");
 * ```
 *
 * @param value The cell's text.
 * @returns The text to write.
 */
export function toCsvCell(value: string): string {
  switch (value.charCodeAt(0)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // tab
    case 0x0d: // carriage return
    case 0x27: // ', so that unescaping is exact
      return `'${value}`;
    default:
      return value;
  }
}

/**
 * The header of a CSV error file for an input with `columns`: the input's
 * columns in their order, minus {@linkcode SECRET_COLUMNS} and any error
 * column a fed-back error file already had, then `email` if the input had
 * none, then the error columns the importer ignores in its input
 * (`ERROR_FILE_COLUMNS`).
 *
 * @example Header for an input with a password
 * ```ts
 * import { csvErrorHeader } from "./error_writer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(csvErrorHeader(["email", "password", "org_id"]), [
 *   "email", "org_id", "recordNumber", "errorType", "errorMessage",
 *   "httpStatus", "workosCode", "workosRequestId", "timestamp",
 * ]);
 * ```
 *
 * @param columns The input's columns, in input order.
 * @returns The error file's header.
 */
export function csvErrorHeader(columns: readonly string[]): string[] {
  // The importer ignores exactly ERROR_FILE_COLUMNS in its input, which is what
  // lets a fixed error file be fed back; input headers arrive lower-cased.
  const dropped = new Set([...SECRET_COLUMNS, ...ERROR_FILE_COLUMNS].map((c) => c.toLowerCase()));
  const raw = [...new Set(columns)].filter((column) => !dropped.has(column.toLowerCase()));
  return [...raw, ...(raw.includes("email") ? [] : ["email"]), ...ERROR_FILE_COLUMNS];
}

/** The fields of a record that go into JSON files, in a fixed order; never `rawRow`. */
function jsonFields(record: ErrorRecord): Record<string, unknown> {
  return {
    recordNumber: record.recordNumber,
    email: record.email,
    errorType: record.errorType,
    errorMessage: record.errorMessage,
    httpStatus: record.httpStatus,
    workosCode: record.workosCode,
    workosRequestId: record.workosRequestId,
    timestamp: record.timestamp,
  };
}

function errorCell(record: ErrorRecord, field: string): string {
  const value = record[field as keyof ErrorRecord];
  return value === undefined || typeof value === "object" ? "" : String(value);
}

/** Writes failed rows to an error file, one batch at a time, in call order. */
export interface ErrorWriter {
  /**
   * Appends records to the file. Batches are written in call order even when
   * calls overlap; await the promise to bound how much waits in memory.
   */
  write(records: readonly ErrorRecord[]): Promise<void>;
  /** Finishes the file (closes a JSON array) and closes it. Safe to call twice. */
  close(): Promise<void>;
  /** Records written by this writer (not counting a file's earlier content when appending). */
  readonly count: number;
  /** The file's path. */
  readonly path: string;
  /** The format being written. */
  readonly format: ErrorFileFormat;
  /** Same as {@linkcode ErrorWriter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@linkcode openErrorWriter}. */
export interface OpenErrorWriterOptions {
  /** The format; by default from the path's extension ({@linkcode errorFileFormat}). */
  format?: ErrorFileFormat;
  /**
   * The input's columns in input order, for the CSV header. Without them (or
   * when empty, as for NDJSON input) the header takes the keys of the first
   * written record's `rawRow`; later rows' other keys are then left out.
   */
  columns?: readonly string[];
  /**
   * JSON lines only: also write each record's `rawRow` (the input's fields,
   * secrets already removed), for a job's own error file, from which a CSV
   * copy with the original columns is made.
   */
  includeRawRow?: boolean;
  /**
   * Append to an existing file instead of truncating it, for a resumed job.
   * JSON lines always; CSV when `columns` gives the header, which must match
   * the file's first line; never a JSON array (its closing `]` is final).
   */
  append?: boolean;
}

/** Reads the bytes at `position` into `buffer`, returning how many were read. */
async function readAt(file: Deno.FsFile, position: number, buffer: Uint8Array): Promise<number> {
  await file.seek(position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < buffer.length) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return filled;
}

class FileErrorWriter implements ErrorWriter {
  readonly path: string;
  readonly format: ErrorFileFormat;
  readonly #out: OrderedFileWriter;
  #encoder = new TextEncoder();
  /** The CSV header, once it is in the file. */
  #header: string[] | undefined;
  readonly #includeRawRow: boolean;
  /** csv-stringify, for a CSV file (loaded by `openErrorWriter`). */
  readonly #stringify: CsvStringify | undefined;
  #count = 0;
  #closed = false;

  constructor(
    path: string,
    format: ErrorFileFormat,
    file: Deno.FsFile,
    header: string[] | undefined,
    includeRawRow: boolean,
    stringify: CsvStringify | undefined,
  ) {
    this.#stringify = stringify;
    this.path = path;
    this.format = format;
    this.#out = new OrderedFileWriter(file);
    this.#header = header;
    this.#includeRawRow = includeRawRow;
  }

  get count(): number {
    return this.#count;
  }

  write(records: readonly ErrorRecord[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(`Cannot write errors to "${this.path}": the file is closed`),
      );
    }
    if (records.length === 0) return this.#out.settled;
    // Serialized now, so that overlapping calls keep their order in the file.
    const text = this.#serialize(records);
    this.#count += records.length;
    return this.#out.write(this.#encoder.encode(text));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.format === "json") {
        await this.#out.write(this.#encoder.encode(this.#count === 0 ? "]\n" : "\n]\n"));
      }
    } finally {
      // Closes the file even when the closing bracket failed; rejects with
      // the first failed write, if any.
      await this.#out.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #serialize(records: readonly ErrorRecord[]): string {
    switch (this.format) {
      case "jsonl": {
        let text = "";
        for (const record of records) {
          const fields = jsonFields(record);
          if (this.#includeRawRow && record.rawRow) fields.rawRow = record.rawRow;
          text += JSON.stringify(fields) + "\n";
        }
        return text;
      }
      case "json": {
        let text = "";
        let first = this.#count === 0;
        for (const record of records) {
          text += (first ? "\n" : ",\n") + JSON.stringify(jsonFields(record));
          first = false;
        }
        return text;
      }
      case "csv":
        return this.#serializeCsv(records);
    }
  }

  #serializeCsv(records: readonly ErrorRecord[]): string {
    const rows: string[][] = [];
    if (this.#header === undefined) {
      const firstRaw = records.find((record) => record.rawRow !== undefined)?.rawRow;
      this.#header = csvErrorHeader(Object.keys(firstRaw ?? { email: "" }));
      rows.push(this.#header);
    }
    const header = this.#header;
    const errorStart = header.length - ERROR_FILE_COLUMNS.length;
    for (const record of records) {
      const row = new Array<string>(header.length);
      for (let i = 0; i < header.length; i++) {
        const column = header[i];
        let value: string;
        if (i >= errorStart) value = errorCell(record, column);
        else if (column === "email") value = record.rawRow?.email ?? record.email;
        else value = record.rawRow?.[column] ?? "";
        row[i] = toCsvCell(value);
      }
      rows.push(row);
    }
    return (this.#stringify as CsvStringify)(rows);
  }
}

/**
 * Opens an error file for writing, created with mode `0o600` (owner only:
 * error files hold emails and names) or narrowed to it if it existed.
 *
 * - `csv`: the input's columns (no passwords or hashes), then
 *   `recordNumber, errorType, errorMessage, httpStatus, workosCode,
 *   workosRequestId, timestamp` (plus `email` when the input had none).
 *   Cells are escaped with {@linkcode toCsvCell} and quoted by
 *   `csv-stringify`. The header is written up front when `columns` is given.
 * - `json`: a JSON array of objects with {@linkcode ERROR_FIELDS}, valid once
 *   the writer is closed.
 * - `jsonl`: one such object per line.
 *
 * Every format is streamed: each `write` goes straight to the file.
 *
 * @example Append to a resumed job's JSON lines
 * ```ts
 * import { openErrorWriter } from "./error_writer.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const error = {
 *   recordNumber: 7, email: "bob@example.com", errorType: "user_create" as const,
 *   errorMessage: "Cannot create user: email not available", httpStatus: 400,
 *   timestamp: "2025-01-01T00:00:00.000Z",
 * };
 * for (let session = 0; session < 2; session++) {
 *   await using errors = await openErrorWriter(path, { append: true });
 *   await errors.write([error]);
 * }
 * assert.equal((await Deno.readTextFile(path)).split("\n").length, 3);
 * await Deno.remove(path);
 * ```
 *
 * @param path Where to write.
 * @param options Format, input columns and append mode.
 * @returns The open writer; close it when done.
 */
export async function openErrorWriter(
  path: string,
  options: OpenErrorWriterOptions = {},
): Promise<ErrorWriter> {
  const format = options.format ?? errorFileFormat(path);
  const append = options.append ?? false;
  const columns = options.columns !== undefined && options.columns.length > 0
    ? options.columns
    : undefined;
  if (append && format === "json") {
    throw new TypeError(
      `Cannot append to "${path}": a JSON array cannot be appended to, use a .jsonl or .csv file`,
    );
  }
  if (append && format === "csv" && columns === undefined) {
    throw new TypeError(`Cannot append to "${path}": pass the input's columns to check its header`);
  }
  const file = await Deno.open(path, {
    // A new file is only written, so `--allow-write` on it is all it needs.
    read: append,
    write: true,
    create: true,
    truncate: !append,
    append,
    mode: 0o600,
  });
  try {
    // `mode` applies only to a new file; an existing one may be readable by others.
    if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600);
    const stringify = format === "csv" ? await loadCsvStringify() : undefined;
    const header = stringify && columns !== undefined ? csvErrorHeader(columns) : undefined;
    // A truncated file is empty; stat would need read access.
    const size = append ? (await file.stat()).size : 0;
    const encoder = new TextEncoder();
    let headerWritten = false;
    if (size > 0 && append) {
      if (header !== undefined) {
        const expected = encoder.encode((stringify as CsvStringify)([header]));
        const found = new Uint8Array(expected.length);
        const read = await readAt(file, 0, found);
        if (read !== expected.length || !found.every((byte, i) => byte === expected[i])) {
          throw new TypeError(
            `Cannot append to "${path}": its header differs from this input's columns`,
          );
        }
        headerWritten = true;
      }
      // A crash may have cut the last line short; start on a fresh line so only it is lost.
      const last = new Uint8Array(1);
      await readAt(file, size - 1, last);
      if (last[0] !== 0x0a) await writeAll(file, encoder.encode("\n"));
    }
    if (format === "json") await writeAll(file, encoder.encode("["));
    if (header !== undefined && !headerWritten) {
      await writeAll(file, encoder.encode((stringify as CsvStringify)([header])));
    }
    return new FileErrorWriter(
      path,
      format,
      file,
      header,
      format === "jsonl" && options.includeRawRow === true,
      stringify,
    );
  } catch (error) {
    file.close();
    throw error;
  }
}
