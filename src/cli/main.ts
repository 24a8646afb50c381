/**
 * The CLI: parses the command line, runs the command, and turns every error a
 * user can fix into one line and an exit code. Programmer errors keep their
 * stack.
 *
 * @module
 */

import { HELP, parseCommandLine } from "./args.ts";
import { type Console, isPermissionError, systemConsole } from "./environment.ts";
import { runImportCommand } from "./import_command.ts";
import { runCleanCommand, runJobsCommand, runStatusCommand } from "./job_commands.ts";
import { missingPermissionMessage } from "./permissions.ts";
import { runUndoCommand } from "./undo_command.ts";
import { runValidateCommand } from "./validate_command.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { OrganizationResolutionError } from "../organizations/organization_resolver.ts";
import { WorkOSApiError } from "../workos/client.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The tool's version, from deno.json. */
export const VERSION: string = denoJson.version;

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
  // Known before parsing, so that a flag mistake still answers in JSON.
  let json = args.includes("--json");
  try {
    const parsed = parseCommandLine(args);
    json = parsed.flags.json === true;
    if (parsed.flags.help) {
      console.log(HELP);
      return ExitCode.Success;
    }
    if (parsed.flags.version) {
      console.log(`workos-importer ${VERSION}`);
      return ExitCode.Success;
    }
    switch (parsed.command) {
      case "import":
        if (parsed.positionals.length > 0) {
          throw new UsageError(
            `Unexpected argument "${parsed.positionals[0]}": give the input with --csv <path>`,
          );
        }
        return await runImportCommand(parsed.flags, console);
      case "validate":
        return await runValidateCommand(parsed.positionals, parsed.flags, console);
      case "undo":
        return await runUndoCommand(parsed.positionals, parsed.flags, console);
      case "jobs":
        if (parsed.positionals.length > 0) {
          throw new UsageError(`Unexpected argument "${parsed.positionals[0]}": "jobs" takes none`);
        }
        return await runJobsCommand(parsed.flags, console);
      case "status":
        return await runStatusCommand(parsed.flags, parsed.positionals, console);
      case "clean":
        return await runCleanCommand(parsed.flags, parsed.positionals, console);
      default:
        throw new UsageError(`The "${parsed.command}" command is not available in this build`);
    }
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

function report(error: unknown, console: Console): number {
  if (error instanceof UsageError) {
    console.error(`Error: ${error.message}`);
    return error.exitCode;
  }
  if (isPermissionError(error)) {
    console.error(`Error: ${permissionMessage(error as Error)}`);
    return ExitCode.Usage;
  }
  if (error instanceof Deno.errors.NotFound) {
    const path = (error.message.match(/'([^']+)'|"([^"]+)"/) ?? [])[1] ?? "";
    console.error(
      `Error: Cannot find input file${path ? ` "${path}"` : ""}: check the path after --csv`,
    );
    return ExitCode.Usage;
  }
  if (error instanceof SyntaxError) {
    console.error(`Error: ${error.message}`);
    return ExitCode.Usage;
  }
  if (error instanceof OrganizationResolutionError || error instanceof WorkOSApiError) {
    const requestId = error instanceof WorkOSApiError && error.requestId
      ? ` (request ID ${error.requestId})`
      : "";
    console.error(`Error: ${error.message}${requestId}`);
    return ExitCode.Failure;
  }
  if (error instanceof TypeError && error.message.startsWith("Cannot ")) {
    console.error(`Error: ${error.message}`);
    return ExitCode.Usage;
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
