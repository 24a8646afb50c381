// What every worker that reads input on the second core (the providers'
// read worker, the pipeline's validate worker) and the main thread tell
// each other, whatever the worker does with the records: the facts of the
// opened input, warnings, the end, and errors as they cross. The host
// (_worker_host_kit.ts) and the client (_worker_channel.ts) speak it; each
// worker adds its own batches and messages.

import { InputError, UsageError, UserError } from "../errors.ts";
import type { InputFormat } from "../types.ts";

/**
 * `WORKOS_IMPORTER_READ_WORKER`: `off` reads and validates every input
 * in-thread, `on` reads every export file (and validates every CSV or
 * NDJSON file) in a worker whatever its size (tests use it).
 */
export const READ_WORKER_VARIABLE = "WORKOS_IMPORTER_READ_WORKER";

/** What an input opened up to its first record is, as it crosses from a worker. */
export interface OpenedFacts {
  format: InputFormat;
  /** The normalized CSV header; for NDJSON and providers' exports the empty array. */
  columns: string[];
  /** CSV header columns the importer will ignore. */
  unknownColumns: string[];
  /** Whether the NDJSON input starts with `{"_mode":"upsert"}`. */
  upsert: boolean;
  /** Whether a record may name an organization, when the reader knows (a provider's). */
  namesOrganizations?: boolean;
}

/** What every worker tells the main thread, besides its batches and its own answers. */
export type WorkerTells =
  | ({ type: "opened" } & OpenedFacts)
  | { type: "warning"; message: string }
  | { type: "end" }
  | { type: "error"; error: ErrorDescription };

/** What the main thread tells every worker after "open": that it is ready for more messages of batches. */
export interface PullMessage {
  type: "pull";
  messages: number;
}

/** An error thrown in a worker, as it crosses to the main thread. */
export interface ErrorDescription {
  /** The class to throw it again as. */
  kind: "InputError" | "UsageError" | "UserError" | "RangeError" | "TypeError" | "Deno" | "Error";
  /** The error's name (for `Deno`, the name of its class in `Deno.errors`). */
  name: string;
  message: string;
  exitCode?: number;
}

/**
 * An environment variable's value, trimmed and in lower case, or
 * `undefined` when it is not set or the run may not read it.
 *
 * @example The worker setting
 * ```ts
 * import { READ_WORKER_VARIABLE, workerVariable } from "./_worker_protocol.ts";
 * import { ok } from "node:assert/strict";
 *
 * const setting = workerVariable(READ_WORKER_VARIABLE);
 * ok(setting === undefined || setting === setting.toLowerCase());
 * ```
 */
export function workerVariable(name: string): string | undefined {
  const permission = Deno.permissions.querySync({ name: "env", variable: name });
  if (permission.state !== "granted") return undefined;
  return Deno.env.get(name)?.trim().toLowerCase();
}

/**
 * The part of the choice to open a file in a worker that both workers
 * share, once the worker's own conditions hold: workers exist, the setting
 * (`WORKOS_IMPORTER_READ_WORKER`) is not `off`, the run may read any file (a
 * worker loads its modules from disk with the run's own permissions); then
 * `on` says yes, and otherwise a file of at least `minBytes` on a machine of
 * two cores or more (`Infinity`: none; 0, as tests set it: every file, one
 * core or not).
 *
 * @example A file that is not there is read in-thread, which tells why
 * ```ts
 * import { workerWanted } from "./_worker_protocol.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(workerWanted("/no/such/file.csv", Infinity), Deno.env.get("WORKOS_IMPORTER_READ_WORKER") === "on");
 * ```
 */
export function workerWanted(path: string, minBytes: number): boolean {
  if (typeof Worker !== "function") return false;
  const setting = workerVariable(READ_WORKER_VARIABLE);
  if (setting === "off") return false;
  if (Deno.permissions.querySync({ name: "read" }).state !== "granted") return false;
  if (setting === "on") return true;
  if (minBytes === Infinity) return false;
  // One core has no second one to work on (tests that set 0 use a worker anyway).
  if (minBytes > 0 && navigator.hardwareConcurrency < 2) return false;
  try {
    const info = Deno.statSync(path);
    return info.isFile && info.size >= minBytes;
  } catch {
    return false;
  }
}

/**
 * An error as it crosses from the worker: its class (the importer's own,
 * the built-in ones, `Deno.errors`), its message and its exit code.
 *
 * @example Across and back
 * ```ts
 * import { describeError, reviveError } from "./_worker_protocol.ts";
 * import { InputError } from "../errors.ts";
 * import { ok } from "node:assert/strict";
 *
 * const error = reviveError(structuredClone(describeError(new InputError("Cannot read it"))));
 * ok(error instanceof InputError && error.message === "Cannot read it");
 * ```
 */
export function describeError(error: unknown): ErrorDescription {
  if (!(error instanceof Error)) {
    return { kind: "Error", name: "Error", message: String(error) };
  }
  const { message } = error;
  if (error instanceof UserError) {
    const kind = error instanceof InputError
      ? "InputError"
      : error instanceof UsageError
      ? "UsageError"
      : "UserError";
    return { kind, name: error.name, message, exitCode: error.exitCode };
  }
  for (const [name, type] of Object.entries(Deno.errors)) {
    if (error instanceof type) return { kind: "Deno", name, message };
  }
  if (error instanceof RangeError) return { kind: "RangeError", name: error.name, message };
  if (error instanceof TypeError) return { kind: "TypeError", name: error.name, message };
  return { kind: "Error", name: error.name, message };
}

/**
 * Whether a described error is one the reader throws in-thread too (the
 * importer's own errors, `Deno.errors`), to be thrown as it is; anything else
 * is a defect or a crash of a worker, whose stack stayed there.
 *
 * @example
 * ```ts
 * import { isReaderError } from "./_worker_protocol.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isReaderError({ kind: "Deno", name: "NotFound", message: "No such file" }));
 * ok(!isReaderError({ kind: "TypeError", name: "TypeError", message: "x is not a function" }));
 * ```
 */
export function isReaderError(description: ErrorDescription): boolean {
  const { kind } = description;
  return kind === "InputError" || kind === "UsageError" || kind === "UserError" || kind === "Deno";
}

/**
 * Has a worker tell what nothing in it caught (errors, unhandled
 * rejections) through `fail`, which ends the run with one line; left alone,
 * the runtime would print its stack and end the worker without a word to
 * the run.
 *
 * @example A worker's host
 * ```ts ignore
 * tellUncaught(scope, (error) => post({ type: "error", error: describeError(error) }));
 * ```
 */
export function tellUncaught(
  scope: {
    addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
  },
  fail: (error: unknown) => void,
): void {
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    fail((event as ErrorEvent).error ?? new Error((event as ErrorEvent).message));
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail((event as PromiseRejectionEvent).reason);
  });
}

/**
 * The error a {@linkcode describeError} describes, thrown on this side.
 *
 * @example A file that is not there
 * ```ts
 * import { reviveError } from "./_worker_protocol.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(reviveError({ kind: "Deno", name: "NotFound", message: "No such file" }) instanceof Deno.errors.NotFound);
 * ```
 */
export function reviveError(description: ErrorDescription): Error {
  const { kind, name, message, exitCode } = description;
  switch (kind) {
    case "InputError":
      return new InputError(message, exitCode === undefined ? {} : { exitCode });
    case "UsageError":
      return new UsageError(message, exitCode === undefined ? {} : { exitCode });
    case "UserError":
      return new UserError(message, exitCode === undefined ? {} : { exitCode });
    case "RangeError":
      return new RangeError(message);
    case "TypeError":
      return new TypeError(message);
    case "Deno": {
      const type =
        (Deno.errors as unknown as Record<string, (new (message: string) => Error) | undefined>)[
          name
        ];
      if (type !== undefined) return new type(message);
      break;
    }
  }
  const error = new Error(message);
  error.name = name;
  return error;
}
