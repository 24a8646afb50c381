/**
 * The domain types shared by every stage of the import pipeline: what a
 * parsed input record looks like, what a validated row looks like, what an
 * error record and the final summary contain.
 *
 * @module
 */

/**
 * The input formats the importer reads.
 *
 * @example Force NDJSON for a stream
 * ```ts
 * import { importUsers, type InputFormat } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const format: InputFormat = "ndjson";
 * const stream = new Blob(['{"email":"ada@example.com"}\n']).stream();
 * const summary = await importUsers(stream, { dryRun: true, format });
 * assert.equal(summary.successes, 1);
 * ```
 */
export type InputFormat = "csv" | "ndjson";

/**
 * One record as it came out of the input parser, before validation.
 *
 * Column names are normalized (trimmed, lower case). CSV values are strings;
 * NDJSON values are whatever JSON held.
 */
export interface SourceRecord {
  /**
   * 1-based number of the record in the input: for CSV the data row
   * (the header is not counted), for NDJSON the line number.
   */
  recordNumber: number;
  /** The record's fields by normalized column name. */
  fields: Record<string, unknown>;
  /**
   * Byte offset just past this record in the input, so that a resumed job can
   * seek to the record after it without parsing what came before.
   */
  byteEnd: number;
  /** Set when the record could not be parsed at all (e.g. malformed NDJSON line). */
  parseError?: string;
  /** Warnings the reader has about the record (a provider field left out, say). */
  warnings?: string[];
  /**
   * Set by a reader that checked the record's bytes: every value is
   * printable ASCII (no control character, line break or non-ASCII text),
   * so validation need not look for odd characters.
   */
  plain?: boolean;
  /**
   * Set by a reader that checked the record's bytes: every field is a
   * string of an input column with no space to trim at either end, so the
   * fields are the row's `original` as they are.
   */
  tidy?: boolean;
  /**
   * Set by a reader that wrote the `metadata` field itself as the JSON text
   * of this object (`JSON.stringify`), after checking it against WorkOS's
   * metadata limits: validation takes the object instead of parsing the
   * text again. A provider's mapper sets it; nothing else may change
   * `fields.metadata` after.
   */
  checkedMetadata?: Record<string, string>;
}

/**
 * How a row names the organization its user should join: by WorkOS id, or
 * by your external id (with the name to create it under, if it is missing).
 *
 * @example Both forms
 * ```ts
 * import type { OrganizationRef } from "@workos-importer/cli";
 *
 * const byId: OrganizationRef = { kind: "id", id: "org_01H945H0YD4F97JN9MATX7BYAG" };
 * const byExternalId: OrganizationRef = { kind: "external_id", externalId: "acme", name: "Acme" };
 * console.log(byId.kind, byExternalId.kind);
 * ```
 */
export type OrganizationRef =
  | { kind: "id"; id: string }
  | { kind: "external_id"; externalId: string; name?: string };

/**
 * A validated, normalized row ready to be written to WorkOS.
 *
 * @example The row a CSV line becomes
 * ```ts
 * import type { UserRow } from "@workos-importer/cli";
 *
 * const row: UserRow = {
 *   recordNumber: 1,
 *   byteEnd: 42,
 *   email: "Ada@Example.com",
 *   emailKey: "ada@example.com",
 *   firstName: "Ada",
 *   organization: { kind: "external_id", externalId: "acme" },
 *   original: { email: "Ada@Example.com", first_name: "Ada", org_external_id: "acme" },
 * };
 * console.log(row.emailKey);
 * ```
 */
export interface UserRow {
  /** Same as {@linkcode SourceRecord.recordNumber}. */
  recordNumber: number;
  /** Byte offset just past the row in the input. */
  byteEnd: number;
  /** The email as it will be sent: trimmed and Unicode NFC. */
  email: string;
  /** The identity key: `email` in lower case. Rows with one key are one person. */
  emailKey: string;
  /** First name, as given. */
  firstName?: string;
  /** Last name, as given. */
  lastName?: string;
  /** Plain password; dropped when a hash is present. */
  password?: string;
  /** The hash in WorkOS's format (converted from the input's, if need be). */
  passwordHash?: string;
  /** The hash's type (`bcrypt`, `scrypt`, `firebase-scrypt`, `ssha`, `ssha256`, `pbkdf2`, `argon2`). */
  passwordHashType?: string;
  /** `prefix` when an `ssha`/`ssha256` hash's salt went before the password. */
  passwordSaltPosition?: "prefix" | "suffix";
  /** Whether the email counts as verified. */
  emailVerified?: boolean;
  /** Your identifier of the user. */
  externalId?: string;
  /** The user's preferred locale (`locale`), e.g. `en-GB`: set on the user, sent with an invitation. */
  locale?: string;
  /** Metadata key/value pairs (up to 10 keys). */
  metadata?: Record<string, string>;
  /** The organization from the row's own columns, if any. */
  organization?: OrganizationRef;
  /** Membership role slug. */
  roleSlug?: string;
  /** Several membership roles (`role_slugs`), instead of `roleSlug`. */
  roleSlugs?: string[];
  /** A TOTP factor to enroll once the user exists. Its secret is never written down. */
  totp?: { secret: string; issuer?: string; user?: string };
  /**
   * The row's original fields as strings, for error files that can be fixed
   * and fed back. Writers must drop `password`, `password_hash` and `totp_secret`.
   */
  original: Record<string, string>;
}

/** A field-level validation problem. */
export interface ValidationIssue {
  recordNumber: number;
  /** The column at fault, if one is. */
  column?: string;
  /** Sentence-case message with the value quoted and how to fix it. */
  message: string;
}

/**
 * The stage at which a row failed.
 *
 * @example Count failures by stage
 * ```ts
 * import { type ErrorType, importUsers } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const counts: Partial<Record<ErrorType, number>> = {};
 * await importUsers([{ email: "not-an-email" }], {
 *   dryRun: true,
 *   onRow: ({ error }) => {
 *     if (error) counts[error.errorType] = (counts[error.errorType] ?? 0) + 1;
 *   },
 * });
 * assert.deepEqual(counts, { validation: 1 });
 * ```
 */
export type ErrorType =
  | "validation"
  | "user_create"
  | "user_update"
  | "membership_create"
  | "org_resolution"
  | "invitation"
  | "totp_enroll";

/**
 * One failed row, as written to error files and journals. Never holds secrets.
 *
 * @example The record of an invalid email
 * ```ts
 * import { type ErrorRecord, importUsers } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const errors: ErrorRecord[] = [];
 * await importUsers([{ email: "not-an-email", password: "hunter2" }], {
 *   dryRun: true,
 *   onRow: ({ error }) => error && errors.push(error),
 * });
 * assert.equal(errors[0].recordNumber, 1);
 * assert.match(errors[0].errorMessage, /"email" is not a valid address/);
 * assert.equal(errors[0].rawRow?.password, undefined);
 * ```
 */
export interface ErrorRecord {
  /** The row's number (CSV data row, NDJSON line). */
  recordNumber: number;
  /** The row's email, as given. */
  email: string;
  /** The stage that failed. */
  errorType: ErrorType;
  /** What went wrong, in one line. */
  errorMessage: string;
  /** WorkOS's HTTP status, when it answered. */
  httpStatus?: number;
  /** WorkOS's error code, when it gave one. */
  workosCode?: string;
  /** `X-Request-ID` of the failing answer, for WorkOS support. */
  workosRequestId?: string;
  /** ISO 8601 time the error happened. */
  timestamp: string;
  /** The row's original fields minus passwords and hashes (CSV error files). */
  rawRow?: Record<string, string>;
}

/**
 * Overall outcome of an import, following the earlier importer's rules:
 * `success` when no row failed and at least one succeeded,
 * `completed_with_errors` when both, `failed` otherwise.
 *
 * @example Gate a pipeline on it
 * ```ts
 * import { importUsers, type ImportStatus } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const { status } = await importUsers([{ email: "ada@example.com" }], { dryRun: true });
 * const acceptable: ImportStatus[] = ["success"];
 * assert.ok(acceptable.includes(status));
 * ```
 */
export type ImportStatus = "success" | "completed_with_errors" | "failed";

/**
 * The numbers an import reports at the end (the CLI's `--json` fields).
 *
 * @example Read the counts
 * ```ts
 * import { importUsers, type ImportSummary } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const summary: ImportSummary = await importUsers(
 *   [{ email: "ada@example.com" }, { email: "bob@example.com" }],
 *   { dryRun: true },
 * );
 * assert.equal(summary.totalRows, 2);
 * assert.equal(summary.failures, 0);
 * assert.equal(summary.dryRun, true);
 * ```
 */
export interface ImportSummary {
  /** The overall outcome. */
  status: ImportStatus;
  /** Rows read from the input (valid and invalid). */
  totalRows: number;
  /** Rows that ended well. */
  successes: number;
  /** Rows that failed, at any stage. */
  failures: number;
  /** Users this import created. */
  usersCreated: number;
  /** Users that already existed in WorkOS and were adopted. */
  usersExisting: number;
  /** Existing users this import updated (`--on-existing update`). */
  usersUpdated: number;
  /** Memberships this import created. */
  membershipsCreated: number;
  /** Memberships that existed already. */
  membershipsExisting: number;
  /** Organizations this import created. */
  organizationsCreated: number;
  /** Invitations this import sent (`--invite`). */
  invitationsSent: number;
  /** Warnings about rows that were imported anyway. */
  warnings: number;
  /** Organization lookups the cache answered. */
  cacheHits: number;
  /** Organization lookups that went to WorkOS. */
  cacheMisses: number;
  /** Retried requests, any cause. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
  /** How long the import took, in ms. */
  durationMs: number;
  /** `true` when nothing was written (`--dry-run`). */
  dryRun: boolean;
}
