/**
 * The journal as an outcome sink: what the import commits to a job. It
 * decides which outcomes are final (after abandoned requests, failed rows
 * are cut off, not failed), writes their errors to the job's error file
 * (synced), counts them into the job's totals with the one counting rule of
 * `src/outcome`, and commits them with the watermark. The journal keeps
 * what it is given.
 *
 * @module
 */

import type { CheckpointState, ImportJournal, JournalTotals } from "../journal/store.ts";
import type { CachedOrganization } from "../organizations/organization_resolver.ts";
import { type OutcomeSink, type RowOutcome, tallyOutcome, type Watermark } from "../outcome/mod.ts";
import { type ErrorFileSink, openErrorFileSink } from "../report/error_file_sink.ts";

/** The session's state a commit records besides the outcomes, read at each batch. */
export interface JournalSessionState {
  /** The organizations resolved so far, by key, for a resume to start from. */
  organizationCache: Array<[string, CachedOrganization]>;
  /** Organizations the job created, all sessions. */
  organizationsCreated: number;
  /** Requests were abandoned (a second Ctrl+C): failed rows may have been cut off. */
  abandoned?: boolean;
  /** This session's counters so far. */
  session?: { retries: number; rateLimited: number; cacheHits: number; cacheMisses: number };
}

/** Options for {@linkcode openJournalSink}. */
export interface JournalSinkOptions {
  /** The session's state, read at every batch. */
  state(): JournalSessionState;
  /** Told when the job's error file is shorter than the journal says. */
  onWarning?(message: string): void;
}

/**
 * Commits every batch to a job.
 *
 * @example Commit a batch by hand
 * ```ts
 * import { createJob, describeInput } from "../journal/journal.ts";
 * import { openJournalSink } from "./journal_sink.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/users.csv`, "email\nada@example.com\n");
 * const journal = await createJob("by-hand", {
 *   checkpointDir: dir,
 *   input: await describeInput(`${dir}/users.csv`),
 *   options: {},
 * });
 * const sink = await openJournalSink(journal, {
 *   state: () => ({ organizationCache: [], organizationsCreated: 0 }),
 * });
 * await sink.write(
 *   [{ recordNumber: 1, byteEnd: 22, email: "ada@example.com", userId: "user_1", user: "created" }],
 *   { recordNumber: 1, byteEnd: 22 },
 * );
 * await sink.close();
 * await journal.finish("completed");
 * assert.equal(journal.progress.totals.usersCreated, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JournalSink implements OutcomeSink {
  readonly #journal: ImportJournal;
  readonly #errors: ErrorFileSink;
  readonly #state: () => JournalSessionState;
  readonly #atStart: JournalTotals;
  #totals: Omit<JournalTotals, "durationMs">;
  #frozen = false;
  // When each row not yet committed started (insertion order: oldest
  // first): a crash after a commit can leave unrecorded only what rows
  // started since the oldest of these made.
  readonly #uncommitted = new Map<number, number>();
  // A row's warnings count when the row is committed, so that a row that
  // runs again after a crash is not counted twice.
  readonly #rowWarnings = new Map<number, number>();

  /**
   * Use {@linkcode openJournalSink}, which opens the job's error file.
   *
   * @param journal The job.
   * @param errors The job's error file.
   * @param state The session's state, read at every batch.
   */
  constructor(journal: ImportJournal, errors: ErrorFileSink, state: () => JournalSessionState) {
    this.#journal = journal;
    this.#errors = errors;
    this.#state = state;
    this.#atStart = journal.totalsAtStart;
    const { durationMs: _, ...counts } = this.#atStart;
    this.#totals = counts;
  }

  /**
   * Notes that a row starts against WorkOS: until it is committed, what
   * WorkOS makes from now on may be its work.
   *
   * @param recordNumber The row.
   */
  started(recordNumber: number): void {
    this.#uncommitted.set(recordNumber, Date.now());
  }

  /**
   * Notes a warning of a row, counted in the job's totals once the row is committed.
   *
   * @param recordNumber The row.
   */
  warned(recordNumber: number): void {
    this.#rowWarnings.set(recordNumber, (this.#rowWarnings.get(recordNumber) ?? 0) + 1);
  }

  /**
   * Commits the batch's final rows: their errors to the job's error file,
   * then rows, claims, watermark and totals to the journal.
   *
   * @param batch Finished rows, in completion order.
   * @param watermark Every row up to it is final.
   */
  async write(batch: readonly RowOutcome[], watermark: Watermark | undefined): Promise<void> {
    const state = this.#state();
    if (state.abandoned) this.#frozen = true;
    for (const outcome of batch) this.#uncommitted.delete(outcome.recordNumber);
    // Requests abandoned by a second Ctrl+C fail their rows; those rows were
    // cut off, not failed: they stay unfinished (the watermark stays where
    // it was) and run again on resume.
    const kept = this.#frozen
      ? batch.filter((outcome) => !outcome.error || outcome.error.errorType === "validation")
      : batch;
    const written = this.#errors.count;
    await this.#errors.write(kept);
    const totals = { ...this.#totals };
    for (const outcome of kept) {
      tallyOutcome(totals, outcome);
      totals.warnings += this.#rowWarnings.get(outcome.recordNumber) ?? 0;
    }
    totals.organizationsCreated = state.organizationsCreated;
    const session = state.session;
    if (session) {
      const start = this.#atStart;
      totals.retries = start.retries + session.retries;
      totals.rateLimited = start.rateLimited + session.rateLimited;
      totals.cacheHits = start.cacheHits + session.cacheHits;
      totals.cacheMisses = start.cacheMisses + session.cacheMisses;
    }
    const checkpoint: CheckpointState = {
      totals,
      organizationCache: state.organizationCache,
      // Measured only when this batch wrote errors: a file found shorter than
      // the journal says keeps being reported until new errors are synced.
      errorsBytes: this.#errors.count > written ? this.#errors.bytes : undefined,
      inFlightSince: this.#uncommitted.values().next().value,
      abandoned: this.#frozen,
    };
    await this.#journal.commit(kept, this.#frozen ? undefined : watermark, checkpoint);
    this.#totals = totals;
    for (const outcome of batch) this.#rowWarnings.delete(outcome.recordNumber);
  }

  /** Closes the job's error file (the journal itself is closed by its `finish`). */
  close(): Promise<void> {
    return this.#errors.close();
  }
}

/**
 * Opens the sink of a job: its error file is cut back to what the journal
 * committed (a crash may have left lines of rows that run again) and opened
 * for appending.
 *
 * @param journal The job.
 * @param options The session's state, and where a short error file is told.
 * @returns The sink; close it when the import ends.
 *
 * @example Usage
 * ```ts ignore
 * const sink = await openJournalSink(journal, { state: () => sessionState() });
 * ```
 */
export async function openJournalSink(
  journal: ImportJournal,
  options: JournalSinkOptions,
): Promise<JournalSink> {
  // With each row's fields (no secrets), so that --errors-out can be a CSV
  // with the original columns, as outside a job.
  const errors = await openErrorFileSink(journal.errorFile.path, {
    format: "jsonl",
    append: true,
    includeRawRow: true,
    committedBytes: journal.errorFile.committedBytes,
    onWarning: options.onWarning,
  });
  return new JournalSink(journal, errors, options.state);
}
