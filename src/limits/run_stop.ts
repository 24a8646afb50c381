/**
 * Run conditions: what the world does to a run (WorkOS unreachable for longer
 * than `--max-outage`, a refused API key, a local file that cannot be
 * written). They are never a row's fault: a row that meets one is left
 * unfinished (a resume runs it again) and the whole run stops, with the exit
 * code the condition carries.
 *
 * @module
 */

import { ExitCode, UserError } from "../errors.ts";

/** Which run condition stopped the run. */
export type RunStopKind = "outage" | "refused_key" | "unreachable" | "local_io";

/**
 * The run must stop: no row fails for it, no new row starts, rows in flight
 * end unfinished.
 *
 * @example Usage
 * ```ts
 * import { isRunStop, RunStopError } from "./run_stop.ts";
 * const error = new RunStopError("outage", "WorkOS unreachable for longer than 15m");
 * console.log(isRunStop(error), error.exitCode); // true 75
 * ```
 */
export class RunStopError extends UserError {
  /** `RunStopError`. */
  override name = "RunStopError";
  /** What stopped the run. */
  readonly kind: RunStopKind;

  /**
   * Makes the condition; its exit code follows from `kind`.
   *
   * @param kind What stopped the run.
   * @param message One line: what happened and what to do.
   * @param options The error behind it.
   */
  constructor(kind: RunStopKind, message: string, options: { cause?: unknown } = {}) {
    // 2 for a key to fix first; 75 (BSD EX_TEMPFAIL) for "resume later".
    super(message, {
      cause: options.cause,
      exitCode: kind === "refused_key" ? ExitCode.Usage : ExitCode.Temporary,
    });
    this.kind = kind;
  }
}

/**
 * Whether an error is a run condition rather than a row's failure.
 *
 * @param error Anything thrown.
 * @returns `true` for a {@linkcode RunStopError}.
 *
 * @example Usage
 * ```ts
 * import { isRunStop } from "./run_stop.ts";
 * console.log(isRunStop(new Error("row 3 is wrong"))); // false
 * ```
 */
export function isRunStop(error: unknown): error is RunStopError {
  return error instanceof RunStopError;
}

/**
 * A local file the run writes (journal, error file, audit log, report)
 * could not be written: the run stops at once with exit 75.
 *
 * @param path The file.
 * @param error What the write threw.
 * @returns The run condition, naming the file and the error.
 *
 * @example Usage
 * ```ts
 * import { localIoStop } from "./run_stop.ts";
 * const stop = localIoStop("errors.jsonl", new Error("No space left on device (os error 28)"));
 * console.log(stop.message);
 * // Cannot write "errors.jsonl": No space left on device (os error 28)
 * ```
 */
export function localIoStop(path: string, error: unknown): RunStopError {
  if (isRunStop(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new RunStopError("local_io", `Cannot write "${path}": ${detail}`, { cause: error });
}
