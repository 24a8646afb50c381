/**
 * The watermark: how far an input is finished, as a record number and the
 * byte offset a resume reads from.
 *
 * @module
 */

/**
 * The last record of the input's longest fully finished prefix.
 *
 * @example Usage
 * ```ts
 * import type { Watermark } from "@workos-importer/cli";
 * const watermark: Watermark = { recordNumber: 120, byteEnd: 4_096 };
 * console.log(watermark.byteEnd); // 4096
 * ```
 */
export interface Watermark {
  /** The record's number. */
  recordNumber: number;
  /** Byte offset just past that record: where a resume starts reading. */
  byteEnd: number;
}
