/**
 * Stage 1: each record is validated. A valid record goes on as a row to
 * run; an invalid one as its finished, failed outcome (no request is made
 * for it). The stage has no side effect: a row's warnings travel with it
 * and are told once the row is admitted (`recordAdmission`), so a row a
 * resumed job already finished is neither warned about nor run again.
 *
 * @module
 */

import type { ErrorRecord, SourceRecord, UserRow } from "../../types.ts";
import type { RowOutcome } from "../../outcome/mod.ts";
import {
  checkRecord,
  type RecordValidation,
  validateRecord,
} from "../../validation/validate_record.ts";
import type { ValidatedBatch } from "../_validated_codec.ts";
import { withoutSecrets } from "../row_processor.ts";

/** A record after validation: a row to run, or the outcome of a row that failed. */
export type CheckedRecord =
  | { row: UserRow; outcome?: undefined; warnings: string[] }
  | { row?: undefined; outcome: RowOutcome; warnings: string[] };

// Shared by every record without warnings (most): no array per record.
const NO_WARNINGS: string[] = [];

/**
 * The validate stage.
 *
 * @param options How each record is validated (`keepMetadata: false` for a
 *   dry run, whose plan never reads a row's metadata).
 * @returns The stage: record batches in, batches of checked records out.
 *
 * @example Usage
 * ```ts
 * import { validateRecords } from "./validate_records.ts";
 * import assert from "node:assert/strict";
 *
 * const input = ReadableStream.from([[
 *   { recordNumber: 1, fields: { email: "ada@example.com" }, byteEnd: 16 },
 *   { recordNumber: 2, fields: { email: "not-an-email" }, byteEnd: 29 },
 * ]]);
 * const [checked] = await Array.fromAsync(input.pipeThrough(validateRecords()));
 * assert.equal(checked[0].row?.email, "ada@example.com");
 * assert.equal(checked[1].outcome?.error?.errorType, "validation");
 * ```
 */
export function validateRecords(
  options: { keepMetadata?: boolean } = {},
): TransformStream<SourceRecord[], CheckedRecord[]> {
  const validate = options.keepMetadata === false ? checkRecord : validateRecord;
  return new TransformStream({
    transform(batch, controller) {
      const checked: CheckedRecord[] = [];
      for (const record of batch) {
        checked.push(
          checkedOf(record.recordNumber, record.byteEnd, validate(record)),
        );
      }
      controller.enqueue(checked);
    },
  });
}

/**
 * The validate stage for records validated already, in the validate worker
 * (see `_validate_worker_client.ts`): each result becomes the checked record
 * {@linkcode validateRecords} makes of it in-thread.
 *
 * @returns The stage: validated batches in, batches of checked records out.
 *
 * @example Usage
 * ```ts
 * import { checkValidated } from "./validate_records.ts";
 * import { validateRecord } from "../../validation/validate_record.ts";
 * import assert from "node:assert/strict";
 *
 * const record = { recordNumber: 1, fields: { email: "ada@example.com" }, byteEnd: 16 };
 * const input = ReadableStream.from([{
 *   positions: new Float64Array([1, 16]),
 *   results: [validateRecord(record)],
 * }]);
 * const [checked] = await Array.fromAsync(input.pipeThrough(checkValidated()));
 * assert.equal(checked[0].row?.email, "ada@example.com");
 * ```
 */
export function checkValidated(): TransformStream<ValidatedBatch, CheckedRecord[]> {
  return new TransformStream({
    transform(batch, controller) {
      const { positions, results } = batch;
      const checked: CheckedRecord[] = [];
      for (let i = 0; i < results.length; i++) {
        checked.push(checkedOf(positions[i * 2], positions[i * 2 + 1], results[i]));
      }
      controller.enqueue(checked);
    },
  });
}

/** The millisecond {@linkcode now} last wrote, and what it wrote. */
let stampedAt = Number.NaN;
let stamp = "";

/**
 * `new Date().toISOString()`, written once a millisecond: a failed row's
 * timestamp cost 1.1-1.4 µs of its 1.5-2 µs here, and an export's dry run
 * fails a tenth of its rows (Firebase's users with no email, 104,114 of the
 * generated 1M).
 */
function now(): string {
  const at = Date.now();
  if (at !== stampedAt) {
    stampedAt = at;
    stamp = new Date(at).toISOString();
  }
  return stamp;
}

/** A record's result as the stages take it: a row to run, or its failed outcome. */
function checkedOf(
  recordNumber: number,
  byteEnd: number,
  result: RecordValidation,
): CheckedRecord {
  if (result.ok) {
    return {
      row: result.row,
      warnings: result.warnings.length === 0
        ? NO_WARNINGS
        : result.warnings.map((issue) => issue.message),
    };
  }
  const error: ErrorRecord = {
    recordNumber,
    email: result.email,
    errorType: "validation",
    errorMessage: result.issues.map((issue) => issue.message).join("; "),
    timestamp: now(),
    rawRow: withoutSecrets(result.original),
  };
  return {
    outcome: { recordNumber, byteEnd, email: result.email, error },
    warnings: NO_WARNINGS,
  };
}
