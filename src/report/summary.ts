/**
 * The end-of-import summary: the status rules of the earlier importer and the
 * box it printed, with the right border aligned whatever the line lengths.
 *
 * @example Print a summary
 * ```ts
 * import { formatSummary, importStatus } from "./summary.ts";
 *
 * console.log(formatSummary({
 *   status: importStatus(42, 8),
 *   totalRows: 50,
 *   successes: 42,
 *   failures: 8,
 *   usersCreated: 40,
 *   usersExisting: 2,
 *   usersUpdated: 0,
 *   membershipsCreated: 42,
 *   membershipsExisting: 0,
 *   organizationsCreated: 3,
 *   invitationsSent: 0,
 *   warnings: 0,
 *   cacheHits: 39,
 *   cacheMisses: 3,
 *   retries: 1,
 *   rateLimited: 0,
 *   durationMs: 3_200,
 *   dryRun: false,
 * }));
 * ```
 *
 * @module
 */

import type { ImportStatus, ImportSummary } from "../types.ts";
import { formatCount } from "./_format.ts";
import { textWidth } from "./_text_width.ts";

/** The words the summary shows for each {@linkcode ImportStatus}. */
export const STATUS_LABELS: Readonly<Record<ImportStatus, string>> = {
  success: "Success",
  completed_with_errors: "Completed with errors",
  failed: "Failed",
};

function assertCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Cannot compute import status: "${name}" must be a count, got ${value}`);
  }
}

/**
 * The overall outcome of an import, by the earlier importer's rules: success
 * when nothing failed and something succeeded, completed with errors when both
 * happened, failed otherwise (only failures, or nothing at all).
 *
 * @example Status rules
 * ```ts
 * import { importStatus } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(importStatus(10, 0), "success");
 * assert.equal(importStatus(9, 1), "completed_with_errors");
 * assert.equal(importStatus(0, 10), "failed");
 * assert.equal(importStatus(0, 0), "failed");
 * ```
 *
 * @param successes Rows that ended well.
 * @param failures Rows that failed at any stage.
 * @returns The import's status.
 */
export function importStatus(successes: number, failures: number): ImportStatus {
  assertCount("successes", successes);
  assertCount("failures", failures);
  if (successes === 0) return "failed";
  return failures === 0 ? "success" : "completed_with_errors";
}

function pad2(value: number): string {
  return String(value).padStart(2, "0");
}

/**
 * A duration the way the summary and the ETA show it: tenths of seconds below
 * a minute ("3.2 s"), minutes and seconds below an hour ("12m 30s"), hours
 * and minutes above ("1h 02m"). Each form is rounded, and rounding up moves
 * to the next form ("59.96 s" shows as "1m 00s").
 *
 * @example Durations
 * ```ts
 * import { formatDuration } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(3_240), "3.2 s");
 * assert.equal(formatDuration(750_000), "12m 30s");
 * assert.equal(formatDuration(3_720_000), "1h 02m");
 * ```
 *
 * @param ms The duration in milliseconds; must be finite and not negative.
 * @returns The duration as text.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot format duration: expected a non-negative number of ms, got ${ms}`);
  }
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad2(seconds % 60)}s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`;
}

/** Options for {@linkcode formatSummary}. */
export interface FormatSummaryOptions {
  /**
   * Lines added after the standard ones, in order, as `[label, value]` pairs:
   * e.g. `["Invitations sent", "12"]`, `["Retries", "3"]`, `["429s", "0"]`,
   * `["Job ID", "migration-2024"]`.
   */
  extraLines?: Array<[label: string, value: string]>;
  /** The first line of the box. Default "SUMMARY", or "SUMMARY (dry run)" for dry runs. */
  title?: string;
  /**
   * The run was interrupted: the status says so, and users imported count
   * against `fileRows`, the records of the whole input, when known.
   */
  interrupted?: { fileRows?: number };
}

// A newline or escape sequence in a value (a job id, say) would break the box.
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
}

function hitRate(hits: number, misses: number): string {
  const lookups = hits + misses;
  return lookups === 0 ? "n/a" : `${(hits / lookups * 100).toFixed(1)}%`;
}

/**
 * Draws a box with `┌─┐│└┘` around lines, every right border in the same
 * column whatever the lines' lengths (wide characters counted as two).
 *
 * @example A box
 * ```ts
 * import { drawBox } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(drawBox(["A", "BCD"]), "┌─────┐\n│ A   │\n│ BCD │\n└─────┘");
 * ```
 *
 * @param lines The lines inside the box; control characters become spaces.
 * @returns The box, lines joined with "\n", with no final newline.
 */
export function drawBox(lines: readonly string[]): string {
  const clean = lines.map(oneLine);
  const width = Math.max(0, ...clean.map(textWidth));
  const rule = "─".repeat(width + 2);
  const body = clean.map((line) => `│ ${line}${" ".repeat(width - textWidth(line))} │`);
  return [`┌${rule}┐`, ...body, `└${rule}┘`].join("\n");
}

/**
 * The final summary box as the earlier importer printed it: status, users
 * imported (successful rows out of all rows), users that already existed,
 * memberships and organizations created, duration, warnings, errors and the
 * organization cache's hits, misses and hit rate. "Users updated" and
 * "Memberships already existed" appear only when not zero; invitations,
 * retries, 429s and the job id are the caller's to add as `extraLines`.
 * Counts use comma thousands separators.
 *
 * @example A run with errors
 * ```ts
 * import { formatSummary } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * const box = formatSummary({
 *   status: "completed_with_errors", totalRows: 50, successes: 42, failures: 8,
 *   usersCreated: 42, usersExisting: 0, usersUpdated: 0, membershipsCreated: 0,
 *   membershipsExisting: 0, organizationsCreated: 0, invitationsSent: 0, warnings: 0,
 *   cacheHits: 0, cacheMisses: 0, retries: 0, rateLimited: 0, durationMs: 3_200, dryRun: false,
 * }, { extraLines: [["Job ID", "nightly"]] });
 * assert.match(box, /│ Status: Completed with errors +│/);
 * assert.match(box, /│ Users imported: 42\/50 +│/);
 * assert.match(box, /│ Job ID: nightly +│/);
 * ```
 *
 * @param summary The import's numbers.
 * @param options Extra lines and the title.
 * @returns The box, with no final newline.
 */
export function formatSummary(summary: ImportSummary, options: FormatSummaryOptions = {}): string {
  const title = options.title ?? (summary.dryRun ? "SUMMARY (dry run)" : "SUMMARY");
  const interrupted = options.interrupted;
  const fileRows = interrupted?.fileRows;
  const lines: Array<[string, string]> = [
    ["Status", interrupted ? "Interrupted" : STATUS_LABELS[summary.status]],
    [
      "Users imported",
      !interrupted
        ? `${formatCount(summary.successes)}/${formatCount(summary.totalRows)}`
        : fileRows === undefined
        ? `${formatCount(summary.successes)} (the input was not read to its end)`
        : `${formatCount(summary.successes)}/${formatCount(fileRows)}`,
    ],
    // Rows and people differ when one person is on several rows (several organizations).
    ["Users created", formatCount(summary.usersCreated)],
    ["Already existed", formatCount(summary.usersExisting)],
  ];
  if (fileRows !== undefined && fileRows > summary.totalRows) {
    lines.splice(2, 0, ["Rows not done", formatCount(fileRows - summary.totalRows)]);
  }
  if (summary.usersUpdated > 0) lines.push(["Users updated", formatCount(summary.usersUpdated)]);
  lines.push(["Memberships created", formatCount(summary.membershipsCreated)]);
  if (summary.membershipsExisting > 0) {
    lines.push(["Memberships already existed", formatCount(summary.membershipsExisting)]);
  }
  lines.push(
    ["Organizations created", formatCount(summary.organizationsCreated)],
    ["Duration", formatDuration(summary.durationMs)],
    ["Warnings", formatCount(summary.warnings)],
    ["Errors", formatCount(summary.failures)],
    ["Cache hits", formatCount(summary.cacheHits)],
    ["Cache misses", formatCount(summary.cacheMisses)],
    ["Cache hit rate", hitRate(summary.cacheHits, summary.cacheMisses)],
    ...(options.extraLines ?? []),
  );
  return drawBox([title, ...lines.map(([label, value]) => `${label}: ${value}`)]);
}

/** What a dry run found, for {@linkcode formatDryRunSummary}. */
export interface DryRunFigures {
  /** Rows that passed validation. */
  validRows: number;
  /** Distinct people (emails) among them. */
  distinctUsers: number;
  /** Organizations the rows name. */
  distinctOrganizations: number;
  /** Memberships the import would create. */
  membershipsPlanned: number;
}

/**
 * The summary box of a dry run: what the import *would* do, since it did
 * nothing. The status says "Would …", and no count reads as done.
 *
 * @param summary The dry run's numbers.
 * @param plan What the dry run found.
 * @param options Extra lines, and whether it was interrupted.
 * @returns The box, with no final newline.
 *
 * @example Usage
 * ```ts
 * import { formatDryRunSummary } from "./summary.ts";
 * import assert from "node:assert/strict";
 *
 * const box = formatDryRunSummary({
 *   status: "success", totalRows: 10, successes: 10, failures: 0,
 *   usersCreated: 0, usersExisting: 0, usersUpdated: 0, membershipsCreated: 0,
 *   membershipsExisting: 0, organizationsCreated: 0, invitationsSent: 0, warnings: 0,
 *   cacheHits: 0, cacheMisses: 0, retries: 0, rateLimited: 0, durationMs: 100, dryRun: true,
 * }, { validRows: 10, distinctUsers: 10, distinctOrganizations: 0, membershipsPlanned: 0 });
 * assert.match(box, /│ Status: Would succeed: nothing was written +│/);
 * assert.match(box, /│ Rows that would import: 10\/10 +│/);
 * assert.doesNotMatch(box, /Users imported/);
 * ```
 */
export function formatDryRunSummary(
  summary: ImportSummary,
  plan: DryRunFigures,
  options: Pick<FormatSummaryOptions, "extraLines" | "interrupted"> = {},
): string {
  const status = options.interrupted
    ? "Interrupted"
    : summary.status === "success"
    ? "Would succeed"
    : summary.status === "completed_with_errors"
    ? "Would complete with errors"
    : "Would fail";
  const fileRows = options.interrupted?.fileRows ?? summary.totalRows;
  const lines: Array<[string, string]> = [
    ["Status", `${status}: nothing was written`],
    ["Rows that would import", `${formatCount(summary.successes)}/${formatCount(fileRows)}`],
    ["Rows that would fail", formatCount(summary.failures)],
    ["Users to create or find", formatCount(plan.distinctUsers)],
    ["Organizations named", formatCount(plan.distinctOrganizations)],
    ["Memberships to create", formatCount(plan.membershipsPlanned)],
    ["Warnings", formatCount(summary.warnings)],
    ["Duration", formatDuration(summary.durationMs)],
    ...(options.extraLines ?? []),
  ];
  return drawBox(["DRY RUN", ...lines.map(([label, value]) => `${label}: ${value}`)]);
}
