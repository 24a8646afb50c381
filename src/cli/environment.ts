/**
 * What the CLI reads from its surroundings: the secret key (environment or
 * `.env`), and where its lines go.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { writePieces } from "../report/_json_pieces.ts";

/** Where the CLI writes lines; tests pass their own. */
export interface Console {
  /** Results: per-row lines, the summary (stdout). */
  log(line: string): void;
  /** Warnings (stderr). */
  warn(line: string): void;
  /** Errors and, with `--json`, everything but the JSON (stderr). */
  error(line: string): void;
  /**
   * One result line given in pieces (a validate report's JSON, 1.5 MB at
   * 20,000 issues), written piece by piece so that it is never one string;
   * without it, {@linkcode logPieces} logs the pieces joined.
   */
  logPieces?(pieces: Iterable<string>): void;
}

/** The process's own stdout and stderr. */
export const systemConsole: Console = {
  log: (line) => console.log(line),
  warn: (line) => console.error(line),
  error: (line) => console.error(line),
  logPieces: (pieces) => {
    writePieces(Deno.stdout, pieces);
    writePieces(Deno.stdout, ["\n"]);
  },
};

/**
 * Logs one line given in pieces: through `console.logPieces` when it has
 * one, else as one string.
 *
 * @param console Where the line goes.
 * @param pieces The line's text, in pieces.
 *
 * @example Usage
 * ```ts
 * import { logPieces } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const console = { log: (line: string) => lines.push(line), warn() {}, error() {} };
 * logPieces(console, ["{", '"a":1', "}"]);
 * assert.deepEqual(lines, ['{"a":1}']);
 * ```
 */
export function logPieces(console: Console, pieces: Iterable<string>): void {
  if (console.logPieces) console.logPieces(pieces);
  else console.log([...pieces].join(""));
}

/**
 * The WorkOS secret key: `WORKOS_SECRET_KEY` from the environment, else from
 * a `.env` file in the working directory. Only that one variable is taken
 * from the file, so it needs read access to `.env` and no more env access.
 *
 * @returns The key, or `undefined` when there is none.
 *
 * @example Usage
 * ```ts ignore
 * const key = readSecretKey();
 * ```
 */
export function readSecretKey(): string | undefined {
  const fromEnvironment = Deno.env.get("WORKOS_SECRET_KEY");
  if (fromEnvironment) return fromEnvironment;
  let text: string;
  try {
    text = Deno.readTextFileSync(".env");
  } catch (error) {
    // No .env file is the common case; a .env we may not read is treated the
    // same, since the key can come from the environment instead.
    if (error instanceof Deno.errors.NotFound || isPermissionError(error)) return undefined;
    throw error;
  }
  // Parsed, not loaded: loading would set every variable of the file, and
  // each would need its own --allow-env.
  return parseEnv(text).WORKOS_SECRET_KEY || undefined;
}

/**
 * Why a `.env` file may have gone unread: empty when it could be read,
 * else the flag to add, for the end of a "key is missing" line.
 *
 * @returns `""` or `": .env was not read: add --allow-read=.env"`.
 *
 * @example Usage
 * ```ts
 * import { envFileHint } from "./environment.ts";
 * console.log(`WORKOS_SECRET_KEY is missing${envFileHint()}`);
 * ```
 */
export function envFileHint(): string {
  const state = Deno.permissions.querySync({ name: "read", path: ".env" }).state;
  return state === "granted" ? "" : ": .env was not read: add --allow-read=.env";
}

/**
 * Whether an error is Deno refusing a permission.
 *
 * @param error Anything thrown.
 * @returns `true` for `NotCapable` and `PermissionDenied` errors.
 *
 * @example Usage
 * ```ts
 * import { isPermissionError } from "./environment.ts";
 * console.log(isPermissionError(new Deno.errors.NotCapable("Requires read access"))); // true
 * ```
 */
export function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}
