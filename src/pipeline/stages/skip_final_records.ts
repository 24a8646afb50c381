/**
 * Stage 2: records are admitted, in input order. Each is registered with
 * the watermark; those a journal already holds as final (a resumed job's
 * rows above its watermark that finished before the crash) are settled and
 * dropped; the others' warnings are counted and told, and they go on.
 *
 * A journal learns from its `isFinal` checks how far reading got (a resume
 * looks up, before creating, every row up to there). So for an import the
 * records come here one at a time ({@linkcode oneByOne}): a stage takes its
 * next chunk only once the stage below has taken the last, so a record is
 * admitted only when the concurrency stage has started the row before it —
 * never a whole input batch ahead.
 *
 * @module
 */

import type { CheckedRecord } from "./validate_records.ts";
import type { RunState } from "./run_state.ts";

/** Options for {@linkcode skipFinalRecords}. */
export interface SkipFinalRecordsOptions {
  /** Whether a record is final already (a journal's); none is without it. */
  isFinal?(recordNumber: number): boolean;
  /** Told each warning of an admitted row. */
  onWarning?(recordNumber: number, message: string): void;
}

/**
 * The skip-final-records stage.
 *
 * @param state The run's state: its watermark, and its tally of warnings.
 * @param options What is final, and who hears of warnings.
 * @returns The stage: checked records in, the records still to run out.
 *
 * @example Usage
 * ```ts
 * import { skipFinalRecords } from "./skip_final_records.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const state = new RunState();
 * const row = (n: number) => ({
 *   row: { recordNumber: n, byteEnd: n * 10, email: "a@b.co", emailKey: "a@b.co", original: {} },
 *   warnings: [],
 * });
 * const input = ReadableStream.from([[row(1), row(2)]]);
 * const stage = skipFinalRecords(state, { isFinal: (n) => n === 1 });
 * const left = await Array.fromAsync(input.pipeThrough(stage));
 * assert.deepEqual(left.flat().map((checked) => checked.row?.recordNumber), [2]);
 * assert.deepEqual(state.watermarks.watermark, { recordNumber: 1, byteEnd: 10 });
 * ```
 */
export function skipFinalRecords(
  state: RunState,
  options: SkipFinalRecordsOptions = {},
): TransformStream<CheckedRecord[], CheckedRecord[]> {
  const { isFinal, onWarning } = options;
  return new TransformStream({
    transform(batch, controller) {
      const admitted: CheckedRecord[] = [];
      for (const checked of batch) {
        const record = checked.row ?? checked.outcome;
        state.watermarks.begin(record);
        if (isFinal?.(record.recordNumber)) {
          state.watermarks.settle(record.recordNumber);
          continue;
        }
        for (const warning of checked.warnings) {
          state.tally.warnings++;
          onWarning?.(record.recordNumber, warning);
        }
        admitted.push(checked);
      }
      if (admitted.length > 0) controller.enqueue(admitted);
    },
  });
}

/**
 * Splits batches into one-record chunks, so that the stages below take
 * records one at a time (see the module's note on `isFinal`).
 *
 * @returns The stage.
 *
 * @example Usage
 * ```ts
 * import { oneByOne } from "./skip_final_records.ts";
 * import assert from "node:assert/strict";
 *
 * const chunks = await Array.fromAsync(ReadableStream.from([[1, 2, 3]]).pipeThrough(oneByOne()));
 * assert.deepEqual(chunks, [[1], [2], [3]]);
 * ```
 */
export function oneByOne<T>(): TransformStream<T[], T[]> {
  return new TransformStream({
    transform(batch, controller) {
      for (const item of batch) controller.enqueue([item]);
    },
  });
}
