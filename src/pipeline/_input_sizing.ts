/**
 * Sizing a run's sets from its input file: the dry run's people set and
 * validate's duplicate tracker reserve their tables once, from the bytes
 * the first rows took, instead of growing to them table by table (the
 * tables a set grows out of stay with the allocator between live ones).
 *
 * @module
 */

/**
 * The row from which a set is sized from the input's size: far enough for
 * the bytes a row takes to be a fair mean, early enough that the set holds
 * a few entries a shard.
 */
export const SIZE_FROM_ROW = 2_000;

/** The most entries a set is sized for ahead: it grows past it as needed. */
const MAX_RESERVED = 20_000_000;

/**
 * How many rows a file of `inputBytes` holds, judged by the first
 * `recordNumber` rows having taken `byteEnd` bytes; at most
 * {@linkcode MAX_RESERVED}.
 */
export function expectedRows(inputBytes: number, recordNumber: number, byteEnd: number): number {
  return Math.min(MAX_RESERVED, Math.ceil(inputBytes * recordNumber / Math.max(1, byteEnd)));
}

/**
 * The size of an input named by its path, or `undefined` when it is not a
 * file's (a stream, rows, standard input, a directory, no such file).
 */
export async function inputFileSize(source: unknown): Promise<number | undefined> {
  if (typeof source !== "string" || source === "-") return undefined;
  try {
    const info = await Deno.stat(source);
    return info.isFile ? info.size : undefined;
  } catch {
    return undefined;
  }
}
