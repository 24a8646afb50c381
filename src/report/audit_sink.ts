/**
 * The audit log as an outcome sink: every write a batch's rows made, as
 * audit entries, in the file before the journal commits those rows (so that
 * `undo` can take back whatever a committed row did). Organizations are
 * created mid-row, outside the batches: their entries go in at once.
 *
 * @module
 */

import { localIoStop, type RunStopError } from "../limits/run_stop.ts";
import type { OutcomeSink, RowOutcome } from "../outcome/mod.ts";
import { auditEntriesOf } from "./audit_entries.ts";
// The log's module loads when a log is opened: a dry run has none (issue 16:
// its memory floor).
import type { AuditEntry, AuditLog } from "./audit_log.ts";

/** Options for {@linkcode AuditSink}. */
export interface AuditSinkOptions {
  /**
   * A resumed job's committed length of the log (a path only): entries past
   * it that rows running again would write are not written twice.
   */
  writtenAfter?: number;
  /** Told when an organization's entry cannot be written: no write may start after it. */
  onStop?(stop: RunStopError): void;
}

/**
 * Writes the audit entries of every batch to an audit log: a path, opened
 * by {@linkcode AuditSink.open} and closed by {@linkcode AuditSink.close},
 * or an open log that its owner closes (the sink only flushes it).
 *
 * @example Usage
 * ```ts
 * import { AuditSink } from "./audit_sink.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const sink = new AuditSink(path);
 * await sink.open();
 * await sink.write([{
 *   recordNumber: 1,
 *   byteEnd: 10,
 *   email: "ada@example.com",
 *   userId: "user_1",
 *   user: "created",
 * }]);
 * await sink.close();
 * console.log(JSON.parse(await Deno.readTextFile(path)).action); // user_created
 * await Deno.remove(path);
 * ```
 */
export class AuditSink implements OutcomeSink {
  readonly #path?: string;
  readonly #options: AuditSinkOptions;
  #log?: AuditLog;
  // Entries made before the log is open (an organization created while the
  // import resolves its single organization): written once it is.
  #before: AuditEntry[] = [];

  /**
   * @param log A path to open, or an open log the caller closes.
   * @param options A resumed job's committed length; where a failed organization entry is told.
   */
  constructor(log: string | AuditLog, options: AuditSinkOptions = {}) {
    if (typeof log === "string") this.#path = log;
    else this.#log = log;
    this.#options = options;
  }

  /** The log's path, once known. */
  get path(): string {
    return this.#log?.path ?? this.#path ?? "";
  }

  /**
   * Opens the log (a path), and writes the entries made before.
   *
   * @throws {Error} When the file cannot be opened.
   */
  async open(): Promise<void> {
    if (!this.#log && this.#path !== undefined) {
      const { openAuditLog } = await import("./audit_log.ts");
      this.#log = await openAuditLog(this.#path, { writtenAfter: this.#options.writtenAfter });
    }
    const before = this.#before;
    this.#before = [];
    if (before.length > 0) await this.#log?.write(before);
  }

  /**
   * Records an entry made outside the batches (an organization created for
   * a row). Not awaited by the row: a failure is told to `onStop`.
   *
   * @param entry The entry.
   */
  writeNow(entry: AuditEntry): void {
    const log = this.#log;
    if (!log) {
      this.#before.push(entry);
      return;
    }
    // No write may start once the audit log is known to be incomplete.
    log.write([entry]).catch((error) => this.#options.onStop?.(localIoStop(log.path, error)));
  }

  /**
   * Appends the entries of the batch's writes.
   *
   * @param batch Finished rows.
   * @throws {RunStopError} A `local_io` stop naming the file, when it cannot be written.
   */
  async write(batch: readonly RowOutcome[]): Promise<void> {
    const log = this.#log;
    if (!log) return;
    const timestamp = new Date().toISOString();
    try {
      await log.write(batch.flatMap((outcome) => auditEntriesOf(outcome, timestamp)));
    } catch (error) {
      throw localIoStop(log.path, error);
    }
  }

  /**
   * Waits until every entry is in the file; closes the log it opened.
   *
   * @throws {RunStopError} A `local_io` stop naming the file, when it cannot be finished.
   */
  async close(): Promise<void> {
    const log = this.#log;
    if (!log) return;
    try {
      if (this.#path !== undefined) await log.close();
      else await log.flush();
    } catch (error) {
      throw localIoStop(log.path, error);
    }
  }
}
