/**
 * Least privilege: which Deno permissions a command line needs, checked
 * before any work starts, and the one line that names the flag to add when
 * one is missing.
 *
 * The check runs up front because a missing permission found mid-run is
 * worse than a refusal: without `--allow-net` every request would look like
 * a network failure and be retried, and without write access to the error
 * file users could be created whose failures are never recorded.
 *
 * @module
 */

import type { Flags } from "./args.ts";
import { UsageError } from "./usage_error.ts";
import { DEFAULT_API_URL } from "../workos/client.ts";

/** Where jobs live unless `--checkpoint-dir` says otherwise. */
const DEFAULT_CHECKPOINT_DIR = ".workos-checkpoints";

/** A Deno permission and the exact flag that grants it. */
export interface NeededPermission {
  /** What to query, e.g. `{ name: "read", path: "users.csv" }`. */
  descriptor:
    | Deno.NetPermissionDescriptor
    | Deno.ReadPermissionDescriptor
    | Deno.WritePermissionDescriptor;
  /** The flag that grants it, e.g. `--allow-read=users.csv`. */
  flag: string;
  /** What Deno calls the access, e.g. `read access to "users.csv"`. */
  access: string;
}

/** What an import touches, from its flags. */
export interface ImportNeeds {
  /** The input path; `-` (standard input) needs no permission. */
  input?: string;
  /** Other files read: `--password-hashes`, `--hash-config`, `--map` files. */
  reads?: readonly string[];
  /** The WorkOS API location; absent for a dry run. */
  apiUrl?: string;
  /** Files written: the error file, the audit log, a report. */
  writes?: readonly string[];
  /** Directories read and written: the checkpoint directory. */
  readWrites?: readonly string[];
}

/** The port a URL connects to, named even when it is the scheme's default. */
function portOf(url: URL): string {
  if (url.port) return url.port;
  return url.protocol === "http:" ? "80" : "443";
}

/**
 * The permissions an import needs, and nothing more: read of the input file
 * (none for standard input) and of the files that say how to read it, net
 * to the API host (none for a dry run), write
 * of each output file, read and write of the checkpoint directory.
 *
 * @param needs What the import touches.
 * @returns The permissions, in the order they are checked.
 *
 * @example Permissions of a file import with an error file
 * ```ts
 * import { importPermissions } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * const flags = importPermissions({
 *   input: "users.csv",
 *   apiUrl: "https://api.workos.com",
 *   writes: ["errors.csv"],
 * }).map((permission) => permission.flag);
 * assert.deepEqual(flags, [
 *   "--allow-read=users.csv",
 *   "--allow-net=api.workos.com",
 *   "--allow-write=errors.csv",
 * ]);
 * ```
 */
export function importPermissions(needs: ImportNeeds): NeededPermission[] {
  const permissions: NeededPermission[] = [];
  if (needs.input !== undefined && needs.input !== "-") {
    permissions.push(pathPermission("read", needs.input));
  }
  for (const path of needs.reads ?? []) permissions.push(pathPermission("read", path));
  if (needs.apiUrl !== undefined) {
    const url = new URL(needs.apiUrl);
    // Deno checks host and port; the flag names the host the way the user wrote it.
    permissions.push({
      descriptor: { name: "net", host: `${url.hostname}:${portOf(url)}` },
      flag: `--allow-net=${url.host}`,
      access: `net access to "${url.host}"`,
    });
  }
  for (const path of needs.writes ?? []) permissions.push(pathPermission("write", path));
  for (const path of needs.readWrites ?? []) {
    permissions.push(pathPermission("read", path), pathPermission("write", path));
  }
  return permissions;
}

/**
 * What an import run from the command line touches.
 *
 * @param input The input path (`-` for standard input).
 * @param flags The parsed flags.
 * @param apiUrl The API location from `--api-url` or `WORKOS_API_URL`, if any.
 * @returns What {@linkcode importPermissions} takes.
 *
 * @example A dry run of standard input needs nothing
 * ```ts
 * import { importNeedsOf, importPermissions } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * const needs = importNeedsOf("-", { "dry-run": true }, undefined);
 * assert.deepEqual(importPermissions(needs), []);
 * ```
 */
export function importNeedsOf(
  input: string,
  flags: Flags,
  apiUrl: string | undefined,
): ImportNeeds {
  const callsApi = flags.plan === true || flags["dry-run"] !== true;
  const writes = [flags["errors-out"], flags["audit-out"], flags.plan ? flags.report : undefined]
    .filter((path): path is string => path !== undefined && path !== "");
  const checkpointed = flags["job-id"] !== undefined || flags.resume !== undefined;
  return {
    input,
    reads: sourceFilesOf(flags),
    apiUrl: callsApi ? apiUrl ?? DEFAULT_API_URL : undefined,
    writes,
    readWrites: checkpointed ? [flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR] : [],
  };
}

/**
 * The files besides the input that say how to read it: `--password-hashes`,
 * `--hash-config`, and each `--map` that is a file rather than a
 * `source=target` pair.
 *
 * @param flags The parsed flags.
 * @returns Their paths, as given.
 *
 * @example A mapping file and a pair
 * ```ts
 * import { sourceFilesOf } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(sourceFilesOf({ map: ["columns.txt", "role=role_slug"] }), ["columns.txt"]);
 * ```
 */
export function sourceFilesOf(flags: Flags): string[] {
  const maps = (flags.map ?? []).filter((value) => !value.includes("="));
  return [flags["password-hashes"], flags["hash-config"], ...maps]
    .filter((path): path is string => path !== undefined && path !== "");
}

function pathPermission(name: "read" | "write", path: string): NeededPermission {
  return {
    descriptor: { name, path },
    flag: `--allow-${name}=${path}`,
    access: `${name} access to "${path}"`,
  };
}

/**
 * Checks permissions without prompting.
 *
 * @param permissions What the command needs.
 * @throws {UsageError} For the first one not granted, naming the flag to add (exit code 2).
 *
 * @example Nothing is missing
 * ```ts
 * import { checkPermissions } from "./permissions.ts";
 * checkPermissions([]);
 * ```
 */
export function checkPermissions(permissions: readonly NeededPermission[]): void {
  for (const permission of permissions) {
    if (Deno.permissions.querySync(permission.descriptor).state !== "granted") {
      throw new UsageError(missingPermissionMessage(permission.access, permission.flag));
    }
  }
}

/**
 * The one line for a missing permission. A compiled binary takes no Deno
 * flags at run time, so there the line says how to rebuild it instead.
 *
 * @param access What Deno calls the access, e.g. `read access to "users.csv"`.
 * @param flag The flag that grants it, e.g. `--allow-read=users.csv`.
 * @param options `standalone`: whether this is a compiled binary (from `Deno.build`).
 * @returns The message, without the `Error: ` prefix.
 *
 * @example Under `deno run` and in a compiled binary
 * ```ts
 * import { missingPermissionMessage } from "./permissions.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   missingPermissionMessage('read access to "users.csv"', "--allow-read=users.csv", {
 *     standalone: false,
 *   }),
 *   'Missing permission: read access to "users.csv": add --allow-read=users.csv',
 * );
 * assert.equal(
 *   missingPermissionMessage('net access to "api.eu.test"', "--allow-net=api.eu.test", {
 *     standalone: true,
 *   }),
 *   'Missing permission: net access to "api.eu.test": this binary was built without it: ' +
 *     "rebuild it with deno task compile --api-host=api.eu.test",
 * );
 * ```
 */
export function missingPermissionMessage(
  access: string,
  flag: string,
  options: { standalone?: boolean } = {},
): string {
  const standalone = options.standalone ?? Deno.build.standalone;
  if (!standalone) return `Missing permission: ${access}: add ${flag}`;
  const rebuild = flag.startsWith("--allow-net=")
    ? `--api-host=${flag.slice("--allow-net=".length)}`
    : flag;
  return `Missing permission: ${access}: this binary was built without it: rebuild it with deno task compile ${rebuild}`;
}
