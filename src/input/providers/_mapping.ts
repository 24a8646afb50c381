// What every provider mapper shares: the shape of a mapped record, reading
// loosely typed export values, and fitting metadata into WorkOS's limits.

import type { SourceRecord } from "../../types.ts";
import { METADATA_LIMITS } from "../../validation/metadata.ts";

/** The user columns every source fills, first in each source's error-file columns. */
export const USER_COLUMNS: readonly string[] = Object.freeze([
  "email",
  "first_name",
  "last_name",
  "email_verified",
  "external_id",
  "metadata",
]);

/** How a row message names an exported user: by its id where the export has one. */
export function whoOf(id: string | undefined): string {
  return id === undefined ? "the user" : `user ${JSON.stringify(id)}`;
}

/** The importer's columns a mapper fills (see src/validation/columns.ts). */
export type MappedFields = Record<string, unknown>;

/** Turns one record of an export into a record of the importer's columns. */
export interface ProviderMapper {
  /** The importer's columns this source fills, for CSV error files. */
  readonly columns: readonly string[];
  /**
   * Maps a record read from the export (top-level keys in lower case). A
   * record the target cannot take gets `parseError`; a field left out gets a
   * warning. Keeps `recordNumber` and `byteEnd`. A mapper that
   * {@linkcode expands} may return several rows for one record.
   */
  map(record: SourceRecord): SourceRecord | SourceRecord[];
  /**
   * One record may become several rows (a user in several organizations):
   * rows are numbered in order, and a resume reads from the start and skips
   * the rows done instead of seeking.
   */
  readonly expands?: boolean;
  /**
   * Its rows name an organization (`org_id` or `org_external_id`) without
   * `--map`: SuperTokens tenants, a package's memberships. The rows of a
   * source that does not cannot name one unless `--map` fills the column,
   * so its run creates users only (whatever `columns` lists for error files).
   */
  readonly namesOrganizations?: boolean;
  /** Called once after the last record, for file-level warnings. */
  finish?(): void;
  /**
   * Maps each record by itself: nothing carried from one record to the
   * next and nothing told at {@linkcode finish}, so that another mapper of
   * the same spec may map some of the records (the read worker hands lines
   * to the main thread when it is idle).
   */
  readonly independent?: boolean;
  /**
   * Every value of a mapped row is a value of the export as it was (trimmed
   * or split at a space) or text the mapper writes in ASCII, metadata aside
   * (validation checks it on its own): a record whose values are all
   * printable ASCII (`plain`) maps to a row that is too.
   */
  readonly keepsPlain?: boolean;
  /**
   * Every value of a mapped row is a string of an importer input column
   * with nothing to trim at either end (read through {@linkcode textOf},
   * split from such a value, or written by the mapper): the row is its own
   * `original` (`tidy`), unless `--map` copies other values onto it.
   */
  readonly tidy?: boolean;
}

/**
 * The `email_verified` column as the CSV reader would read it: text, so that
 * a row's values are all strings and validation reads it without a copy.
 */
export function verifiedText(verified: boolean): string {
  return verified ? "true" : "false";
}

/**
 * The `metadata` column as JSON text, as the CSV reader would read it (see
 * {@linkcode verifiedText}).
 */
export function metadataText(metadata: Readonly<Record<string, string>>): string {
  return JSON.stringify(metadata);
}

const NON_ASCII = /[\u0080-\uffff]/;

/** A trimmed string, a number as text, or `undefined` for anything else or blank. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  return text === "" ? undefined : text;
}

/** `true`/`false` from a boolean or its usual spellings, else `undefined`. */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (word === "true" || word === "1" || word === "yes") return true;
    if (word === "false" || word === "0" || word === "no" || word === "") return false;
  }
  return undefined;
}

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What {@linkcode fitMetadata} kept and what it left out. */
export interface FittedMetadata {
  metadata?: Record<string, string>;
  /** Keys left out, by why. */
  leftOut: ReadonlyMap<string, readonly string[]>;
}

/**
 * Fits key/value pairs into WorkOS metadata: strings as they are, other
 * values as JSON text, in the order given; keys that are not ASCII or too
 * long, values that are not ASCII or too long, and keys beyond the tenth are
 * left out and named.
 *
 * @param ascii Every string of the entries is known to be ASCII (a plain
 *   record's), so is the JSON text of each value: no look for other characters.
 */
export function fitMetadata(
  entries: Iterable<[string, unknown]>,
  ascii = false,
): FittedMetadata {
  const fitting = new Fitting(ascii);
  for (const [key, raw] of entries) fitting.add(key, raw);
  return fitting.fitted();
}

/**
 * {@linkcode fitMetadata} of the entries of each object in turn (own keys,
 * as `Object.entries` gives them), without making those entries: Auth0
 * users whose `user_metadata` does not fit as it is, or who have
 * `app_metadata` too, are about half of an export.
 *
 * @param first An object parsed from JSON (no keys inherited), or `undefined`.
 * @param second Another, whose keys come after the first's.
 * @param ascii See {@linkcode fitMetadata}.
 */
export function fitMetadataOf(
  first: Record<string, unknown> | undefined,
  second: Record<string, unknown> | undefined,
  ascii = false,
): FittedMetadata {
  const fitting = new Fitting(ascii);
  if (first !== undefined) { for (const key in first) fitting.add(key, first[key]); }
  if (second !== undefined) { for (const key in second) fitting.add(key, second[key]); }
  return fitting.fitted();
}

/** What {@linkcode fitMetadata} keeps and leaves out, entry by entry. */
class Fitting {
  readonly #ascii: boolean;
  // Most users fit: the object and the map are made only when needed.
  #metadata: Record<string, string> | undefined;
  #leftOut: Map<string, string[]> | undefined;
  #count = 0;

  constructor(ascii: boolean) {
    this.#ascii = ascii;
  }

  add(key: string, raw: unknown): void {
    const { maxKeys, maxKeyLength, maxValueLength } = METADATA_LIMITS;
    const metadata = this.#metadata;
    if (
      raw === undefined || raw === null || (metadata !== undefined && Object.hasOwn(metadata, key))
    ) return;
    const ascii = this.#ascii;
    const value = typeof raw === "string" ? raw : JSON.stringify(raw);
    let why: string | undefined;
    if (key === "" || key.length > maxKeyLength || (!ascii && NON_ASCII.test(key))) {
      why = `keys must be ${maxKeyLength} ASCII characters or fewer`;
    } else if (value.length > maxValueLength || (!ascii && NON_ASCII.test(value))) {
      why = `values must be ${maxValueLength} ASCII characters or fewer`;
    } else if (this.#count >= maxKeys) {
      why = `WorkOS keeps ${maxKeys} keys`;
    }
    if (why === undefined) {
      (this.#metadata ??= {})[key] = value;
      this.#count++;
      return;
    }
    this.#leftOut ??= new Map();
    const keys = this.#leftOut.get(why) ?? [];
    keys.push(JSON.stringify(key));
    this.#leftOut.set(why, keys);
  }

  fitted(): FittedMetadata {
    return { metadata: this.#metadata, leftOut: this.#leftOut ?? NOTHING_LEFT_OUT };
  }
}

const NOTHING_LEFT_OUT: ReadonlyMap<string, string[]> = new Map();

/**
 * The `metadata` text of an object that fits WorkOS metadata as it is
 * (only string values, every key and value ASCII and within its length, at
 * most {@linkcode METADATA_LIMITS}' keys): what {@linkcode fitMetadata}
 * would keep whole, without building its copy. `null` for an empty object
 * (no metadata); `undefined` when it does not fit as it is, for
 * {@linkcode fitMetadata} to sort out.
 *
 * @param ascii Every string of the object is known to be ASCII (a plain record's).
 */
export function wholeMetadataText(
  object: Record<string, unknown>,
  ascii: boolean,
): string | null | undefined {
  const { maxKeys, maxKeyLength, maxValueLength } = METADATA_LIMITS;
  let count = 0;
  for (const key in object) {
    const value = object[key];
    if (
      typeof value !== "string" || key === "" || key === "__proto__" ||
      key.length > maxKeyLength || value.length > maxValueLength || ++count > maxKeys
    ) return undefined;
    if (!ascii && (NON_ASCII.test(key) || NON_ASCII.test(value))) return undefined;
  }
  return count === 0 ? null : JSON.stringify(object);
}

/** A user's metadata as its mapped record carries it (see {@linkcode metadataOf}). */
export interface MappedMetadata {
  /** `fields.metadata`, when anything is kept. */
  text?: string;
  /** The object `text` was written from, for validation. */
  metadata?: Record<string, string>;
  /** The warning for what was left out, if anything was. */
  warning?: string;
}

const NO_METADATA: MappedMetadata = Object.freeze({});

/**
 * The metadata of a user's first object, then a second's (Auth0's
 * `user_metadata` and `app_metadata`, Firebase's custom attributes alone):
 * the first as it is when it fits alone ({@linkcode wholeMetadataText}, no
 * copy: most users), else what {@linkcode fitMetadataOf} keeps and leaves out.
 *
 * @param first An object parsed from JSON, or `undefined`.
 * @param second Another, whose keys come after the first's.
 * @param ascii See {@linkcode fitMetadata}.
 */
export function metadataOf(
  first: Record<string, unknown> | undefined,
  second: Record<string, unknown> | undefined,
  ascii = false,
): MappedMetadata {
  if (first !== undefined && second === undefined) {
    const whole = wholeMetadataText(first, ascii);
    if (whole === null) return NO_METADATA;
    if (whole !== undefined) return { text: whole, metadata: first as Record<string, string> };
  }
  const fitted = fitMetadataOf(first, second, ascii);
  if (fitted.metadata === undefined && fitted.leftOut.size === 0) return NO_METADATA;
  return {
    text: fitted.metadata === undefined ? undefined : metadataText(fitted.metadata),
    metadata: fitted.metadata,
    warning: fitted.leftOut.size > 0 ? leftOutWarning(fitted.leftOut) : undefined,
  };
}

/** The warning for metadata left out of a row. */
export function leftOutWarning(leftOut: ReadonlyMap<string, readonly string[]>): string {
  const parts = [...leftOut].map(([why, keys]) => `${keys.join(", ")} (${why})`);
  return `Leaving metadata out: ${parts.join("; ")}`;
}

/**
 * A record that cannot be imported, with the reason; `email`, when known,
 * names the row in the error file.
 */
export function rowError(record: SourceRecord, problem: string, email?: string): SourceRecord {
  return {
    recordNumber: record.recordNumber,
    byteEnd: record.byteEnd,
    fields: email === undefined ? {} : { email },
    parseError: `Cannot import row ${record.recordNumber}: ${problem}`,
  };
}

/**
 * A mapped record. `metadata`: the object whose {@linkcode metadataText} (or
 * {@linkcode wholeMetadataText}) is `fields.metadata`, checked against the
 * limits, handed to validation so that it does not parse the text again.
 */
export function mapped(
  record: SourceRecord,
  fields: MappedFields,
  warnings: string[] | undefined,
  metadata?: Record<string, string>,
): SourceRecord {
  const out: SourceRecord = { recordNumber: record.recordNumber, byteEnd: record.byteEnd, fields };
  if (warnings !== undefined && warnings.length > 0) out.warnings = warnings;
  if (metadata !== undefined) out.checkedMetadata = metadata;
  return out;
}

/**
 * First and last name from a display name: the first word, then the rest;
 * a name that is an email address (Auth0 fills `name` with it) is no name.
 */
export function splitDisplayName(name: string | undefined): [string?, string?] {
  if (name === undefined || name.includes("@")) return [];
  const space = firstSpace(name);
  if (space === -1) return [name];
  const last = name.slice(space + 1).trim();
  return [name.slice(0, space), last === "" ? undefined : last];
}

/** Where the first character `\s` matches is, or -1; a loop, not a regular expression, per user. */
function firstSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x20 && c < 0xa0) continue;
    if (
      c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 ||
      (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
      c === 0x205f || c === 0x3000 || c === 0xfeff
    ) return i;
  }
  return -1;
}
