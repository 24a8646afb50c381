/**
 * `workos-importer import-package <dir>`: imports a migration package (the
 * directory the official WorkOS tool's exporters write, or `convert`) through
 * the one import pipeline: users.csv is read as the importer's CSV with each
 * user's memberships, role assignments and TOTP secret joined in, so jobs,
 * resume, dry run, plan and undo work as for any input.
 *
 * @module
 */

import { resolve } from "node:path";
import type { CommandSpec, Flags } from "./args.ts";
import type { Console } from "./environment.ts";
import { runImportCommand } from "./import_command.ts";
import { UsageError } from "./usage_error.ts";
import {
  checkPackage,
  PACKAGE_FILES,
  type PackageFacts,
  SSO_FILES,
} from "../input/package/layout.ts";

/** `workos-importer import-package <dir>`. */
export const importPackageCommand: CommandSpec = {
  name: "import-package",
  summary: "import a migration package directory",
  usage: ["import-package <dir> [options]"],
  flags: [
    "dry-run",
    "plan",
    "on-existing",
    "require-membership",
    "invite",
    "invite-expires-days",
    "invite-rate",
    "totp-issuer",
    "concurrency",
    "rate-limit",
    "max-retries",
    "request-timeout",
    "api-url",
    "job-id",
    "resume",
    "chunk-size",
    "checkpoint-dir",
    "allow-changed-input",
    "errors-out",
    "audit-out",
    "report",
    "quiet",
    "json",
  ],
  notes: [
    "Reads manifest.json, users.csv, organizations.csv, organization_memberships.csv,",
    "user_role_assignments.csv and totp_secrets.csv; SSO files are listed as hand-off only.",
    "A job (--job-id) resumes with the command it prints, like any import.",
    "Exit codes: 0 success, 1 some rows failed, 2 usage, input or package error, 75 temporary failure, 130 interrupted.",
  ],
  run({ flags, positionals, console }) {
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'Cannot import a package: no directory given: run "workos-importer import-package <dir>"'
          : `Unexpected argument "${positionals[1]}": give one package directory`,
      );
    }
    return runImportPackageCommand(positionals[0], flags, console);
  },
};

/**
 * Runs `import-package` from parsed flags.
 *
 * @param dir The package directory.
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runImportPackageCommand("migration-auth0", { "dry-run": true }, systemConsole);
 * ```
 */
export async function runImportPackageCommand(
  dir: string,
  flags: Flags,
  console: Console,
): Promise<number> {
  const facts = await checkPackage(resolve(dir));
  const say = flags.json ? console.error : console.log;
  for (const line of packageLines(facts)) say(line);
  return await runImportCommand({ ...flags, csv: facts.paths.users }, console, {
    provider: { from: "package", packageDir: facts.dir },
    summaryLines: summaryLines(facts),
  });
}

function n(value: number | undefined): string {
  return (value ?? 0).toLocaleString("en-US");
}

/** What the package holds, before the import starts. */
function packageLines(facts: PackageFacts): string[] {
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
function summaryLines(facts: PackageFacts): Array<[string, string]> {
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
