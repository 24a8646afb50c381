/**
 * The CLI: parses the command line against the commands, runs the one named,
 * and turns every error a user can fix into one line and the exit code the
 * error carries. Programmer errors keep their stack.
 *
 * @module
 */

import { commandHelp, type CommandSpec, parseCommandLine } from "./args.ts";
import { type Console, isPermissionError, systemConsole } from "./environment.ts";
import { importCommand } from "./import_command.ts";
import { cleanCommand, jobsCommand, statusCommand } from "./job_commands.ts";
import { missingPermissionMessage } from "./permissions.ts";
import { undoCommand } from "./undo_command.ts";
import { rolesCommand } from "./roles_command.ts";
import { validateCommand } from "./validate_command.ts";
import { templateCommand } from "./template_command.ts";
import { verifyLoginCommand } from "./verify_login_command.ts";
import { importPackageCommand } from "./package_command.ts";
import { convertCommand } from "./convert_command.ts";
import { ExitCode, UserError } from "./usage_error.ts";
import { OrganizationResolutionError } from "../organizations/organization_resolver.ts";
import { WorkOSApiError } from "../workos/client.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The tool's version, from deno.json. */
export const VERSION: string = denoJson.version;

/**
 * The commands, the default (`import`) first. A new command is one module
 * exporting a {@linkcode CommandSpec} and one entry here.
 */
export const COMMANDS: readonly CommandSpec[] = [
  importCommand,
  validateCommand,
  jobsCommand,
  statusCommand,
  cleanCommand,
  undoCommand,
  templateCommand,
  verifyLoginCommand,
  importPackageCommand,
  rolesCommand,
  convertCommand,
];

/**
 * Runs the CLI.
 *
 * @param args The command-line arguments, without the program name.
 * @param console Where lines go (stdout and stderr by default).
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * Deno.exit(await main(Deno.args));
 * ```
 */
export async function main(
  args: readonly string[],
  console: Console = systemConsole,
): Promise<number> {
  return await runCommandLine(args, COMMANDS, console);
}

/**
 * Runs a command line against a set of commands: the exit code is what the
 * command returns, or what the error it throws carries.
 *
 * @param args The command-line arguments, without the program name.
 * @param commands The commands; the first runs when none is named.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example A command whose error carries exit code 75
 * ```ts
 * import { runCommandLine } from "./main.ts";
 * import { UserError } from "../errors.ts";
 * const flaky = {
 *   name: "import", summary: "", usage: [], flags: [],
 *   run: () => Promise.reject(new UserError("WorkOS is down: run again later", { exitCode: 75 })),
 * };
 * const quiet = { log() {}, warn() {}, error() {} };
 * console.log(await runCommandLine([], [flaky], quiet)); // 75
 * ```
 */
export async function runCommandLine(
  args: readonly string[],
  commands: readonly CommandSpec[],
  console: Console,
): Promise<number> {
  // Known before parsing, so that a flag mistake still answers in JSON.
  let json = args.includes("--json");
  try {
    const parsed = parseCommandLine(args, commands);
    json = parsed.flags.json === true;
    if (parsed.flags.help) {
      console.log(commandHelp(parsed.command, commands));
      return ExitCode.Success;
    }
    if (parsed.flags.version) {
      console.log(`workos-importer ${VERSION}`);
      return ExitCode.Success;
    }
    return await parsed.command.run({
      flags: parsed.flags,
      positionals: parsed.positionals,
      console,
    });
  } catch (error) {
    if (!json) return report(error, console);
    // With --json stdout carries one object whatever happens, so CI can parse every outcome.
    let message = "";
    const code = report(error, {
      ...console,
      error: (line) => {
        message ||= line.split("\n")[0].replace(/^Error: /, "");
        console.error(line);
      },
    });
    console.log(JSON.stringify({ status: "error", exitCode: code, error: message }));
    return code;
  }
}

/** Prints an error as the user should see it and returns the exit code it carries. */
function report(error: unknown, console: Console): number {
  if (error instanceof UserError) {
    console.error(`Error: ${error.message}`);
    if (error.help !== undefined) console.error(`\n${error.help}`);
    return error.exitCode;
  }
  if (isPermissionError(error)) {
    console.error(`Error: ${permissionMessage(error as Error)}`);
    return ExitCode.Usage;
  }
  if (error instanceof OrganizationResolutionError || error instanceof WorkOSApiError) {
    const requestId = error instanceof WorkOSApiError && error.requestId
      ? ` (request ID ${error.requestId})`
      : "";
    console.error(`Error: ${error.message}${requestId}`);
    return ExitCode.Failure;
  }
  console.error(error instanceof Error && error.stack ? error.stack : String(error));
  return ExitCode.Failure;
}

/**
 * Rewrites Deno's permission error as the flag to add.
 *
 * @param error A `NotCapable` or `PermissionDenied` error.
 * @returns One line naming the missing permission and the flag.
 *
 * @example Usage
 * ```ts
 * import { permissionMessage } from "./main.ts";
 * const error = new Deno.errors.NotCapable(
 *   'Requires read access to "users.csv", run again with the --allow-read flag',
 * );
 * console.log(permissionMessage(error));
 * // Missing permission: read access to "users.csv": add --allow-read=users.csv
 * ```
 */
export function permissionMessage(error: Error): string {
  const match = error.message.match(/Requires (\w+) access(?: to "?([^",]+?)"?)?(?:,|$)/);
  if (!match) return `Missing permission: ${error.message}`;
  const [, kind, target] = match;
  if (target === undefined) return missingPermissionMessage(`${kind} access`, `--allow-${kind}`);
  return missingPermissionMessage(`${kind} access to "${target}"`, `--allow-${kind}=${target}`);
}
