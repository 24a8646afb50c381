/**
 * Turns one parsed input record into a validated {@linkcode UserRow}, or into
 * the list of problems that keep it from being imported.
 *
 * @module
 */

import type { OrganizationRef, SourceRecord, UserRow, ValidationIssue } from "../types.ts";
import { INPUT_COLUMNS, KNOWN_COLUMNS } from "./columns.ts";
import { normalizeEmail } from "./email.ts";
import { parseMetadata } from "./metadata.ts";
import { readRoles, readTotp } from "./roles_and_mfa.ts";
import { codePointLength, isAscii, oddCharacter, ownString } from "./_text.ts";
import { preparePasswordHash, WORKOS_HASH_TYPES } from "../passwords/mod.ts";

/** The outcome of {@linkcode validateRecord}. */
export type RecordValidation =
  | { ok: true; row: UserRow; warnings: ValidationIssue[] }
  | {
    ok: false;
    issues: ValidationIssue[];
    /** The email as far as it could be read (trimmed), for the error record. */
    email: string;
    /** The row's fields as strings, like {@linkcode UserRow.original}. */
    original: Record<string, string>;
  };

/**
 * The password hash types WorkOS accepts for `password_hash_type`.
 *
 * @example Check a hash type
 * ```ts
 * import { PASSWORD_HASH_TYPES } from "./validate_record.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(PASSWORD_HASH_TYPES.includes("bcrypt"));
 * ```
 */
export const PASSWORD_HASH_TYPES: readonly string[] = WORKOS_HASH_TYPES;

/**
 * WorkOS limits external identifiers (of users and organizations) to 64
 * characters: https://workos.com/docs/authkit/metadata.
 *
 * @example Read the limit
 * ```ts
 * import { MAX_EXTERNAL_ID_LENGTH } from "./validate_record.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(MAX_EXTERNAL_ID_LENGTH, 64);
 * ```
 */
export const MAX_EXTERNAL_ID_LENGTH = 64;

const INPUT_SET: ReadonlySet<string> = new Set(INPUT_COLUMNS);
const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_COLUMNS);
const TRUE_WORDS: ReadonlySet<string> = new Set(["true", "1", "yes"]);
const FALSE_WORDS: ReadonlySet<string> = new Set(["false", "0", "no"]);

/**
 * Validates and normalizes one record from {@linkcode openInput}.
 *
 * Text values are trimmed (passwords are kept as they are) and blank values
 * count as absent. The email is normalized with {@linkcode normalizeEmail};
 * `name` fills in whichever of `first_name`/`last_name` is absent; a password
 * hash wins over a plain password and is detected, converted and checked
 * with {@linkcode preparePasswordHash}; `metadata` must be a JSON object of
 * strings within WorkOS's limits. Every problem in the row is reported, not
 * just the first. A record that could not be parsed fails with its parse
 * error. Fields that are not input columns (possible in NDJSON) are warnings.
 *
 * Messages never contain passwords or password hashes.
 *
 * @example Validate a CSV row
 * ```ts
 * import { validateRecord } from "./validate_record.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const result = validateRecord({
 *   recordNumber: 1,
 *   byteEnd: 80,
 *   fields: { email: " Ada@Example.com ", name: "Ada Lovelace", org_external_id: "acme" },
 * });
 * equal(result.ok, true);
 * if (result.ok) {
 *   equal(result.row.emailKey, "ada@example.com");
 *   equal(result.row.lastName, "Lovelace");
 *   deepEqual(result.row.organization, { kind: "external_id", externalId: "acme" });
 * }
 * ```
 *
 * @example A row that cannot be imported
 * ```ts
 * import { validateRecord } from "./validate_record.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const result = validateRecord({ recordNumber: 12, byteEnd: 400, fields: { email: "" } });
 * deepEqual(result, {
 *   ok: false,
 *   email: "",
 *   original: { email: "" },
 *   issues: [{
 *     recordNumber: 12,
 *     column: "email",
 *     message: 'Cannot import row 12: "email" is missing: add an email address',
 *   }],
 * });
 * ```
 */
export function validateRecord(record: SourceRecord): RecordValidation {
  return validate(record, true);
}

/**
 * {@linkcode validateRecord} for a caller that never reads a valid row's
 * metadata (a dry run, `validate`): the metadata is checked as ever, with
 * the same verdict and messages, but a flat object of plain strings is not
 * built, and the row has no `metadata` then.
 *
 * @param record A record from {@linkcode openInput}.
 * @returns What `validateRecord` gives, without the row's metadata.
 *
 * @example Check a row whose metadata nothing will read
 * ```ts
 * import { checkRecord } from "./validate_record.ts";
 * import { equal } from "node:assert/strict";
 *
 * const result = checkRecord({
 *   recordNumber: 3,
 *   byteEnd: 90,
 *   plain: true,
 *   fields: { email: "ada@example.com", metadata: '{"plan":"pro"}' },
 * });
 * equal(result.ok, true);
 * equal(result.ok && result.row.metadata, undefined);
 * equal(checkRecord({ recordNumber: 4, byteEnd: 99, fields: { email: "a@b.co", metadata: "{" } }).ok, false);
 * ```
 */
export function checkRecord(record: SourceRecord): RecordValidation {
  return validate(record, false);
}

/** Both of the above: `keepMetadata` false for {@linkcode checkRecord}. */
function validate(record: SourceRecord, keepMetadata: boolean): RecordValidation {
  const { recordNumber, fields } = record;
  // A tidy record (its reader checked) is its own original.
  const original = record.tidy === true ? fields as Record<string, string> : toOriginal(fields);
  const allInputColumns = record.tidy === true || originalWasFields;
  if (record.parseError !== undefined) {
    return {
      ok: false,
      issues: [{ recordNumber, message: record.parseError }],
      email: bestEffortEmail(fields),
      original,
    };
  }
  const check = ROW_CHECK.reset(recordNumber, fields, record.plain === true, record.tidy === true);
  for (const message of record.warnings ?? []) check.warn("", message);
  // When toOriginal found every field an input column, none can be unknown.
  if (!allInputColumns) {
    for (const key in fields) {
      if (!KNOWN_SET.has(key)) {
        check.warn(key, `Ignoring unknown field ${JSON.stringify(key)} on row ${recordNumber}`);
      }
    }
  }

  const row: UserRow = { recordNumber, byteEnd: record.byteEnd, email: "", emailKey: "", original };
  // Each column read by name at a place of its own: the records of one file
  // share a shape, so each such read is a single map check, where a read by
  // a column name in a variable looked the name up every time (and a column
  // the file does not have, most of them, was the slowest look-up of all).
  const email = check.textOf("email", fields.email);
  if (email === undefined) {
    if (!check.failed("email")) check.fail("email", '"email" is missing: add an email address');
  } else {
    const normalized = normalizeEmail(email, { ascii: check.plain });
    if (normalized.ok) {
      row.email = normalized.email;
      row.emailKey = normalized.key;
    } else {
      check.fail("email", `"email" is not a valid address: ${normalized.reason}: correct it`);
    }
  }

  readNames(check, row, fields.first_name, fields.last_name);
  // A column that is absent reads as nothing: the readers skipped here would
  // neither fail nor warn.
  if (
    fields.password !== undefined || fields.password_hash !== undefined ||
    fields.password_hash_type !== undefined || fields.password_salt_position !== undefined
  ) {
    readPassword(check, row);
  }

  const verified = readBoolean(check, "email_verified", fields.email_verified);
  if (verified !== undefined) row.emailVerified = verified;
  const externalId = readExternalId(check, "external_id", fields.external_id);
  if (externalId !== undefined) row.externalId = externalId;
  if (fields.locale !== undefined) {
    const locale = readLocale(check);
    if (locale !== undefined) row.locale = locale;
  }

  if (fields.metadata !== undefined) {
    // A provider's mapper wrote the text from an object it checked: no parse.
    const metadata = record.checkedMetadata !== undefined
      ? { ok: true as const, metadata: record.checkedMetadata }
      : parseMetadata(fields.metadata, {
        plain: check.plain,
        keep: keepMetadata,
      });
    if (!metadata.ok) check.fail("metadata", `"metadata" ${metadata.reason}`);
    else if (
      metadata.metadata !== undefined &&
      // Printable ASCII without a JSON escape has no character to speak of.
      ((check.plain && typeof fields.metadata === "string" &&
        !fields.metadata.includes("\\")) ||
        checkMetadataValues(check, metadata.metadata))
    ) {
      row.metadata = metadata.metadata;
    }
  }

  const organization = readOrganization(check, fields);
  if (organization !== undefined) row.organization = organization;
  if (fields.role_slug !== undefined || fields.role_slugs !== undefined) {
    Object.assign(row, readRoles(check));
  }
  if (
    fields.totp_secret !== undefined || fields.totp_issuer !== undefined ||
    fields.totp_user !== undefined
  ) {
    const totp = readTotp(check);
    if (totp !== undefined) row.totp = totp;
  }

  if (check.issues.length > 0) {
    return { ok: false, issues: check.issues, email: email ?? "", original };
  }
  return { ok: true, row, warnings: check.warnings };
}

// A language tag as WorkOS's locales are written (`en`, `en-GB`, `es-419`).
const LOCALE = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

/**
 * The `locale` column. WorkOS stores any text as a user's locale, so an
 * unusual one is imported as given, with a warning.
 */
function readLocale(check: RowCheck): string | undefined {
  const locale = check.text("locale");
  if (locale === undefined || LOCALE.test(locale)) return locale;
  const tag = locale.replaceAll("_", "-");
  const hint = LOCALE.test(tag) ? `: did you mean ${JSON.stringify(tag)}?` : "";
  check.warn(
    "locale",
    `"locale" is ${
      JSON.stringify(locale)
    }, which is not a language tag like "en-GB"${hint}: imported as given`,
  );
  return locale;
}

/** Fails a NUL in a metadata value, warns of other control characters; `false` on failure. */
function checkMetadataValues(check: RowCheck, metadata: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(metadata)) {
    const odd = oddCharacter(value);
    if (odd === undefined) continue;
    if (odd.unstorable) {
      check.fail(
        "metadata",
        `"metadata" key ${
          JSON.stringify(key)
        } has a value with ${odd.what}, which WorkOS cannot store: remove it`,
      );
      return false;
    }
    check.warn(
      "metadata",
      `"metadata" key ${JSON.stringify(key)} has a value with ${odd.what}: imported as given`,
    );
  }
  return true;
}

/**
 * The issues (or warnings) of a row that has none, as most rows are: one
 * shared list, frozen so that nothing is ever added to it, instead of two
 * empty arrays a row.
 */
const NO_ISSUES = Object.freeze([]) as unknown as ValidationIssue[];

/**
 * Collects a row's issues and reads its fields with type checks. One
 * instance serves every row ({@linkcode ROW_CHECK}, reset per row:
 * validation is synchronous and never re-entered), not an object and two
 * arrays of garbage per row: 2–9 % less CPU time for validation and plan
 * together, measured side by side in one process.
 */
class RowCheck {
  /** The row's issues: {@linkcode NO_ISSUES} until the first. */
  issues: ValidationIssue[] = NO_ISSUES;
  /** The row's warnings: {@linkcode NO_ISSUES} until the first. */
  warnings: ValidationIssue[] = NO_ISSUES;
  recordNumber = 0;
  /** Every value is printable ASCII: its reader checked the bytes. */
  plain = false;
  /** No value has a space at either end: its reader checked. */
  tidy = false;
  #fields: Record<string, unknown> = {};

  /** Starts on a row; the lists handed out with the rows before stay as they were. */
  reset(
    recordNumber: number,
    fields: Record<string, unknown>,
    plain: boolean,
    tidy: boolean,
  ): RowCheck {
    this.recordNumber = recordNumber;
    this.#fields = fields;
    this.plain = plain;
    this.tidy = tidy;
    this.issues = NO_ISSUES;
    this.warnings = NO_ISSUES;
    return this;
  }

  raw(column: string): unknown {
    return this.#fields[column];
  }

  fail(column: string, detail: string): void {
    if (this.issues === NO_ISSUES) this.issues = [];
    this.issues.push({
      recordNumber: this.recordNumber,
      column,
      message: `Cannot import row ${this.recordNumber}: ${detail}`,
    });
  }

  failed(column: string): boolean {
    return this.issues.some((issue) => issue.column === column);
  }

  warn(column: string, message: string): void {
    if (this.warnings === NO_ISSUES) this.warnings = [];
    this.warnings.push({ recordNumber: this.recordNumber, column, message });
  }

  /**
   * A trimmed text value, or `undefined` when absent or blank. Numbers are
   * accepted (NDJSON ids are often numbers); other types are an issue.
   */
  text(column: string): string | undefined {
    return this.textOf(column, this.#fields[column]);
  }

  /** {@linkcode text} of `value`, the field `column` as the caller read it. */
  textOf(column: string, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    let text: string;
    // A tidy record's values have nothing to trim (its reader checked).
    if (typeof value === "string") text = this.tidy ? value : value.trim();
    else if (typeof value === "number" && Number.isFinite(value) && column !== "email") {
      text = String(value);
    } else {
      this.fail(column, `${JSON.stringify(column)} must be text, not ${describe(value)}`);
      return undefined;
    }
    if (text === "") return undefined;
    if (this.plain) return text;
    const odd = oddCharacter(text);
    if (odd?.unstorable) {
      this.fail(
        column,
        `${JSON.stringify(column)} contains ${odd.what}, which WorkOS cannot store: remove it`,
      );
      return undefined;
    }
    // WorkOS stores the rest as given; the email's own rules judge its characters.
    if (odd !== undefined && column !== "email") {
      this.warn(
        column,
        `${JSON.stringify(column)} contains ${odd.what}: imported as given`,
      );
    }
    return text;
  }

  /** A secret kept as written (not trimmed), or `undefined` when empty. */
  secret(column: string, trim: boolean): string | undefined {
    const value = this.#fields[column];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      this.fail(column, `${JSON.stringify(column)} must be text, not ${describe(value)}`);
      return undefined;
    }
    const secret = trim ? value.trim() : value;
    return secret === "" ? undefined : secret;
  }
}

/** The one {@linkcode RowCheck}, reset for each row. */
const ROW_CHECK = new RowCheck();

function readNames(check: RowCheck, row: UserRow, firstValue: unknown, lastValue: unknown): void {
  const firstName = check.textOf("first_name", firstValue);
  const lastName = check.textOf("last_name", lastValue);
  let fullFirst: string | undefined;
  let fullLast: string | undefined;
  if (firstName === undefined || lastName === undefined) {
    const name = check.text("name");
    if (name !== undefined) [fullFirst, fullLast] = splitName(name);
  }
  const first = firstName ?? fullFirst;
  const last = lastName ?? fullLast;
  if (first !== undefined) row.firstName = first;
  if (last !== undefined) row.lastName = last;
}

/** Splits "Ada King Lovelace" into "Ada" and "King Lovelace". */
function splitName(name: string): [string, string | undefined] {
  const space = name.search(/\s/);
  if (space === -1) return [name, undefined];
  return [name.slice(0, space), name.slice(space + 1).trim()];
}

function readPassword(check: RowCheck, row: UserRow): void {
  const password = check.secret("password", false);
  const hash = check.secret("password_hash", true);
  const hashTypeText = check.text("password_hash_type");
  const saltPosition = check.text("password_salt_position");
  if (hash === undefined) {
    // A hash type without a hash is common in exports where the type column
    // is filled for every user, including those without a password.
    if (password !== undefined) row.password = password;
    return;
  }
  if (check.failed("password_hash_type") || check.failed("password_salt_position")) return;
  const prepared = preparePasswordHash(hash, { type: hashTypeText, saltPosition });
  if (!prepared.ok) {
    check.fail(prepared.problem.column, prepared.problem.reason);
    return;
  }
  const value = prepared.value;
  row.passwordHash = value.hash;
  row.passwordHashType = value.type;
  if (value.saltPosition !== undefined) row.passwordSaltPosition = value.saltPosition;
  for (const warning of value.warnings) {
    check.warn("password_hash", `${warning} (row ${row.recordNumber})`);
  }
  if (password !== undefined) {
    check.warn(
      "password",
      `Ignoring "password" on row ${row.recordNumber}: "password_hash" is set and wins over a plain password`,
    );
  }
}

function readBoolean(check: RowCheck, column: string, value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  const text = check.textOf(column, value);
  if (text === undefined) return undefined;
  // The words exports write, before any case folding.
  if (text === "true") return true;
  if (text === "false") return false;
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  check.fail(
    column,
    `${JSON.stringify(column)} is ${JSON.stringify(text)}: write true or false (or yes/no, 1/0)`,
  );
  return undefined;
}

function readExternalId(check: RowCheck, column: string, value: unknown): string | undefined {
  const id = check.textOf(column, value);
  if (id === undefined) return undefined;
  const length = check.plain || isAscii(id) ? id.length : codePointLength(id);
  if (length > MAX_EXTERNAL_ID_LENGTH) {
    check.fail(
      column,
      `${
        JSON.stringify(column)
      } is ${length} characters long: WorkOS allows at most ${MAX_EXTERNAL_ID_LENGTH}`,
    );
    return undefined;
  }
  return id;
}

function readOrganization(
  check: RowCheck,
  fields: Record<string, unknown>,
): OrganizationRef | undefined {
  const orgId = check.textOf("org_id", fields.org_id);
  const orgExternalId = readExternalId(check, "org_external_id", fields.org_external_id);
  const orgName = check.textOf("org_name", fields.org_name);
  if (orgId !== undefined && orgExternalId !== undefined) {
    check.fail(
      "org_external_id",
      `both "org_id" and "org_external_id" are set: keep only one of them`,
    );
    return undefined;
  }
  // The organization's key outlives the row (the dry run's organizations,
  // the import's organization cache).
  if (orgId !== undefined) return { kind: "id", id: ownString(orgId) };
  if (orgExternalId !== undefined) {
    return orgName === undefined
      ? { kind: "external_id", externalId: ownString(orgExternalId) }
      : { kind: "external_id", externalId: ownString(orgExternalId), name: orgName };
  }
  if (orgName !== undefined && !check.failed("org_external_id")) {
    check.warn(
      "org_name",
      `Ignoring "org_name" on row ${check.recordNumber}: ` +
        `"org_external_id" is empty: add the organization's external ID to find or create it`,
    );
  }
  return undefined;
}

/**
 * Set by {@linkcode toOriginal}: whether every field was a string of an
 * input column (always so for CSV), so no field can be an unknown one.
 */
let originalWasFields = false;

/** The row's input fields as trimmed strings (passwords untrimmed). */
function toOriginal(fields: Record<string, unknown>): Record<string, string> {
  // One pass: whether every value is a string of an input column (always so
  // for CSV), and whether any needs trimming. Nothing changes a record's
  // fields after it is read, so when none does (most rows) they are the
  // original as they are: no copy.
  let original: Record<string, string> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value !== "string" || !INPUT_SET.has(key)) {
      originalWasFields = false;
      return convertOriginal(fields);
    }
    if (
      value.length > 0 &&
      (isSpace(value.charCodeAt(0)) || isSpace(value.charCodeAt(value.length - 1))) &&
      key !== "password" && key !== "password_hash"
    ) {
      // Cloning keeps the record's shape, much faster than rebuilding it.
      original ??= { ...fields } as Record<string, string>;
      original[key] = value.trim();
    }
  }
  originalWasFields = true;
  return original ?? fields as Record<string, string>;
}

function isSpace(code: number): boolean {
  return code <= 0x20 || code === 0xa0 || code === 0xfeff || (code >= 0x1680 && code <= 0x3000);
}

function convertOriginal(fields: Record<string, unknown>): Record<string, string> {
  const original: Record<string, string> = {};
  for (const key in fields) {
    if (!INPUT_SET.has(key)) continue;
    const value = fields[key];
    if (typeof value === "string") {
      original[key] = key === "password" || key === "password_hash" ? value : value.trim();
    } else if (value === undefined || value === null) original[key] = "";
    else if (typeof value === "object") original[key] = JSON.stringify(value);
    else original[key] = String(value);
  }
  return original;
}

function bestEffortEmail(fields: Record<string, unknown>): string {
  const email = fields.email;
  return typeof email === "string" ? email.trim() : "";
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
