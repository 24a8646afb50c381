/**
 * The import pipeline, as one chain of web streams (see
 * {@linkcode pipeRun}):
 *
 * records → validate → run rows (each record admitted as it starts: final
 * ones skipped; then organization → user → membership and roles → TOTP, at
 * most `concurrency` rows in flight) → batch outcomes (500 / 250 ms, with
 * the watermark) → the outcome sink.
 *
 * A dry run swaps the concurrency stage for the plan's. Backpressure comes
 * from the streams — each stage takes its next chunk only when the one below
 * has room — and, for closed batches waiting for the sink, from the slots
 * of the rows that closed them; so memory stays flat whatever the input's
 * size.
 *
 * @module
 */

import type { SourceRecord } from "../types.ts";
import { isRunStop, type RunStopError } from "../limits/run_stop.ts";
import type { ImportTally, RowOutcome, Watermark } from "../outcome/mod.ts";
import type { OrganizationMode } from "./organization_mode.ts";
import { DryRunPlanner, type PlanReport } from "./dry_run_plan.ts";
import { readRecords } from "./stages/read_records.ts";
import { recordAdmission } from "./stages/skip_final_records.ts";
import { type CheckedRecord, checkValidated, validateRecords } from "./stages/validate_records.ts";
import type { ValidatedBatch } from "./_validated_codec.ts";
import { type RowRunner, runRows } from "./stages/run_rows.ts";
import { planRows } from "./stages/plan_rows.ts";
import { batchOutcomes, type OutcomeChunk } from "./stages/batch_outcomes.ts";
import { outcomeSink } from "./stages/outcome_sink.ts";
import { RunState } from "./stages/run_state.ts";

export type { RowRunner } from "./stages/run_rows.ts";

/** Options for {@linkcode runImport}. */
export interface RunImportOptions {
  /** Rows in flight at once (10). */
  concurrency?: number;
  /** Validate and plan only: no API call. */
  dryRun?: boolean;
  /** Processes valid rows; required unless `dryRun`. */
  processor?: RowRunner;
  /** Used by the dry-run plan to tell organization modes apart. */
  mode?: OrganizationMode;
  /** The input's size in bytes, when known: the dry-run plan sizes its sets from it. */
  inputBytes?: number;
  /** When aborted, no new row is started; rows in flight finish. */
  stop?: AbortSignal;
  /** Rows already final in a journal: not processed again. */
  skip?(recordNumber: number): boolean;
  /**
   * Receives outcomes in batches, in completion order, with the low
   * watermark: every record up to and including it is final. Awaited, so a
   * slow sink slows the import instead of piling up memory.
   */
  onOutcomes?(outcomes: RowOutcome[], watermark: Watermark | undefined): Promise<void> | void;
  /** Receives each row warning, e.g. for per-row log lines. */
  onWarning?(recordNumber: number, message: string): void;
  /** Outcomes per batch handed to `onOutcomes` (500). */
  batchSize?: number;
  /** Longest time an outcome waits for its batch, in ms (250). */
  flushIntervalMs?: number;
  /**
   * Told at once when a run condition stops the run (a row met one, or
   * `onOutcomes` threw one): the caller stops sending requests.
   */
  onRunStop?(stop: RunStopError): void;
}

/**
 * Records validated already, in the validate worker (a dry run of a large
 * file): the chain starts after its validate stage.
 */
export interface ValidatedRecords {
  validated: ReadableStream<ValidatedBatch>;
}

/** What {@linkcode runImport} returns. */
export interface RunImportResult {
  tally: ImportTally;
  /** `true` when `stop` ended the run before the input did. */
  interrupted: boolean;
  /** The dry-run plan, with `dryRun`. */
  plan?: PlanReport;
  /** Every record up to here is final. */
  watermark?: Watermark;
  /**
   * The run condition that stopped the run (`interrupted` is then `true`):
   * rows it met are unfinished, neither failed nor done.
   */
  stopped?: RunStopError;
}

/**
 * Runs records through validation and, unless dry, through WorkOS.
 *
 * @param records Batches of parsed records, in input order, or of records
 *   validated in the validate worker.
 * @param options Concurrency, processor, stop signal and outcome sink.
 * @returns The tally, whether it was interrupted, and the plan of a dry run.
 *
 * @example Usage
 * ```ts ignore
 * const input = await openInput("users.csv");
 * const { tally } = await runImport(input.records, { dryRun: true });
 * ```
 */
export async function runImport(
  records: ReadableStream<SourceRecord[]> | ValidatedRecords,
  options: RunImportOptions,
): Promise<RunImportResult> {
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Cannot import: concurrency must be a whole number of at least 1`);
  }
  if (!options.dryRun && !options.processor) {
    throw new TypeError("Cannot import: a row processor is required unless it is a dry run");
  }
  const planner = options.dryRun
    ? new DryRunPlanner(options.mode ?? { kind: "none" }, {
      inputBytes: options.inputBytes,
    })
    : undefined;
  const state = new RunState({ stop: options.stop, onRunStop: options.onRunStop });
  // Each record is admitted as the stage below reaches it (see recordAdmission).
  const admit = recordAdmission(state, { isFinal: options.skip, onWarning: options.onWarning });
  const rows = planner
    ? planRows(planner, admit)
    : runRows(options.processor as RowRunner, state, { concurrency, admit });
  await pipeRun(records, state, rows, options);
  const sinkError = state.sinkFailure?.error;
  if (state.sinkFailure && !isRunStop(sinkError)) throw sinkError;
  if (state.inputFailure) throw state.inputFailure.error;
  return {
    tally: state.tally,
    interrupted: state.interrupted || state.stopped !== undefined,
    plan: planner?.report(),
    watermark: state.watermarks.watermark,
    stopped: state.stopped,
  };
}

/**
 * The chain every run is, top to bottom. `rows` is the concurrency stage
 * (`runRows`), or the plan's (`planRows`) in a dry run; each admits a
 * record (see `recordAdmission`) as it reaches it.
 */
function pipeRun(
  records: ReadableStream<SourceRecord[]> | ValidatedRecords,
  state: RunState,
  rows: TransformStream<CheckedRecord[], OutcomeChunk>,
  options: RunImportOptions,
): Promise<void> {
  const checked = records instanceof ReadableStream
    // A dry run's plan never reads a row's metadata: it is checked, not kept.
    ? readRecords(records, state).pipeThrough(validateRecords({ keepMetadata: !options.dryRun }))
    : readRecords(records.validated, state).pipeThrough(checkValidated());
  return checked
    .pipeThrough(rows)
    .pipeThrough(
      batchOutcomes(state, { size: options.batchSize, intervalMs: options.flushIntervalMs }),
    )
    .pipeTo(outcomeSink(state, options.onOutcomes));
}
