/**
 * The import pipeline: parsed records → validation → (organization → user →
 * membership) with bounded concurrency → outcomes in batches for the journal,
 * error file and report. Memory stays flat: rows flow through web streams and
 * at most `concurrency` rows are in flight.
 *
 * @module
 */

import type { ErrorRecord, SourceRecord, UserRow } from "../types.ts";
import { Semaphore } from "../limits/semaphore.ts";
import { isRunStop, type RunStopError } from "../limits/run_stop.ts";
import { validateRecord } from "../validation/validate_record.ts";
import {
  emptyTally,
  type ImportTally,
  type RowOutcome,
  tallyOutcome,
  type Watermark,
} from "../outcome/mod.ts";
import { type OrganizationMode, withoutSecrets } from "./row_processor.ts";
import { DryRunPlanner, type PlanReport } from "./dry_run_plan.ts";

/** A record after validation: a row to import, or a row that failed. */
type Checked =
  | { row: UserRow; warnings: string[] }
  | { outcome: RowOutcome; warnings: string[] };

/** Runs one valid row against WorkOS: a `RowProcessor`, or another mode's processor. */
export interface RowRunner {
  /** Runs the row to its end; row-level failures are in the outcome, never thrown. */
  process(row: UserRow): Promise<RowOutcome>;
}

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
 * @param records Batches of parsed records, in input order.
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
  records: ReadableStream<SourceRecord[]>,
  options: RunImportOptions,
): Promise<RunImportResult> {
  const tally = emptyTally();
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`Cannot import: concurrency must be a whole number of at least 1`);
  }
  if (!options.dryRun && !options.processor) {
    throw new TypeError("Cannot import: a row processor is required unless it is a dry run");
  }
  const planner = options.dryRun ? new DryRunPlanner(options.mode ?? { kind: "none" }) : undefined;
  let stopped: RunStopError | undefined;
  const stopRun = new AbortController();
  function stopWith(stop: RunStopError): void {
    stopped ??= stop;
    stopRun.abort();
    options.onRunStop?.(stop);
  }
  const sink = new OutcomeBatcher(tally, options, stopWith);
  const semaphore = new Semaphore(concurrency);
  const inFlight = new Set<Promise<void>>();
  const stop = options.stop ? AbortSignal.any([options.stop, stopRun.signal]) : stopRun.signal;
  let interrupted = false;

  function start(row: UserRow, processor: RowRunner): Promise<void> {
    const task = processor.process(row).then(
      (outcome) => sink.add(outcome),
      (error) => {
        // The world stopped the run, not the row: it stays unfinished (the
        // watermark stays below it) and a resume runs it again.
        if (isRunStop(error)) return stopWith(error);
        // A row task must never reject: anything unexpected fails the row.
        sink.add({
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
      },
    ).finally(() => {
      semaphore.release();
      inFlight.delete(task);
    });
    inFlight.add(task);
    return task;
  }

  const reader = records.getReader();
  try {
    while (true) {
      if (stop?.aborted) {
        interrupted = true;
        break;
      }
      const { value: batch, done } = await reader.read();
      if (done) break;
      for (const record of batch) {
        sink.begin(record);
        if (options.skip?.(record.recordNumber)) {
          sink.settle(record.recordNumber);
          continue;
        }
        const checked = check(record);
        for (const warning of checked.warnings) {
          tally.warnings++;
          options.onWarning?.(record.recordNumber, warning);
        }
        if ("outcome" in checked) {
          planner?.addInvalid();
          await sink.add(checked.outcome);
          continue;
        }
        if (planner) {
          planner.addValid(checked.row);
          await sink.add({
            recordNumber: record.recordNumber,
            byteEnd: record.byteEnd,
            email: checked.row.email,
          });
          continue;
        }
        await semaphore.acquire();
        if (stop?.aborted) {
          // The row was read but not started: the watermark stays below it,
          // so a resume starts from it.
          semaphore.release();
          interrupted = true;
          break;
        }
        start(checked.row, options.processor as RowRunner);
      }
      if (interrupted) break;
    }
  } finally {
    if (interrupted) await reader.cancel().catch(() => {});
    reader.releaseLock();
    await Promise.all(inFlight);
    await sink.close();
  }
  return {
    tally,
    interrupted: interrupted || stopped !== undefined,
    plan: planner?.report(),
    watermark: sink.watermark,
    stopped,
  };
}

function check(record: SourceRecord): Checked {
  const result = validateRecord(record);
  const warnings = result.ok ? result.warnings.map((issue) => issue.message) : [];
  if (result.ok) return { row: result.row, warnings };
  const error: ErrorRecord = {
    recordNumber: record.recordNumber,
    email: result.email,
    errorType: "validation",
    errorMessage: result.issues.map((issue) => issue.message).join("; "),
    timestamp: new Date().toISOString(),
    rawRow: withoutSecrets(result.original),
  };
  return {
    outcome: {
      recordNumber: record.recordNumber,
      byteEnd: record.byteEnd,
      email: result.email,
      error,
    },
    warnings,
  };
}

interface Pending {
  recordNumber: number;
  byteEnd: number;
  done: boolean;
}

/**
 * Groups outcomes into batches, hands them on one batch at a time, and keeps
 * the low watermark: records are registered in input order and the
 * watermark advances over the finished prefix.
 */
class OutcomeBatcher {
  readonly #tally: ImportTally;
  readonly #onOutcomes?: RunImportOptions["onOutcomes"];
  readonly #batchSize: number;
  readonly #intervalMs: number;
  // Records in input order that are not yet below the watermark. Bounded by
  // the rows in flight plus those that finished while an older one lingers.
  #order: Pending[] = [];
  #head = 0;
  readonly #byNumber = new Map<number, Pending>();
  #watermark?: Watermark;
  #pending: RowOutcome[] = [];
  #chain: Promise<void> = Promise.resolve();
  #timer?: ReturnType<typeof setTimeout>;
  #failure?: unknown;
  readonly #onRunStop: (stop: RunStopError) => void;

  constructor(
    tally: ImportTally,
    options: RunImportOptions,
    onRunStop: (stop: RunStopError) => void,
  ) {
    this.#tally = tally;
    this.#onRunStop = onRunStop;
    this.#onOutcomes = options.onOutcomes;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.flushIntervalMs ?? 250;
  }

  get watermark(): Watermark | undefined {
    return this.#watermark;
  }

  begin(record: SourceRecord): void {
    const pending = { recordNumber: record.recordNumber, byteEnd: record.byteEnd, done: false };
    this.#order.push(pending);
    this.#byNumber.set(record.recordNumber, pending);
  }

  settle(recordNumber: number): void {
    const pending = this.#byNumber.get(recordNumber);
    if (!pending) return;
    pending.done = true;
    this.#byNumber.delete(recordNumber);
    while (this.#head < this.#order.length && this.#order[this.#head].done) {
      const finished = this.#order[this.#head++];
      this.#watermark = { recordNumber: finished.recordNumber, byteEnd: finished.byteEnd };
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }

  add(outcome: RowOutcome): Promise<void> {
    tallyOutcome(this.#tally, outcome);
    this.settle(outcome.recordNumber);
    if (!this.#onOutcomes) return Promise.resolve();
    this.#pending.push(outcome);
    if (this.#pending.length >= this.#batchSize) return this.#flush();
    this.#timer ??= setTimeout(() => this.#flush(), this.#intervalMs);
    return Promise.resolve();
  }

  #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return this.#chain;
    const batch = this.#pending;
    this.#pending = [];
    const watermark = this.#watermark;
    const onOutcomes = this.#onOutcomes as NonNullable<RunImportOptions["onOutcomes"]>;
    this.#chain = this.#chain.then(() => {
      // After a failed batch nothing more is handed on: a later batch that
      // committed would put the watermark past rows the failed one lost.
      if (this.#failure === undefined) return onOutcomes(batch, watermark);
    }).catch((error) => {
      this.#failure ??= error;
      if (isRunStop(error)) this.#onRunStop(error);
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    await this.#flush();
    if (this.#failure !== undefined && !isRunStop(this.#failure)) throw this.#failure;
  }
}
