// The compact form a batch of validated records crosses from the validate
// worker (_validate_worker_host.ts) to the main thread in. The main thread
// of a dry run or of `validate` reads only a few things of a valid row (its
// number, byte end, email, email key and organization) and the messages of
// a row with warnings or errors, so that is all that crosses: numbers in a
// typed array (moved, not copied), the valid rows' strings one after
// another in one text, and, as they are, the warnings of a row that has
// some and the whole result of a row that failed (about 1 % of a file's).

import type { OrganizationRef, UserRow, ValidationIssue } from "../types.ts";
import type { RecordValidation } from "../validation/validate_record.ts";

/** Numbers per record in {@linkcode EncodedValidated.records}. */
const RECORD_WIDTH = 3;
/** The record's result is the next of {@linkcode EncodedValidated.extras}, as it is. */
const WHOLE = 1;
/** The email key is the email (no text entry of its own). */
const KEY_IS_EMAIL = 2;
const ORGANIZATION_ID = 4;
const ORGANIZATION_EXTERNAL_ID = 8;
/** The organization has a name (a text entry after its id). */
const ORGANIZATION_NAME = 16;
/** The row's warnings are the next of {@linkcode EncodedValidated.extras}. */
const WARNINGS = 32;

/** A batch of validated records in the form it crosses a worker boundary. */
export interface EncodedValidated {
  /** Per record: its number, its byte end, its flags. */
  records: Float64Array;
  /** The length of each text entry, in order. */
  lengths: Uint32Array;
  /** Every text entry, one after another. */
  text: string;
  /** The warnings of rows that have some, and the results of rows that failed, in order. */
  extras: Array<ValidationIssue[] | RecordValidation>;
}

/**
 * Validated records as the main thread takes them: each record's number
 * and byte end, and its result. A valid row carries what a dry run's plan
 * and `validate` read of it (number, byte end, email, email key,
 * organization), with an empty `original`: neither reads a valid row's
 * fields.
 */
export interface ValidatedBatch {
  /** Per record: its number, then its byte end. */
  positions: Float64Array;
  /** Per record: what `validateRecord` gave (a valid row slimmed as above). */
  results: RecordValidation[];
}

/** The `original` of every valid row that crossed: nothing reads it. */
const NO_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Collects validated records and encodes them into one
 * {@linkcode EncodedValidated}.
 *
 * @example A round trip
 * ```ts
 * import { decodeValidated, ValidatedEncoder } from "./_validated_codec.ts";
 * import { validateRecord } from "../validation/validate_record.ts";
 * import { equal } from "node:assert/strict";
 *
 * const record = { recordNumber: 1, fields: { email: "Ada@example.com" }, byteEnd: 30 };
 * const encoder = new ValidatedEncoder();
 * encoder.add(record.recordNumber, record.byteEnd, validateRecord(record));
 * const [encoded, transfer] = encoder.take();
 * const batch = decodeValidated(structuredClone(encoded, { transfer }));
 * const result = batch.results[0];
 * equal(result.ok && result.row.emailKey, "ada@example.com");
 * equal(batch.positions[1], 30);
 * ```
 */
export class ValidatedEncoder {
  #records = new Float64Array(256 * RECORD_WIDTH);
  #count = 0;
  #lengths = new Uint32Array(256 * 2);
  #entries = 0;
  #texts: string[] = [];
  #extras: Array<ValidationIssue[] | RecordValidation> = [];

  /** Records added since the last {@linkcode take}. */
  get size(): number {
    return this.#count;
  }

  /**
   * Adds one record's result.
   *
   * @param recordNumber The record's number.
   * @param byteEnd The record's byte end.
   * @param result What `validateRecord` gave for it.
   */
  add(recordNumber: number, byteEnd: number, result: RecordValidation): void {
    if ((this.#count + 1) * RECORD_WIDTH > this.#records.length) {
      const larger = new Float64Array(this.#records.length * 2);
      larger.set(this.#records);
      this.#records = larger;
    }
    const at = this.#count++ * RECORD_WIDTH;
    this.#records[at] = recordNumber;
    this.#records[at + 1] = byteEnd;
    if (!result.ok) {
      this.#records[at + 2] = WHOLE;
      this.#extras.push(result);
      return;
    }
    const row = result.row;
    let flags = 0;
    this.#text(row.email);
    if (row.emailKey === row.email) flags |= KEY_IS_EMAIL;
    else this.#text(row.emailKey);
    const organization = row.organization;
    if (organization !== undefined) {
      if (organization.kind === "id") {
        flags |= ORGANIZATION_ID;
        this.#text(organization.id);
      } else {
        flags |= ORGANIZATION_EXTERNAL_ID;
        this.#text(organization.externalId);
        if (organization.name !== undefined) {
          flags |= ORGANIZATION_NAME;
          this.#text(organization.name);
        }
      }
    }
    if (result.warnings.length > 0) {
      flags |= WARNINGS;
      this.#extras.push(result.warnings);
    }
    this.#records[at + 2] = flags;
  }

  /**
   * The records added so far, encoded, and the buffers to transfer with
   * them; the encoder starts again empty.
   *
   * @returns The batch and its buffers.
   */
  take(): [EncodedValidated, ArrayBuffer[]] {
    const records = this.#records.slice(0, this.#count * RECORD_WIDTH);
    const lengths = this.#lengths.slice(0, this.#entries);
    const encoded = { records, lengths, text: this.#texts.join(""), extras: this.#extras };
    this.#count = 0;
    this.#entries = 0;
    this.#texts = [];
    this.#extras = [];
    return [encoded, [records.buffer, lengths.buffer]];
  }

  #text(value: string): void {
    if (this.#entries === this.#lengths.length) {
      const larger = new Uint32Array(this.#lengths.length * 2);
      larger.set(this.#lengths);
      this.#lengths = larger;
    }
    this.#lengths[this.#entries++] = value.length;
    this.#texts.push(value);
  }
}

/**
 * The validated records of an encoded batch, in order (see
 * {@linkcode ValidatedEncoder}).
 *
 * @param encoded The batch as it crossed.
 * @returns Each record's position and result.
 *
 * @example A row that failed crosses whole
 * ```ts
 * import { decodeValidated, ValidatedEncoder } from "./_validated_codec.ts";
 * import { validateRecord } from "../validation/validate_record.ts";
 * import { equal } from "node:assert/strict";
 *
 * const encoder = new ValidatedEncoder();
 * encoder.add(4, 90, validateRecord({ recordNumber: 4, fields: { email: "nope" }, byteEnd: 90 }));
 * const result = decodeValidated(encoder.take()[0]).results[0];
 * equal(result.ok, false);
 * ```
 */
export function decodeValidated(encoded: EncodedValidated): ValidatedBatch {
  const { records, lengths, text, extras } = encoded;
  const count = records.length / RECORD_WIDTH;
  const positions = new Float64Array(count * 2);
  const results: RecordValidation[] = new Array(count);
  let entry = 0;
  let pos = 0;
  let extra = 0;
  const next = (): string => {
    const length = lengths[entry++];
    const value = text.slice(pos, pos + length);
    pos += length;
    return value;
  };
  for (let r = 0; r < count; r++) {
    const at = r * RECORD_WIDTH;
    const recordNumber = records[at];
    const byteEnd = records[at + 1];
    positions[r * 2] = recordNumber;
    positions[r * 2 + 1] = byteEnd;
    const flags = records[at + 2];
    if ((flags & WHOLE) !== 0) {
      results[r] = extras[extra++] as RecordValidation;
      continue;
    }
    const email = next();
    const emailKey = (flags & KEY_IS_EMAIL) !== 0 ? email : next();
    const row: UserRow = { recordNumber, byteEnd, email, emailKey, original: NO_FIELDS };
    if ((flags & ORGANIZATION_ID) !== 0) {
      row.organization = { kind: "id", id: next() };
    } else if ((flags & ORGANIZATION_EXTERNAL_ID) !== 0) {
      const organization: OrganizationRef = { kind: "external_id", externalId: next() };
      if ((flags & ORGANIZATION_NAME) !== 0) organization.name = next();
      row.organization = organization;
    }
    const warnings = (flags & WARNINGS) !== 0 ? extras[extra++] as ValidationIssue[] : NO_ISSUES;
    results[r] = { ok: true, row, warnings };
  }
  return { positions, results };
}

const NO_ISSUES: ValidationIssue[] = Object.freeze([]) as unknown as ValidationIssue[];
