/**
 * `workos-importer convert --from <source> --input <file> --out <dir>`:
 * writes a migration package instead of importing.
 *
 * @module
 */

import type { CommandSpec, Flags } from "./args.ts";
import type { Console } from "./environment.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { delimiterOf, sourceOptionsOf } from "./import_command.ts";
import { checkInputFile } from "./input_check.ts";
import { drawBox } from "../report/summary.ts";

/** `workos-importer convert`. */
export const convertCommand: CommandSpec = {
  name: "convert",
  summary: "write a migration package to review instead of importing",
  usage: ["convert --from <source> --input <file> --out <dir>"],
  flags: [
    "input",
    "format",
    "delimiter",
    "from",
    "password-hashes",
    "hash-config",
    "map",
    "out",
    "json",
  ],
  notes: [
    "The package holds password hashes and TOTP secrets: its files are owner-only.",
    "Exit codes: 0 every user converted, 1 some were skipped (see skipped_users.jsonl), 2 usage or input error.",
  ],
  run: ({ flags, positionals, console }) => runConvertCommand(positionals, flags, console),
};

/**
 * Runs `convert` from parsed flags.
 *
 * @param positionals Arguments after `convert` (none).
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * await runConvertCommand([], { from: "auth0", input: "users.json", out: "pkg" }, systemConsole);
 * ```
 */
export async function runConvertCommand(
  positionals: readonly string[],
  flags: Flags,
  console: Console,
): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": give the input with --input <file>`,
    );
  }
  const path = flags.input;
  if (path === undefined) {
    throw new UsageError("Cannot convert: no input given: add --input <file>");
  }
  const out = flags.out;
  if (out === undefined) {
    throw new UsageError("Cannot convert: no package directory given: add --out <dir>");
  }
  const existing = await Deno.stat(`${out}/manifest.json`).then(() => true, () => false);
  if (existing) {
    throw new UsageError(
      `Cannot convert into "${out}": it holds a package already: give another --out, or remove it`,
    );
  }
  const { format, provider, columnMap } = sourceOptionsOf(flags);
  const delimiter = delimiterOf(flags);
  await checkInputFile(path, { flag: "--input", format, delimiter, provider, columnMap });
  // Loaded when convert runs, not with the CLI (issue 16: a dry run's memory floor).
  const { convertToPackage } = await import("../pipeline/convert_export.ts");
  const result = await convertToPackage(path, { out, format, delimiter, provider, columnMap });
  const say = flags.json ? console.error : console.log;
  say(drawBox([
    `Migration package written to "${out}"`,
    `Rows read: ${result.totalRows}`,
    `Users: ${result.users}`,
    `Organizations: ${result.organizations}`,
    `Memberships: ${result.memberships}`,
    `TOTP secrets: ${result.totpSecrets}`,
    `Warnings: ${result.warnings}`,
    `Skipped users: ${result.skippedUsers} (skipped_users.jsonl)`,
  ]));
  if (flags.json) console.log(JSON.stringify({ out, ...result }));
  return result.skippedUsers > 0 ? ExitCode.Failure : ExitCode.Success;
}
