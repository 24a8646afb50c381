/**
 * `workos-importer roles apply <file>`: creates the environment's and
 * organizations' roles and their permissions from a role definitions file
 * before an import. `--dry-run` checks the file without calling WorkOS;
 * `--plan` reads the tenant and prints what would be created, what matches
 * and what differs, writing nothing. With `--job-id` it is a checkpointed
 * job: each create is recorded (in the job's setup ledger and audit log)
 * before and after it is sent, so a run after a crash finishes what the
 * crash cut off, and `undo <job-id>` takes back what it created.
 *
 * @module
 */

import { type CommandSpec, type Flags, integerFlag, numberFlag } from "./args.ts";
import { type Console, envFileHint, readSecretKey } from "./environment.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { drawBox } from "../report/summary.ts";
// The roles modules and the audit log load when `roles apply` runs, not
// with the CLI (issue 16: a dry run's memory floor).
import type { RoleResult } from "../roles/apply_roles.ts";
import { DEFAULT_API_URL, withoutCredentials, WorkOSClient } from "../workos/client.ts";
import { RateBudget } from "../limits/rate_budget.ts";
import type { SetupRecorder } from "../roles/setup_ledger.ts";
import {
  createJobDir,
  DEFAULT_CHECKPOINT_DIR,
  jobAuditPath,
  JobLock,
  jobPaths,
} from "../journal/job_files.ts";

/** `workos-importer roles apply <file>`. */
export const rolesCommand: CommandSpec = {
  name: "roles",
  summary: "create roles and permissions from a role definitions file",
  usage: [
    "roles apply <file> [--plan|--dry-run]   create missing roles, report differing ones",
    "roles apply <file> --job-id <id>        the same as a job that undo <id> takes back",
  ],
  flags: [
    "dry-run",
    "plan",
    "job-id",
    "checkpoint-dir",
    "audit-out",
    "rate-limit",
    "max-retries",
    "request-timeout",
    "api-url",
    "quiet",
    "json",
  ],
  notes: [
    "File: CSV role_slug,role_name,role_type,permissions,org_id,org_external_id, or JSON.",
    "Run it again with the same --job-id after any failure: it finishes what was cut off.",
    "WorkOS has no API that deletes an environment role: undo deletes organization roles and",
    "permissions, and lists the environment roles to delete in the dashboard.",
    "Exit codes: 0 every role matches or was created, 1 some rows failed, 2 usage error.",
  ],
  run: ({ flags, positionals, console }) => runRolesCommand(positionals, flags, console),
};

function roleName(result: RoleResult): string {
  const { definition, organizationId } = result;
  const where = definition.type === "organization"
    ? ` in ${organizationId ?? JSON.stringify(organizationOf(result))}`
    : "";
  return `${definition.type} role ${JSON.stringify(definition.slug)}${where}`;
}

function organizationOf(result: RoleResult): string {
  const ref = result.definition.organization;
  return ref === undefined ? "" : ref.kind === "id" ? ref.id : ref.externalId;
}

/**
 * The line a role definition's result prints as.
 *
 * @param result What happened to the definition.
 * @param planned Whether it is a plan (nothing was written).
 * @returns One line.
 *
 * @example Usage
 * ```ts
 * import { roleResultLine } from "./roles_command.ts";
 * const definition = { row: 1, slug: "billing", name: "Billing", type: "environment" as const, permissions: [] };
 * console.log(roleResultLine({ definition, action: "matches" }, false));
 * // = Row 1: environment role "billing" matches
 * ```
 */
export function roleResultLine(result: RoleResult, planned: boolean): string {
  const row = `Row ${result.definition.row}`;
  const permissions = result.definition.permissions.length;
  switch (result.action) {
    case "created":
      return `${planned ? "·" : "✓"} ${row}: ${planned ? "would create" : "created"} ${
        roleName(result)
      } (${permissions} permission${permissions === 1 ? "" : "s"})${
        result.detail ? ` ${result.detail}` : ""
      }`;
    case "matches":
      return `= ${row}: ${roleName(result)} matches`;
    case "differs":
      return `≠ ${row}: ${roleName(result)} differs: ${result.detail}`;
    default:
      return `✗ ${row}: cannot apply ${roleName(result)}: ${result.detail}`;
  }
}

/**
 * Runs `roles apply` from parsed flags.
 *
 * @param positionals `apply` and the file.
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runRolesCommand(["apply", "roles.csv"], { plan: true }, systemConsole);
 * ```
 */
export async function runRolesCommand(
  positionals: readonly string[],
  flags: Flags,
  console: Console,
): Promise<number> {
  const [action, path, extra] = positionals;
  if (action !== "apply") {
    throw new UsageError(
      action === undefined
        ? 'Cannot run "roles": name what to do: roles apply <file>'
        : `Cannot run "roles ${action}": the only action is apply: roles apply <file>`,
    );
  }
  if (path === undefined) {
    throw new UsageError("Cannot apply roles: no file given: roles apply <file>");
  }
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}": give one file`);
  if (flags["dry-run"] && flags.plan) {
    throw new UsageError("Cannot use --dry-run and --plan together: give one");
  }
  const json = flags.json ?? false;
  const quiet = flags.quiet ?? false;
  const say = json ? console.error : console.log;

  const { readRoleDefinitions } = await import("../roles/role_definitions.ts");
  const { applyRoleDefinitions, roleKey } = await import("../roles/apply_roles.ts");
  let file;
  try {
    file = await readRoleDefinitions(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`Cannot apply roles: "${path}" does not exist: check the path`);
    }
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  for (const problem of file.problems) say(`✗ Row ${problem.row}: ${problem.message}`);

  if (flags["dry-run"]) {
    say(
      drawBox([
        "ROLES (dry run: no WorkOS API call)",
        `Definitions valid: ${file.definitions.length}`,
        `Definitions invalid: ${file.problems.length}`,
      ]),
    );
    if (json) {
      console.log(JSON.stringify({
        dryRun: true,
        valid: file.definitions.length,
        invalid: file.problems.length,
      }));
    }
    return file.problems.length > 0 ? ExitCode.Failure : ExitCode.Success;
  }

  const apiKey = readSecretKey();
  if (!apiKey) {
    throw new UsageError(
      "WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file, or use --dry-run" +
        envFileHint(),
    );
  }
  const apiUrl = withoutCredentials(
    flags["api-url"] ?? Deno.env.get("WORKOS_API_URL") ?? DEFAULT_API_URL,
  );
  const client = new WorkOSClient({
    apiKey,
    apiUrl,
    budget: new RateBudget({ writesPerSecond: numberFlag(flags, "rate-limit", 50) }),
    maxRetries: integerFlag(flags, "max-retries", { fallback: 5, min: 0, max: 20 }),
    requestTimeoutMs: numberFlag(flags, "request-timeout", 30) * 1000,
  });
  const planned = flags.plan ?? false;
  const job = planned ? undefined : await openRolesJob(flags);
  const createdBefore = new Set(job?.recorder.created ?? []);
  let summary;
  try {
    summary = await applyRoleDefinitions(client, file.definitions, {
      plan: planned,
      recorder: job?.recorder,
      onResult: (result) => {
        if (!quiet || result.action === "failed" || result.action === "differs") {
          say(roleResultLine(result, planned));
        }
      },
    });
  } finally {
    await job?.close();
  }
  // A job counts what any of its runs created; a later run finds those as matching.
  const jobWide = (prefix: string) =>
    job === undefined || flags["job-id"] === undefined
      ? undefined
      : [...job.recorder.created].filter((key) => key.startsWith(prefix)).length;
  const rolesCreated = jobWide("role:") ?? summary.rolesCreated;
  const permissionsCreated = jobWide("permission:") ?? summary.permissionsCreated;
  const rolesMatching = summary.results.filter((result) =>
    result.action === "matches" &&
    !createdBefore.has(roleKey(result.definition.slug, result.organizationId))
  ).length;
  const created = planned ? "to create" : "created";
  say(drawBox([
    planned ? "ROLES (plan: nothing was written)" : "ROLES",
    `Roles ${created}: ${rolesCreated}`,
    `Roles matching: ${rolesMatching}`,
    `Roles differing (left as is): ${summary.rolesDiffering}`,
    `Permissions ${created}: ${permissionsCreated}`,
    `Invalid rows: ${file.problems.length}`,
    `Failures: ${summary.failures}`,
  ]));
  if (job?.undoCommand) say(`Undo with: ${job.undoCommand}`);
  if (json) {
    console.log(JSON.stringify({
      ...(flags["job-id"] && !planned ? { jobId: flags["job-id"] } : {}),
      plan: planned,
      rolesCreated,
      rolesMatching,
      rolesDiffering: summary.rolesDiffering,
      permissionsCreated,
      invalid: file.problems.length,
      failures: summary.failures,
      retries: client.stats.retries,
    }));
  }
  return summary.failures > 0 || file.problems.length > 0 ? ExitCode.Failure : ExitCode.Success;
}

/** A `roles apply` job: its recorder, held lock and undo command. */
interface RolesJob {
  recorder: SetupRecorder;
  undoCommand?: string;
  close(): Promise<void>;
}

/**
 * Opens the job `--job-id` names (its ledger and audit log, under its lock),
 * or an audit log alone with `--audit-out`; nothing without either.
 */
async function openRolesJob(flags: Flags): Promise<RolesJob | undefined> {
  const { openAuditLog } = await import("../report/audit_log.ts");
  const { openSetupLedger } = await import("../roles/setup_ledger.ts");
  const jobId = flags["job-id"];
  if (jobId === undefined) {
    const auditOut = flags["audit-out"];
    if (auditOut === undefined) return undefined;
    const audit = await openAuditLog(auditOut);
    return {
      recorder: await openSetupLedger(undefined, audit),
      undoCommand: `workos-importer undo --audit-file ${auditOut}`,
      close: () => audit.close(),
    };
  }
  if (flags["audit-out"] !== undefined) {
    throw new UsageError("Cannot use --audit-out with --job-id: the job keeps its own audit log");
  }
  const checkpointDir = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  const paths = jobPaths(checkpointDir, jobId);
  await createJobDir(paths);
  const lock = await JobLock.acquire(paths);
  if (!lock) {
    throw new UsageError(
      `Cannot apply roles as job "${jobId}": another process is running it: wait for it to end`,
    );
  }
  try {
    if (await exists(paths.journal)) {
      throw new UsageError(
        `Cannot apply roles as job "${jobId}": it is an import job: give roles apply a job id of its own`,
      );
    }
    const audit = await openAuditLog(await jobAuditPath(paths));
    const recorder = await openSetupLedger(`${paths.dir}/setup.jsonl`, audit);
    const dir = checkpointDir === DEFAULT_CHECKPOINT_DIR
      ? ""
      : ` --checkpoint-dir ${checkpointDir}`;
    return {
      recorder,
      undoCommand: `workos-importer undo ${jobId}${dir}`,
      async close() {
        try {
          await audit.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
