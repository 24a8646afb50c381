/**
 * Outcomes, at the bottom of the layers: what a row ended with
 * ({@linkcode RowOutcome}), the counts of many ({@linkcode ImportTally}) and
 * how far an input is finished ({@linkcode Watermark}). The pipeline makes
 * them; the journal and the report sinks take them, without knowing the
 * pipeline.
 *
 * @example Count a batch of outcomes
 * ```ts
 * import { emptyTally, type RowOutcome, tallyOutcome } from "./mod.ts";
 * const batch: RowOutcome[] = [
 *   { recordNumber: 1, byteEnd: 10, email: "ada@example.com", user: "created" },
 *   { recordNumber: 2, byteEnd: 20, email: "ADA@example.com", user: "repeat" },
 * ];
 * const tally = emptyTally();
 * for (const outcome of batch) tallyOutcome(tally, outcome);
 * console.log(tally.successes, tally.usersCreated); // 2 1
 * ```
 *
 * @module
 */

export type { FactorOutcome, RolesChange, RowOutcome, UserOutcome } from "./row_outcome.ts";
export { emptyTally, type ImportTally, tallyOutcome } from "./tally.ts";
export type { Watermark } from "./watermark.ts";
export { callbackSink, OutcomeFanOut, type OutcomeSink } from "./sink.ts";
