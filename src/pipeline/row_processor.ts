/**
 * What happens to one valid row: resolve its organization, create or adopt
 * its user, ensure its membership. Rows of one person (same email, any case)
 * share one user: the first row creates it, the others reuse it.
 *
 * @module
 */

import type { ErrorRecord, ErrorType, UserRow } from "../types.ts";
import { PersonCache, type PersonCacheStats, type PersonEntry } from "./person_cache.ts";
import { isRunStop } from "../limits/run_stop.ts";
import {
  OrganizationResolutionError,
  type OrganizationResolver,
} from "../organizations/organization_resolver.ts";
import {
  type RequestTrace,
  traceRequests,
  WorkOSApiError,
  type WorkOSClient,
} from "../workos/client.ts";
import { ensureMembership, type WorkOSMembership } from "../workos/memberships.ts";
import type { FactorOutcome, RolesChange, RowOutcome, UserOutcome } from "../outcome/mod.ts";
import {
  explainRoleError,
  MultipleRolesGate,
  reconcileRoles,
  rolesOfRow,
} from "./membership_roles.ts";
import { ensureTotpFactor } from "./totp_step.ts";
import {
  deleteUser,
  ensureUser,
  findUserByEmail,
  updateUser,
  type WorkOSUser,
} from "../workos/users.ts";
import { decideExistingUser, type OnExisting } from "./existing_user.ts";
import { type OrganizationMode, organizationOf } from "./organization_mode.ts";

export type { OrganizationMode } from "./organization_mode.ts";
export { changesFor, type OnExisting } from "./existing_user.ts";

/**
 * The request trace of one row: which input row a request was made for, so
 * that writes made on a row's behalf (an organization it caused to be
 * created) can be attributed to it.
 *
 * @example Usage
 * ```ts
 * import { RowTrace } from "./row_processor.ts";
 * const trace = new RowTrace(12);
 * console.log(trace.recordNumber, trace.lastRequestId); // 12 undefined
 * ```
 */
export class RowTrace implements RequestTrace {
  /** The input row. */
  readonly recordNumber: number;
  /** `X-Request-ID` of the last successful request made for the row. */
  lastRequestId?: string;

  /**
   * @param recordNumber The input row.
   */
  constructor(recordNumber: number) {
    this.recordNumber = recordNumber;
  }
}

/** A row's outcome as {@linkcode startRow} begins it. */
export interface StartedRow {
  /** The outcome to fill in; it carries an `org_resolution` error when resolving failed. */
  outcome: RowOutcome;
  /** The row's organization, when it has one and it resolved. */
  organizationId?: string;
}

/**
 * The first step of every row, whatever is done with it next (a user and
 * membership, or an invitation): an outcome naming the row, and the row's
 * organization under `mode` resolved. A failed resolution fails the row;
 * only a run condition (a `RunStopError`) is thrown.
 *
 * @param row The validated row.
 * @param mode Where the row's organization comes from.
 * @param resolver Resolves organizations (shared cache).
 * @returns The outcome and, when the row has one, its organization's id.
 *
 * @example Usage
 * ```ts
 * import { startRow } from "./row_processor.ts";
 * import { OrganizationResolver } from "../organizations/organization_resolver.ts";
 * import assert from "node:assert/strict";
 *
 * const row = { recordNumber: 1, byteEnd: 20, email: "ada@example.com", emailKey: "ada@example.com", original: {} };
 * const { outcome, organizationId } = await startRow(
 *   row,
 *   { kind: "single", organization: { kind: "id", id: "org_1" } },
 *   new OrganizationResolver(undefined),
 * );
 * assert.equal(organizationId, "org_1");
 * assert.equal(outcome.error, undefined);
 * ```
 */
export async function startRow(
  row: UserRow,
  mode: OrganizationMode,
  resolver: OrganizationResolver,
): Promise<StartedRow> {
  const outcome: RowOutcome = {
    recordNumber: row.recordNumber,
    byteEnd: row.byteEnd,
    email: row.email,
  };
  const reference = organizationOf(mode, row);
  if (!reference) return { outcome };
  try {
    // Traced, so that an organization this row creates is audited with its row.
    const organizationId = await traceRequests(
      new RowTrace(row.recordNumber),
      () => resolver.resolve(reference),
    );
    return { outcome, organizationId };
  } catch (error) {
    return { outcome: failRow(outcome, row, "org_resolution", error) };
  }
}

/**
 * Fails a row: records the error in its outcome. A run condition is never
 * the row's failure: it is thrown on, and the row stays unfinished.
 *
 * @param outcome The row's outcome so far.
 * @param row The row.
 * @param type The stage that failed.
 * @param error What was thrown.
 * @returns `outcome`, with its error set.
 *
 * @example Usage
 * ```ts ignore
 * return failRow(outcome, row, "membership_create", error);
 * ```
 */
export function failRow(
  outcome: RowOutcome,
  row: UserRow,
  type: ErrorType,
  error: unknown,
): RowOutcome {
  if (isRunStop(error)) throw error;
  outcome.error = toErrorRecord(row, type, error);
  return outcome;
}

/** A user update that WorkOS refused: the row fails as `user_update`. */
class UserUpdateError extends Error {
  override name = "UserUpdateError";
  override readonly cause: unknown;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.cause = cause;
  }
}

/** Options for {@linkcode RowProcessor}. */
export interface RowProcessorOptions {
  mode: OrganizationMode;
  /** Delete a user this row created when its membership fails. */
  requireMembership?: boolean;
  /** What to do with existing users (`skip`). */
  onExisting?: OnExisting;
  /**
   * When the job started (ms since epoch): with `priorOutcome`, a user
   * updated since then with nothing left to update was updated by the job.
   */
  startedAt?: number;
  /**
   * Estimated bytes the people remembered to recognize repeat rows may take
   * (8 MiB, about 44,000 people of one membership each): past it, a repeat
   * row of a forgotten person finds its user the way an existing user is
   * found.
   */
  personCacheBytes?: number;
  /**
   * Rows whose earlier attempt may have been cut off (a crash): look their
   * user up before creating it.
   */
  lookupFirst?(recordNumber: number): boolean;
  /**
   * Whether something WorkOS made at `createdAtMs` may be this row's own
   * create from an earlier session that a crash cut off before it could
   * record it. Such a find counts as created, marked uncertain.
   */
  madeWhileCutOff?(createdAtMs: number, row: UserRow): boolean;
  /**
   * How an earlier session of a resumed job already counted an adopted user:
   * `"repeat"` when another row established the person, this row's own
   * outcome when it ran before a crash, `undefined` when no row did. With it,
   * a user with nothing left to update that changed since `startedAt` counts
   * as updated (by this row, before a crash).
   */
  priorOutcome?(user: WorkOSUser, row: UserRow): Promise<UserOutcome | undefined>;
  /**
   * Whether a membership the job may have made (see `madeWhileCutOff`, and
   * ghost successes) was made by this row rather than by another row of the
   * job that counted it already: counted as created when `true`.
   */
  classifyOwnMembership?(membership: WorkOSMembership, row: UserRow): Promise<boolean>;
  /** A row-level warning found while writing (an existing membership's other roles). */
  onRowWarning?(recordNumber: number, message: string): void;
  /** A run-level notice, sent once (WorkOS refuses several roles per membership). */
  onRunNotice?(message: string): void;
  /** The TOTP issuer of rows that give none (`--totp-issuer`). */
  totpIssuer?: string;
  /**
   * Whether outcomes carry the request ids of the row's writes
   * (`requestIds`, for the audit log); default `true`. Without a reader of
   * them (no audit log, no `onRow`) they are not collected: collecting is an
   * `AsyncLocalStorage` frame per row step, 2.4 % of the importer's busy
   * time in a profile at c = 200 and 0.26 KB allocated a row.
   */
  requestIds?: boolean;
}

/** What the row that establishes a person learns; the person cache keeps only its id. */
interface Established {
  user: WorkOSUser;
  outcome: UserOutcome;
  /** Created by this very call, not found: it cannot have a factor yet. */
  fresh?: boolean;
}

/** What one row carries from step to step. */
interface RowRun {
  row: UserRow;
  outcome: RowOutcome;
  /** The row's organization, once resolved (when it has one). */
  organizationId?: string;
  /** The row's person, once established. */
  person?: PersonEntry;
  /** This row established the person (it is not a repeat). */
  firstRowOfPerson: boolean;
}

/**
 * One step of a row: fills in its outcome, or fails the row (sets the
 * outcome's error). A step with nothing to do for the row returns at once,
 * without a promise: at thousands of rows a second, an async call and an
 * await per step a row skips were a measurable part of a row's CPU.
 */
type RowStep = (run: RowRun) => Promise<void> | undefined;

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
  readonly #people: PersonCache;
  readonly #startedAt: number;
  readonly #multipleRoles: MultipleRolesGate;

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
    this.#people = new PersonCache({ maxBytes: options.personCacheBytes });
    this.#startedAt = options.startedAt ?? Date.now();
    this.#multipleRoles = new MultipleRolesGate((line) => options.onRunNotice?.(line));
  }

  /** How many people the processor remembers, in how many estimated bytes. */
  get peopleStats(): PersonCacheStats {
    return this.#people.stats;
  }

  /**
   * The steps every row runs through, in order: resolve its organization →
   * establish its user → ensure its membership (and the membership's roles)
   * → enroll its TOTP factor. A step that fails the row ends it; a run
   * condition (a `RunStopError`) is thrown on and leaves the row unfinished.
   */
  readonly #steps: readonly RowStep[] = [
    (run) => this.#resolveOrganization(run),
    (run) => this.#establishPerson(run),
    (run) => this.#joinOrganization(run),
    (run) => this.#enrollFactor(run),
  ];

  /**
   * Runs one valid row to its end, through {@linkcode RowProcessor.#steps}.
   * Never throws for a row-level failure: the outcome carries the error.
   *
   * @param row The validated row.
   * @returns What happened.
   */
  async process(row: UserRow): Promise<RowOutcome> {
    const run: RowRun = {
      row,
      outcome: { recordNumber: row.recordNumber, byteEnd: row.byteEnd, email: row.email },
      firstRowOfPerson: false,
    };
    for (const step of this.#steps) {
      const pending = step(run);
      if (pending) await pending;
      if (run.outcome.error) break;
    }
    return run.outcome;
  }

  /** `call`, with `trace` collecting its request ids unless outcomes carry none. */
  #traced<T>(trace: RowTrace, call: () => Promise<T>): Promise<T> {
    return this.#options.requestIds === false ? call() : traceRequests(trace, call);
  }

  /** Step 1: the row's organization, resolved under the mode (shared cache). */
  #resolveOrganization(run: RowRun): Promise<void> | undefined {
    // No organization (users only): the outcome `process` began stands.
    if (!organizationOf(this.#options.mode, run.row)) return undefined;
    return startRow(run.row, this.#options.mode, this.#resolver).then(
      ({ outcome, organizationId }) => {
        run.outcome = outcome;
        run.organizationId = organizationId;
      },
    );
  }

  /** Step 2: the row's user, created or adopted once per person; later rows repeat it. */
  async #establishPerson(run: RowRun): Promise<void> {
    const { row, outcome } = run;
    let person: PersonEntry;
    // Only the row that establishes the person sees its user; the cache keeps its id.
    let established: Established | undefined;
    const userTrace = new RowTrace(row.recordNumber);
    try {
      person = await this.#traced(userTrace, () =>
        this.#people.get(row.emailKey, async () => {
          run.firstRowOfPerson = true;
          established = await this.#establishUser(row, outcome);
          return { userId: established.user.id, fresh: established.fresh === true };
        }));
    } catch (error) {
      if (error instanceof UserUpdateError) {
        failRow(outcome, row, "user_update", error.cause);
        return;
      }
      failRow(outcome, row, "user_create", error);
      return;
    }
    run.person = person;
    outcome.userId = person.userId;
    outcome.user = established?.outcome ?? "repeat";
    if (established?.outcome === "created" || established?.outcome === "updated") {
      outcome.requestIds = { user: userTrace.lastRequestId };
    }
    // WorkOS's create takes no locale: a user the job made gets it by an update.
    const locale = row.locale;
    if (
      established?.outcome === "created" && locale !== undefined &&
      (established.user.locale ?? null) !== locale
    ) {
      try {
        await this.#traced(
          new RowTrace(row.recordNumber),
          () => updateUser(this.#client, person.userId, { locale }),
        );
      } catch (error) {
        if (isRunStop(error)) throw error;
        failRow(outcome, row, "user_update", error);
        return;
      }
    }
  }

  /** Step 3: the membership in the row's organization, with its roles, when it has one. */
  #joinOrganization(run: RowRun): Promise<void> | undefined {
    return run.organizationId === undefined
      ? undefined
      : this.#joinResolved(run, run.organizationId);
  }

  async #joinResolved(run: RowRun, organizationId: string): Promise<void> {
    const { row, outcome } = run;
    const person = run.person as PersonEntry;
    const membershipTrace = new RowTrace(row.recordNumber);
    try {
      const { value, created, roles } = await this.#traced(
        membershipTrace,
        () => this.#ensureMembership(person, organizationId, row, outcome),
      );
      outcome.membership = { id: value.id, organizationId, created };
      if (roles) outcome.membership.roles = roles;
      if (row.organization?.kind === "external_id") {
        outcome.membership.organizationExternalId = row.organization.externalId;
      }
      if (created || roles) {
        outcome.requestIds = { ...outcome.requestIds, membership: membershipTrace.lastRequestId };
      }
    } catch (error) {
      // The run stops; the row runs again on resume and gets its membership then.
      if (isRunStop(error)) throw error;
      this.#multipleRoles.observe(error);
      if (
        this.#options.requireMembership && run.firstRowOfPerson && outcome.user === "created"
      ) {
        const deletionTrace = new RowTrace(row.recordNumber);
        try {
          await this.#traced(deletionTrace, () => deleteUser(this.#client, person.userId));
          this.#people.delete(row.emailKey);
          outcome.deletedUserId = person.userId;
          outcome.user = undefined;
          outcome.userId = undefined;
          outcome.requestIds = { ...outcome.requestIds, deletion: deletionTrace.lastRequestId };
        } catch {
          // The membership error is what the user must act on; a failed
          // cleanup leaves the user in place, as without the flag.
        }
      }
      failRow(outcome, row, "membership_create", explainRoleError(error, row));
    }
  }

  /** Step 4: the TOTP factor, when the row has a secret. */
  #enrollFactor(run: RowRun): Promise<void> | undefined {
    if (!run.row.totp) return undefined;
    return this.#ensureFactor(run.person as PersonEntry, run.row, run.outcome).then(() => {});
  }

  /** The TOTP step, once per person: the first row with a secret enrolls it. */
  async #ensureFactor(
    person: PersonEntry,
    row: UserRow,
    outcome: RowOutcome,
  ): Promise<RowOutcome> {
    if (!row.totp) return outcome;
    const totp = row.totp;
    if (typeof person.factor === "string") {
      outcome.factor = { id: person.factor, created: false };
      return outcome;
    }
    const first = person.factor === undefined;
    const trace = new RowTrace(row.recordNumber);
    const enrollment: Promise<FactorOutcome> = person.factor ?? this.#traced(
      trace,
      () =>
        ensureTotpFactor(this.#client, person.userId, totp, {
          issuer: this.#options.totpIssuer,
          lookupFirst: !person.fresh,
          startedAt: this.#startedAt,
        }),
    );
    person.factor = enrollment;
    try {
      const factor = await enrollment;
      if (first) {
        // Later rows need only the id, not the settled promise.
        person.factor = factor.id;
        this.#people.changed(row.emailKey, person);
      }
      // A repeat row of the person reports the factor its first row made.
      const created = first && outcome.user !== "repeat" && factor.created;
      outcome.factor = { id: factor.id, created };
      if (created) outcome.requestIds = { ...outcome.requestIds, factor: trace.lastRequestId };
      return outcome;
    } catch (error) {
      // The next row of the person (or a run of this row again) tries again.
      if (first) person.factor = undefined;
      return failRow(outcome, row, "totp_enroll", error);
    }
  }

  async #establishUser(row: UserRow, outcome: RowOutcome): Promise<Established> {
    if (this.#options.lookupFirst?.(row.recordNumber)) {
      const found = await findUserByEmail(this.#client, row.email);
      if (found) return this.#adopt(found, row, outcome);
    }
    const { value, created, uncertain } = await ensureUser(this.#client, row);
    if (created && !uncertain) return { user: value, outcome: "created", fresh: true };
    // Made inside the window of this row's ambiguous create: its ghost
    // success, unless a committed row of the job counted it already.
    return this.#adopt(value, row, outcome, created);
  }

  /**
   * One membership request per person and organization at a time: a later
   * row for the same pair waits for the earlier one and adopts its
   * membership, so no request is spent on a sure conflict and counting
   * (created once, existing for the others) never races.
   */
  #ensureMembership(
    person: PersonEntry,
    organizationId: string,
    row: UserRow,
    outcome: RowOutcome,
  ): Promise<{ value: { id: string }; created: boolean; roles?: RolesChange }> {
    const memberships = person.memberships ??= new Map();
    const earlier = memberships.get(organizationId);
    if (typeof earlier === "string") {
      return Promise.resolve({ value: { id: earlier }, created: false });
    }
    const attempt = (async (): Promise<
      { id: string; created: boolean; roles?: RolesChange; uncertain?: boolean }
    > => {
      if (earlier) {
        const settled = await earlier.catch(() => undefined);
        if (settled) return { id: settled.id, created: false };
      }
      const roles = rolesOfRow(row);
      this.#multipleRoles.check(roles);
      const { value, created, uncertain } = await ensureMembership(
        this.#client,
        person.userId,
        { organizationId, roleSlug: row.roleSlug, roleSlugs: row.roleSlugs },
      );
      if (created && !uncertain) return { id: value.id, created };
      // Only the job's own ambiguous create, or a session a crash cut off,
      // can have made it: anything else was someone else's.
      const cutOff = !created &&
        (this.#options.madeWhileCutOff?.(value.createdAtMs, row) ?? false);
      if (!created && !cutOff) {
        const change = roles && await reconcileRoles(this.#client, value, roles, {
          update: this.#options.onExisting === "update",
          warn: (message) => this.#options.onRowWarning?.(row.recordNumber, message),
        });
        return change
          ? { id: value.id, created: false, roles: change }
          : { id: value.id, created: false };
      }
      const classify = this.#options.classifyOwnMembership;
      const own = classify ? await classify(value, row) : true;
      return { id: value.id, created: own, uncertain: own && cutOff };
    })();
    memberships.set(organizationId, attempt);
    // Settled, the person keeps only the membership's id; failed, nothing, so a later row tries again.
    attempt.then(({ id }) => {
      if (memberships.get(organizationId) !== attempt) return;
      memberships.set(organizationId, id);
      this.#people.changed(row.emailKey, person);
    }, () => {
      if (memberships.get(organizationId) === attempt) memberships.delete(organizationId);
    });
    return attempt.then(({ id, created, roles, uncertain }) => {
      if (uncertain) outcome.uncertain = { ...outcome.uncertain, membership: true };
      return { value: { id }, created, roles };
    });
  }

  /**
   * Takes over a user that exists. It counts as created only when a
   * committed row of the job says so (`priorOutcome`), or when it was made
   * inside the window of one of this row's ambiguous creates (`inWindow`) or
   * while an earlier session was cut off; as a repeat when the person cache
   * forgot an earlier row's person; otherwise it is existing, however
   * recently it appeared (a person who signed up during the run).
   */
  async #adopt(
    user: WorkOSUser,
    row: UserRow,
    outcome: RowOutcome,
    inWindow = false,
  ): Promise<Established> {
    const prior = await this.#options.priorOutcome?.(user, row);
    if (prior !== undefined) return { user, outcome: prior };
    // Inside its own create's window: the job's. Made while a session was
    // cut off: most likely the job's, marked uncertain for undo.
    if (inWindow) return { user, outcome: "created" };
    // An earlier row of this person established it and the person cache
    // forgot it: a repeat, as it would be had the cache kept the person.
    if (this.#people.wasForgotten(row.emailKey)) return { user, outcome: "repeat" };
    if (this.#options.madeWhileCutOff?.(user.createdAtMs, row)) {
      outcome.uncertain = { ...outcome.uncertain, user: true };
      return { user, outcome: "created" };
    }
    const decision = decideExistingUser(user, row, this.#options.onExisting ?? "skip");
    if (decision.action === "refuse") {
      throw new WorkOSApiError({
        kind: "http",
        status: 400,
        code: "email_not_available",
        codes: ["email_not_available"],
        message: decision.message,
      });
    }
    if (decision.action === "adopt") return { user, outcome: "existing" };
    if (decision.action === "unchanged") {
      // No row of the job counted this person, yet it changed since the job
      // started: this row updated it before a crash.
      const updatedByJob = this.#options.priorOutcome !== undefined &&
        user.updatedAtMs !== undefined && user.updatedAtMs >= this.#startedAt;
      return { user, outcome: updatedByJob ? "updated" : "existing" };
    }
    let updated: WorkOSUser;
    try {
      updated = await updateUser(this.#client, user.id, decision.changes);
    } catch (error) {
      throw new UserUpdateError(error);
    }
    outcome.previous = decision.previous;
    outcome.changes = decision.changes;
    return { user: updated, outcome: "updated" };
  }
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
    errorMessage: errorMessageOf(row, type, error),
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

/** An error's message, said in the row's terms where WorkOS's own words are too vague. */
function errorMessageOf(row: UserRow, type: ErrorType, error: unknown): string {
  if (
    error instanceof WorkOSApiError && row.externalId !== undefined &&
    error.failure.codes.includes("external_id_not_available")
  ) {
    const verb = type === "user_update" ? "update" : "create";
    return `Cannot ${verb} user "${row.email}": external_id ${
      JSON.stringify(row.externalId)
    } belongs to another WorkOS user: give this row another external_id, or leave it empty to import the user without one`;
  }
  return error instanceof Error ? error.message : String(error);
}

const SECRET_COLUMNS: ReadonlySet<string> = new Set(["password", "password_hash", "totp_secret"]);

/**
 * A copy of a row's original fields without passwords, password hashes or TOTP secrets.
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
