/**
 * `workos-importer validate`: checks every row of a file without any API
 * call and reports what is wrong, in the shape earlier validation tools
 * used (`file_name`, `total_rows`, …, `can_proceed`).
 *
 * The run is prepared as an import's is (`prepareRun`: same input, same
 * organization mode) and duplicates are counted as the dry run counts them
 * (`DuplicateTracker`), so the two agree on every count. The file is
 * streamed and duplicates are found through 53-bit hashes, so memory grows
 * with the number of distinct people (about 16 bytes each), not with the
 * file; the lists of errors and warnings are capped.
 *
 * @module
 */

import type { InputFormat, OrganizationRef } from "../types.ts";
import type { InputSource } from "../input/open_input.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import { DuplicateTracker } from "../validation/duplicate_tracker.ts";
import { checkRecord, type RecordValidation } from "../validation/validate_record.ts";
import { ownString } from "../validation/_text.ts";
import { organizationOf } from "./organization_mode.ts";
import { prepareRun } from "./prepare_run.ts";
import { expectedRows, inputFileSize, SIZE_FROM_ROW } from "./_input_sizing.ts";

/** One problem that keeps a row from being imported. */
export interface ValidationReportError {
  /** The row's number (CSV data row, NDJSON line). */
  row: number;
  /** The column at fault; `null` when the whole row is (e.g. malformed JSON). */
  column: string | null;
  /** What is wrong and how to fix it. */
  error: string;
}

/** Something worth a look that does not keep a row from being imported. */
export interface ValidationReportWarning {
  /** The row's number; `null` for the file as a whole (e.g. unknown header columns). */
  row: number | null;
  /** The column concerned; `null` when the whole row or file is. */
  column: string | null;
  /** What looks odd. */
  warning: string;
}

/** The report of {@linkcode validateFile}. */
export interface ValidationReport {
  /** The file's name as given (`"-"` for standard input, `"<stream>"` for a stream). */
  file_name: string;
  /** Rows read (valid and invalid). */
  total_rows: number;
  /** Rows the importer would send to WorkOS. */
  valid_rows: number;
  /** Rows with at least one error. */
  error_rows: number;
  /**
   * Valid rows that repeat an earlier row's email (any case) in the same
   * organization (or, without organizations, anywhere in the file). The
   * import handles them as the same person; each is also a warning.
   */
  duplicate_rows: number;
  /** Every error, in row order, up to `maxIssues`. */
  errors: ValidationReportError[];
  /** Every warning, in row order, up to `maxIssues`. */
  warnings: ValidationReportWarning[];
  /** `true` when no row has an error and at least one row is valid. */
  can_proceed: boolean;
  /** Errors left out of `errors` because of the cap. */
  errors_omitted: number;
  /** Warnings left out of `warnings` because of the cap. */
  warnings_omitted: number;
}

/** Options for {@linkcode validateFile}. */
export interface ValidateFileOptions {
  /** Input format; by default from the file extension or first byte. */
  format?: InputFormat;
  /** CSV column separator (`","` by default). */
  delimiter?: string;
  /** Read another provider's export (`--from`). */
  provider?: ProviderSpec;
  /** Input columns renamed to importer columns before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
  /** The name to report for a stream (default `"<stream>"`). */
  fileName?: string;
  /**
   * Organization every row joins (as `--org-id`/`--org-external-id` would):
   * duplicates are then the same email twice, whatever the row's columns say.
   */
  organization?: OrganizationRef;
  /** Errors and warnings listed at most, each (10,000). */
  maxIssues?: number;
  /** Stop early when aborted; the report covers the rows read so far. */
  signal?: AbortSignal;
}

/**
 * Validates every row of a CSV or NDJSON file and reports errors,
 * warnings, duplicates and unknown columns. Makes no API call.
 *
 * @param source A path (`-` for stdin) or a byte stream.
 * @param options Format, organization and the cap on listed issues.
 * @returns The report.
 * @throws {Deno.errors.NotFound} The file does not exist.
 * @throws {InputError} The input is not text, or the CSV header is unusable.
 *
 * @example Validate a small file
 * ```ts
 * import { validateFile } from "./validate_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const csv = "email,first_name,team\nada@example.com,Ada,x\nnot-an-email,Bob,y\nADA@example.com,Ada,z\n";
 * const report = await validateFile(new Blob([csv]).stream(), { fileName: "users.csv" });
 * equal(report.total_rows, 3);
 * equal(report.error_rows, 1);
 * equal(report.duplicate_rows, 1);
 * equal(report.errors[0].column, "email");
 * equal(report.can_proceed, false);
 * ```
 */
export async function validateFile(
  source: InputSource,
  options: ValidateFileOptions = {},
): Promise<ValidationReport> {
  const maxIssues = options.maxIssues ?? 10_000;
  const report: ValidationReport = {
    file_name: typeof source === "string" ? source : options.fileName ?? "<stream>",
    total_rows: 0,
    valid_rows: 0,
    error_rows: 0,
    duplicate_rows: 0,
    errors: [],
    warnings: [],
    can_proceed: false,
    errors_omitted: 0,
    warnings_omitted: 0,
  };
  // A listed issue is kept to the end, and its message quotes the row's
  // values: slices of the text of the rows the reader decoded with it, which
  // would stay alive with it (about 1 KiB an issue). Its own copy does not.
  const addError = (error: ValidationReportError) => {
    if (report.errors.length >= maxIssues) report.errors_omitted++;
    else report.errors.push({ ...error, error: ownString(error.error) });
  };
  const addWarning = (warning: ValidationReportWarning) => {
    if (report.warnings.length >= maxIssues) report.warnings_omitted++;
    else report.warnings.push({ ...warning, warning: ownString(warning.warning) });
  };

  const fileWarnings: string[] = [];
  const single = options.organization;
  const input = await prepareRun(source, {
    verb: "validate",
    format: options.format,
    delimiter: options.delimiter,
    signal: options.signal,
    validateInWorker: true,
    provider: options.provider,
    columnMap: options.columnMap,
    organizationId: single?.kind === "id" ? single.id : undefined,
    organizationExternalId: single?.kind === "external_id" ? single.externalId : undefined,
    onWarning: (warning) => {
      if (warning.kind === "input") fileWarnings.push(warning.message);
      for (const column of warning.kind === "unknown_columns" ? warning.columns ?? [] : []) {
        addWarning({
          row: null,
          column,
          warning: `Unknown column "${column}": it will be ignored: rename it or remove it`,
        });
      }
    },
  });
  // First row of each email and organization pair, by hash: a 1M-row file
  // keeps about 16 MiB here.
  const duplicates = new DuplicateTracker();
  // Sized once for as many pairs as the file has rows, by the bytes its
  // first rows took: grown table by table, the tables it grew out of stay
  // with the allocator between live ones.
  let inputBytes = await inputFileSize(source) ?? 0;
  const sizeDuplicates = (recordNumber: number, byteEnd: number) => {
    if (inputBytes === 0 || recordNumber < SIZE_FROM_ROW) return;
    duplicates.reserve(expectedRows(inputBytes, recordNumber, byteEnd));
    inputBytes = 0;
  };
  const take = (recordNumber: number, result: RecordValidation) => {
    report.total_rows++;
    if (!result.ok) {
      report.error_rows++;
      for (const issue of result.issues) {
        addError({ row: recordNumber, column: issue.column ?? null, error: issue.message });
      }
      return;
    }
    report.valid_rows++;
    for (const issue of result.warnings) {
      addWarning({ row: recordNumber, column: issue.column ?? null, warning: issue.message });
    }
    const row = result.row;
    const organization = organizationOf(input.mode, row);
    const first = duplicates.firstRowOf(recordNumber, row.emailKey, organization);
    if (first === undefined) return;
    report.duplicate_rows++;
    const where = organization === undefined
      ? ""
      : ` in organization "${
        organization.kind === "id" ? organization.id : organization.externalId
      }"`;
    addWarning({
      row: recordNumber,
      column: "email",
      warning:
        `Duplicate of row ${first}: "${row.email}"${where} appears twice: remove one of the rows`,
    });
  };
  if (input.validated !== undefined) {
    // Read and validated in the worker (a large file): the same results.
    for await (const { positions, results } of input.validated) {
      for (let i = 0; i < results.length; i++) take(positions[i * 2], results[i]);
      if (results.length > 0) {
        sizeDuplicates(positions[results.length * 2 - 2], positions[results.length * 2 - 1]);
      }
    }
  } else {
    for await (const batch of input.records) {
      // The report never reads a row's metadata: it is checked, not kept.
      for (const record of batch) {
        take(record.recordNumber, checkRecord(record));
      }
      const last = batch.at(-1);
      if (last !== undefined) sizeDuplicates(last.recordNumber, last.byteEnd);
    }
  }
  for (const warning of fileWarnings) addWarning({ row: null, column: null, warning });
  report.can_proceed = report.error_rows === 0 && report.valid_rows > 0;
  return report;
}
