/**
 * The tally: the counts of an import, kept as outcomes arrive. One rule of
 * counting, {@linkcode tallyOutcome}, serves the session and the job alike.
 *
 * @module
 */

import type { RowOutcome } from "./row_outcome.ts";

/**
 * Counts kept as outcomes arrive.
 *
 * @example Usage
 * ```ts
 * import { emptyTally, type ImportTally } from "./tally.ts";
 * const tally: ImportTally = emptyTally();
 * console.log(tally.totalRows); // 0
 * ```
 */
export interface ImportTally {
  /** Rows read from the input (valid and invalid). */
  totalRows: number;
  /** Rows that ended well. */
  successes: number;
  /** Rows that failed, at any stage. */
  failures: number;
  /** Users this import created. */
  usersCreated: number;
  /** Users that existed in WorkOS and were adopted. */
  usersExisting: number;
  /** Existing users this import updated. */
  usersUpdated: number;
  /** Memberships this import created. */
  membershipsCreated: number;
  /** Memberships that existed already. */
  membershipsExisting: number;
  /** Invitations this import sent (`--invite`). */
  invitationsSent: number;
  /** Rows warned about (hash-over-password, ignored org_name, …). */
  warnings: number;
}

/**
 * A fresh tally with every count at zero.
 *
 * @returns The tally.
 *
 * @example Usage
 * ```ts
 * import { emptyTally } from "./tally.ts";
 * console.log(emptyTally().successes); // 0
 * ```
 */
export function emptyTally(): ImportTally {
  return {
    totalRows: 0,
    successes: 0,
    failures: 0,
    usersCreated: 0,
    usersExisting: 0,
    usersUpdated: 0,
    membershipsCreated: 0,
    membershipsExisting: 0,
    invitationsSent: 0,
    warnings: 0,
  };
}

/**
 * Adds one row's outcome to a tally (its warnings are counted apart: see
 * `ImportTally.warnings`).
 *
 * @param tally The tally to change.
 * @param outcome The row's outcome.
 *
 * @example Usage
 * ```ts
 * import { emptyTally, tallyOutcome } from "./tally.ts";
 * const tally = emptyTally();
 * tallyOutcome(tally, { recordNumber: 1, byteEnd: 10, email: "a@b.co", user: "created" });
 * console.log(tally.usersCreated); // 1
 * ```
 */
export function tallyOutcome(tally: ImportTally, outcome: RowOutcome): void {
  tally.totalRows++;
  if (outcome.error) {
    tally.failures++;
  } else {
    tally.successes++;
  }
  if (outcome.user === "created" && !outcome.deletedUserId) tally.usersCreated++;
  if (outcome.user === "existing") tally.usersExisting++;
  if (outcome.user === "updated") tally.usersUpdated++;
  if (outcome.membership?.created) tally.membershipsCreated++;
  if (outcome.membership && !outcome.membership.created) tally.membershipsExisting++;
  if (outcome.invitation?.created) tally.invitationsSent++;
}
