/**
 * Progress as an outcome sink: after each batch, the job-wide numbers of
 * rows and users done, with the session's request counters, handed to a
 * callback (the CLI's progress line, a library user's `onProgress`).
 *
 * @module
 */

import type { ImportTally, OutcomeSink, RowOutcome } from "../outcome/mod.ts";

/** The numbers a {@linkcode ProgressSink} hands on after each batch. */
export interface ProgressFigures {
  /** Rows finished in the whole job (earlier sessions included). */
  rowsDone: number;
  /** Users created, adopted or updated in the whole job. */
  usersDone: number;
  /** Requests sent in this session. */
  requests: number;
  /** Write requests sent in this session. */
  writes: number;
  /** Retried requests in this session. */
  retries: number;
  /** 429 answers in this session. */
  rateLimited: number;
}

/** The session's request counters, read after each batch. */
export interface RequestCounters {
  requests: number;
  writes: number;
  retries: number;
  rateLimited: number;
}

/**
 * Counts rows and users done and reports them after each batch.
 *
 * @example Usage
 * ```ts
 * import { ProgressSink } from "./progress_sink.ts";
 *
 * let rowsDone = 0;
 * const sink = new ProgressSink((figures) => rowsDone = figures.rowsDone, {
 *   counters: () => ({ requests: 2, writes: 1, retries: 0, rateLimited: 0 }),
 * });
 * await sink.write([
 *   { recordNumber: 1, byteEnd: 10, email: "ada@example.com", user: "created" },
 *   { recordNumber: 2, byteEnd: 20, email: "ADA@example.com", user: "repeat" },
 * ]);
 * console.log(rowsDone, sink.usersDone); // 2 1
 * ```
 */
export class ProgressSink implements OutcomeSink {
  readonly #onProgress: (figures: ProgressFigures) => void;
  readonly #counters: () => RequestCounters;
  #rowsDone: number;
  #usersDone: number;

  /**
   * @param onProgress Told after each batch.
   * @param options Where the counts start (a resumed job's) and the request counters.
   */
  constructor(
    onProgress: (figures: ProgressFigures) => void,
    options: { start?: ImportTally; counters: () => RequestCounters },
  ) {
    this.#onProgress = onProgress;
    this.#counters = options.counters;
    const start = options.start;
    this.#rowsDone = start?.totalRows ?? 0;
    this.#usersDone = start ? start.usersCreated + start.usersExisting + start.usersUpdated : 0;
  }

  /** Rows finished in the whole job so far. */
  get rowsDone(): number {
    return this.#rowsDone;
  }

  /** Users created, adopted or updated in the whole job so far. */
  get usersDone(): number {
    return this.#usersDone;
  }

  /**
   * Counts the batch and reports.
   *
   * @param batch Finished rows.
   */
  write(batch: readonly RowOutcome[]): Promise<void> {
    this.#rowsDone += batch.length;
    for (const outcome of batch) {
      if (outcome.user && outcome.user !== "repeat" && !outcome.deletedUserId) this.#usersDone++;
    }
    this.#onProgress({ rowsDone: this.#rowsDone, usersDone: this.#usersDone, ...this.#counters() });
    return Promise.resolve();
  }

  /** Nothing to close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
