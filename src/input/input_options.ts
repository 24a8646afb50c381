/**
 * What an input can be and how it is opened: the types `openInput` and the
 * readers behind it share, in a file of their own so that neither imports
 * the other.
 *
 * @module
 */

import type { InputFormat } from "../types.ts";
import type { ProviderSpec } from "./providers/mod.ts";

/**
 * A file path, `"-"` for standard input, or a byte stream.
 *
 * @example Usage
 * ```ts
 * import type { InputSource } from "./input_options.ts";
 * const sources: InputSource[] = ["users.csv", "-", new Blob(["email\n"]).stream()];
 * console.log(sources.length); // 3
 * ```
 */
export type InputSource = string | ReadableStream<Uint8Array>;

/**
 * Where a checkpointed job stopped reading.
 *
 * @example Usage
 * ```ts
 * import type { ResumePoint } from "./input_options.ts";
 * const resumeFrom: ResumePoint = { byteOffset: 4_096, recordNumber: 120 };
 * console.log(resumeFrom.recordNumber); // 120
 * ```
 */
export interface ResumePoint {
  /** Byte offset just past the last record consumed (its `byteEnd`). */
  byteOffset: number;
  /** Number of the last record consumed. */
  recordNumber: number;
}

/**
 * Options for `openInput`.
 *
 * @example Usage
 * ```ts
 * import type { OpenInputOptions } from "./input_options.ts";
 * const options: OpenInputOptions = { format: "csv", delimiter: ";" };
 * console.log(options.delimiter); // ";"
 * ```
 */
export interface OpenInputOptions {
  /** The format; detected from the file name or the first byte when absent. */
  format?: InputFormat;
  /**
   * Continue after a record read earlier. A file is seeked to the offset
   * (the records before it are not parsed again); a stream is read and
   * discarded up to it. The CSV header and the NDJSON mode line are still
   * read from the start.
   */
  resumeFrom?: ResumePoint;
  /**
   * The CSV column separator: one character, not a quote or line break
   * (`","` by default; `";"`, `"\t"` and `"|"` are common in exports).
   */
  delimiter?: string;
  /** Aborting errors the record stream with the signal's reason and releases the input. */
  signal?: AbortSignal;
  /** Read another provider's export (`--from`) instead of the importer's CSV or NDJSON. */
  provider?: ProviderSpec;
  /**
   * Columns to rename before reading (`--map`): input column (normalized
   * for CSV) → importer column. A provider's export applies it to its fields.
   */
  columnMap?: Readonly<Record<string, string>>;
  /** Told about findings on the whole file (a provider's unmatched hashes, say). */
  onWarning?(message: string): void;
  /**
   * Only the first records will be read (a check that the input has any):
   * read a large provider export in this thread too, where the whole of it
   * would be read in a worker, whose start-up costs more than a few records.
   */
  firstRecordsOnly?: boolean;
}
