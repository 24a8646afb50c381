/**
 * What one row ended with: the user and membership it made or adopted, the
 * factor it enrolled, or the error that stopped it. The pipeline makes
 * outcomes; the journal, the error file, the audit log and the summary read
 * them. Types only: nothing here talks to WorkOS or to a file.
 *
 * @module
 */

import type { ErrorRecord } from "../types.ts";
import type { UserChanges } from "../workos/users.ts";

/**
 * How a row's user came about.
 *
 * @example The second row of one person is a repeat
 * ```ts
 * import { importUsers, type UserOutcome } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const users: Array<UserOutcome | undefined> = [];
 * await importUsers([{ email: "ada@example.com" }, { email: "ADA@example.com" }], {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 *   concurrency: 1,
 *   onRow: (outcome) => users[outcome.recordNumber - 1] = outcome.user,
 * });
 * assert.deepEqual(users, ["created", "repeat"]);
 * ```
 */
export type UserOutcome =
  /** This row created the user. */
  | "created"
  /** The user existed before this import and was adopted. */
  | "existing"
  /** The user existed and this row updated it. */
  | "updated"
  /** An earlier row of this import already handled this person. */
  | "repeat";

/**
 * The roles an existing membership had and has now, when
 * `--on-existing update` changed them.
 *
 * @example Usage
 * ```ts
 * import type { RolesChange } from "@workos-importer/cli";
 * const change: RolesChange = { previous: ["member"], roles: ["admin"] };
 * console.log(change.roles); // [ "admin" ]
 * ```
 */
export interface RolesChange {
  /** The roles the membership had. */
  previous: string[];
  /** The roles it has now. */
  roles: string[];
}

/**
 * The TOTP factor a row ended with.
 *
 * @example Usage
 * ```ts
 * import type { FactorOutcome } from "@workos-importer/cli";
 * const factor: FactorOutcome = { id: "auth_factor_1", created: true };
 * console.log(factor.created); // true
 * ```
 */
export interface FactorOutcome {
  /** The WorkOS auth factor id (`auth_factor_...`). */
  id: string;
  /** `true` when this import enrolled it (in this session or one a crash cut off). */
  created: boolean;
}

/**
 * The result of one row, handed to `ImportUsersOptions.onRow`: the user and
 * membership it ended with, or the error that stopped it.
 *
 * @example Collect failed rows
 * ```ts
 * import { importUsers, type RowOutcome } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const failed: RowOutcome[] = [];
 * await importUsers([{ email: "ada@example.com" }, { email: "not-an-email" }], {
 *   dryRun: true,
 *   onRow: (outcome) => outcome.error && failed.push(outcome),
 * });
 * assert.equal(failed.length, 1);
 * assert.equal(failed[0].recordNumber, 2);
 * assert.equal(failed[0].error?.errorType, "validation");
 * ```
 */
export interface RowOutcome {
  /** The row's number, as in error files. */
  recordNumber: number;
  /** Byte offset just past the row in the input. */
  byteEnd: number;
  /** The row's email. */
  email: string;
  /** Set when the row ended well. */
  userId?: string;
  /** What happened to the row's user, when the row ended well. */
  user?: UserOutcome;
  /** The membership, when the row has an organization. */
  membership?: {
    id: string;
    organizationId: string;
    created: boolean;
    /** Set when `--on-existing update` changed an existing membership's roles. */
    roles?: RolesChange;
    /** The organization's external id, when the row named it by one. */
    organizationExternalId?: string;
  };
  /** The TOTP factor, when the row has a `totp_secret`. */
  factor?: FactorOutcome;
  /** Set when the row failed. */
  error?: ErrorRecord;
  /** Values a `--on-existing update` replaced, for the audit log (`null`: was empty). */
  previous?: UserChanges;
  /** Values a `--on-existing update` set, for the audit log. */
  changes?: UserChanges;
  /** Set when `--require-membership` deleted the user this row created. */
  deletedUserId?: string;
  /** Set when the row sent (or found pending) an invitation instead of creating a user. */
  invitation?: { id: string; organizationId?: string; roleSlug?: string; created: boolean };
  /**
   * `X-Request-ID`s of the writes this row made, for the audit log: set when
   * the import keeps one or has an `onRow` callback.
   */
  requestIds?: {
    user?: string;
    membership?: string;
    deletion?: string;
    invitation?: string;
    factor?: string;
  };
  /**
   * What this row counts as created only because it was made while an
   * earlier session of the job was cut off by a crash (no request of its own
   * to compare with): most likely the job's, but possibly someone else's.
   * The audit log marks it and `undo` leaves it alone unless asked.
   */
  uncertain?: { user?: boolean; membership?: boolean };
}
