/**
 * Errors the user can fix: printed as one line, never with a stack, and
 * carrying the exit code the CLI ends with.
 *
 * @module
 */

/** Exit codes, as documented in the README. */
export const ExitCode = {
  /** Every row imported (at least one). */
  Success: 0,
  /** Completed with errors, or failed. */
  Failure: 1,
  /** Bad flags, bad input file, missing key or permission. */
  Usage: 2,
  /** Stopped by Ctrl+C or SIGTERM. */
  Interrupted: 130,
} as const;

/**
 * A mistake in how the tool was called or set up.
 *
 * @example Usage
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * const error = new UsageError('Cannot parse "--concurrency": "ten" is not a whole number');
 * console.log(error.exitCode); // 2
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
  /** The exit code the CLI ends with. */
  readonly exitCode: number;

  /**
   * @param message One line: what is wrong and how to fix it.
   * @param options `exitCode` (2).
   */
  constructor(message: string, options: { exitCode?: number } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? ExitCode.Usage;
  }
}
