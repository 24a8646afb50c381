/**
 * Stage 3 of a dry run, in place of the concurrency stage: no request is
 * made; each valid row is counted into the plan (people, organizations,
 * memberships, duplicates) and ends as a success, each invalid row as its
 * failure, so the counts below are the import's. Each batch waits until
 * the one before it is taken, as the concurrency stage's rows do. Records
 * are admitted (see `recordAdmission`) a batch at a time: nothing starts.
 *
 * @module
 */

import type { RowOutcome } from "../../outcome/mod.ts";
import type { OutcomeChunk } from "./batch_outcomes.ts";
import type { DryRunPlanner } from "../dry_run_plan.ts";
import type { CheckedRecord } from "./validate_records.ts";

/**
 * The dry-run stage.
 *
 * @param planner Accumulates the plan.
 * @param admit Admits each record (`false`: final already, left out); every
 *   record is admitted without it.
 * @returns The stage: batches of checked records in, batches of outcomes out.
 *
 * @example Usage
 * ```ts
 * import { planRows } from "./plan_rows.ts";
 * import { DryRunPlanner } from "../dry_run_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const planner = new DryRunPlanner({ kind: "none" });
 * const row = { recordNumber: 1, byteEnd: 16, email: "ada@example.com", emailKey: "ada@example.com", original: {} };
 * const stage = planRows(planner);
 * const writer = stage.writable.getWriter();
 * const written = writer.write([{ row, warnings: [] }]);
 * const { value } = await stage.readable.getReader().read();
 * assert.equal(value?.outcomes[0].error, undefined);
 * value?.release?.();
 * await written;
 * assert.equal(planner.report().validRows, 1);
 * ```
 */
export function planRows(
  planner: DryRunPlanner,
  admit?: (checked: CheckedRecord) => boolean,
): TransformStream<CheckedRecord[], OutcomeChunk> {
  return new TransformStream({
    async transform(batch, controller) {
      const outcomes: RowOutcome[] = [];
      for (const checked of batch) {
        if (admit && !admit(checked)) continue;
        if (checked.outcome) {
          planner.addInvalid();
          outcomes.push(checked.outcome);
          continue;
        }
        const row = checked.row;
        planner.addValid(row);
        outcomes.push({ recordNumber: row.recordNumber, byteEnd: row.byteEnd, email: row.email });
      }
      if (outcomes.length === 0) return;
      // The next batch waits until this one is taken (a slow sink slows the plan).
      await new Promise<void>((release) => controller.enqueue({ outcomes, release }));
    },
  });
}
