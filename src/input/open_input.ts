/**
 * Opens a CSV or NDJSON input as a stream of record batches: streamed (memory
 * stays flat whatever the size), with exact byte offsets so that a job can
 * resume by seeking past the records it has done.
 *
 * @module
 */

import type { InputFormat, SourceRecord } from "../types.ts";
import { chunksOf } from "./_byte_source.ts";
import { detectFormatOf, openedFacts, openReader } from "./_open_reader.ts";
import { pulledStream } from "./_pulled_stream.ts";
import type { InputSource, OpenInputOptions } from "./input_options.ts";

export type { InputSource, OpenInputOptions, ResumePoint } from "./input_options.ts";

/** An input ready to be read. */
export interface OpenedInput {
  format: InputFormat;
  /** The normalized CSV header (trimmed, lower case); for NDJSON the empty array. */
  columns: string[];
  /** CSV header columns the importer will ignore; for NDJSON the empty array. */
  unknownColumns: string[];
  /** Whether the NDJSON input starts with `{"_mode":"upsert"}`. */
  upsert: boolean;
  /**
   * Whether a record may name an organization (`org_id` or
   * `org_external_id`), when the reader knows: a provider's export does
   * when its mapping or `--map` fills one. Absent for CSV and NDJSON, whose
   * header or records say.
   */
  namesOrganizations?: boolean;
  /**
   * The records in input order, in batches (one per chunk read). Records that
   * cannot be parsed come through with `parseError` set. Cancel the stream
   * to stop early and release the input.
   */
  records: ReadableStream<SourceRecord[]>;
}

/**
 * Opens a CSV or NDJSON input for streaming.
 *
 * CSV: UTF-8 with or without a byte order mark, CRLF, LF or CR line breaks,
 * quoted values with commas, quotes and line breaks; blank lines (and lines of
 * only commas) are skipped and not counted. Header names are trimmed and put
 * in lower case; a header without an `email` column, or with a name twice, is
 * rejected. Record numbers count data rows (the header is not a row). A row
 * with the wrong number of values, a quote that is never closed, or bytes
 * that are not UTF-8 comes through as a record with `parseError`; reading
 * goes on with the next line.
 *
 * NDJSON: one JSON object per line; blank lines are skipped; record numbers
 * are line numbers. A first line `{"_mode":"upsert"}` sets
 * {@linkcode OpenedInput.upsert} and is not a record. A line that is not JSON
 * or not an object comes through with `parseError`.
 *
 * @throws {Deno.errors.NotFound} The file does not exist.
 * @throws {InputError} The input is a directory, UTF-16 or not text, the CSV
 *   header is unusable, or the NDJSON mode line names an unknown mode.
 * @throws {RangeError} The resume point lies before the first record.
 *
 * @example Read the records of a CSV file
 * ```ts
 * import { openInput } from "./open_input.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const csv = "Email,First_Name\r\nada@example.com,Ada\r\n\r\nbob@example.com,Bob\r\n";
 * const input = await openInput(new Blob([csv]).stream());
 * deepEqual(input.columns, ["email", "first_name"]);
 * const records = [];
 * for await (const batch of input.records) records.push(...batch);
 * equal(records.length, 2);
 * deepEqual(records[1], {
 *   recordNumber: 2,
 *   fields: { email: "bob@example.com", first_name: "Bob" },
 *   byteEnd: csv.length,
 *   plain: true, // every value is printable ASCII
 *   tidy: true, // and none has a space to trim
 * });
 * ```
 *
 * @example Resume after the first record
 * ```ts
 * import { openInput } from "./open_input.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const csv = "email\na@example.com\nb@example.com\n";
 * const input = await openInput(new Blob([csv]).stream(), {
 *   format: "csv",
 *   resumeFrom: { byteOffset: 20, recordNumber: 1 },
 * });
 * const records = [];
 * for await (const batch of input.records) records.push(...batch);
 * deepEqual(records.map((record) => record.recordNumber), [2]);
 * ```
 */
export async function openInput(
  source: InputSource,
  options: OpenInputOptions = {},
): Promise<OpenedInput> {
  const { signal } = options;
  signal?.throwIfAborted();
  const opened = await openReader(source, options);
  const { reader, bytes } = opened;
  if (signal?.aborted) {
    bytes.close();
    signal.throwIfAborted();
  }
  // The format's reader is a stream stage from bytes to record batches;
  // aborting the pipe cancels the bytes (releasing the input) and errors
  // the records with the signal's reason.
  const stage = reader.transform?.();
  const records = stage
    ? chunksOf(bytes).pipeThrough(stage, { signal })
    : pulledStream(() => reader.next(), () => bytes.close(), signal);
  return { ...openedFacts(opened), records };
}

/**
 * Detects an input's format: from the file name's extension (`.csv`;
 * `.ndjson` or `.jsonl`), else from the first byte that is not a byte order
 * mark or whitespace (`{` means NDJSON, anything else CSV).
 *
 * @example Detect formats
 * ```ts
 * import { detectFormat } from "./open_input.ts";
 * import { equal } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode('\n{"email":"ada@example.com"}\n');
 * equal(detectFormat("users.JSONL", new Uint8Array()), "ndjson");
 * equal(detectFormat("users.csv", bytes), "csv");
 * equal(detectFormat(undefined, bytes), "ndjson");
 * equal(detectFormat("export.txt", new TextEncoder().encode("email\n")), "csv");
 * ```
 */
export function detectFormat(path: string | undefined, firstBytes: Uint8Array): InputFormat {
  return detectFormatOf(path, firstBytes);
}
