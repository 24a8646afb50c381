/**
 * The sinks of one import, opened in the order every batch reaches them:
 * the `onRow` callback, `--errors-out`, the audit log, the job's journal,
 * progress. The error file and the audit log are on disk before the
 * journal commits a batch's rows.
 *
 * @module
 */

import type { ImportJournal } from "../journal/store.ts";
import { callbackSink, type ImportTally, OutcomeFanOut, type RowOutcome } from "../outcome/mod.ts";
import type { AuditSink } from "../report/audit_sink.ts";
import { type ErrorFileSink, openErrorFileSink } from "../report/error_file_sink.ts";
import {
  type ProgressFigures,
  ProgressSink,
  type RequestCounters,
} from "../report/progress_sink.ts";
import { type JournalSessionState, type JournalSink, openJournalSink } from "./journal_sink.ts";

/** What {@linkcode openImportSinks} needs. */
export interface ImportSinksOptions {
  /** Called once per finished row. */
  onRow?(outcome: RowOutcome): void;
  /** `--errors-out`, with the input's columns for a CSV header. */
  errorsOut?: { path: string; columns: readonly string[] };
  /** The audit log, already made (organizations may be created before the rows). */
  audit?: AuditSink;
  /** The job, with the session's state each commit records. */
  journal?: { journal: ImportJournal; state(): JournalSessionState };
  /** Told job-wide progress after each batch, counted from `start`. */
  progress?: {
    onProgress(figures: ProgressFigures): void;
    start: ImportTally;
    counters(): RequestCounters;
  };
  /** Told about a job error file shorter than its journal says. */
  onWarning?(message: string): void;
}

/** The open sinks of an import. */
export interface ImportSinks {
  /** Every sink, in batch order: write each batch here, close it at the end. */
  all: OutcomeFanOut;
  /** `--errors-out`, for the count of errors written. */
  errorsOut?: ErrorFileSink;
  /** The journal's sink, which tracks rows in flight and their warnings. */
  journal?: JournalSink;
}

/**
 * Opens the sinks of an import. When one cannot be opened, those opened
 * before it are closed and the failure is thrown.
 *
 * @param options Which sinks, and what they need.
 * @returns The open sinks.
 *
 * @example Rows and progress only
 * ```ts
 * import { emptyTally } from "../outcome/mod.ts";
 * import { openImportSinks } from "./import_sinks.ts";
 *
 * const seen: number[] = [];
 * let rowsDone = 0;
 * const sinks = await openImportSinks({
 *   onRow: (outcome) => seen.push(outcome.recordNumber),
 *   progress: {
 *     onProgress: (figures) => rowsDone = figures.rowsDone,
 *     start: emptyTally(),
 *     counters: () => ({ requests: 0, writes: 0, retries: 0, rateLimited: 0 }),
 *   },
 * });
 * await sinks.all.write([{ recordNumber: 1, byteEnd: 9, email: "a@b.co" }], undefined);
 * await sinks.all.close();
 * console.log(seen, rowsDone); // [ 1 ] 1
 * ```
 */
export async function openImportSinks(options: ImportSinksOptions): Promise<ImportSinks> {
  const all = new OutcomeFanOut();
  const sinks: ImportSinks = { all };
  if (options.onRow) all.add(callbackSink(options.onRow));
  try {
    if (options.errorsOut) {
      sinks.errorsOut = await openErrorFileSink(options.errorsOut.path, {
        columns: options.errorsOut.columns,
      });
      all.add(sinks.errorsOut);
    }
    all.add(options.audit);
    await options.audit?.open();
    if (options.journal) {
      sinks.journal = await openJournalSink(options.journal.journal, {
        state: options.journal.state,
        onWarning: options.onWarning,
      });
      all.add(sinks.journal);
    }
    const progress = options.progress;
    if (progress) {
      all.add(new ProgressSink(progress.onProgress, progress));
    }
  } catch (error) {
    await all.closeAll();
    throw error;
  }
  return sinks;
}
