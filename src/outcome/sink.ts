/**
 * Where outcomes go once rows finish: the error file, the audit log, the
 * journal, progress. Each is an {@linkcode OutcomeSink}; the import writes
 * every batch to all of them, in order, through one {@linkcode OutcomeFanOut}.
 *
 * @module
 */

import type { RowOutcome } from "./row_outcome.ts";
import type { Watermark } from "./watermark.ts";

/**
 * Takes batches of finished rows. A batch is written to a sink only after
 * the sink before it took it, so a sink may rely on what earlier ones made
 * durable (the journal commits rows whose errors and audit entries are on
 * disk already). A sink that cannot keep a batch throws: nothing later in
 * the run is written past it.
 *
 * @example A sink that counts failed rows
 * ```ts
 * import type { OutcomeSink, RowOutcome, Watermark } from "./mod.ts";
 *
 * class FailureCounter implements OutcomeSink {
 *   failures = 0;
 *   write(batch: readonly RowOutcome[], _watermark: Watermark | undefined): Promise<void> {
 *     for (const outcome of batch) if (outcome.error) this.failures++;
 *     return Promise.resolve();
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 * const counter = new FailureCounter();
 * await counter.write([{ recordNumber: 1, byteEnd: 9, email: "x" }], undefined);
 * console.log(counter.failures); // 0
 * ```
 */
export interface OutcomeSink {
  /**
   * Takes a batch, in completion order, with the low watermark: every
   * record up to it is final.
   */
  write(batch: readonly RowOutcome[], watermark: Watermark | undefined): Promise<void>;
  /** Finishes the sink (flushes and closes what it opened). */
  close(): Promise<void>;
}

/**
 * A sink for a callback that wants each outcome, such as
 * `ImportUsersOptions.onRow`.
 *
 * @param onOutcome Called once per outcome, in completion order.
 * @returns The sink.
 *
 * @example Usage
 * ```ts
 * import { callbackSink } from "./sink.ts";
 * const emails: string[] = [];
 * const sink = callbackSink((outcome) => emails.push(outcome.email));
 * await sink.write([{ recordNumber: 1, byteEnd: 9, email: "ada@example.com" }], undefined);
 * console.log(emails); // [ "ada@example.com" ]
 * ```
 */
export function callbackSink(onOutcome: (outcome: RowOutcome) => void): OutcomeSink {
  return {
    write(batch) {
      for (const outcome of batch) onOutcome(outcome);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Writes each batch to several sinks, one after another in the order given,
 * and closes them all.
 *
 * @example Two sinks, in order
 * ```ts
 * import { callbackSink, OutcomeFanOut } from "./sink.ts";
 * const seen: string[] = [];
 * const sinks = new OutcomeFanOut([
 *   callbackSink((outcome) => seen.push(`first ${outcome.recordNumber}`)),
 *   callbackSink((outcome) => seen.push(`second ${outcome.recordNumber}`)),
 * ]);
 * await sinks.write([{ recordNumber: 1, byteEnd: 9, email: "a@b.co" }], undefined);
 * await sinks.close();
 * console.log(seen); // [ "first 1", "second 1" ]
 * ```
 */
export class OutcomeFanOut implements OutcomeSink {
  readonly #sinks: OutcomeSink[] = [];

  /**
   * @param sinks The sinks, in the order each batch reaches them.
   */
  constructor(sinks: readonly (OutcomeSink | undefined)[] = []) {
    for (const sink of sinks) this.add(sink);
  }

  /**
   * Adds a sink after the others: each batch reaches it last.
   *
   * @param sink The sink; `undefined` is skipped.
   */
  add(sink: OutcomeSink | undefined): void {
    if (sink) this.#sinks.push(sink);
  }

  /**
   * Writes the batch to every sink in turn; stops at the first that throws.
   *
   * @param batch Finished rows, in completion order.
   * @param watermark Every record up to it is final.
   */
  async write(batch: readonly RowOutcome[], watermark: Watermark | undefined): Promise<void> {
    for (const sink of this.#sinks) await sink.write(batch, watermark);
  }

  /**
   * Closes every sink, each even when an earlier one failed.
   *
   * @returns The errors of the sinks that failed to close, in sink order.
   */
  async closeAll(): Promise<unknown[]> {
    const failures: unknown[] = [];
    for (const sink of this.#sinks) {
      try {
        await sink.close();
      } catch (error) {
        failures.push(error);
      }
    }
    return failures;
  }

  /** Closes every sink; throws the first failure once all are closed. */
  async close(): Promise<void> {
    const failures = await this.closeAll();
    if (failures.length > 0) throw failures[0];
  }
}
