// Appends to a file in call order, for the report files written as a job goes
// (audit log, error files). Writes are queued rather than awaited by callers
// so that overlapping calls cannot interleave their bytes; after one write
// fails the file is incomplete, so that failure latches: every later write,
// flush and close fails with it.

/**
 * Writes all of `bytes` to `file`: a single `write` may take only part.
 *
 * @param file The open file.
 * @param bytes What to write.
 */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Appends byte chunks to a file in call order; the first failure latches. */
export class OrderedFileWriter {
  readonly #file: Deno.FsFile;
  #pending: Promise<void> = Promise.resolve();
  #failure: unknown = undefined;

  /** @param file The open file; {@linkcode close} closes it. */
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Settles once every write queued so far has ended, well or not: it never
   * rejects.
   */
  get settled(): Promise<void> {
    return this.#pending;
  }

  /**
   * Queues `bytes` after every earlier write.
   *
   * @param bytes What to append.
   * @returns Resolves once they are written; rejects when this or an earlier
   *   write failed.
   */
  write(bytes: Uint8Array): Promise<void> {
    const next = this.#pending.then(async () => {
      // After a failed write the file is incomplete: fail every later write too.
      if (this.#failure !== undefined) throw this.#failure;
      try {
        await writeAll(this.#file, bytes);
      } catch (error) {
        this.#failure = error;
        throw error;
      }
    });
    // The chain must go on after a failure, so that later writes see it.
    this.#pending = next.catch(() => {});
    return next;
  }

  /** Waits until every write so far is in the file; rejects if one failed. */
  async flush(): Promise<void> {
    await this.#pending;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Flushes, then closes the file even when flushing failed. Call it once. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#file.close();
    }
  }
}
