/**
 * How a record is admitted, in input order. Each is registered with
 * the watermark; those a journal already holds as final (a resumed job's
 * rows above its watermark that finished before the crash) are settled and
 * dropped; the others' warnings are counted and told, and they go on.
 *
 * A journal learns from its `isFinal` checks how far reading got (a resume
 * looks up, before creating, every row up to there). So the concurrency
 * stage admits each record just before the record takes its slot: never
 * more than one record ahead of the rows started (a dry run, which starts
 * nothing, admits its records a batch at a time).
 *
 * @module
 */

import type { CheckedRecord } from "./validate_records.ts";
import type { RunState } from "./run_state.ts";

/** Options for {@linkcode recordAdmission}. */
export interface RecordAdmissionOptions {
  /** Whether a record is final already (a journal's); none is without it. */
  isFinal?(recordNumber: number): boolean;
  /** Told each warning of an admitted row. */
  onWarning?(recordNumber: number, message: string): void;
}

/**
 * Admits records one at a time, for the stage that starts them (see the
 * module's note on `isFinal`).
 *
 * @param state The run's state: its watermark, and its tally of warnings.
 * @param options What is final, and who hears of warnings.
 * @returns Admits a record: `false` when it is final already (it is
 *   settled, and must not run), `true` when it goes on.
 *
 * @example Usage
 * ```ts
 * import { recordAdmission } from "./skip_final_records.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const state = new RunState();
 * const admit = recordAdmission(state, { isFinal: (n) => n === 1 });
 * const row = (n: number) => ({
 *   row: { recordNumber: n, byteEnd: n * 10, email: "a@b.co", emailKey: "a@b.co", original: {} },
 *   warnings: [],
 * });
 * assert.equal(admit(row(1)), false);
 * assert.equal(admit(row(2)), true);
 * assert.deepEqual(state.watermarks.watermark, { recordNumber: 1, byteEnd: 10 });
 * ```
 */
export function recordAdmission(
  state: RunState,
  options: RecordAdmissionOptions = {},
): (checked: CheckedRecord) => boolean {
  const { isFinal, onWarning } = options;
  return function admit(checked: CheckedRecord): boolean {
    const record = checked.row ?? checked.outcome;
    state.watermarks.begin(record);
    if (isFinal?.(record.recordNumber)) {
      state.watermarks.settle(record.recordNumber);
      return false;
    }
    for (const warning of checked.warnings) {
      state.tally.warnings++;
      onWarning?.(record.recordNumber, warning);
    }
    return true;
  };
}
