/**
 * The end of the chain: one `WritableStream` of outcome batches that hands
 * each batch, with its watermark, to the run's sinks, one batch at a time
 * (a slow sink slows the chain above through backpressure, not memory;
 * the rows whose outcomes closed a batch get their slots back only once
 * their batch is taken).
 * After a batch fails, no later batch is handed on: a later batch that
 * committed would put the watermark past rows the failed one lost. A run
 * condition a sink throws (a file that cannot be written) stops the run.
 *
 * @module
 */

import type { RowOutcome, Watermark } from "../../outcome/mod.ts";
import { isRunStop } from "../../limits/run_stop.ts";
import type { OutcomeBatch } from "./batch_outcomes.ts";
import type { RunState } from "./run_state.ts";

/** Receives each batch of outcomes with its watermark. */
export type OutcomeSinkWrite = (
  outcomes: RowOutcome[],
  watermark: Watermark | undefined,
) => Promise<void> | void;

/**
 * The outcome sink.
 *
 * @param state The run's state: where a failure is recorded and a run condition stops the run.
 * @param write Hands a batch to the sinks; without it batches end here.
 * @returns The writable end of the chain.
 *
 * @example Usage
 * ```ts
 * import { outcomeSink } from "./outcome_sink.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const batches = ReadableStream.from([
 *   {
 *     outcomes: [{ recordNumber: 1, byteEnd: 16, email: "ada@example.com" }],
 *     watermark: undefined,
 *     taken: [],
 *   },
 * ]);
 * await batches.pipeTo(outcomeSink(new RunState(), (outcomes) => {
 *   seen.push(...outcomes.map((outcome) => outcome.recordNumber));
 * }));
 * assert.deepEqual(seen, [1]);
 * ```
 */
export function outcomeSink(
  state: RunState,
  write?: OutcomeSinkWrite,
): WritableStream<OutcomeBatch> {
  return new WritableStream({
    async write(batch) {
      try {
        if (write && !state.sinkFailure) await write(batch.outcomes, batch.watermark);
      } catch (error) {
        state.sinkFailure = { error };
        if (isRunStop(error)) state.stopWith(error);
      } finally {
        for (const release of batch.taken) release();
      }
    },
  }, { highWaterMark: 1 });
}
