/**
 * Facts about an input file that a job needs before it starts: a content hash
 * (to tell whether a checkpoint belongs to this file) and a record count (for
 * progress totals). Both stream the file; neither loads it whole.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { InputFormat } from "../types.ts";
import { openReader } from "./_open_reader.ts";
import type { ProviderSpec } from "./providers/mod.ts";

/**
 * The SHA-256 of a file's bytes, in lower-case hex.
 *
 * @example Hash a file
 * ```ts
 * import { hashFile } from "./file_facts.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * equal(
 *   await hashFile(path),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * await Deno.remove(path);
 * ```
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const count = await file.read(buffer);
    if (count === null) break;
    hash.update(buffer.subarray(0, count));
  }
  return hash.digest("hex");
}

/** Options for {@linkcode countRecords}. */
export interface CountRecordsOptions {
  /** The format; detected like {@linkcode openInput} does when absent. */
  format?: InputFormat;
  /** The CSV column separator (`","` by default). */
  delimiter?: string;
  /** Count the users of another provider's export (`--from`). */
  provider?: ProviderSpec;
}

/**
 * Counts the records {@linkcode openInput} would yield for a file, without
 * decoding them: CSV rows (quoted line breaks, blank lines and the header
 * handled as the parser does), or non-blank NDJSON lines after the optional
 * mode line. Records that would fail to parse are counted.
 *
 * @throws {InputError} The input is not text, or the CSV header is unusable.
 *
 * @example Count the rows of a CSV file
 * ```ts
 * import { countRecords } from "./file_facts.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, 'email,name\na@example.com,"Ada\nLovelace"\n\nb@example.com,Bob\n');
 * equal(await countRecords(path), 2);
 * await Deno.remove(path);
 * ```
 */
export async function countRecords(
  path: string,
  options: CountRecordsOptions = {},
): Promise<number> {
  const { reader, bytes } = await openReader(path, {
    format: options.format,
    delimiter: options.delimiter,
    provider: options.provider,
  });
  try {
    return await reader.count();
  } finally {
    bytes.close();
  }
}
