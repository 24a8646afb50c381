/**
 * Stage 3, the concurrency stage: each valid row runs through its steps
 * against WorkOS — resolve its organization → establish its user → ensure
 * its membership (and the membership's roles) → enroll its TOTP factor —
 * with at most `concurrency` rows in flight (the semaphore; the rate budget
 * sits in the client). The steps of a row are one task inside this one
 * stage, not a stream each: the bound on work in flight must span them all
 * (a row holds its slot from its organization to its factor), and rows of
 * one person or organization coalesce inside the `RowRunner`. Outcomes
 * leave in completion order, so that the watermark below moves as rows end.
 *
 * Each record is admitted (registered with the watermark, skipped when a
 * journal holds it final, its warnings told) just before it takes its
 * slot, so the journal's view of how far reading got is never more than
 * one record ahead of the rows started.
 *
 * Backpressure: a row starts only when the semaphore has a slot, and the
 * stage takes its next batch only when it has started the last. A row's
 * slot goes back when its outcome has been handed on — when that outcome
 * closed a batch, once the sink took the batch (see `batchOutcomes`) — so
 * memory holds at most `concurrency` rows in flight and `concurrency`
 * batches not yet taken, and a slow sink slows the rows. Outcomes that
 * end in the same turn of the event loop travel as one chunk.
 *
 * @module
 */

import type { UserRow } from "../../types.ts";
import type { RowOutcome } from "../../outcome/mod.ts";
import type { OutcomeChunk } from "./batch_outcomes.ts";
import { Semaphore } from "../../limits/semaphore.ts";
import { isRunStop } from "../../limits/run_stop.ts";
import type { CheckedRecord } from "./validate_records.ts";
import type { RunState } from "./run_state.ts";

/**
 * Runs one valid row against WorkOS through its steps, in order: a
 * `RowProcessor` (organization → user → membership and roles → TOTP), or
 * an `InvitationProcessor` (organization → invitation).
 */
export interface RowRunner {
  /** Runs the row to its end; row-level failures are in the outcome, never thrown. */
  process(row: UserRow): Promise<RowOutcome>;
}

/** Options for {@linkcode runRows}. */
export interface RunRowsOptions {
  /** Rows in flight at most. */
  concurrency: number;
  /**
   * Admits each record just before it starts (see `recordAdmission`):
   * `false` when it must not run. Every record is admitted without it.
   */
  admit?(checked: CheckedRecord): boolean;
}

/**
 * The concurrency stage.
 *
 * @param runner Runs each row through its steps.
 * @param state The run's state: its stop signal, and where a run condition is recorded.
 * @param options Rows in flight at most, and how a record is admitted.
 * @returns The stage: batches of checked records in, outcomes out in completion order.
 *
 * @example Usage
 * ```ts
 * import { runRows } from "./run_rows.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const runner = {
 *   process: (row: { recordNumber: number; byteEnd: number; email: string }) =>
 *     Promise.resolve({ recordNumber: row.recordNumber, byteEnd: row.byteEnd, email: row.email }),
 * };
 * const row = { recordNumber: 1, byteEnd: 16, email: "ada@example.com", emailKey: "ada@example.com", original: {} };
 * const input = ReadableStream.from([[{ row, warnings: [] }]]);
 * const out = await Array.fromAsync(input.pipeThrough(runRows(runner, new RunState(), { concurrency: 4 })));
 * assert.equal(out[0].outcomes[0].email, "ada@example.com");
 * out[0].release?.();
 * ```
 */
export function runRows(
  runner: RowRunner,
  state: RunState,
  options: RunRowsOptions,
): TransformStream<CheckedRecord[], OutcomeChunk> {
  const semaphore = new Semaphore(options.concurrency);
  const admit = options.admit;
  // Rows started and not yet ended: a count, not a promise per row kept for
  // the flush (a row's promises were the stage's largest allocation per row,
  // issue 16's import memory).
  let running = 0;
  // Resolves the flush once the last row running has ended.
  let idle: (() => void) | undefined;
  let out: TransformStreamDefaultController<OutcomeChunk>;
  // Outcomes of rows that ended in this turn, handed on together at its end.
  let ended: RowOutcome[] = [];

  /** Hands on the outcomes that ended; their slots go back once they are taken. */
  function handOnEnded(): void {
    const outcomes = ended;
    ended = [];
    const release = () => {
      for (let i = 0; i < outcomes.length; i++) semaphore.release();
    };
    try {
      out.enqueue({ outcomes, release });
    } catch {
      // The chain below was torn down; the run's error says why.
      release();
    }
  }

  /** Counts a row as ended; the flush goes on once none runs. */
  function rowEnded(): void {
    if (--running === 0 && idle) idle();
  }

  /** Collects a row's outcome, to be handed on at the end of this turn. */
  function emit(outcome: RowOutcome): void {
    if (ended.push(outcome) === 1) queueMicrotask(handOnEnded);
    rowEnded();
  }

  /** A row's task rejected: the run stopped, or something unexpected failed the row. */
  function fail(row: UserRow, error: unknown): void {
    // The world stopped the run, not the row: it stays unfinished (the
    // watermark stays below it) and a resume runs it again.
    if (isRunStop(error)) {
      semaphore.release();
      rowEnded();
      state.stopWith(error);
      return;
    }
    // A row task must never reject: anything unexpected fails the row.
    emit({
      recordNumber: row.recordNumber,
      byteEnd: row.byteEnd,
      email: row.email,
      error: {
        recordNumber: row.recordNumber,
        email: row.email,
        errorType: "user_create",
        errorMessage: error instanceof Error ? error.message : String(error),
        timestamp: new Date().toISOString(),
      },
    });
  }

  /** Hands failed rows' outcomes on, and waits until they are taken. */
  function handOn(outcomes: RowOutcome[]): Promise<void> {
    return new Promise((taken) => out.enqueue({ outcomes, release: taken }));
  }

  function start(row: UserRow): void {
    // The import's person cache keeps row.emailKey long after the row. It
    // is a string of its own already (toLowerCase copies; pinned by
    // tests/validate_kept_strings_test.ts), so no copy is made here.
    running++;
    runner.process(row).then(emit, (error) => fail(row, error));
  }

  return new TransformStream({
    start(controller) {
      out = controller;
    },
    async transform(batch) {
      let failed: RowOutcome[] = [];
      for (const checked of batch) {
        if (state.stop.aborted) {
          // Read but not started: the watermark stays below it, so a resume
          // starts from it.
          state.interrupted = true;
          break;
        }
        if (admit && !admit(checked)) continue;
        if (checked.outcome) {
          failed.push(checked.outcome);
          continue;
        }
        if (failed.length > 0) {
          await handOn(failed);
          failed = [];
        }
        await semaphore.acquire();
        if (state.stop.aborted) {
          semaphore.release();
          state.interrupted = true;
          break;
        }
        start(checked.row);
      }
      if (failed.length > 0) await handOn(failed);
    },
    async flush() {
      if (running > 0) await new Promise<void>((resolve) => idle = resolve);
      if (ended.length > 0) handOnEnded();
    },
  });
}
