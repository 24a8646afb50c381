/**
 * What a dry run reports: how many rows are valid, which organizations the
 * file names, how many memberships an import would create and how many rows
 * repeat a person already seen — with memory bounded by the number of
 * people, not by their emails' length.
 *
 * @module
 */

import type { OrganizationRef, UserRow } from "../types.ts";
import { organizationKey } from "../organizations/organization_key.ts";
import { expectedRows, SIZE_FROM_ROW } from "./_input_sizing.ts";
import { DuplicateTracker } from "../validation/duplicate_tracker.ts";
import { FingerprintSet } from "../validation/fingerprint_set.ts";
import { ownString } from "../validation/_text.ts";
import type { OrganizationMode } from "./organization_mode.ts";

/**
 * The plan a dry run prints: what an import of the same rows would do.
 *
 * @example Plan a multi-organization file
 * ```ts
 * import { importUsers, type PlanReport } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const csv = "email,org_external_id\nada@example.com,acme\nada@example.com,beta\n";
 * const { plan } = await importUsers(new Blob([csv]).stream(), { dryRun: true });
 * const expected: Partial<PlanReport> = { distinctUsers: 1, membershipsPlanned: 2 };
 * assert.equal(plan?.distinctUsers, expected.distinctUsers);
 * assert.equal(plan?.membershipsPlanned, expected.membershipsPlanned);
 * ```
 */
export interface PlanReport {
  /** Rows that pass validation. */
  validRows: number;
  /** Rows that fail validation. */
  invalidRows: number;
  /** Distinct people (emails, case-insensitive) among valid rows. */
  distinctUsers: number;
  /**
   * Valid rows that repeat an earlier row's person (email, any case) in the
   * same organization (or, without organizations, anywhere in the file):
   * `validate`'s `duplicate_rows`. One email in two organizations is one
   * user with two memberships, not a duplicate.
   */
  duplicateRows: number;
  /** Valid rows repeating an earlier row's person AND organization. */
  duplicateMemberships: number;
  /** Distinct organizations referenced. */
  distinctOrganizations: number;
  /** Memberships an import would create (distinct person and organization pairs). */
  membershipsPlanned: number;
}

/**
 * Accumulates a dry-run plan row by row.
 *
 * @example Usage
 * ```ts ignore
 * const planner = new DryRunPlanner({ kind: "multi" });
 * planner.addValid(row);
 * console.log(planner.report().validRows); // 1
 * ```
 */
export class DryRunPlanner {
  readonly #mode: OrganizationMode;
  /**
   * Every person seen; in multi-organization mode each with the number of
   * the organization its first row joined (see {@linkcode addValid}).
   */
  readonly #people: FingerprintSet;
  /**
   * The pairs of a person and an organization other than the person's first
   * (only whether a pair repeats counts here, not its first row).
   */
  readonly #laterPairs = new DuplicateTracker({ rowNumbers: false });
  /**
   * Each organization named, by id and by external id, with its number (from
   * 1; 0 stands for a row without one): a look-up by the row's own string,
   * with no key built per row.
   */
  readonly #byId = new StringNumbers();
  readonly #byExternalId = new StringNumbers();
  /** The input's bytes; 0 once the people set is sized (or never to be). */
  #inputBytes: number;
  #memberships = 0;
  #valid = 0;
  #invalid = 0;
  #duplicateRows = 0;
  #duplicateMemberships = 0;

  /**
   * @param mode How rows map to organizations.
   * @param options The input's size, to size the people set from.
   */
  constructor(mode: OrganizationMode, options: DryRunPlannerOptions = {}) {
    this.#mode = mode;
    this.#people = new FingerprintSet({ values: mode.kind === "multi" });
    this.#inputBytes = options.inputBytes ?? 0;
  }

  /** Counts a row that failed validation. */
  addInvalid(): void {
    this.#invalid++;
  }

  /**
   * Counts a valid row.
   *
   * @param row The validated row.
   */
  addValid(row: UserRow): void {
    this.#valid++;
    if (this.#inputBytes !== 0 && row.recordNumber >= SIZE_FROM_ROW) this.#sizePeople(row);
    if (this.#mode.kind !== "multi") {
      // Every row has the same organization (or none): a pair repeats
      // exactly when its person does, and the organization is counted.
      if (this.#people.add(row.emailKey)) {
        if (this.#mode.kind === "single") this.#memberships++;
        return;
      }
      this.#duplicateRows++;
      if (this.#mode.kind === "single") this.#duplicateMemberships++;
      return;
    }
    const ref = row.organization;
    const organization = ref === undefined ? 0 : this.#numberOf(ref);
    // A person's first row is the first of its pair too, and most rows are
    // a person's first: the people set keeps that row's organization, so
    // one hash and one insert settle the row. Only a later row of a person
    // in another organization than its first asks the pairs set.
    const first = this.#people.addWithValue(row.emailKey, organization);
    let duplicate: boolean;
    if (first === -1) duplicate = false;
    else if (first === organization) duplicate = true;
    else {
      duplicate = this.#laterPairs.firstRowOfKey(
        row.recordNumber,
        row.emailKey,
        ref === undefined ? "" : organizationKey(ref),
      ) !== undefined;
    }
    if (duplicate) this.#duplicateRows++;
    if (ref === undefined) return;
    if (duplicate) this.#duplicateMemberships++;
    else this.#memberships++;
  }

  /**
   * Sizes the people set for as many people as the input has rows, by the
   * bytes a row took so far: grown table by table, the tables its shards
   * grew out of stay with the allocator, between live ones (the 1M-row
   * dry run's peak 102 -> 94 MB). A file of fewer people than rows keeps
   * the larger tables, at most what as many distinct people would take.
   */
  #sizePeople(row: UserRow): void {
    const rows = expectedRows(this.#inputBytes, row.recordNumber, row.byteEnd);
    this.#inputBytes = 0;
    this.#people.reserve(rows);
  }

  /** The organization's number, given it at its first row. */
  #numberOf(ref: OrganizationRef): number {
    const numbers = ref.kind === "id" ? this.#byId : this.#byExternalId;
    const value = ref.kind === "id" ? ref.id : ref.externalId;
    const hash = hashOf(value);
    const known = numbers.get(value, hash);
    if (known !== 0) return known;
    // A string of its own: the row's value is a slice of the text decoded
    // with it, which a key kept to the end would keep alive.
    const number = this.#byId.size + this.#byExternalId.size + 1;
    numbers.add(ownString(value), hash, number);
    return number;
  }

  /**
   * The plan so far.
   *
   * @returns The counts.
   */
  report(): PlanReport {
    return {
      validRows: this.#valid,
      invalidRows: this.#invalid,
      distinctUsers: this.#people.size,
      duplicateRows: this.#duplicateRows,
      duplicateMemberships: this.#duplicateMemberships,
      distinctOrganizations: this.#mode.kind === "single"
        ? 1
        : this.#byId.size + this.#byExternalId.size,
      membershipsPlanned: this.#memberships,
    };
  }
}

/** Options for {@linkcode DryRunPlanner}. */
export interface DryRunPlannerOptions {
  /**
   * The input's size in bytes, when known (a file): the people set is then
   * sized once, from the bytes the first rows took, instead of growing.
   */
  inputBytes?: number;
}

/** FNV-1a over a string's UTF-16 code units. */
function hashOf(value: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash;
}

/**
 * Strings numbered by their first appearance, found by a hash of their
 * characters computed here ({@linkcode hashOf}). A row's organization id is
 * a string of its own every row, whose hash V8 computes on its first `Map`
 * look-up, in a call to its runtime: 0.2 µs a row for 9 characters in
 * isolation (under load), and the plan's look-up was 3-7 % of a dry run's
 * samples; the loop here takes a third of that. Equal strings are equal
 * keys, as in a `Map`.
 */
class StringNumbers {
  /** The keys by slot (`""` in a free slot, which `#numbers` tells by its 0). */
  #keys: string[] = new Array<string>(64).fill("");
  /** The number of each slot's key, 0 for a free slot (numbers start at 1). */
  #numbers = new Int32Array(64);
  #hashes = new Int32Array(64);
  #size = 0;

  /** How many strings have a number. */
  get size(): number {
    return this.#size;
  }

  /** The number of `value` (whose {@linkcode hashOf} is `hash`), or 0. */
  get(value: string, hash: number): number {
    const mask = this.#numbers.length - 1;
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const number = this.#numbers[slot];
      if (number === 0) return 0;
      if (this.#hashes[slot] === hash && this.#keys[slot] === value) return number;
    }
  }

  /** Gives `value`, which has none yet, its `number` (at least 1). */
  add(value: string, hash: number, number: number): void {
    if ((this.#size + 1) * 2 > this.#numbers.length) this.#grow();
    this.#place(value, hash, number);
    this.#size++;
  }

  #place(value: string, hash: number, number: number): void {
    const mask = this.#numbers.length - 1;
    let slot = hash & mask;
    while (this.#numbers[slot] !== 0) slot = (slot + 1) & mask;
    this.#keys[slot] = value;
    this.#numbers[slot] = number;
    this.#hashes[slot] = hash;
  }

  #grow(): void {
    const keys = this.#keys;
    const numbers = this.#numbers;
    const hashes = this.#hashes;
    const length = numbers.length * 2;
    this.#keys = new Array<string>(length).fill("");
    this.#numbers = new Int32Array(length);
    this.#hashes = new Int32Array(length);
    for (let slot = 0; slot < numbers.length; slot++) {
      if (numbers[slot] !== 0) this.#place(keys[slot], hashes[slot], numbers[slot]);
    }
  }
}
