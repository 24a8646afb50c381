/**
 * Builds the `workos-importer` binary with `deno compile`, its permissions
 * baked in at their narrowest:
 *
 * ```sh
 * deno task compile                       # dist/workos-importer for this machine
 * deno task compile:all                   # every release target, plus dist/SHA256SUMS
 * deno task compile --api-host=api.eu.example.com --allow-read=/data --allow-write=/data/out
 * ```
 *
 * Flags: `--api-host` (default `api.workos.com`; the only host the binary
 * may reach), `--allow-read` and `--allow-write` (comma lists, default `.`:
 * the working directory the binary runs in), `--allow-env` (variables to
 * allow beyond the three the tool reads), `--target`, `--output`, `--all`.
 *
 * `deno compile` downloads its runtime (`denort`) from dl.deno.land; when
 * that fails the script says so, shows the command it ran, and exits 1.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

/** The targets a release ships. */
export const TARGETS: readonly string[] = Object.freeze([
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
]);

/** The environment variables the tool reads. */
export const TOOL_ENV: readonly string[] = Object.freeze([
  "WORKOS_SECRET_KEY",
  "WORKOS_API_URL",
  "NO_COLOR",
]);

/** The default and only API host a binary may reach. */
export const DEFAULT_API_HOST = "api.workos.com";

/**
 * Paths that are never part of the binary. The compile embeds only the
 * module graph of `main.ts`, so these are a guard against a future import
 * pulling them in, not a filter of anything embedded today.
 */
const NEVER_EMBEDDED = ["tests", "bench", "examples", "docs", "scripts", "dist", "node_modules"];

/** The read worker's module (src/input/providers/_worker_client.ts starts it). */
const READ_WORKER_MODULE = "src/input/providers/_read_worker.ts";

/** The validate worker's module (src/pipeline/_validate_worker_client.ts starts it). */
const VALIDATE_WORKER_MODULE = "src/pipeline/_validate_worker.ts";

/** What to build. */
export interface CompileOptions {
  /** The API host (and port, when not 443) the binary may connect to. */
  apiHost?: string;
  /** Paths the binary may read; default `["."]`, the working directory at run time. */
  allowRead?: readonly string[];
  /** Paths the binary may write; default `["."]`. */
  allowWrite?: readonly string[];
  /** Environment variables to allow beyond {@linkcode TOOL_ENV}. */
  allowEnv?: readonly string[];
  /** A `deno compile --target`; default this machine. */
  target?: string;
  /** The output file. */
  output: string;
}

/**
 * The `deno compile` arguments for a build.
 *
 * @param options What to build.
 * @returns The arguments after `deno`.
 *
 * @example The default build
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * import assert from "node:assert/strict";
 *
 * const args = compileArgs({ output: "dist/workos-importer" });
 * assert.ok(args.includes("--allow-net=api.workos.com"));
 * assert.ok(args.includes("--allow-env=WORKOS_SECRET_KEY,WORKOS_API_URL,NO_COLOR"));
 * assert.equal(args.at(-1), "main.ts");
 * ```
 */
export function compileArgs(options: CompileOptions): string[] {
  const env = [...TOOL_ENV, ...(options.allowEnv ?? []).filter((name) => !TOOL_ENV.includes(name))];
  const args = [
    "compile",
    // A binary takes no Deno flags at run time: a missing permission must
    // fail with our one-line message, never wait on a prompt in CI.
    "--no-prompt",
    `--allow-net=${options.apiHost ?? DEFAULT_API_HOST}`,
    `--allow-env=${env.join(",")}`,
    `--allow-read=${(options.allowRead ?? ["."]).join(",")}`,
    `--allow-write=${(options.allowWrite ?? ["."]).join(",")}`,
    // Everything the tool runs is embedded; it never loads code from the network.
    "--deny-import",
    "--unstable-kv",
    // Baked into the binary: V8 cannot take them once it runs (src/cli/v8_flags.ts).
    v8FlagsArgument(),
    ...NEVER_EMBEDDED.map((path) => `--exclude=${path}`),
    // A large export is read in a worker (and a file may be validated in
    // one), whose module deno compile cannot find from main.ts's imports.
    `--include=${READ_WORKER_MODULE}`,
    `--include=${VALIDATE_WORKER_MODULE}`,
  ];
  if (options.target) args.push(`--target=${options.target}`);
  args.push(`--output=${options.output}`, "main.ts");
  return args;
}

/**
 * The output file of a target in `dist/`.
 *
 * @param target A `deno compile --target`, or `undefined` for this machine.
 * @returns The path.
 *
 * @example Names
 * ```ts
 * import { outputOf } from "./compile.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(outputOf("aarch64-apple-darwin"), "dist/workos-importer-aarch64-apple-darwin");
 * assert.equal(outputOf("x86_64-pc-windows-msvc"), "dist/workos-importer-x86_64-pc-windows-msvc.exe");
 * ```
 */
export function outputOf(target: string | undefined): string {
  const windows = target === undefined ? Deno.build.os === "windows" : target.includes("windows");
  const name = target === undefined ? "workos-importer" : `workos-importer-${target}`;
  return `dist/${name}${windows ? ".exe" : ""}`;
}

/**
 * The explanation for a failed `deno compile`, or `undefined` when the
 * failure is not the runtime download.
 *
 * @param stderr What `deno compile` printed.
 * @param command The command line that ran.
 * @returns Lines to print.
 *
 * @example A failed download
 * ```ts
 * import { downloadFailure } from "./compile.ts";
 * import assert from "node:assert/strict";
 *
 * const stderr = "Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip\n" +
 *   "error: Writing deno compile executable\n    0: Setting up base binary.\n" +
 *   "    1: error sending request for url (https://dl.deno.land/...): dns error";
 * assert.match(downloadFailure(stderr, "deno compile main.ts") ?? "", /could not download/);
 * ```
 */
export function downloadFailure(stderr: string, command: string): string | undefined {
  if (!/Setting up base binary|denort-[\w-]+\.zip/.test(stderr)) return undefined;
  const url = stderr.match(/https:\/\/\S*denort-[\w-]+\.zip/)?.[0] ?? "https://dl.deno.land";
  // The deepest cause deno prints is the most specific (e.g. "Connection refused").
  const causes = stderr.split("Caused by:")[1]?.split("Stack backtrace:")[0] ?? "";
  const cause = [...causes.matchAll(/^\s+\d+: (.+)$/gm)].at(-1)?.[1];
  return [
    `Cannot build the binary: deno compile could not download its runtime (denort) from "${url}"${
      cause ? `: ${cause.trim()}` : ""
    }`,
    `Command: ${command}`,
    "Fix: build on a machine that can reach dl.deno.land (the release workflow does), or set " +
    `DENORT_BIN to a denort binary of Deno ${Deno.version.deno} for this target`,
  ].join("\n");
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The directory a build writes its output into, resolved from the project root. */
function outputDirectory(output: string): URL {
  const slash = output.lastIndexOf("/");
  const directory = slash < 0 ? "." : output.slice(0, slash + 1) || "/";
  return new URL(
    directory.endsWith("/") ? directory : `${directory}/`,
    new URL("..", import.meta.url),
  );
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Removes a directory a failed build created, when it is still empty. */
async function removeIfEmpty(url: URL): Promise<void> {
  if (Deno.permissions.querySync({ name: "write", path: url }).state !== "granted") return;
  try {
    for await (const _ of Deno.readDir(url)) return;
    await Deno.remove(url);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function build(options: CompileOptions): Promise<boolean> {
  const directory = outputDirectory(options.output);
  // deno compile makes the output's directory before it fails to download its runtime.
  const directoryExisted = await exists(directory);
  const built = await runCompile(options);
  if (!built && !directoryExisted) await removeIfEmpty(directory);
  return built;
}

async function runCompile(options: CompileOptions): Promise<boolean> {
  const args = compileArgs(options);
  const command = ["deno", ...args].map(quote).join(" ");
  console.error(`Building ${options.output}${options.target ? ` (${options.target})` : ""}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: new URL("..", import.meta.url),
    // Plain text, so that a failure can be recognized in it.
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Shown as it comes, and kept to explain a failure.
  let stderr = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    Deno.stderr.writeSync(chunk);
    stderr += decoder.decode(chunk, { stream: true });
  }
  const status = await child.status;
  if (status.success) return true;
  console.error(
    downloadFailure(stderr, command) ??
      `Cannot build the binary: deno compile failed (exit code ${status.code})\nCommand: ${command}`,
  );
  return false;
}

async function sha256(path: URL): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

function list(value: string | undefined): string[] | undefined {
  return value?.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/**
 * Runs the script.
 *
 * @param args The script's arguments.
 * @returns The exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        "api-host": { type: "string" },
        "allow-read": { type: "string" },
        "allow-write": { type: "string" },
        "allow-env": { type: "string" },
        "target": { type: "string" },
        "output": { type: "string" },
        "all": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`Error: ${(error as Error).message}: see scripts/compile.ts for the flags`);
    return 2;
  }
  const apiHost = flags["api-host"];
  if (apiHost !== undefined && !/^[\w.-]+(?::\d+)?$|^\[[0-9a-f:.]+\](?::\d+)?$/i.test(apiHost)) {
    console.error(`Error: Cannot use "--api-host": "${apiHost}" is not a host or host:port`);
    return 2;
  }
  const common = {
    apiHost,
    allowRead: list(flags["allow-read"]),
    allowWrite: list(flags["allow-write"]),
    allowEnv: list(flags["allow-env"]),
  };
  const targets = flags.all ? [...TARGETS] : [flags.target];
  const outputs: string[] = [];
  for (const target of targets) {
    const output = !flags.all && flags.output ? flags.output : outputOf(target);
    if (!(await build({ ...common, target, output }))) return 1;
    outputs.push(output);
  }
  if (flags.all) {
    const root = new URL("..", import.meta.url);
    const lines = [];
    for (const output of outputs) {
      const name = output.slice(output.lastIndexOf("/") + 1);
      lines.push(`${await sha256(new URL(output, root))}  ${name}`);
    }
    await Deno.writeTextFile(new URL("dist/SHA256SUMS", root), lines.join("\n") + "\n");
    console.error("Wrote dist/SHA256SUMS");
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
