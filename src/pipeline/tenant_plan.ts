/**
 * `--plan`: what an import would do to the live tenant, found by reading
 * only. Every row is validated and looked up (its user by email, its
 * organization by external id or id, and the membership when both exist),
 * within the read budget; rows are then decided in input order with the
 * import's own rules, so that the prediction for each row is what
 * `importUsers` with concurrency 1 then does, and the counts are what any
 * import then reports.
 *
 * Lookups run ahead of the decisions, `concurrency` rows at a time, and are
 * coalesced: a person or an organization named on many rows is looked up
 * once while it is remembered.
 *
 * @module
 */

import type { ErrorType, InputFormat, OrganizationRef, UserRow } from "../types.ts";
import type { InputSource } from "../input/open_input.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import { CoalescingCache } from "../organizations/organization_cache.ts";
import { organizationKey } from "../organizations/organization_key.ts";
import { DuplicateTracker } from "../validation/duplicate_tracker.ts";
import { validateRecord } from "../validation/validate_record.ts";
import type { WorkOSClient } from "../workos/client.ts";
import { findMembership } from "../workos/memberships.ts";
import { findOrganizationByExternalId, findOrganizationById } from "../workos/organizations.ts";
import { findUserByEmail, type WorkOSUser } from "../workos/users.ts";
import { hash53 } from "../validation/hash53.ts";
import { decideExistingUser, type OnExisting } from "./existing_user.ts";
import { type OrganizationMode, organizationOf } from "./organization_mode.ts";
import { prepareRun } from "./prepare_run.ts";

/** What the import will do with a row's user. */
export type UserPrediction =
  /** The user will be created. */
  | "create"
  /** The user exists and will be adopted unchanged. */
  | "exists"
  /** The user exists and `--on-existing update` will change it. */
  | "update"
  /** The user exists and `--on-existing error` will fail the row. */
  | "conflict"
  /** An earlier row of the same person handles the user. */
  | "repeat";

/** What the tenant holds of an organization the file names. */
export type OrganizationStatus =
  /** It exists. */
  | "exists"
  /** It is missing and the import will create it (the row or the flags name it). */
  | "create"
  /** It is missing and nothing names it: its rows will fail. */
  | "missing";

/** The prediction for one row. */
export interface RowPrediction {
  /** The row's number, as in error files. */
  row: number;
  /** The row's email, as it will be sent. */
  email: string;
  /** What will happen to the row's user. */
  user?: UserPrediction;
  /** The existing user's id, when it exists. */
  userId?: string;
  /** Fields `--on-existing update` will change. */
  changes?: string[];
  /** The row's organization: its external id or id, and what the tenant holds. */
  organization?: { ref: string; status: OrganizationStatus };
  /** Whether the membership will be created or exists already. */
  membership?: "create" | "exists";
  /** Set when the row will fail: the stage, as in error files. */
  errorType?: ErrorType;
  /** Why the row will fail. */
  error?: string;
}

/** The prediction for one organization the file names. */
export interface OrganizationPrediction {
  /** The external id or the id, as the file gives it. */
  ref: string;
  /** Whether the file names it by external id or by id. */
  kind: "external_id" | "id";
  /** What the tenant holds of it. */
  status: OrganizationStatus;
  /** The organization's id, when it exists. */
  id?: string;
}

/** What {@linkcode planTenant} returns. */
export interface TenantPlan {
  /** Rows read from the input (valid and invalid). */
  totalRows: number;
  /** Rows that fail validation. */
  invalidRows: number;
  /** Rows predicted to fail for any reason (validation included). */
  failingRows: number;
  /** Users an import will create. */
  usersToCreate: number;
  /** Users that exist and will be adopted as they are. */
  usersExisting: number;
  /** Users that exist and `--on-existing update` will change. */
  usersToUpdate: number;
  /** Rows `--on-existing error` will fail. */
  conflicts: number;
  /** Organizations the file names that exist. */
  organizationsExisting: number;
  /** Organizations an import will create. */
  organizationsToCreate: number;
  /** Organizations that are missing and nothing creates: their rows fail. */
  organizationsMissing: number;
  /** Memberships an import will create. */
  membershipsToCreate: number;
  /** Memberships that exist already. */
  membershipsExisting: number;
  /**
   * The organizations the file names, up to `organizationLimit`; the counts
   * above cover them all.
   */
  organizations: OrganizationPrediction[];
  /** Read requests spent. */
  requests: number;
  /** `true` when the stop signal ended the plan early. */
  interrupted: boolean;
}

/** Options for {@linkcode planTenant}. */
export interface TenantPlanOptions {
  /** WorkOS secret key. */
  apiKey: string;
  /** WorkOS API location (`https://api.workos.com`). */
  apiUrl?: string;
  /** Input format; by default from the file extension or first byte. */
  format?: InputFormat;
  /** CSV column separator (`","` by default). */
  delimiter?: string;
  /** Read another provider's export (`--from`). */
  provider?: ProviderSpec;
  /** Input columns renamed to importer columns before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
  /** Every user joins this organization (by WorkOS id). */
  organizationId?: string;
  /** Every user joins the organization with this external id. */
  organizationExternalId?: string;
  /** The import will create the `organizationExternalId` organization when missing. */
  createOrganizationIfMissing?: boolean;
  /** Name for the organization to create. */
  organizationName?: string;
  /** Existing users: adopt (`skip`), `update`, or fail the row (`error`). */
  onExisting?: OnExisting;
  /** Rows looked up at once (10). */
  concurrency?: number;
  /** User-management writes per second the budget is scaled from (50; reads get twice that). */
  rateLimit?: number;
  /** Retries of a transient failure (5). */
  maxRetries?: number;
  /** Request timeout in ms (30,000). */
  requestTimeoutMs?: number;
  /** Organizations listed in the result at most (10,000). */
  organizationLimit?: number;
  /** Stop reading rows when aborted. */
  stop?: AbortSignal;
  /** Abort requests in flight. */
  abort?: AbortSignal;
  /** Called with each row's prediction, in input order. */
  onRow?(prediction: RowPrediction): void | Promise<void>;
  /** Called for file-level warnings. */
  onWarning?(message: string): void;
}

type Organization = { id: string } | null;

interface PendingRow {
  prediction: RowPrediction;
  row?: UserRow;
  user?: Promise<WorkOSUser | null>;
  organization?: Promise<Organization>;
  ref?: OrganizationRef;
}

function refLabel(ref: OrganizationRef): string {
  return ref.kind === "id" ? ref.id : ref.externalId;
}

/**
 * Predicts, reading only, what an import of `source` would do to the tenant.
 *
 * @param source A path (`-` for stdin) or a byte stream.
 * @param options Key, organization mode, policy and limits, as for an import.
 * @returns The counts and the organizations; rows go to `onRow`.
 *
 * @example Plan an import against a tenant that has one of its users
 * ```ts
 * import { planTenant } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * fake.state.addUser({ email: "ada@example.com" });
 * const csv = "email\nada@example.com\nbob@example.com\n";
 * const plan = await planTenant(new Blob([csv]).stream(), {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 * });
 * assert.equal(plan.usersExisting, 1);
 * assert.equal(plan.usersToCreate, 1);
 * assert.equal(fake.state.userCount(), 1, "a plan writes nothing");
 * ```
 */
export async function planTenant(
  source: InputSource,
  options: TenantPlanOptions,
): Promise<TenantPlan> {
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError("Cannot plan: concurrency must be a whole number of at least 1");
  }
  const warn = options.onWarning ?? (() => {});
  const { records, mode, onExisting, client } = await prepareRun(source, {
    verb: "plan",
    format: options.format,
    delimiter: options.delimiter,
    provider: options.provider,
    columnMap: options.columnMap,
    organizationId: options.organizationId,
    organizationExternalId: options.organizationExternalId,
    createOrganizationIfMissing: options.createOrganizationIfMissing,
    organizationName: options.organizationName,
    onExisting: options.onExisting,
    // The reader's own findings are the import's to tell.
    onWarning: (warning) => warning.kind !== "input" && warn(warning.message),
    client: options,
  });
  // Built: `client` was given.
  const planner = new Planner(
    client as WorkOSClient,
    mode,
    onExisting,
    options.organizationLimit ?? 10_000,
  );

  const window: PendingRow[] = [];
  const decideNext = async () => {
    const prediction = await planner.decide(window.shift() as PendingRow);
    await options.onRow?.(prediction);
  };
  const reader = records.getReader();
  let interrupted = false;
  try {
    while (true) {
      if (options.stop?.aborted) {
        interrupted = true;
        break;
      }
      const { value: batch, done } = await reader.read();
      if (done) break;
      for (const record of batch) {
        window.push(planner.start(record.recordNumber, validateRecord(record)));
        // Lookups run ahead; decisions are made in input order.
        if (window.length >= concurrency) await decideNext();
      }
    }
    while (window.length > 0) await decideNext();
  } finally {
    if (interrupted) await reader.cancel().catch(() => {});
    reader.releaseLock();
    // Lookups of rows never decided must not outlive the plan unobserved.
    await Promise.allSettled(
      window.flatMap((pending) => [pending.user, pending.organization]),
    );
  }
  return { ...planner.totals(), requests: client?.stats.requests ?? 0, interrupted };
}

/** The import's rules, applied to looked-up facts in input order. */
class Planner {
  readonly #client: WorkOSClient;
  readonly #mode: OrganizationMode;
  readonly #onExisting: OnExisting;
  readonly #organizationLimit: number;
  readonly #users = new CoalescingCache<WorkOSUser | null>({ capacity: 100_000 });
  readonly #organizations = new CoalescingCache<Organization>({ capacity: 10_000 });
  readonly #memberships = new CoalescingCache<boolean>({ capacity: 100_000 });
  /** People a decided row has handled (hashes of email keys). */
  readonly #people = new Set<number>();
  /** Person and organization pairs with a membership by the end of the import. */
  readonly #pairs = new DuplicateTracker();
  /** Ids of the existing organizations the file names. */
  readonly #existingIds = new Set<string>();
  /** What each organization the file names turns out to be (by reference key). */
  readonly #organizationStatus = new Map<string, OrganizationPrediction>();
  #totals = {
    totalRows: 0,
    invalidRows: 0,
    failingRows: 0,
    usersToCreate: 0,
    usersExisting: 0,
    usersToUpdate: 0,
    conflicts: 0,
    membershipsToCreate: 0,
    membershipsExisting: 0,
  };
  #organizationCounts = { exists: 0, create: 0, missing: 0 };

  constructor(
    client: WorkOSClient,
    mode: OrganizationMode,
    onExisting: OnExisting,
    organizationLimit: number,
  ) {
    this.#client = client;
    this.#mode = mode;
    this.#onExisting = onExisting;
    this.#organizationLimit = organizationLimit;
  }

  start(
    recordNumber: number,
    validation: ReturnType<typeof validateRecord>,
  ): PendingRow {
    if (!validation.ok) {
      return {
        prediction: {
          row: recordNumber,
          email: validation.email,
          errorType: "validation",
          error: validation.issues.map((issue) => issue.message).join("; "),
        },
      };
    }
    const row = validation.row;
    const pending: PendingRow = { prediction: { row: recordNumber, email: row.email }, row };
    const ref = organizationOf(this.#mode, row);
    if (ref) {
      pending.ref = ref;
      pending.organization = this.#organizations.get(
        organizationKey(ref),
        () => this.#findOrganization(ref),
      );
      pending.organization.catch(() => {});
    }
    pending.user = this.#users.get(
      row.emailKey,
      () => findUserByEmail(this.#client, row.email).then((user) => user ?? null),
    );
    pending.user.catch(() => {});
    return pending;
  }

  async decide(pending: PendingRow): Promise<RowPrediction> {
    const prediction = pending.prediction;
    this.#totals.totalRows++;
    const row = pending.row;
    if (!row) {
      this.#totals.invalidRows++;
      this.#totals.failingRows++;
      return prediction;
    }
    const ref = pending.ref;
    let organizationId: string | undefined;
    let organizationStatus: OrganizationStatus | undefined;
    if (ref) {
      const found = await (pending.organization as Promise<Organization>);
      organizationStatus = this.#organizationOf(ref, found);
      prediction.organization = { ref: refLabel(ref), status: organizationStatus };
      organizationId = found?.id;
      if (organizationStatus === "missing" && ref.kind === "external_id") {
        // The import fails the row before it touches the user.
        return this.#fail(
          prediction,
          "org_resolution",
          `Organization not found: "${ref.externalId}": add an "org_name" to create it, or create it in WorkOS first`,
        );
      }
    }

    const personKey = hash53(row.emailKey);
    const user = await (pending.user as Promise<WorkOSUser | null>);
    if (user) prediction.userId = user.id;
    if (this.#people.has(personKey)) {
      prediction.user = "repeat";
    } else if (!user) {
      prediction.user = "create";
      this.#people.add(personKey);
      this.#totals.usersToCreate++;
    } else {
      const decision = decideExistingUser(user, row, this.#onExisting);
      if (decision.action === "refuse") {
        // A failed row does not settle the person: the next row tries again.
        prediction.user = "conflict";
        this.#totals.conflicts++;
        return this.#fail(prediction, "user_create", decision.message);
      }
      this.#people.add(personKey);
      if (decision.action === "update") {
        prediction.user = "update";
        prediction.changes = Object.keys(decision.changes);
        this.#totals.usersToUpdate++;
      } else {
        prediction.user = "exists";
        this.#totals.usersExisting++;
      }
    }

    if (!ref) return prediction;
    if (organizationStatus === "missing") {
      return this.#fail(
        prediction,
        "membership_create",
        `Organization not found: "${refLabel(ref)}": check the organization id`,
      );
    }
    // A membership an earlier row of the pair asked for exists by then.
    let exists = this.#pairs.firstRowOf(row.recordNumber, row.emailKey, ref) !== undefined;
    if (!exists && user && organizationId !== undefined) {
      const userId = user.id;
      const id = organizationId;
      exists = await this.#memberships.get(
        `${userId}\u0000${id}`,
        () => findMembership(this.#client, userId, id).then((found) => found !== undefined),
      );
    }
    prediction.membership = exists ? "exists" : "create";
    if (exists) this.#totals.membershipsExisting++;
    else this.#totals.membershipsToCreate++;
    return prediction;
  }

  totals(): Omit<TenantPlan, "requests" | "interrupted"> {
    const organizations: OrganizationPrediction[] = [];
    for (const organization of this.#organizationStatus.values()) {
      if (organizations.length >= this.#organizationLimit) break;
      organizations.push(organization);
    }
    return {
      ...this.#totals,
      organizationsExisting: this.#organizationCounts.exists,
      organizationsToCreate: this.#organizationCounts.create,
      organizationsMissing: this.#organizationCounts.missing,
      organizations,
    };
  }

  #fail(prediction: RowPrediction, type: ErrorType, message: string): RowPrediction {
    prediction.errorType = type;
    prediction.error = message;
    this.#totals.failingRows++;
    return prediction;
  }

  /** The organization's status once this row is reached, recording how it changes. */
  #organizationOf(ref: OrganizationRef, found: Organization): OrganizationStatus {
    const key = organizationKey(ref);
    let known = this.#organizationStatus.get(key);
    if (!known) {
      known = {
        ref: refLabel(ref),
        kind: ref.kind,
        status: found ? "exists" : "missing",
        ...(found ? { id: found.id } : {}),
      };
      this.#organizationStatus.set(key, known);
      // One organization named by id on some rows and by external id on
      // others is still one organization.
      if (!found) this.#organizationCounts.missing++;
      else if (!this.#existingIds.has(found.id)) {
        this.#existingIds.add(found.id);
        this.#organizationCounts.exists++;
      }
    }
    // The first row that names a missing organization creates it; rows
    // before that fail, rows after find it.
    if (known.status === "missing" && ref.kind === "external_id" && ref.name) {
      this.#organizationCounts.missing--;
      this.#organizationCounts.create++;
      known.status = "create";
    }
    return known.status;
  }

  async #findOrganization(ref: OrganizationRef): Promise<Organization> {
    const found = ref.kind === "id"
      ? await findOrganizationById(this.#client, ref.id)
      : await findOrganizationByExternalId(this.#client, ref.externalId);
    return found ? { id: found.id } : null;
  }
}
