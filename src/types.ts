/**
 * The domain types shared by every stage of the import pipeline: what a
 * parsed input record looks like, what a validated row looks like, what an
 * error record and the final summary contain.
 *
 * @module
 */

/** The input formats the importer reads. */
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
}

/** How a row names the organization its user should join. */
export type OrganizationRef =
  | { kind: "id"; id: string }
  | { kind: "external_id"; externalId: string; name?: string };

/** A validated, normalized row ready to be written to WorkOS. */
export interface UserRow {
  /** Same as {@linkcode SourceRecord.recordNumber}. */
  recordNumber: number;
  /** Byte offset just past the row in the input. */
  byteEnd: number;
  /** The email as it will be sent: trimmed and Unicode NFC. */
  email: string;
  /** The identity key: `email` in lower case. Rows with one key are one person. */
  emailKey: string;
  firstName?: string;
  lastName?: string;
  /** Plain password; dropped when a hash is present. */
  password?: string;
  passwordHash?: string;
  passwordHashType?: string;
  emailVerified?: boolean;
  externalId?: string;
  metadata?: Record<string, string>;
  /** The organization from the row's own columns, if any. */
  organization?: OrganizationRef;
  /** Membership role slug. */
  roleSlug?: string;
  /**
   * The row's original fields as strings, for error files that can be fixed
   * and fed back. Writers must drop `password` and `password_hash`.
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

/** The stage at which a row failed. */
export type ErrorType =
  | "validation"
  | "user_create"
  | "user_update"
  | "membership_create"
  | "org_resolution"
  | "invitation";

/** One failed row, as written to error files and journals. Never holds secrets. */
export interface ErrorRecord {
  recordNumber: number;
  email: string;
  errorType: ErrorType;
  errorMessage: string;
  httpStatus?: number;
  workosCode?: string;
  workosRequestId?: string;
  /** ISO 8601 time the error happened. */
  timestamp: string;
  /** The row's original fields minus passwords and hashes (CSV error files). */
  rawRow?: Record<string, string>;
}

/** Overall outcome of an import, following the earlier importer's rules. */
export type ImportStatus = "success" | "completed_with_errors" | "failed";

/** The numbers an import reports at the end. */
export interface ImportSummary {
  status: ImportStatus;
  /** Rows read from the input (valid and invalid). */
  totalRows: number;
  /** Rows that ended well. */
  successes: number;
  /** Rows that failed, at any stage. */
  failures: number;
  usersCreated: number;
  /** Users that already existed in WorkOS and were adopted. */
  usersExisting: number;
  usersUpdated: number;
  membershipsCreated: number;
  membershipsExisting: number;
  organizationsCreated: number;
  invitationsSent: number;
  warnings: number;
  cacheHits: number;
  cacheMisses: number;
  /** Retried requests, any cause. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
  durationMs: number;
  dryRun: boolean;
}
