/**
 * `workos-importer undo <job-id> [--dry-run]`: takes a job back from its
 * audit log, printing each step, or with `--dry-run` what it would do.
 * `--audit-file <path>` undoes a run recorded with `--audit-out` instead.
 *
 * @module
 */

import { formatCount } from "../report/_format.ts";
import { type CommandSpec, type Flags, integerFlag, numberFlag } from "./args.ts";
import { type Console, readSecretKey } from "./environment.ts";
import { InterruptHandler } from "./interrupt.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import type { AuditEntry } from "../report/audit_log.ts";
import { drawBox } from "../report/summary.ts";
import { colorsFor, paintStatus } from "./_colors.ts";
// The journal, undo and the live progress load when undo runs, not with the
// CLI (issue 16: a dry run's memory floor).
import type { UndoLock } from "../journal/journal.ts";
import type { UndoStep, UndoSummary } from "../undo/undo_job.ts";
import { jobAuditPath } from "../journal/job_files.ts";
import { ProgressWiring } from "./_progress_wiring.ts";
import { withoutCredentials } from "../workos/client.ts";

/** Where jobs live unless `--checkpoint-dir` says otherwise. */
const DEFAULT_CHECKPOINT_DIR = ".workos-checkpoints";

/** `workos-importer undo <job-id>`. */
export const undoCommand: CommandSpec = {
  name: "undo",
  summary: "take a job back from its audit log",
  usage: [
    "undo <job-id> [--dry-run]         take a job back from its audit log",
    "undo --audit-file <path>          take back a run recorded with --audit-out",
  ],
  flags: [
    "audit-file",
    "job-id",
    "checkpoint-dir",
    "dry-run",
    "include-uncertain",
    "concurrency",
    "rate-limit",
    "max-retries",
    "request-timeout",
    "api-url",
    "quiet",
    "json",
  ],
  notes: ["Exit codes: 0 every step done, 1 some steps failed, 2 usage error, 130 interrupted."],
  run: ({ flags, positionals, console }) => runUndoCommand(positionals, flags, console),
};

/**
 * The audit log `undo` reads: `--audit-file`, or the job's `audit.jsonl.gz`
 * (`audit.jsonl` for a job an earlier build started: see `runUndoCommand`).
 *
 * @param positionals The arguments after `undo`: the job id.
 * @param flags The parsed flags.
 * @returns The audit log's path and a name for messages.
 * @throws {UsageError} When neither or both are given, or the job id is not a plain name.
 *
 * @example Usage
 * ```ts
 * import { undoTarget } from "./undo_command.ts";
 * console.log(undoTarget(["nightly"], {}).path); // .workos-checkpoints/nightly/audit.jsonl.gz
 * ```
 */
export function undoTarget(
  positionals: readonly string[],
  flags: Flags,
): { path: string; name: string; jobId?: string; checkpointDir?: string } {
  const auditFile = flags["audit-file"];
  if (positionals.length > 1) {
    throw new UsageError(`Unexpected argument "${positionals[1]}": give one job id`);
  }
  const jobId = positionals[0] ?? flags["job-id"];
  if (auditFile !== undefined && jobId !== undefined) {
    throw new UsageError("Cannot undo: give a job id or --audit-file, not both");
  }
  if (auditFile !== undefined) return { path: auditFile, name: `audit log "${auditFile}"` };
  if (jobId === undefined) {
    throw new UsageError(
      'Cannot undo: no job given: run "workos-importer undo <job-id>" (or --audit-file <path>)',
    );
  }
  if (jobId === "" || jobId === "." || jobId === ".." || /[\/\\]/.test(jobId)) {
    throw new UsageError(`Cannot undo job "${jobId}": a job id is a name, not a path`);
  }
  const directory = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  return {
    path: `${directory}/${jobId}/audit.jsonl.gz`,
    name: `job "${jobId}"`,
    jobId,
    checkpointDir: directory,
  };
}

/**
 * Runs `undo` from parsed flags.
 *
 * @param positionals The arguments after `undo`: the job id.
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code: 0 when every step succeeded, 1 when some failed, 130 when interrupted.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runUndoCommand(["nightly"], { "dry-run": true }, systemConsole);
 * ```
 */
export async function runUndoCommand(
  positionals: readonly string[],
  flags: Flags,
  console: Console,
): Promise<number> {
  const target = undoTarget(positionals, flags);
  if (target.jobId !== undefined) {
    // A job an earlier build started has its plain `audit.jsonl`.
    target.path = await jobAuditPath({
      dir: `${target.checkpointDir}/${target.jobId}`,
      audit: target.path,
    });
  }
  const dryRun = flags["dry-run"] ?? false;
  const quiet = flags.quiet ?? false;
  const json = flags.json ?? false;
  const say = json ? console.error : console.log;
  try {
    await Deno.stat(target.path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new UsageError(
      `Cannot undo ${target.name}: no audit log at "${target.path}": check the job id and --checkpoint-dir`,
    );
  }
  let apiKey: string | undefined;
  if (!dryRun) {
    apiKey = readSecretKey();
    if (!apiKey) {
      throw new UsageError(
        "WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file, or use --dry-run",
      );
    }
  }
  const givenUrl = flags["api-url"] ?? Deno.env.get("WORKOS_API_URL");
  // Credentials in the URL are never sent or printed.
  const apiUrl = givenUrl === undefined ? undefined : withoutCredentials(givenUrl);
  const { lockJobForUndo } = await import("../journal/journal.ts");
  const { undoAuditLog } = await import("../undo/undo_job.ts");
  const { ProgressReporter, stderrProgressOptions } = await import("../report/progress.ts");
  // The job's lock: no second undo, and no import of the job, meanwhile.
  const lock: UndoLock | undefined = target.jobId !== undefined && !dryRun
    ? await lockJobForUndo(target.jobId, { checkpointDir: target.checkpointDir })
    : undefined;
  const rateLimit = numberFlag(flags, "rate-limit", 50);
  const interrupt = new InterruptHandler(console);
  // The same progress as an import: a bar on a terminal, a line every 10 s elsewhere.
  const totalSteps = dryRun ? undefined : await countLines(target.path);
  const progress = dryRun ? undefined : new ProgressReporter(
    stderrProgressOptions({ unit: "steps", rateUnit: "steps" }),
  );
  const wiring = new ProgressWiring(progress, {
    warn: (line) => console.warn(line),
    say,
    rowsShareTerminal: json || Deno.stdout.isTerminal(),
    live: Deno.stderr.isTerminal() && !Deno.noColor,
  });
  const colorSteps = colorsFor(json ? Deno.stderr : Deno.stdout);
  let steps = 0;
  let writes = 0;
  let summary: UndoSummary | undefined;
  try {
    if (dryRun) say(`Dry run: listing what undo of ${target.name} would do; nothing is changed`);
    summary = await undoAuditLog(target.path, {
      apiKey,
      apiUrl,
      dryRun,
      concurrency: integerFlag(flags, "concurrency", { fallback: 10, min: 1, max: 1000 }),
      rateLimit,
      maxRetries: integerFlag(flags, "max-retries", { fallback: 5, min: 0, max: 20 }),
      requestTimeoutMs: numberFlag(flags, "request-timeout", 30) * 1000,
      stop: interrupt.stop,
      abort: interrupt.abort,
      includeUncertain: flags["include-uncertain"] ?? false,
      onStep: (step) => {
        if (step.result === "failed") {
          wiring.warn(paintStatus(stepLine(step), colorsFor(Deno.stderr)));
        } else if (!quiet && step.result !== "already_undone") {
          wiring.row(paintStatus(stepLine(step), colorSteps));
        }
        steps++;
        if (step.result === "done") writes++;
        wiring.update({
          rowsDone: steps,
          totalRows: totalSteps,
          usersDone: steps,
          writes,
          writesPerSecondLimit: rateLimit,
          rateLimited: 0,
          retries: 0,
        });
      },
    });
    // Lines that needed no step (unreadable, already covered) still count as done.
    if (!summary.interrupted && totalSteps !== undefined) {
      wiring.update({
        rowsDone: Math.max(steps, totalSteps),
        totalRows: totalSteps,
        usersDone: steps,
        writes,
        writesPerSecondLimit: rateLimit,
        rateLimited: 0,
        retries: 0,
      });
    }
  } finally {
    wiring.close();
    progress?.finish();
    interrupt.dispose();
    if (lock) {
      // Recorded only once everything was taken back (or kept on purpose).
      const complete = summary !== undefined && !summary.interrupted && summary.failures === 0;
      if (complete) await lock.markUndone();
      else lock.release();
    }
  }
  say(summaryBox(summary, target.name));
  if (json) console.log(JSON.stringify(summary));
  if (summary.interrupted) {
    say("Interrupted: run the same command again to continue");
    return ExitCode.Interrupted;
  }
  if (summary.failures > 0) {
    say("Some steps failed: run the same command again to retry them");
    return ExitCode.Failure;
  }
  return ExitCode.Success;
}

/** Lines in a file: the audit entries an undo will step through. */
async function countLines(path: string): Promise<number | undefined> {
  try {
    const { countAuditLines } = await import("../report/audit_log.ts");
    return await countAuditLines(path);
  } catch {
    return undefined;
  }
}

function subject(entry: AuditEntry): string {
  switch (entry.action) {
    case "membership_created":
      return `membership ${entry.id} (${entry.email ?? entry.userId ?? "?"} in ${
        entry.organizationId ?? "?"
      })`;
    case "organization_created":
      return `organization ${entry.id}${
        entry.organizationExternalId ? ` (${entry.organizationExternalId})` : ""
      }`;
    case "invitation_sent":
      return `invitation ${entry.id} (${entry.email ?? "?"})`;
    case "membership_roles_updated":
      return `the roles of membership ${entry.id}`;
    case "totp_factor_enrolled":
      return `TOTP factor ${entry.id} of ${entry.userId ?? "?"}`;
    case "role_created":
      return entry.organizationId === undefined
        ? `environment role "${entry.roleSlug ?? entry.id}"`
        : `organization role "${entry.roleSlug ?? entry.id}" of ${entry.organizationId}`;
    case "permission_created":
      return `permission "${entry.id}"`;
    default:
      return `user ${entry.id}${entry.email ? ` (${entry.email})` : ""}`;
  }
}

const VERBS: Record<UndoStep["kind"], [done: string, planned: string, failed: string]> = {
  delete_membership: ["Deleted", "Would delete", "Could not delete"],
  delete_user: ["Deleted", "Would delete", "Could not delete"],
  restore_user: ["Restored", "Would restore", "Could not restore"],
  delete_organization: ["Deleted", "Would delete", "Could not delete"],
  nothing: ["Nothing to undo for", "Nothing to undo for", "Could not undo"],
  keep_invitation: ["Kept", "Would keep", "Could not keep"],
  restore_membership_roles: ["Restored", "Would restore", "Could not restore"],
  delete_factor: ["Deleted", "Would delete", "Could not delete"],
  delete_role: ["Deleted", "Would delete", "Could not delete"],
  delete_permission: ["Deleted", "Would delete", "Could not delete"],
};

function stepLine(step: UndoStep): string {
  const [done, planned, failed] = VERBS[step.kind];
  const detail = step.detail ? `: ${step.detail}` : "";
  const what = subject(step.entry);
  switch (step.result) {
    case "failed":
      return `✗ ${failed} ${what}${detail}`;
    case "planned":
      return `· ${planned} ${what}${detail}`;
    case "kept":
      return `• Kept ${what}${detail}`;
    case "already_undone":
      return `· Already undone: ${what}`;
    default:
      return `✓ ${done} ${what}${detail}`;
  }
}

function summaryBox(summary: UndoSummary, name: string): string {
  const number = formatCount;
  const deleted = summary.dryRun ? "to delete" : "deleted";
  const lines = [
    summary.dryRun ? `UNDO of ${name} (dry run)` : `UNDO of ${name}`,
    `Audit entries: ${number(summary.entries)}`,
    `Memberships ${deleted}: ${number(summary.membershipsDeleted)}`,
    `Users ${deleted}: ${number(summary.usersDeleted)}`,
    `Users ${summary.dryRun ? "to restore" : "restored"}: ${number(summary.usersRestored)}`,
    `Organizations ${deleted}: ${number(summary.organizationsDeleted)}`,
  ];
  if (summary.membershipRolesRestored > 0) {
    lines.push(`Membership roles restored: ${number(summary.membershipRolesRestored)}`);
  }
  if (summary.factorsDeleted > 0) {
    lines.push(`TOTP factors ${deleted}: ${number(summary.factorsDeleted)}`);
  }
  if (summary.rolesDeleted > 0) {
    lines.push(`Organization roles ${deleted}: ${number(summary.rolesDeleted)}`);
  }
  if (summary.permissionsDeleted > 0) {
    lines.push(`Permissions ${deleted}: ${number(summary.permissionsDeleted)}`);
  }
  if (summary.rolesKept > 0) {
    lines.push(`Environment roles kept (no delete API): ${number(summary.rolesKept)}`);
  }
  if (summary.organizationsKept > 0) {
    lines.push(`Organizations kept: ${number(summary.organizationsKept)}`);
  }
  if (summary.invitationsKept > 0) {
    lines.push(`Invitations left pending: ${number(summary.invitationsKept)}`);
  }
  if (summary.uncertainKept > 0) {
    lines.push(`Uncertain, kept (see --include-uncertain): ${number(summary.uncertainKept)}`);
  }
  if (summary.alreadyUndone > 0) {
    lines.push(`Already undone earlier: ${number(summary.alreadyUndone)}`);
  }
  if (summary.invalidLines > 0) {
    lines.push(`Unreadable audit lines: ${number(summary.invalidLines)}`);
  }
  lines.push(`Failures: ${number(summary.failures)}`);
  return drawBox(lines);
}
