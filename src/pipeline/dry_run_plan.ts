/**
 * What a dry run reports: how many rows are valid, which organizations the
 * file names, how many memberships an import would create and how many rows
 * repeat a person already seen — with memory bounded by the number of
 * people, not by their emails' length.
 *
 * @module
 */

import type { UserRow } from "../types.ts";
import { organizationKey } from "../organizations/organization_key.ts";
import { DuplicateTracker } from "../validation/duplicate_tracker.ts";
import { FingerprintSet } from "../validation/fingerprint_set.ts";
import { type OrganizationMode, organizationOf } from "./organization_mode.ts";

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
  readonly #people = new FingerprintSet();
  // Only whether a pair repeats counts here, not its first row.
  readonly #duplicates = new DuplicateTracker({ rowNumbers: false });
  #memberships = 0;
  readonly #organizations = new Set<string>();
  #valid = 0;
  #invalid = 0;
  #duplicateRows = 0;
  #duplicateMemberships = 0;

  /**
   * @param mode How rows map to organizations.
   */
  constructor(mode: OrganizationMode) {
    this.#mode = mode;
    if (mode.kind === "single") this.#organizations.add(organizationKey(mode.organization));
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
    const newPerson = this.#people.add(row.emailKey);
    if (this.#mode.kind !== "multi") {
      // Every row has the same organization (or none): a pair repeats
      // exactly when its person does, and the organization is counted.
      if (newPerson) {
        if (this.#mode.kind === "single") this.#memberships++;
        return;
      }
      this.#duplicateRows++;
      if (this.#mode.kind === "single") this.#duplicateMemberships++;
      return;
    }
    const ref = organizationOf(this.#mode, row);
    // One key per row, for both the pair and the organizations.
    const key = ref === undefined ? "" : organizationKey(ref);
    const duplicate = this.#duplicates.firstRowOfKey(row.recordNumber, row.emailKey, key) !==
      undefined;
    if (duplicate) this.#duplicateRows++;
    if (!ref) return;
    this.#organizations.add(key);
    if (duplicate) this.#duplicateMemberships++;
    else this.#memberships++;
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
      distinctOrganizations: this.#organizations.size,
      membershipsPlanned: this.#memberships,
    };
  }
}
