/**
 * What a duplicate row is, once for every command: a valid row whose person
 * (email, any case) AND organization an earlier row already gave. One email
 * in two organizations is not a duplicate: it is one user with two
 * memberships. Without an organization, the same person twice is one.
 * `validate` and the dry run both count through {@linkcode DuplicateTracker},
 * so their counts agree.
 *
 * @module
 */

import type { OrganizationRef } from "../types.ts";
import { cyrb53, cyrb53High, cyrb53Low } from "./_cyrb53.ts";
import { FingerprintSet } from "./fingerprint_set.ts";

/**
 * Remembers the first row of each person and organization pair, by 64-bit
 * fingerprint in a {@linkcode FingerprintSet}: about 14 bytes a pair
 * (8.2 without row numbers), whatever the emails' length.
 *
 * @example One email in two organizations is not a duplicate
 * ```ts
 * import { DuplicateTracker } from "./duplicate_tracker.ts";
 * import assert from "node:assert/strict";
 *
 * const duplicates = new DuplicateTracker();
 * const acme = { kind: "external_id", externalId: "acme" } as const;
 * const beta = { kind: "external_id", externalId: "beta" } as const;
 * assert.equal(duplicates.firstRowOf(1, "ada@example.com", acme), undefined);
 * assert.equal(duplicates.firstRowOf(2, "ada@example.com", beta), undefined);
 * assert.equal(duplicates.firstRowOf(3, "ada@example.com", acme), 1);
 * assert.equal(duplicates.size, 2);
 * ```
 */
export class DuplicateTracker {
  readonly #firstRows: FingerprintSet;

  /**
   * @param options `rowNumbers: false` when only whether a pair repeats is
   *   needed (the dry run): 6 bytes a slot instead of 10, and
   *   {@linkcode DuplicateTracker.firstRowOfKey} then gives 0 for a repeat.
   */
  constructor(options: { rowNumbers?: boolean } = {}) {
    this.#firstRows = new FingerprintSet({ values: options.rowNumbers ?? true });
  }

  /**
   * Makes room for about `pairs` pairs at once (see
   * {@linkcode FingerprintSet.reserve}).
   *
   * @param pairs How many distinct pairs are expected.
   *
   * @example Usage
   * ```ts
   * import { DuplicateTracker } from "./duplicate_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const duplicates = new DuplicateTracker();
   * duplicates.reserve(10_000);
   * assert.equal(duplicates.firstRowOf(2, "ada@example.com", undefined), undefined);
   * assert.equal(duplicates.firstRowOf(3, "ada@example.com", undefined), 2);
   * ```
   */
  reserve(pairs: number): void {
    this.#firstRows.reserve(pairs);
  }

  /** Distinct person and organization pairs seen. */
  get size(): number {
    return this.#firstRows.size;
  }

  /**
   * Notes a valid row and tells whether it is a duplicate.
   *
   * @param recordNumber The row's number.
   * @param emailKey The row's person (its email in lower case).
   * @param organization The organization the row joins, if any.
   * @returns The number of the earlier row it repeats, or `undefined` when
   *   it is the first of its pair (and is now remembered).
   */
  firstRowOf(
    recordNumber: number,
    emailKey: string,
    organization: OrganizationRef | undefined,
  ): number | undefined {
    // The pair's fingerprint from the key's parts, the same bits as
    // firstRowOfKey's of organizationKey(): that key was a new joined string
    // a row, which the hash's first read of it had V8 copy flat (validate of
    // 1M rows: about a tenth of its samples on that read).
    if (organization === undefined) cyrb53(emailKey, "");
    else if (organization.kind === "id") cyrb53(emailKey, "id:", organization.id);
    else cyrb53(emailKey, "ext:", organization.externalId);
    const first = this.#firstRows.addFingerprint(cyrb53High, cyrb53Low, recordNumber);
    return first === -1 ? undefined : first;
  }

  /**
   * {@linkcode DuplicateTracker.firstRowOf} for a caller that has the
   * organization's key already (`organizationKey`, or `""` for none).
   *
   * @param recordNumber This row's number.
   * @param emailKey The row's email key (lower case).
   * @param organizationKey The organization's key, `""` without one.
   * @returns The first row's number when this pair was seen before, else `undefined`.
   *
   * @example Usage
   * ```ts
   * import { DuplicateTracker } from "./duplicate_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new DuplicateTracker();
   * assert.equal(tracker.firstRowOfKey(1, "ada@example.com", "ext:acme"), undefined);
   * assert.equal(tracker.firstRowOfKey(2, "ada@example.com", "ext:acme"), 1);
   * ```
   */
  firstRowOfKey(
    recordNumber: number,
    emailKey: string,
    organizationKey: string,
  ): number | undefined {
    const first = this.#firstRows.addPairWithValue(emailKey, organizationKey, recordNumber);
    return first === -1 ? undefined : first;
  }
}
