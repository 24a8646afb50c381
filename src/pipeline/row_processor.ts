/**
 * What happens to one valid row: resolve its organization, create or adopt
 * its user, ensure its membership. Rows of one person (same email, any case)
 * share one user: the first row creates it, the others reuse it.
 *
 * @module
 */

import type { ErrorRecord, ErrorType, OrganizationRef, UserRow } from "../types.ts";
import { CoalescingCache } from "../organizations/organization_cache.ts";
import {
  OrganizationResolutionError,
  type OrganizationResolver,
} from "../organizations/organization_resolver.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import { ensureMembership } from "../workos/memberships.ts";
import {
  deleteUser,
  ensureUser,
  findUserByEmail,
  updateUser,
  type UserChanges,
  type WorkOSUser,
} from "../workos/users.ts";

/** Where memberships go. */
export type OrganizationMode =
  | { kind: "none" }
  | { kind: "single"; organization: OrganizationRef }
  | { kind: "multi" };

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
 * The result of one row, handed to {@linkcode ImportUsersOptions.onRow}:
 * the user and membership it ended with, or the error that stopped it.
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
  recordNumber: number;
  byteEnd: number;
  email: string;
  /** Set when the row ended well. */
  userId?: string;
  user?: UserOutcome;
  /** The membership, when the row has an organization. */
  membership?: { id: string; organizationId: string; created: boolean };
  /** Set when the row failed. */
  error?: ErrorRecord;
  /** Values a `--on-existing update` replaced, for the audit log. */
  previous?: UserChanges;
  /** Set when `--require-membership` deleted the user this row created. */
  deletedUserId?: string;
}

/** Options for {@linkcode RowProcessor}. */
export interface RowProcessorOptions {
  mode: OrganizationMode;
  /** Delete a user this row created when its membership fails. */
  requireMembership?: boolean;
  /** What to do with existing users (`skip`). */
  onExisting?: OnExisting;
  /**
   * Users created at or after this time (ms since epoch) were made by this
   * import: adopting one means an earlier row of the same person made it.
   */
  startedAt?: number;
  /** People remembered to recognize repeat rows (100,000). */
  personCapacity?: number;
  /**
   * Rows whose earlier attempt may have been cut off (a crash): look their
   * user up before creating it.
   */
  lookupFirst?(recordNumber: number): boolean;
  /**
   * Decides how to count a user this row adopted that the import itself made
   * (resume support: was it this very row before a crash, or another row?).
   */
  classifyOwnUser?(user: WorkOSUser, row: UserRow): Promise<UserOutcome> | UserOutcome;
}

interface Person {
  user: WorkOSUser;
  outcome: UserOutcome;
}

const FIELDS_TO_UPDATE = ["firstName", "lastName", "emailVerified", "externalId"] as const;

/**
 * Processes valid rows against WorkOS.
 *
 * @example Usage
 * ```ts ignore
 * const processor = new RowProcessor(client, resolver, { mode: { kind: "multi" } });
 * const outcome = await processor.process(row);
 * ```
 */
export class RowProcessor {
  readonly #client: WorkOSClient;
  readonly #resolver: OrganizationResolver;
  readonly #options: RowProcessorOptions;
  readonly #people: CoalescingCache<Person>;
  readonly #startedAt: number;

  /**
   * @param client The WorkOS client.
   * @param resolver Resolves organizations (shared cache).
   * @param options Mode and policies.
   */
  constructor(
    client: WorkOSClient,
    resolver: OrganizationResolver,
    options: RowProcessorOptions,
  ) {
    this.#client = client;
    this.#resolver = resolver;
    this.#options = options;
    this.#people = new CoalescingCache({ capacity: options.personCapacity ?? 100_000 });
    this.#startedAt = options.startedAt ?? Date.now();
  }

  /**
   * Runs one valid row to its end. Never throws for a row-level failure: the
   * outcome carries the error.
   *
   * @param row The validated row.
   * @returns What happened.
   */
  async process(row: UserRow): Promise<RowOutcome> {
    const outcome: RowOutcome = {
      recordNumber: row.recordNumber,
      byteEnd: row.byteEnd,
      email: row.email,
    };
    const reference = this.#organizationOf(row);
    let organizationId: string | undefined;
    if (reference) {
      try {
        organizationId = await this.#resolver.resolve(reference);
      } catch (error) {
        return this.#fail(outcome, row, "org_resolution", error);
      }
    }

    let person: Person;
    let firstRowOfPerson = false;
    try {
      person = await this.#people.get(row.emailKey, () => {
        firstRowOfPerson = true;
        return this.#establishUser(row, outcome);
      });
    } catch (error) {
      return this.#fail(outcome, row, "user_create", error);
    }
    outcome.userId = person.user.id;
    outcome.user = firstRowOfPerson ? person.outcome : "repeat";

    if (organizationId === undefined) return outcome;
    try {
      const { value, created } = await ensureMembership(this.#client, person.user.id, {
        organizationId,
        roleSlug: row.roleSlug,
      });
      outcome.membership = { id: value.id, organizationId, created };
      return outcome;
    } catch (error) {
      if (this.#options.requireMembership && firstRowOfPerson && person.outcome === "created") {
        try {
          await deleteUser(this.#client, person.user.id);
          this.#people.delete(row.emailKey);
          outcome.deletedUserId = person.user.id;
          outcome.user = undefined;
          outcome.userId = undefined;
        } catch {
          // The membership error is what the user must act on; a failed
          // cleanup leaves the user in place, as without the flag.
        }
      }
      return this.#fail(outcome, row, "membership_create", error);
    }
  }

  #organizationOf(row: UserRow): OrganizationRef | undefined {
    const mode = this.#options.mode;
    if (mode.kind === "single") return mode.organization;
    if (mode.kind === "multi") return row.organization;
    return undefined;
  }

  async #establishUser(row: UserRow, outcome: RowOutcome): Promise<Person> {
    if (this.#options.lookupFirst?.(row.recordNumber)) {
      const found = await findUserByEmail(this.#client, row.email);
      if (found) return this.#adopt(found, row, outcome);
    }
    const { value, created } = await ensureUser(this.#client, row);
    if (created) return { user: value, outcome: "created" };
    return this.#adopt(value, row, outcome);
  }

  async #adopt(user: WorkOSUser, row: UserRow, outcome: RowOutcome): Promise<Person> {
    if (Date.parse(user.createdAt) >= this.#startedAt) {
      const own = await (this.#options.classifyOwnUser?.(user, row) ?? "repeat");
      return { user, outcome: own };
    }
    const policy = this.#options.onExisting ?? "skip";
    if (policy === "error") {
      throw new WorkOSApiError({
        kind: "http",
        status: 400,
        code: "email_not_available",
        codes: ["email_not_available"],
        message:
          `User "${row.email}" already exists: use --on-existing skip or update to import it anyway`,
      });
    }
    if (policy === "skip") return { user, outcome: "existing" };
    const { changes, previous } = changesFor(user, row);
    if (Object.keys(changes).length === 0) return { user, outcome: "existing" };
    const updated = await updateUser(this.#client, user.id, changes);
    outcome.previous = previous;
    return { user: updated, outcome: "updated" };
  }

  #fail(outcome: RowOutcome, row: UserRow, type: ErrorType, error: unknown): RowOutcome {
    outcome.error = toErrorRecord(row, type, error);
    return outcome;
  }
}

function changesFor(
  user: WorkOSUser,
  row: UserRow,
): { changes: UserChanges; previous: UserChanges } {
  const changes: UserChanges = {};
  const previous: UserChanges = {};
  for (const field of FIELDS_TO_UPDATE) {
    const next = row[field];
    if (next === undefined || next === user[field]) continue;
    (changes as Record<string, unknown>)[field] = next;
    (previous as Record<string, unknown>)[field] = user[field] ?? undefined;
  }
  if (row.metadata && JSON.stringify(row.metadata) !== JSON.stringify(user.metadata ?? {})) {
    changes.metadata = row.metadata;
    previous.metadata = { ...(user.metadata ?? {}) };
  }
  return { changes, previous };
}

/**
 * Builds the error record of a failed row.
 *
 * @param row The row (only its number, email and safe original fields are kept).
 * @param type The stage that failed.
 * @param error What was thrown.
 * @returns The error record.
 *
 * @example Usage
 * ```ts ignore
 * const record = toErrorRecord(row, "user_create", error);
 * ```
 */
export function toErrorRecord(row: UserRow, type: ErrorType, error: unknown): ErrorRecord {
  const record: ErrorRecord = {
    recordNumber: row.recordNumber,
    email: row.email,
    errorType: type,
    errorMessage: error instanceof Error ? error.message : String(error),
    timestamp: new Date().toISOString(),
    rawRow: withoutSecrets(row.original),
  };
  if (error instanceof WorkOSApiError) {
    record.httpStatus = error.failure.status;
    record.workosCode = error.failure.code;
    record.workosRequestId = error.requestId;
  } else if (error instanceof OrganizationResolutionError) {
    record.httpStatus = error.httpStatus;
    record.workosCode = error.workosCode;
    record.workosRequestId = error.requestId;
  }
  return record;
}

const SECRET_COLUMNS: ReadonlySet<string> = new Set(["password", "password_hash"]);

/**
 * A copy of a row's original fields without passwords or password hashes.
 *
 * @param original The row's fields.
 * @returns The fields that are safe to write down.
 *
 * @example Usage
 * ```ts
 * import { withoutSecrets } from "./row_processor.ts";
 * console.log(withoutSecrets({ email: "a@b.co", password: "hunter2" })); // { email: "a@b.co" }
 * ```
 */
export function withoutSecrets(original: Record<string, string>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const [key, value] of Object.entries(original)) {
    if (!SECRET_COLUMNS.has(key)) safe[key] = value;
  }
  return safe;
}
