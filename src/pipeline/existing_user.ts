/**
 * The one answer to "this row's user exists: what do we do?", shared by the
 * import (`RowProcessor`) and the tenant plan, so that the plan predicts
 * what the import then does: fail the row (`--on-existing error`), adopt the
 * user as it is (`skip`, or `update` with nothing to change), or update it.
 *
 * @module
 */

import type { UserRow } from "../types.ts";
import type { UserChanges, WorkOSUser } from "../workos/users.ts";

/**
 * What to do with a user whose email already exists in WorkOS: adopt it as
 * is (`skip`, the default), `update` its names, verification, external id
 * and metadata from the row, or fail the row (`error`).
 *
 * @example Update existing users
 * ```ts
 * import { importUsers, type OnExisting } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * // Made before this import started: a user the import did not create.
 * fake.state.addUser({ email: "ada@example.com", firstName: "A.", createdAt: "2024-01-01" });
 * const onExisting: OnExisting = "update";
 * const summary = await importUsers([{ email: "ada@example.com", first_name: "Ada" }], {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 *   onExisting,
 * });
 * assert.equal(summary.usersUpdated, 1);
 * assert.equal(fake.state.findUserByEmail("ada@example.com")?.firstName, "Ada");
 * ```
 */
export type OnExisting = "skip" | "update" | "error";

/** What {@linkcode decideExistingUser} says to do with an existing user. */
export type ExistingUserDecision =
  /** `--on-existing error`: the row fails with `message`. */
  | { action: "refuse"; message: string }
  /** `skip`: the user is adopted as it is. */
  | { action: "adopt" }
  /** `update`, but the row changes nothing: adopted as it is. */
  | { action: "unchanged" }
  /** `update`: these fields change (`previous` holds what they were). */
  | { action: "update"; changes: UserChanges; previous: UserChanges };

const FIELDS_TO_UPDATE = [
  "firstName",
  "lastName",
  "emailVerified",
  "externalId",
  "locale",
] as const;

/**
 * Decides what a row does with its user, which exists in WorkOS and which
 * no earlier row of the run has counted.
 *
 * @param user The user as WorkOS has it.
 * @param row The row.
 * @param onExisting The run's policy.
 * @returns The decision.
 *
 * @example Usage
 * ```ts
 * import { decideExistingUser } from "./existing_user.ts";
 * import assert from "node:assert/strict";
 *
 * const user = {
 *   id: "user_1",
 *   email: "ada@example.com",
 *   firstName: "Ada",
 *   lastName: null,
 *   emailVerified: false,
 *   externalId: null,
 *   metadata: {},
 *   createdAtMs: 0,
 * };
 * const row = {
 *   recordNumber: 1,
 *   byteEnd: 10,
 *   email: "ada@example.com",
 *   emailKey: "ada@example.com",
 *   lastName: "Lovelace",
 *   original: {},
 * };
 * assert.equal(decideExistingUser(user, row, "skip").action, "adopt");
 * assert.equal(decideExistingUser(user, row, "error").action, "refuse");
 * assert.equal(decideExistingUser(user, row, "update").action, "update");
 * ```
 */
export function decideExistingUser(
  user: WorkOSUser,
  row: UserRow,
  onExisting: OnExisting,
): ExistingUserDecision {
  if (onExisting === "error") {
    return {
      action: "refuse",
      message:
        `User "${row.email}" already exists: use --on-existing skip or update to import it anyway`,
    };
  }
  if (onExisting === "skip") return { action: "adopt" };
  const { changes, previous } = changesFor(user, row);
  if (Object.keys(changes).length === 0) return { action: "unchanged" };
  return { action: "update", changes, previous };
}

/**
 * What `--on-existing update` would change on an existing user, and the
 * values it would replace. Only fields the row gives are compared; an email
 * is never changed (another email is another identity). Metadata is merged
 * by WorkOS, so only the row's keys count, and `previous.metadata` holds the
 * replaced keys' old values (`null` for keys the user did not have).
 *
 * @param user The user as WorkOS has it.
 * @param row The row.
 * @returns The changes (empty when nothing differs) and the previous values
 *   (`null` for fields that were empty).
 *
 * @example Usage
 * ```ts
 * import { changesFor } from "./existing_user.ts";
 * const { changes, previous } = changesFor(
 *   {
 *     id: "user_1",
 *     email: "ada@example.com",
 *     firstName: "Ada",
 *     lastName: null,
 *     emailVerified: false,
 *     externalId: null,
 *     metadata: { team: "a" },
 *     createdAtMs: Date.parse("2024-01-01T00:00:00.000Z"),
 *   },
 *   {
 *     recordNumber: 1,
 *     byteEnd: 10,
 *     email: "ada@example.com",
 *     emailKey: "ada@example.com",
 *     firstName: "Ada",
 *     lastName: "Lovelace",
 *     metadata: { team: "a", tier: "gold" },
 *     original: {},
 *   },
 * );
 * console.log(changes); // { lastName: "Lovelace", metadata: { tier: "gold" } }
 * console.log(previous); // { lastName: null, metadata: { tier: null } }
 * ```
 */
export function changesFor(
  user: WorkOSUser,
  row: UserRow,
): { changes: UserChanges; previous: UserChanges } {
  const changes: UserChanges = {};
  const previous: UserChanges = {};
  for (const field of FIELDS_TO_UPDATE) {
    const next = row[field];
    const current = user[field] ?? null;
    if (next === undefined || next === current) continue;
    (changes as Record<string, unknown>)[field] = next;
    (previous as Record<string, unknown>)[field] = current;
  }
  if (row.metadata) {
    const current: Record<string, string> = user.metadata ?? {};
    const changed: Record<string, string> = {};
    const replaced: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(row.metadata)) {
      if (current[key] === value) continue;
      changed[key] = value;
      replaced[key] = Object.hasOwn(current, key) ? current[key] : null;
    }
    if (Object.keys(changed).length > 0) {
      changes.metadata = changed;
      previous.metadata = replaced;
    }
  }
  return { changes, previous };
}
