/**
 * `workos-importer import-package <dir>`: imports a migration package (the
 * directory the official WorkOS tool's exporters write, or `convert`) as one
 * job: its organizations, then its role definitions, then users.csv through
 * the one import pipeline with each user's memberships, role assignments and
 * TOTP secret joined in, so jobs, resume, dry run, plan and undo work as for
 * any input.
 *
 * @module
 */

import { resolve } from "node:path";
import type { CommandSpec, Flags } from "./args.ts";
import type { Console } from "./environment.ts";
import { runImportCommand } from "./import_command.ts";
import { UsageError } from "./usage_error.ts";

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
    "Runs, as one job: organizations.csv, role_definitions.csv (missing roles created, matching",
    "ones left, differing ones reported), then users.csv with organization_memberships.csv,",
    "user_role_assignments.csv and totp_secrets.csv joined in; SSO files are hand-off only.",
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
  // Loaded when a package is imported, not with the CLI (issue 16: a dry run's memory floor).
  const { packageSource, sayIntro } = await import("./_package_steps.ts");
  const source = await packageSource(resolve(dir));
  sayIntro(source, console, flags.json ?? false);
  return await runImportCommand({ ...flags, csv: source.facts.paths.users }, console, {
    provider: { from: "package", packageDir: source.facts.dir },
    summaryLines: source.summaryLines,
    package: source,
  });
}
