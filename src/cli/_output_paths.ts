/**
 * Every file an import will write is created or opened before the first
 * request, so that a bad path is found at the start, named by its flag,
 * rather than after hours of writes.
 *
 * @module
 */

import type { Flags } from "./args.ts";
import { UsageError } from "./usage_error.ts";

const FILE_FLAGS = ["errors-out", "audit-out", "report"] as const;

/**
 * Opens (creating when missing, never truncating) each output file the
 * flags name, and creates the checkpoint directory of a job and proves it
 * writable.
 *
 * @param flags The parsed flags.
 * @param options `checkpointDir`: the job's checkpoint directory, for jobs.
 * @throws {UsageError} Naming the flag whose path cannot be written (exit 2).
 *
 * @example Usage
 * ```ts ignore
 * await checkOutputPaths({ "errors-out": "/no/such/dir/errors.csv" }, {});
 * // UsageError: Cannot write --errors-out "/no/such/dir/errors.csv": …
 * ```
 */
export async function checkOutputPaths(
  flags: Flags,
  options: { checkpointDir?: string },
): Promise<void> {
  for (const flag of FILE_FLAGS) {
    const path = flags[flag];
    if (path === undefined || path === "-") continue;
    // Only --plan writes a report on the import command.
    if (flag === "report" && !flags.plan) continue;
    try {
      const file = await Deno.open(path, { write: true, create: true, mode: 0o600 });
      file.close();
    } catch (error) {
      throw unwritable(`--${flag}`, path, error);
    }
  }
  const dir = options.checkpointDir;
  if (dir === undefined) return;
  const flag = "--checkpoint-dir";
  try {
    const found = await Deno.stat(dir).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    });
    if (found && !found.isDirectory) throw new Error("it is a file, not a directory");
    if (!found) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = await Deno.makeTempFile({ dir, prefix: ".write-check-" });
    await Deno.remove(probe);
  } catch (error) {
    throw unwritable(flag, dir, error);
  }
}

function unwritable(flag: string, path: string, error: unknown): Error {
  // Deno's own permission errors already say which --allow flag to add.
  if (error instanceof Deno.errors.NotCapable) return error;
  const detail = error instanceof Error ? error.message.replace(/: '.*'$|, \w+ '.*'$/, "") : "";
  return new UsageError(
    `Cannot write ${flag} "${path}": ${detail || String(error)}: choose a path you can write`,
  );
}
