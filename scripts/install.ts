/**
 * Puts a `workos-importer` command on the PATH from this checkout, with the
 * narrow permissions of the `import` task (net, env, read, write; no run,
 * ffi or sys) and its V8 flags (`src/cli/v8_flags.ts`), by way of
 * `deno install --global`:
 *
 * ```sh
 * deno task install                    # into ~/.deno/bin (or $DENO_INSTALL_ROOT/bin)
 * deno task install --root /opt/tools  # into /opt/tools/bin
 * ```
 *
 * The command runs the checkout's `main.ts` with its `deno.json`, so a
 * `git pull` updates it; run the task again after moving the checkout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

/** The permissions of the `import` task in deno.json, and no more. */
export const INSTALL_PERMISSIONS: readonly string[] = Object.freeze([
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
]);

/**
 * The `deno install` arguments for the command.
 *
 * @param options The checkout's root (a `file:` URL ending in `/`) and the install root.
 * @returns The arguments after `deno`.
 *
 * @example Usage
 * ```ts
 * import { installArgs } from "./install.ts";
 * import assert from "node:assert/strict";
 *
 * const args = installArgs({ checkout: new URL("file:///src/importer/"), root: "/tmp/tools" });
 * assert.deepEqual(args.slice(0, 4), ["install", "--global", "--force", "--name=workos-importer"]);
 * assert.ok(args.includes("--root=/tmp/tools"));
 * assert.ok(!args.some((arg) => arg.startsWith("--allow-run") || arg === "-A"));
 * assert.equal(args.at(-1), "/src/importer/main.ts");
 * ```
 */
export function installArgs(options: { checkout: URL; root?: string }): string[] {
  const args = [
    "install",
    "--global",
    "--force",
    "--name=workos-importer",
    `--config=${new URL("deno.json", options.checkout).pathname}`,
    ...INSTALL_PERMISSIONS,
    // The import task's V8 flags too: the command's memory is the task's.
    v8FlagsArgument(),
  ];
  if (options.root !== undefined) args.push(`--root=${options.root}`);
  args.push(new URL("main.ts", options.checkout).pathname);
  return args;
}

/**
 * Runs the script.
 *
 * @param args The script's arguments.
 * @returns The exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  let root: string | undefined;
  try {
    root = parseArgs({
      args: [...args],
      options: { root: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }).values.root;
  } catch {
    console.error(
      "Error: Cannot install: the only flag is --root <dir>: deno task install --root <dir>",
    );
    return 2;
  }
  const command = installArgs({ checkout: new URL("..", import.meta.url), root });
  const status = await new Deno.Command(Deno.execPath(), {
    args: command,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    console.error(
      `Error: Cannot install: deno ${command.join(" ")} failed (exit code ${status.code})`,
    );
    return 1;
  }
  console.error(
    `Installed: run "workos-importer --help" (with ${
      root === undefined ? "the deno install root's bin" : `"${root}/bin"`
    } on your PATH)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
