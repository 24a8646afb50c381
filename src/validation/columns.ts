/**
 * The column names the importer understands, and which header columns it
 * will ignore.
 *
 * Header names are compared after trimming and lower-casing, the way
 * {@linkcode openInput} normalizes a CSV header.
 *
 * @module
 */

/**
 * Columns that carry user data, in the order an error file should list them.
 *
 * @example Check a column
 * ```ts
 * import { INPUT_COLUMNS } from "./columns.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(INPUT_COLUMNS.includes("email"));
 * ```
 */
export const INPUT_COLUMNS: readonly string[] = Object.freeze([
  "email",
  "first_name",
  "last_name",
  "name",
  "password",
  "password_hash",
  "password_hash_type",
  "password_salt_position",
  "email_verified",
  "external_id",
  "locale",
  "metadata",
  "org_id",
  "org_external_id",
  "org_name",
  "role_slug",
  "role_slugs",
  "totp_secret",
  "totp_issuer",
  "totp_user",
]);

/**
 * Columns that an error file adds next to the input columns. An error file is
 * meant to be fixed and fed back, so these are recognized and ignored without
 * a warning.
 *
 * @example Check a column
 * ```ts
 * import { ERROR_FILE_COLUMNS } from "./columns.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(ERROR_FILE_COLUMNS.includes("errorMessage"));
 * ```
 */
export const ERROR_FILE_COLUMNS: readonly string[] = Object.freeze([
  "recordNumber",
  "errorType",
  "errorMessage",
  "httpStatus",
  "workosCode",
  "workosRequestId",
  "timestamp",
]);

/**
 * Whether a CSV header is one of the importer's own error files: it has every
 * {@linkcode ERROR_FILE_COLUMNS} column. Such a file was written with its
 * cells escaped against formula injection, and its cells are read back with
 * {@linkcode unescapeErrorFileCell}.
 *
 * @param columns The normalized (lower-case) header.
 * @returns `true` for an error file being fed back.
 *
 * @example Usage
 * ```ts
 * import { ERROR_FILE_COLUMNS, isErrorFileHeader } from "./columns.ts";
 * import assert from "node:assert/strict";
 *
 * const header = ["email", ...ERROR_FILE_COLUMNS.map((name) => name.toLowerCase())];
 * assert.equal(isErrorFileHeader(header), true);
 * assert.equal(isErrorFileHeader(["email", "errormessage"]), false);
 * ```
 */
export function isErrorFileHeader(columns: readonly string[]): boolean {
  return ERROR_FILE_COLUMNS.every((name) => columns.includes(name.toLowerCase()));
}

/**
 * Undoes the formula-injection escape of an error file's cell: the writer
 * puts `'` before a value that starts with `=`, `+`, `-`, `@`, a tab, a
 * carriage return or `'` itself, so exactly those two-character starts lose
 * their `'`. Any other value, `'` included, is read as written (a value a
 * person typed while fixing the row).
 *
 * @param value The cell as read from the file.
 * @returns The value the original input had.
 *
 * @example Usage
 * ```ts
 * import { unescapeErrorFileCell } from "./columns.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(unescapeErrorFileCell("'=SUM(A1)"), "=SUM(A1)");
 * assert.equal(unescapeErrorFileCell("''quoted"), "'quoted");
 * assert.equal(unescapeErrorFileCell("'plain"), "'plain");
 * ```
 */
export function unescapeErrorFileCell(value: string): string {
  if (value.charCodeAt(0) !== 0x27 || value.length < 2) return value;
  switch (value.charCodeAt(1)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // tab
    case 0x0d: // carriage return
    case 0x27: // '
      return value.slice(1);
    default:
      return value;
  }
}

/**
 * Every column name the importer recognizes, normalized (lower case): the
 * {@linkcode INPUT_COLUMNS} and the {@linkcode ERROR_FILE_COLUMNS}.
 *
 * @example Check a normalized header name
 * ```ts
 * import { KNOWN_COLUMNS } from "./columns.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(KNOWN_COLUMNS.includes("errormessage"));
 * ok(!KNOWN_COLUMNS.includes("department"));
 * ```
 */
export const KNOWN_COLUMNS: readonly string[] = Object.freeze([
  ...INPUT_COLUMNS,
  ...ERROR_FILE_COLUMNS.map((name) => name.toLowerCase()),
]);

const INPUT_SET: ReadonlySet<string> = new Set(INPUT_COLUMNS);
const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_COLUMNS);

/**
 * Normalizes a header name the way the parser does: trimmed, lower case.
 *
 * @example Normalize a spreadsheet header
 * ```ts
 * import { normalizeColumnName } from "./columns.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(normalizeColumnName(" First_Name "), "first_name");
 * ```
 */
export function normalizeColumnName(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * Whether a column carries user data (one of {@linkcode INPUT_COLUMNS}).
 * The name is normalized first.
 *
 * @example Tell data columns from error-file columns
 * ```ts
 * import { isInputColumn } from "./columns.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isInputColumn("Email"));
 * ok(!isInputColumn("errorType"));
 * ```
 */
export function isInputColumn(name: string): boolean {
  return INPUT_SET.has(normalizeColumnName(name));
}

/**
 * The columns the importer does not know, in header order and without
 * duplicates. Names are normalized before the check; blank names are not
 * reported (a trailing comma in a header makes one).
 *
 * @example Find the columns that will be ignored
 * ```ts
 * import { findUnknownColumns } from "./columns.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(
 *   findUnknownColumns(["email", "department", "errorType", "Team"]),
 *   ["department", "team"],
 * );
 * ```
 */
export function findUnknownColumns(columns: readonly string[]): string[] {
  const unknown: string[] = [];
  for (const column of columns) {
    const name = normalizeColumnName(column);
    if (name !== "" && !KNOWN_SET.has(name) && !unknown.includes(name)) {
      unknown.push(name);
    }
  }
  return unknown;
}
