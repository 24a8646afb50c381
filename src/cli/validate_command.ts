/**
 * `workos-importer validate <file> [--report report.json]`: checks every row
 * and writes nothing to WorkOS. Exits 0 only when the file can be imported
 * as it is.
 *
 * @module
 */

import { formatCount } from "../report/_format.ts";
import type { OrganizationRef } from "../types.ts";
import type { CommandSpec, Flags } from "./args.ts";
import { delimiterOf } from "./import_command.ts";
import { checkInputFile, checkOutputFile } from "./input_check.ts";
import { type Console, logPieces } from "./environment.ts";
import { jsonPieces, writePieces } from "../report/_json_pieces.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { validateFile, type ValidationReport } from "../pipeline/validate_file.ts";
import { sourceOptionsOf } from "./import_command.ts";
import { resolve } from "node:path";

/** Errors and warnings printed before pointing at the report for the rest. */
const PRINTED_ISSUES = 20;

/** `workos-importer validate <file>`. */
export const validateCommand: CommandSpec = {
  name: "validate",
  summary: "check every row, write nothing",
  usage: [
    "validate <file> [--report report.json] [--json]",
    "validate <package-dir>           a migration package: users, sidecars, role definitions",
  ],
  flags: [
    "csv",
    "input",
    "format",
    "delimiter",
    "from",
    "password-hashes",
    "hash-config",
    "map",
    "org-id",
    "org-external-id",
    "report",
    "json",
  ],
  notes: ["Exit codes: 0 every row can be imported, 1 some rows cannot, 2 usage or input error."],
  run: ({ flags, positionals, console }) => runValidateCommand(positionals, flags, console),
};

/**
 * Runs `validate` from parsed flags.
 *
 * @param positionals The arguments after `validate`: the file.
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code: 0 when the file can proceed, 1 when it cannot.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runValidateCommand(["users.csv"], { report: "report.json" }, systemConsole);
 * ```
 */
export async function runValidateCommand(
  positionals: readonly string[],
  flags: Flags,
  console: Console,
): Promise<number> {
  const given = [...positionals, flags.csv, flags.input].filter((path) => path !== undefined);
  if (given.length === 0) {
    throw new UsageError(
      'Cannot validate: no file given: run "workos-importer validate <file> [--report report.json]"',
    );
  }
  if (given.length > 1) {
    throw new UsageError(
      `Cannot validate: give one file, not ${given.map((path) => `"${path}"`).join(" and ")}`,
    );
  }
  let path = given[0] as string;
  const source = sourceOptionsOf(flags);
  const { format, columnMap } = source;
  let provider = source.provider;
  if (flags["org-id"] !== undefined && flags["org-external-id"] !== undefined) {
    throw new UsageError("Cannot use both --org-id and --org-external-id: give one");
  }
  const organization: OrganizationRef | undefined = flags["org-id"] !== undefined
    ? { kind: "id", id: flags["org-id"] }
    : flags["org-external-id"] !== undefined
    ? { kind: "external_id", externalId: flags["org-external-id"] }
    : undefined;
  const json = flags.json ?? false;
  const say = json ? console.error : console.log;
  // A migration package directory: its users.csv with the sidecars joined, and its role definitions.
  let packageProblems: string[] = [];
  if (positionals.length > 0 && provider === undefined && format === undefined) {
    if (await isPackageDir(path)) {
      // A package's steps load only for a package (issue 16: validate's memory floor).
      const { packageSource } = await import("./_package_steps.ts");
      const pkg = await packageSource(resolve(path));
      for (const line of pkg.introLines) say(line);
      packageProblems = await pkg.definitionProblems();
      path = pkg.facts.paths.users as string;
      provider = { from: "package", packageDir: pkg.facts.dir };
    }
  }
  const delimiter = delimiterOf(flags);
  const flag = positionals.length > 0 ? undefined : flags.csv !== undefined ? "--csv" : "--input";
  await checkInputFile(path, { flag, format, delimiter, verb: "validate", provider, columnMap });
  if (flags.report !== undefined) await checkOutputFile(flags.report, "--report");

  const report: ValidationReport = await validateFile(path, {
    format,
    delimiter,
    organization,
    provider,
    columnMap,
  });
  if (flags.report !== undefined) await writeReport(flags.report, report);
  for (const line of packageProblems) say(line);
  for (const line of reportLines(report, flags.report)) say(line);
  if (json) logPieces(console, jsonPieces({ ...report }));
  return report.can_proceed && packageProblems.length === 0 ? ExitCode.Success : ExitCode.Failure;
}

/** A directory with a manifest.json: a migration package (any other directory is refused as input). */
async function isPackageDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory && (await Deno.stat(`${path}/manifest.json`)).isFile;
  } catch {
    return false;
  }
}

/**
 * Writes the report as `JSON.stringify(report, null, 2)` would, a piece at a
 * time: built whole, its text and bytes (4 MB at 20,000 issues) came on top
 * of the pass's peak, at its very end.
 */
async function writeReport(path: string, report: ValidationReport): Promise<void> {
  // The report lists emails: owner-only, like error files.
  using file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
  // A file there already keeps its mode on opening: made owner-only as well.
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600);
  writePieces(file, jsonPieces({ ...report }, { indent: 2 }));
  writePieces(file, ["\n"]);
}

function reportLines(report: ValidationReport, reportPath: string | undefined): string[] {
  const lines: string[] = [];
  for (const error of report.errors.slice(0, PRINTED_ISSUES)) {
    lines.push(`✗ Row ${error.row}${error.column ? ` (${error.column})` : ""}: ${error.error}`);
  }
  for (const warning of report.warnings.slice(0, PRINTED_ISSUES)) {
    const where = warning.row === null ? "File" : `Row ${warning.row}`;
    lines.push(`! ${where}${warning.column ? ` (${warning.column})` : ""}: ${warning.warning}`);
  }
  const hidden = Math.max(0, report.errors.length - PRINTED_ISSUES) +
    Math.max(0, report.warnings.length - PRINTED_ISSUES) + report.errors_omitted +
    report.warnings_omitted;
  if (hidden > 0) {
    lines.push(
      reportPath
        ? `… and ${formatCount(hidden)} more: see "${reportPath}"`
        : `… and ${formatCount(hidden)} more: add --report report.json to see them all`,
    );
  }
  lines.push(
    `Validated "${report.file_name}": ${formatCount(report.total_rows)} rows, ` +
      `${formatCount(report.valid_rows)} valid, ${formatCount(report.error_rows)} with errors, ` +
      `${formatCount(report.duplicate_rows)} duplicates, ${
        formatCount(report.warnings.length + report.warnings_omitted)
      } warnings`,
  );
  lines.push(
    report.can_proceed
      ? "Can proceed: every row can be imported"
      : report.valid_rows === 0 && report.error_rows === 0
      ? "Cannot proceed: the file has no rows"
      : "Cannot proceed: fix the rows with errors, then validate again",
  );
  if (reportPath) lines.push(`Report written to "${reportPath}"`);
  return lines;
}
