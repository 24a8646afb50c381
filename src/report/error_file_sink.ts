/**
 * The error file as an outcome sink: each batch's failed rows appended to an
 * {@linkcode ErrorWriter}, for `--errors-out` and for a job's own
 * `errors.jsonl`. A job's file is synced after every batch, so that its
 * errors are on disk before the journal says their rows are final, and is
 * cut back on resume to the length the journal committed.
 *
 * @module
 */

import type { ErrorRecord } from "../types.ts";
import { localIoStop } from "../limits/run_stop.ts";
import type { OutcomeSink, RowOutcome } from "../outcome/mod.ts";
import { type ErrorWriter, openErrorWriter, type OpenErrorWriterOptions } from "./error_writer.ts";

/** Options for {@linkcode openErrorFileSink}. */
export interface ErrorFileSinkOptions extends OpenErrorWriterOptions {
  /**
   * A job's file: sync it after every batch, and before writing cut it back
   * to this many bytes (what the journal committed; lines past it belong to
   * rows a crash cut off, which run again).
   */
  committedBytes?: number;
  /** Told when the file is shorter than `committedBytes` (errors were lost). */
  onWarning?(message: string): void;
}

/**
 * Writes the failed rows of every batch to an error file.
 *
 * @example Usage
 * ```ts
 * import { openErrorFileSink } from "./error_file_sink.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const sink = await openErrorFileSink(path);
 * await sink.write([
 *   { recordNumber: 1, byteEnd: 10, email: "ada@example.com", user: "created" },
 *   {
 *     recordNumber: 2,
 *     byteEnd: 20,
 *     email: "bad",
 *     error: {
 *       recordNumber: 2,
 *       email: "bad",
 *       errorType: "validation",
 *       errorMessage: 'Email is invalid: "bad"',
 *       timestamp: "2025-01-01T00:00:00.000Z",
 *     },
 *   },
 * ]);
 * await sink.close();
 * console.log(sink.count); // 1
 * await Deno.remove(path);
 * ```
 */
export class ErrorFileSink implements OutcomeSink {
  readonly #writer: ErrorWriter;
  readonly #file?: Deno.FsFile;
  #bytes: number;

  /**
   * Wraps an open writer; use {@linkcode openErrorFileSink} to get one.
   *
   * @param writer The error file's writer.
   * @param synced A second handle on the file, to sync and measure it after each batch.
   * @param bytes The file's length when opened.
   */
  constructor(writer: ErrorWriter, synced: Deno.FsFile | undefined, bytes: number) {
    this.#writer = writer;
    this.#file = synced;
    this.#bytes = bytes;
  }

  /** The file's path. */
  get path(): string {
    return this.#writer.path;
  }

  /** Error records written through this sink. */
  get count(): number {
    return this.#writer.count;
  }

  /** The file's length after the last batch (measured only for a job's synced file). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends the batch's failed rows; for a job's file, syncs it.
   *
   * @param batch Finished rows.
   * @throws {RunStopError} A `local_io` stop naming the file, when it cannot be written.
   */
  async write(batch: readonly RowOutcome[]): Promise<void> {
    const errors: ErrorRecord[] = [];
    for (const outcome of batch) if (outcome.error) errors.push(outcome.error);
    if (errors.length === 0) return;
    try {
      await this.#writer.write(errors);
      if (this.#file) {
        await this.#file.syncData();
        this.#bytes = (await this.#file.stat()).size;
      }
    } catch (error) {
      throw localIoStop(this.path, error);
    }
  }

  /**
   * Finishes the file (a JSON array is closed) and closes it.
   *
   * @throws {RunStopError} A `local_io` stop naming the file, when it cannot be finished.
   */
  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } catch (error) {
      throw localIoStop(this.path, error);
    } finally {
      this.#file?.close();
    }
  }
}

/**
 * Opens an error file as a sink. With `committedBytes` (a job's own file)
 * the file is first cut back to that length, and synced after every batch.
 *
 * @param path Where to write.
 * @param options Format, columns, append mode, a job's committed length.
 * @returns The sink; close it when done.
 *
 * @example A job's file, resumed
 * ```ts
 * import { openErrorFileSink } from "./error_file_sink.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"recordNumber":1}\n{"recordNumber":2,"torn');
 * const sink = await openErrorFileSink(path, { format: "jsonl", append: true, committedBytes: 19 });
 * await sink.close();
 * console.log(await Deno.readTextFile(path)); // {"recordNumber":1}
 * await Deno.remove(path);
 * ```
 */
export async function openErrorFileSink(
  path: string,
  options: ErrorFileSinkOptions = {},
): Promise<ErrorFileSink> {
  const { committedBytes, onWarning, ...writerOptions } = options;
  if (committedBytes === undefined) {
    return new ErrorFileSink(await openErrorWriter(path, writerOptions), undefined, 0);
  }
  await cutBack(path, committedBytes, onWarning);
  const writer = await openErrorWriter(path, writerOptions);
  try {
    const file = await Deno.open(path, { read: true, write: true });
    return new ErrorFileSink(writer, file, (await file.stat()).size);
  } catch (error) {
    await writer.close().catch(() => {});
    throw error;
  }
}

async function cutBack(
  path: string,
  committedBytes: number,
  onWarning: ((message: string) => void) | undefined,
): Promise<void> {
  let size = 0;
  try {
    size = (await Deno.stat(path)).size;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (size > committedBytes) {
    // Lines past the committed length belong to rows a crash cut off: they run again.
    await Deno.truncate(path, committedBytes);
  } else if (size < committedBytes) {
    onWarning?.(
      `The job's error file "${path}" is shorter than its journal says: errors of earlier sessions were lost`,
    );
  }
}
