/**
 * Stage 4: outcomes are counted, settled against the watermark, and grouped
 * into batches of `size` (500) — or fewer, once the oldest has waited
 * `intervalMs` (250 ms) — each carrying the watermark as it stands when the
 * batch closes: every record up to it is final, in this batch or before.
 *
 * The stage above hands outcomes on with a `release` (its row's semaphore
 * slot, or its read loop's turn): called at once, or — for the chunk that
 * closes a batch — only once the sink has taken that batch. So a slow sink
 * holds back new rows (as the old `await sink.add` did), not memory: with
 * `concurrency: 1` and a batch of one, no row starts before the previous
 * row's batch is committed.
 *
 * Closed batches wait for the sink in this stage's readable queue, which
 * the stream does not bound: the slots do. Each batch not yet taken holds
 * the slot of the row that closed it, so at most `concurrency` batches wait
 * (one, in a dry run), and the rows that did not close one go on while the
 * sink commits. (Had the stream's backpressure bounded it, every row ending
 * while a second batch waited would hold its slot: a slow commit would
 * stall them all.)
 *
 * @module
 */

import { type RowOutcome, tallyOutcome, type Watermark } from "../../outcome/mod.ts";
import type { RunState } from "./run_state.ts";

/** Outcomes handed to the batching stage, in completion order. */
export interface OutcomeChunk {
  /** The outcomes. */
  outcomes: RowOutcome[];
  /** Called once they are handed on: at once, or when the batch they close is taken. */
  release?: () => void;
}

/** A batch of outcomes, in completion order, and the watermark when it closed. */
export interface OutcomeBatch {
  /** The outcomes. */
  outcomes: RowOutcome[];
  /** Every record up to and including it is final. */
  watermark: Watermark | undefined;
  /** Called by the sink once it has taken the batch (or skipped it). */
  taken: Array<() => void>;
}

/** Options for {@linkcode batchOutcomes}. */
export interface BatchOutcomesOptions {
  /** Outcomes per batch (500). */
  size?: number;
  /** Longest time an outcome waits for its batch, in ms (250). */
  intervalMs?: number;
}

/**
 * The batching stage.
 *
 * @param state The run's state: its tally and watermark.
 * @param options Batch size and longest wait.
 * @returns The stage: outcomes in, batches out.
 *
 * @example Usage
 * ```ts
 * import { batchOutcomes } from "./batch_outcomes.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const state = new RunState();
 * state.watermarks.begin({ recordNumber: 1, byteEnd: 16 });
 * const input = ReadableStream.from([
 *   { outcomes: [{ recordNumber: 1, byteEnd: 16, email: "ada@example.com" }] },
 * ]);
 * const [batch] = await Array.fromAsync(input.pipeThrough(batchOutcomes(state)));
 * assert.equal(batch.outcomes.length, 1);
 * assert.deepEqual(batch.watermark, { recordNumber: 1, byteEnd: 16 });
 * assert.equal(state.tally.successes, 1);
 * ```
 */
export function batchOutcomes(
  state: RunState,
  options: BatchOutcomesOptions = {},
): TransformStream<OutcomeChunk, OutcomeBatch> {
  const size = options.size ?? 500;
  const intervalMs = options.intervalMs ?? 250;
  let pending: RowOutcome[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  function close(
    controller: TransformStreamDefaultController<OutcomeBatch>,
  ): OutcomeBatch | undefined {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return undefined;
    const batch = { outcomes: pending, watermark: state.watermarks.watermark, taken: [] };
    pending = [];
    try {
      controller.enqueue(batch);
    } catch {
      // The sink was torn down; the run's error says why.
      return undefined;
    }
    return batch;
  }

  return new TransformStream(
    {
      transform(chunk, controller) {
        let closed: OutcomeBatch | undefined;
        for (const outcome of chunk.outcomes) {
          tallyOutcome(state.tally, outcome);
          state.watermarks.settle(outcome.recordNumber);
          pending.push(outcome);
          if (pending.length >= size) closed = close(controller) ?? closed;
        }
        if (chunk.release) {
          if (closed) closed.taken.push(chunk.release);
          else chunk.release();
        }
        if (pending.length > 0) timer ??= setTimeout(() => close(controller), intervalMs);
      },
      flush(controller) {
        close(controller);
      },
      cancel() {
        clearTimeout(timer);
      },
    },
    undefined,
    { highWaterMark: Infinity },
  );
}
