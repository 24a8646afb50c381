/**
 * `workos-importer undo`: takes a job back from its audit log. Newest entry
 * first, it deletes the memberships, users, factors, organization roles,
 * permissions and organizations the job created,
 * restores the values of users it updated, and leaves alone everything the
 * job only adopted (adoptions are never in the audit log). Entries marked
 * `uncertain` (attributed to the job only because they were made inside the
 * time window of one of its ambiguous creates) are listed and kept unless
 * {@linkcode UndoOptions.includeUncertain} is set.
 *
 * Every step is safe to repeat (a delete that finds nothing counts as done,
 * a restore sets the same values again), and finished steps are recorded
 * beside the audit log, so an interrupted undo continues where it stopped.
 *
 * @module
 */

import { Semaphore } from "../limits/semaphore.ts";
import {
  type AuditEntry,
  type AuditUserValues,
  readAuditLogBackward,
} from "../report/audit_log.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import { connectWorkOS } from "../workos/connect.ts";
import { deleteMembership, hasMembers, updateMembershipRoles } from "../workos/memberships.ts";
import { deleteAuthFactor } from "../workos/auth_factors.ts";
import { deleteOrganizationRole, deletePermission } from "../workos/authorization.ts";
import { deleteOrganization } from "../workos/organizations.ts";
import { deleteUser, updateUser, type UserChanges } from "../workos/users.ts";

/** What undo does for one audit entry. */
export type UndoStepKind =
  /** Delete a membership the job created. */
  | "delete_membership"
  /** Delete a user the job created. */
  | "delete_user"
  /** Put back the values an update replaced. */
  | "restore_user"
  /** Delete an organization the job created. */
  | "delete_organization"
  /** Put back the roles an update of an existing membership replaced. */
  | "restore_membership_roles"
  /** Delete a TOTP factor the job enrolled. */
  | "delete_factor"
  /** Delete an organization role the job created (an environment role is kept: WorkOS cannot delete one). */
  | "delete_role"
  /** Delete a permission the job created. */
  | "delete_permission"
  /** Nothing to do: the entry records a deletion, or a user the import itself deleted. */
  | "nothing"
  /** Invitations are not revoked by undo. */
  | "keep_invitation";

/** How a step ended. */
export type UndoStepResult =
  /** Done now (a delete of something already gone included). */
  | "done"
  /** A dry run: what would be done. */
  | "planned"
  /** An earlier undo of this log did it. */
  | "already_undone"
  /** Left in place on purpose (see `detail`). */
  | "kept"
  /** Failed (see `detail`); running undo again retries it. */
  | "failed";

/** One step of an undo, as reported to {@linkcode UndoOptions.onStep}. */
export interface UndoStep {
  /** What the step takes back. */
  kind: UndoStepKind;
  /** How it went. */
  result: UndoStepResult;
  /** The audit entry the step takes back. */
  entry: AuditEntry;
  /** Restored fields, why something was kept, or what failed. */
  detail?: string;
}

/** What {@linkcode undoAuditLog} returns. */
export interface UndoSummary {
  /** Audit entries read. */
  entries: number;
  /** Memberships the job created, deleted. */
  membershipsDeleted: number;
  /** Users the job created, deleted. */
  usersDeleted: number;
  /** Users the job updated, given their earlier values back. */
  usersRestored: number;
  /** Existing memberships whose roles were put back. */
  membershipRolesRestored: number;
  /** TOTP factors the job enrolled, deleted. */
  factorsDeleted: number;
  /** Organizations the job created, deleted. */
  organizationsDeleted: number;
  /** Organization roles the job created, deleted. */
  rolesDeleted: number;
  /** Environment roles the job created, kept: WorkOS has no endpoint that deletes one. */
  rolesKept: number;
  /** Permissions the job created, deleted. */
  permissionsDeleted: number;
  /** Organizations kept because members the job did not add remain. */
  organizationsKept: number;
  /** Invitations the job sent, left pending. */
  invitationsKept: number;
  /** Objects only an ambiguous create's time window attributes to the job, left in place. */
  uncertainKept: number;
  /** Steps an earlier undo already did. */
  alreadyUndone: number;
  /** Steps that failed; running undo again retries them. */
  failures: number;
  /** Lines of the audit file that are not entries (e.g. torn by a crash). */
  invalidLines: number;
  /** `true` when nothing was changed (`--dry-run`). */
  dryRun: boolean;
  /** `true` when the stop signal ended the undo early. */
  interrupted: boolean;
  /** How long the undo took, in ms. */
  durationMs: number;
}

/** Options for {@linkcode undoAuditLog}. */
export interface UndoOptions {
  /** WorkOS secret key; required unless `dryRun`. */
  apiKey?: string;
  /** WorkOS API location (`https://api.workos.com`). */
  apiUrl?: string;
  /** List what would be done; no API call, nothing recorded. */
  dryRun?: boolean;
  /** Steps in flight at once (10). */
  concurrency?: number;
  /** User-management writes per second (50). */
  rateLimit?: number;
  /** Retries of a transient failure (5). */
  maxRetries?: number;
  /** Request timeout in ms (30,000). */
  requestTimeoutMs?: number;
  /** Where finished steps are recorded; default {@linkcode undoProgressPath}. */
  progressPath?: string;
  /** Stop starting steps when aborted; steps in flight finish. */
  stop?: AbortSignal;
  /** Abort requests in flight. */
  abort?: AbortSignal;
  /**
   * Also take back entries marked `uncertain`: made while a crash had cut a
   * session of the job off, so most likely the job's, but possibly someone
   * else's (a person who signed up in that stretch).
   */
  includeUncertain?: boolean;
  /** Called once per step, in completion order. */
  onStep?(step: UndoStep): void;
}

/**
 * Where an undo records its finished steps: beside the audit log, named
 * after it (`audit.jsonl.gz` or `audit.jsonl` → `audit.undo.jsonl`).
 *
 * @param auditPath The audit log.
 * @returns The progress file's path.
 *
 * @example Usage
 * ```ts
 * import { undoProgressPath } from "./undo_job.ts";
 * console.log(undoProgressPath(".workos-checkpoints/nightly/audit.jsonl.gz"));
 * // .workos-checkpoints/nightly/audit.undo.jsonl
 * ```
 */
export function undoProgressPath(auditPath: string): string {
  // A compressed log's progress is named as the plain log's would be.
  if (auditPath.endsWith(".gz")) auditPath = auditPath.slice(0, -3);
  const slash = Math.max(auditPath.lastIndexOf("/"), auditPath.lastIndexOf("\\"));
  const dot = auditPath.lastIndexOf(".");
  const stem = dot > slash + 1 ? auditPath.slice(0, dot) : auditPath;
  return `${stem}.undo.jsonl`;
}

/** The identity of an entry's step: stable across runs of undo. */
function stepKey(entry: AuditEntry): string {
  return `${entry.action} ${entry.id} ${entry.timestamp}`;
}

/** The update that puts back what an audited update replaced. */
function restoreChanges(previous: AuditUserValues | undefined): UserChanges {
  const changes: UserChanges = {};
  if (!previous) return changes;
  if (previous.firstName !== undefined) changes.firstName = previous.firstName;
  if (previous.lastName !== undefined) changes.lastName = previous.lastName;
  if (previous.emailVerified !== undefined) changes.emailVerified = previous.emailVerified;
  if (previous.externalId !== undefined) changes.externalId = previous.externalId;
  if (previous.locale !== undefined) changes.locale = previous.locale;
  // Metadata holds the replaced keys only; `null` removes a key the update added.
  if (previous.metadata !== undefined) changes.metadata = { ...previous.metadata };
  return changes;
}

const FIELD_NAMES: Record<string, string> = {
  firstName: "first_name",
  lastName: "last_name",
  emailVerified: "email_verified",
  externalId: "external_id",
  locale: "locale",
  metadata: "metadata",
};

/** Appends finished step keys, in batches. */
class ProgressFile {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #buffer = "";
  #buffered = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  record(key: string, result: UndoStepResult): Promise<void> {
    this.#buffer += JSON.stringify({ key, result, timestamp: new Date().toISOString() }) + "\n";
    // A crash loses at most one batch: those steps are simply done again.
    if (++this.#buffered >= 100) return this.flush();
    return Promise.resolve();
  }

  flush(): Promise<void> {
    if (this.#buffer === "") return this.#chain;
    const bytes = this.#encoder.encode(this.#buffer);
    this.#buffer = "";
    this.#buffered = 0;
    this.#chain = this.#chain.then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await this.#file.write(bytes.subarray(offset));
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#file.close();
    }
  }
}

async function readProgress(path: string): Promise<Set<string>> {
  const done = new Set<string>();
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return done;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const record = JSON.parse(line);
      if (typeof record?.key === "string") done.add(record.key);
    } catch {
      // A line torn by a crash: its step is done again.
    }
  }
  return done;
}

/**
 * Takes back what an audit log records, newest entry first.
 *
 * @param auditPath The job's audit log (`<checkpoint-dir>/<job-id>/audit.jsonl.gz`).
 * @param options Key, dry run, limits and a per-step callback.
 * @returns What was done.
 * @throws {Deno.errors.NotFound} The audit log does not exist.
 *
 * @example Take back a user an import created
 * ```ts
 * import { undoAuditLog } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const user = fake.state.addUser({ email: "ada@example.com" });
 * const dir = await Deno.makeTempDir();
 * const auditPath = `${dir}/audit.jsonl`;
 * const entry = {
 *   timestamp: new Date().toISOString(),
 *   action: "user_created",
 *   id: user.id,
 *   email: "ada@example.com",
 * };
 * await Deno.writeTextFile(auditPath, JSON.stringify(entry) + "\n");
 * const summary = await undoAuditLog(auditPath, { apiKey: fake.apiKey, apiUrl: fake.url });
 * assert.equal(summary.usersDeleted, 1);
 * assert.equal(fake.state.userCount(), 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function undoAuditLog(
  auditPath: string,
  options: UndoOptions = {},
): Promise<UndoSummary> {
  const startedAt = Date.now();
  const dryRun = options.dryRun ?? false;
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError("Cannot undo: concurrency must be a whole number of at least 1");
  }
  // Fail on a missing log before anything is created beside it.
  await Deno.stat(auditPath);
  let client: WorkOSClient | undefined;
  if (!dryRun) {
    if (!options.apiKey) {
      throw new TypeError("Cannot undo: WORKOS_SECRET_KEY is missing: set it or use --dry-run");
    }
    client = connectWorkOS({
      apiKey: options.apiKey,
      apiUrl: options.apiUrl,
      rateLimit: options.rateLimit,
      maxRetries: options.maxRetries,
      requestTimeoutMs: options.requestTimeoutMs,
      abort: options.abort,
    });
  }
  const summary: UndoSummary = {
    entries: 0,
    membershipsDeleted: 0,
    usersDeleted: 0,
    usersRestored: 0,
    membershipRolesRestored: 0,
    factorsDeleted: 0,
    organizationsDeleted: 0,
    rolesDeleted: 0,
    rolesKept: 0,
    permissionsDeleted: 0,
    organizationsKept: 0,
    invitationsKept: 0,
    uncertainKept: 0,
    alreadyUndone: 0,
    failures: 0,
    invalidLines: 0,
    dryRun,
    interrupted: false,
    durationMs: 0,
  };
  const progressPath = options.progressPath ?? undoProgressPath(auditPath);
  const done = await readProgress(progressPath);
  const progress = dryRun ? undefined : new ProgressFile(
    await Deno.open(progressPath, { create: true, append: true, mode: 0o600 }),
  );
  const runner = new StepRunner(client, summary, progress, options.onStep);
  const semaphore = new Semaphore(concurrency);
  const inFlight = new Set<Promise<void>>();
  // Users the import deleted itself (--require-membership): nothing to undo.
  const deletedByJob = new Set<string>();
  // Steps on one user run in log order, so that two restores end on the oldest values.
  const userTails = new Map<string, Promise<void>>();

  let failure: { error: unknown } | undefined;
  const launch = async (userId: string | undefined, work: () => Promise<void>) => {
    await semaphore.acquire();
    const before = userId === undefined ? undefined : userTails.get(userId);
    const task = (async () => {
      try {
        if (before) await before;
        await work();
      } catch (error) {
        // Step failures are in the summary; this is the progress file failing.
        failure ??= { error };
      } finally {
        semaphore.release();
      }
    })();
    inFlight.add(task);
    if (userId !== undefined) userTails.set(userId, task);
    task.finally(() => {
      inFlight.delete(task);
      if (userId !== undefined && userTails.get(userId) === task) userTails.delete(userId);
    });
  };

  try {
    const entries = readAuditLogBackward(auditPath, {
      onInvalidLine: () => summary.invalidLines++,
    });
    for await (const entry of entries) {
      if (options.stop?.aborted) {
        summary.interrupted = true;
        break;
      }
      summary.entries++;
      const key = stepKey(entry);
      if (entry.action === "user_deleted") deletedByJob.add(entry.id);
      if (done.has(key)) {
        summary.alreadyUndone++;
        options.onStep?.({ kind: kindOf(entry), result: "already_undone", entry });
        continue;
      }
      if (entry.uncertain && !options.includeUncertain && entry.action !== "user_deleted") {
        if (!(entry.action === "user_created" && deletedByJob.has(entry.id))) {
          runner.keepUncertain(entry);
          continue;
        }
      }
      switch (entry.action) {
        case "user_deleted":
          await runner.nothing(entry, key, "the import deleted this user itself");
          break;
        case "user_created":
          if (deletedByJob.has(entry.id)) {
            await runner.nothing(entry, key, "the import deleted this user itself");
          } else {
            await launch(entry.id, () => runner.deleteUser(entry, key));
          }
          break;
        case "user_updated":
          await launch(entry.id, () => runner.restoreUser(entry, key));
          break;
        case "membership_created":
          await launch(undefined, () => runner.deleteMembership(entry, key));
          break;
        case "organization_created":
          // Its memberships (newer entries) must be gone before its members are counted.
          await Promise.all(inFlight);
          await launch(undefined, () => runner.deleteOrganization(entry, key));
          break;
        case "invitation_sent":
          runner.keepInvitation(entry);
          break;
        case "membership_roles_updated":
          await launch(undefined, () => runner.restoreMembershipRoles(entry, key));
          break;
        case "totp_factor_enrolled":
          await launch(entry.userId, () => runner.deleteFactor(entry, key));
          break;
        case "role_created":
          // The memberships that hold it (newer entries) go first.
          await Promise.all(inFlight);
          await launch(undefined, () => runner.deleteRole(entry, key));
          break;
        case "permission_created":
          // The roles that hold it (newer entries) go first.
          await Promise.all(inFlight);
          await launch(undefined, () => runner.deletePermission(entry, key));
          break;
      }
    }
  } finally {
    await Promise.all(inFlight);
    await progress?.close();
  }
  if (failure) throw failure.error;
  summary.durationMs = Date.now() - startedAt;
  return summary;
}

function kindOf(entry: AuditEntry): UndoStepKind {
  switch (entry.action) {
    case "membership_created":
      return "delete_membership";
    case "user_created":
      return "delete_user";
    case "user_updated":
      return "restore_user";
    case "organization_created":
      return "delete_organization";
    case "invitation_sent":
      return "keep_invitation";
    case "membership_roles_updated":
      return "restore_membership_roles";
    case "totp_factor_enrolled":
      return "delete_factor";
    case "role_created":
      return "delete_role";
    case "permission_created":
      return "delete_permission";
    default:
      return "nothing";
  }
}

/** Runs single steps and keeps the counts. */
class StepRunner {
  readonly #client?: WorkOSClient;
  readonly #summary: UndoSummary;
  readonly #progress?: ProgressFile;
  readonly #onStep?: (step: UndoStep) => void;

  constructor(
    client: WorkOSClient | undefined,
    summary: UndoSummary,
    progress: ProgressFile | undefined,
    onStep: ((step: UndoStep) => void) | undefined,
  ) {
    this.#client = client;
    this.#summary = summary;
    this.#progress = progress;
    this.#onStep = onStep;
  }

  async nothing(entry: AuditEntry, key: string, detail: string): Promise<void> {
    this.#onStep?.({ kind: "nothing", result: this.#client ? "done" : "planned", entry, detail });
    await this.#progress?.record(key, "done");
  }

  keepUncertain(entry: AuditEntry): void {
    this.#summary.uncertainKept++;
    this.#onStep?.({
      kind: kindOf(entry),
      result: "kept",
      entry,
      detail:
        "it was made while a crash had cut the job off, so someone else may have made it: check it, then run undo again with --include-uncertain to delete it",
    });
  }

  keepInvitation(entry: AuditEntry): void {
    this.#summary.invitationsKept++;
    this.#onStep?.({
      kind: "keep_invitation",
      result: "kept",
      entry,
      detail: "undo does not revoke invitations: revoke it in the WorkOS dashboard if needed",
    });
  }

  deleteMembership(entry: AuditEntry, key: string): Promise<void> {
    return this.#run("delete_membership", entry, key, async (client) => {
      await deleteMembership(client, entry.id);
      this.#summary.membershipsDeleted++;
    }, () => this.#summary.membershipsDeleted++);
  }

  restoreMembershipRoles(entry: AuditEntry, key: string): Promise<void> {
    const previous = entry.previousRoleSlugs ?? [];
    const detail = `roles ${previous.map((slug) => JSON.stringify(slug)).join(", ")}`;
    return this.#run(
      "restore_membership_roles",
      entry,
      key,
      async (client) => {
        if (previous.length === 0) return "no previous roles were recorded";
        try {
          await updateMembershipRoles(client, entry.id, previous);
        } catch (error) {
          // A membership deleted since has no roles left to restore.
          if (error instanceof WorkOSApiError && error.failure.status === 404) {
            return "the membership no longer exists";
          }
          throw error;
        }
        this.#summary.membershipRolesRestored++;
        return detail;
      },
      () => this.#summary.membershipRolesRestored++,
      detail,
    );
  }

  deleteFactor(entry: AuditEntry, key: string): Promise<void> {
    return this.#run("delete_factor", entry, key, async (client) => {
      await deleteAuthFactor(client, entry.id);
      this.#summary.factorsDeleted++;
    }, () => this.#summary.factorsDeleted++);
  }

  deleteRole(entry: AuditEntry, key: string): Promise<void> {
    const organizationId = entry.organizationId;
    const slug = entry.roleSlug ?? entry.id;
    if (organizationId === undefined) {
      // Not recorded as done: nothing was, and a later undo says the same.
      this.#summary.rolesKept++;
      this.#onStep?.({
        kind: "delete_role",
        result: "kept",
        entry,
        detail:
          "WorkOS has no API that deletes an environment role: delete it in the WorkOS dashboard if needed",
      });
      return Promise.resolve();
    }
    return this.#run("delete_role", entry, key, async (client) => {
      try {
        await deleteOrganizationRole(client, organizationId, slug);
      } catch (error) {
        // Deleting its organization deleted the role too.
        if (!(error instanceof WorkOSApiError && error.failure.status === 404)) throw error;
      }
      this.#summary.rolesDeleted++;
    }, () => this.#summary.rolesDeleted++);
  }

  deletePermission(entry: AuditEntry, key: string): Promise<void> {
    return this.#run("delete_permission", entry, key, async (client) => {
      await deletePermission(client, entry.id);
      this.#summary.permissionsDeleted++;
    }, () => this.#summary.permissionsDeleted++);
  }

  deleteUser(entry: AuditEntry, key: string): Promise<void> {
    return this.#run("delete_user", entry, key, async (client) => {
      await deleteUser(client, entry.id);
      this.#summary.usersDeleted++;
    }, () => this.#summary.usersDeleted++);
  }

  restoreUser(entry: AuditEntry, key: string): Promise<void> {
    const changes = restoreChanges(entry.previous);
    const fields = Object.keys(changes).map((field) => FIELD_NAMES[field] ?? field).join(", ");
    return this.#run(
      "restore_user",
      entry,
      key,
      async (client) => {
        if (Object.keys(changes).length > 0) {
          try {
            await updateUser(client, entry.id, changes);
          } catch (error) {
            // A user deleted since has nothing left to restore.
            if (error instanceof WorkOSApiError && error.failure.status === 404) {
              return "the user no longer exists";
            }
            throw error;
          }
        }
        this.#summary.usersRestored++;
        return fields;
      },
      () => this.#summary.usersRestored++,
      fields,
    );
  }

  deleteOrganization(entry: AuditEntry, key: string): Promise<void> {
    return this.#run("delete_organization", entry, key, async (client) => {
      // Deleting an organization removes its members too: one that gained
      // members the job did not add is no longer only the job's.
      if (await hasMembers(client, entry.id)) {
        this.#summary.organizationsKept++;
        return {
          kept:
            "it has members this job did not add: remove them, then delete it in the WorkOS dashboard",
        };
      }
      await deleteOrganization(client, entry.id);
      this.#summary.organizationsDeleted++;
      return undefined;
    }, () => this.#summary.organizationsDeleted++);
  }

  async #run(
    kind: UndoStepKind,
    entry: AuditEntry,
    key: string,
    step: (client: WorkOSClient) => Promise<string | { kept: string } | undefined | void>,
    countPlanned: () => void,
    plannedDetail?: string,
  ): Promise<void> {
    const client = this.#client;
    if (!client) {
      countPlanned();
      this.#onStep?.({ kind, result: "planned", entry, detail: plannedDetail });
      return;
    }
    let outcome: string | { kept: string } | undefined | void;
    try {
      outcome = await step(client);
    } catch (error) {
      this.#summary.failures++;
      const message = error instanceof Error ? error.message : String(error);
      const requestId = error instanceof WorkOSApiError && error.requestId
        ? ` (request ID ${error.requestId})`
        : "";
      this.#onStep?.({ kind, result: "failed", entry, detail: `${message}${requestId}` });
      return;
    }
    if (typeof outcome === "object") {
      this.#onStep?.({ kind, result: "kept", entry, detail: outcome.kept });
      // Not recorded: once its other members are gone, undo may delete it.
      return;
    }
    this.#onStep?.({ kind, result: "done", entry, detail: outcome || undefined });
    await this.#progress?.record(key, "done");
  }
}
