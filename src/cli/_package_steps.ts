// The steps of a migration package that come before its users, as one job
// with them: the organizations of organizations.csv, then the role
// definitions of role_definitions.csv (created when missing, left when they
// match, reported when they differ), then the users, memberships, role
// assignments and TOTP factors through the import pipeline. Every session of
// a job runs the steps again: what exists is adopted, and the job's setup
// ledger (beside its journal) tells a create an earlier session made before a
// SIGKILL from someone else's, so undo takes it back. A dry run checks the
// files; a plan reads the tenant and says what would be created.

import { formatCount } from "../report/_format.ts";
import type { Console } from "./environment.ts";
import type { ImportUsersOptions } from "../pipeline/import_users.ts";
import type { ImportJournal } from "../journal/store.ts";
import { claimOrganization } from "../pipeline/job_ownership.ts";
import { openAuditLog } from "../report/audit_log.ts";
import type { WorkOSClient } from "../workos/client.ts";
import { connectWorkOS } from "../workos/connect.ts";
import { totpUsers } from "../input/package/totp_users.ts";
import {
  checkPackage,
  PACKAGE_FILES,
  type PackageFacts,
  SSO_FILES,
} from "../input/package/layout.ts";
import { readRoleDefinitions, type RoleDefinitionsFile } from "../roles/role_definitions.ts";
import { applyRoleDefinitions, roleKey, type RoleResult } from "../roles/apply_roles.ts";
import {
  ensurePackageOrganizations,
  organizationKey,
  type OrganizationResult,
  readPackageOrganizations,
} from "../roles/package_organizations.ts";
import { openSetupLedger } from "../roles/setup_ledger.ts";
import { findUserByEmail } from "../workos/users.ts";
import { findTotpFactor } from "../workos/auth_factors.ts";
import { roleResultLine } from "./roles_command.ts";

/** Where and how the steps run. */
export interface PackageStepsContext {
  /** The import's options (key, URL, retries, dry run). */
  options: ImportUsersOptions;
  /** Read the tenant and say what would be created. */
  plan?: boolean;
  /** The job's directory, for its setup ledger; none outside a job. */
  jobDir?: string;
  /** Where creates are recorded for undo (the job's audit log, or --audit-out). */
  auditPath?: string;
  /** Per-organization and per-role lines. */
  quiet?: boolean;
  /**
   * The job's journal: the organizations the steps made are noted in it, so
   * the rows never count them as made by a session a crash cut off.
   */
  journal?: Pick<ImportJournal, "addOrganizationClaim">;
  /** Where lines go. */
  say(line: string): void;
}

/** What the steps did, for the summary box, the JSON summary and the exit code. */
export interface PackageStepsResult {
  /** Lines for the summary box. */
  lines: Array<[string, string]>;
  /** Organizations the job created (every session of a job). */
  organizationsCreated: number;
  /** Organizations and role definitions that failed or could not be read. */
  failures: number;
  /** The JSON summary's `package` object. */
  json: Record<string, number>;
}

/** A package's source for the import command: what it says first, its steps and summary lines. */
export interface PackageSource {
  facts: PackageFacts;
  /** What the package holds, before anything runs. */
  introLines: string[];
  /** The package's own findings, for the summary box. */
  summaryLines: Array<[string, string]>;
  /** Runs the steps before the users. */
  prepare(context: PackageStepsContext): Promise<PackageStepsResult>;
  /** The rows of role_definitions.csv that cannot be applied, as lines (for `validate`). */
  definitionProblems(): Promise<string[]>;
}

function n(value: number | undefined): string {
  return formatCount(value ?? 0);
}

/**
 * Checks a package and returns its steps.
 *
 * @param dir The package directory (absolute).
 * @returns The package's facts, lines and steps.
 */
export async function packageSource(dir: string): Promise<PackageSource> {
  const facts = await checkPackage(dir);
  return {
    facts,
    introLines: introLines(facts),
    summaryLines: findingLines(facts),
    prepare: (context) => runPackageSteps(facts, context),
    async definitionProblems() {
      const lines: string[] = [];
      const { problems } = await readDefinitions(facts, (line) => lines.push(line));
      for (const problem of problems) {
        lines.push(`✗ ${PACKAGE_FILES.roleDefinitions} row ${problem.row}: ${problem.message}`);
      }
      return lines;
    },
  };
}

/**
 * Whether the options import a package (a resumed `import-package` job).
 *
 * @param options The import's options.
 * @returns The package directory, or `undefined`.
 */
export function packageDirOf(options: ImportUsersOptions): string | undefined {
  return options.provider?.from === "package" ? options.provider.packageDir : undefined;
}

/** Prints the package's lines, for a job resumed by `workos-importer --resume`. */
export function sayIntro(source: PackageSource, console: Console, json: boolean): void {
  const say = json ? console.error : console.log;
  for (const line of source.introLines) say(line);
}

async function runPackageSteps(
  facts: PackageFacts,
  context: PackageStepsContext,
): Promise<PackageStepsResult> {
  const { options, say } = context;
  const result: PackageStepsResult = { lines: [], organizationsCreated: 0, failures: 0, json: {} };
  const file = await readDefinitions(facts, (line) => {
    say(line);
    result.failures++;
  });
  for (const problem of file.problems) {
    say(`✗ ${PACKAGE_FILES.roleDefinitions} row ${problem.row}: ${problem.message}`);
  }
  result.failures += file.problems.length;
  const totpEmails = await totpUsers(facts);
  const factors = totpEmails.length;

  if (options.dryRun) {
    result.lines.push(
      ["Role definitions valid", n(file.definitions.length)],
      ["Role definitions invalid", n(file.problems.length)],
      ["TOTP factors to enroll", n(factors)],
    );
    result.json = {
      roleDefinitionsValid: file.definitions.length,
      roleDefinitionsInvalid: file.problems.length,
      factorsToEnroll: factors,
    };
    return result;
  }

  const planned = context.plan ?? false;
  // The import's own client settings: its spread budget, retries and timeout.
  const client = connectWorkOS({
    apiKey: options.apiKey as string,
    apiUrl: options.apiUrl,
    rateLimit: options.rateLimit,
    maxRetries: options.maxRetries,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const audit = planned || context.auditPath === undefined
    ? undefined
    : await openAuditLog(context.auditPath);
  try {
    const recorder = planned ? undefined : await openSetupLedger(
      context.jobDir === undefined ? undefined : `${context.jobDir}/setup.jsonl`,
      audit,
    );
    const createdBefore = new Set(recorder?.created ?? []);

    const organizations = facts.paths.organizations === undefined
      ? []
      : await readPackageOrganizations(facts.paths.organizations);
    const orgResults = await ensurePackageOrganizations(client, organizations, {
      plan: planned,
      recorder,
      onResult: (org) => {
        if (!context.quiet || org.action === "failed") {
          const line = organizationLine(org, planned);
          if (line) say(line);
        }
      },
    });
    const plannedOrganizations = new Set(
      orgResults.flatMap((org) =>
        org.action === "created" && org.organization.externalId !== undefined
          ? [org.organization.externalId]
          : []
      ),
    );

    const roles = await applyRoleDefinitions(client, file.definitions, {
      plan: planned,
      recorder,
      plannedOrganizations,
      onResult: (role) => {
        if (!context.quiet || role.action === "failed" || role.action === "differs") {
          say(`${roleResultLine(role, planned)}`);
        }
      },
    });

    for (const org of orgResults) {
      const externalId = org.organization.externalId;
      if (org.id === undefined || externalId === undefined) continue;
      if (!recorder?.created.has(organizationKey(externalId))) continue;
      if (context.journal) {
        claimOrganization(context.journal, {
          id: org.id,
          name: org.organization.name ?? externalId,
          externalId,
          createdAtMs: 0,
        });
      }
    }
    const orgFailures = orgResults.filter((org) => org.action === "failed").length;
    result.failures += orgFailures + roles.failures;
    const createdNow = (prefix: string) =>
      recorder === undefined
        ? undefined
        : [...recorder.created].filter((key) => key.startsWith(prefix)).length;
    // A job counts what any of its sessions created; a later session finds those as matching.
    const earlier = (role: RoleResult) =>
      createdBefore.has(roleKey(role.definition.slug, role.organizationId));
    const organizationsCreated = createdNow("organization:") ??
      orgResults.filter((org) => org.action === "created").length;
    const rolesCreated = createdNow("role:") ?? roles.rolesCreated;
    const rolesMatching = roles.results.filter((role) =>
      role.action === "matches" && !earlier(role)
    )
      .length;
    const permissionsCreated = createdNow("permission:") ?? roles.permissionsCreated;
    result.organizationsCreated = organizationsCreated;
    const verb = planned ? "to create" : "created";
    result.lines.push(
      [`Roles ${verb}`, n(rolesCreated)],
      ["Roles matching", n(rolesMatching)],
      ["Roles differing (left as is)", n(roles.rolesDiffering)],
      [`Permissions ${verb}`, n(permissionsCreated)],
    );
    if (result.failures > 0) {
      result.lines.push(["Organizations and role definitions failed", n(result.failures)]);
    }
    let factorsToEnroll = factors;
    if (!planned) result.lines.push(["TOTP secrets", n(factors)]);
    else if (factors > PLANNED_FACTOR_LOOKUPS) {
      result.lines.push(["TOTP factors to enroll (at most)", n(factors)]);
    } else {
      // The users who have a TOTP factor already get none.
      const already = await usersWithTotp(client, totpEmails);
      factorsToEnroll = factors - already;
      result.lines.push(["TOTP factors to enroll", n(factorsToEnroll)]);
      if (already > 0) result.lines.push(["TOTP factors already there", n(already)]);
    }
    result.json = {
      organizationsCreated,
      rolesCreated,
      rolesMatching,
      rolesDiffering: roles.rolesDiffering,
      permissionsCreated,
      failures: result.failures,
      factorsToEnroll,
    };
    if (planned) {
      say("Package plan (nothing was written):");
      say(`  Organizations to create: ${n(organizationsCreated)}`);
      for (const [label, value] of result.lines) say(`  ${label}: ${value}`);
    }
    return result;
  } finally {
    await audit?.close();
  }
}

/** role_definitions.csv, read and checked; a file that cannot be read is told and empty. */
async function readDefinitions(
  facts: PackageFacts,
  unreadable: (line: string) => void,
): Promise<RoleDefinitionsFile> {
  const path = facts.paths.roleDefinitions;
  if (path === undefined) return { definitions: [], problems: [] };
  try {
    return await readRoleDefinitions(path);
  } catch (error) {
    // The header was checked with the package: what is left is its content.
    unreadable(`✗ ${PACKAGE_FILES.roleDefinitions}: ${(error as Error).message}`);
    return { definitions: [], problems: [] };
  }
}

function organizationLine(result: OrganizationResult, planned: boolean): string | undefined {
  const org = result.organization;
  const name = `organization "${org.externalId ?? org.id}"`;
  switch (result.action) {
    case "created":
      return planned
        ? `· ${PACKAGE_FILES.organizations} row ${org.row}: would create ${name}`
        : `✓ ${PACKAGE_FILES.organizations} row ${org.row}: created ${name} (${result.id})`;
    case "exists":
      return `= ${PACKAGE_FILES.organizations} row ${org.row}: ${name} exists (${result.id})`;
    case "failed":
      return `✗ ${PACKAGE_FILES.organizations} row ${org.row}: cannot create ${name}: ${result.detail}`;
    default:
      return undefined;
  }
}

/** A plan looks up at most this many users with a TOTP secret (two reads each). */
const PLANNED_FACTOR_LOOKUPS = 1_000;

/** How many of these users exist in WorkOS with a TOTP factor. */
async function usersWithTotp(client: WorkOSClient, emails: readonly string[]): Promise<number> {
  let count = 0;
  for (const email of emails) {
    const user = await findUserByEmail(client, email);
    if (user && await findTotpFactor(client, user.id)) count++;
  }
  return count;
}

/** What the package holds, before the import starts. */
function introLines(facts: PackageFacts): string[] {
  const { manifest, counts } = facts;
  const tenant = typeof manifest.sourceTenant === "string" ? ` (${manifest.sourceTenant})` : "";
  const lines = [
    `Package from ${manifest.provider}${tenant}, generated ${manifest.generatedAt}: ${
      n(counts.users)
    } user rows, ${n(counts.organizations)} organizations, ${n(counts.memberships)} memberships, ${
      n(counts.roleDefinitions)
    } role definitions, ${n(counts.userRoleAssignments)} role assignments, ${
      n(counts.totpSecrets)
    } TOTP secrets`,
  ];
  for (const key of SSO_FILES) {
    if (facts.paths[key] === undefined) continue;
    const rows = counts[key];
    if (rows === 0) continue;
    lines.push(
      `SSO hand-off, not imported: ${PACKAGE_FILES[key]}${
        rows === undefined ? "" : `: ${n(rows)} row(s)`
      }: set these up in the WorkOS dashboard`,
    );
  }
  return lines;
}

/** The package's own findings, for the summary box. */
function findingLines(facts: PackageFacts): Array<[string, string]> {
  const { counts } = facts;
  const lines: Array<[string, string]> = [];
  const sso = SSO_FILES.filter((key) => facts.paths[key] !== undefined && counts[key] !== 0);
  if (sso.length > 0) lines.push(["SSO files (hand-off only)", n(sso.length)]);
  if (counts.warnings) lines.push(["Exporter warnings", `${n(counts.warnings)} (warnings.jsonl)`]);
  if (counts.skippedUsers) {
    lines.push(["Users the exporter skipped", `${n(counts.skippedUsers)} (skipped_users.jsonl)`]);
  }
  return lines;
}
