/**
 * The exit codes and the typed errors a user can fix. Every layer may throw
 * these; the CLI prints their one-line message and ends with their exit
 * code, so no code ever has to guess an exit code from a message.
 *
 * @module
 */

/**
 * Exit codes, the one place they are defined.
 *
 * @example Usage
 * ```ts
 * import { ExitCode } from "./errors.ts";
 * console.log(ExitCode.Usage); // 2
 * ```
 */
export const ExitCode = {
  /** Every row imported (at least one), or the command did what it was asked. */
  Success: 0,
  /** The run completed but some rows failed, or the run failed. */
  Failure: 1,
  /** Bad flags, bad or damaged input files, missing or refused key, missing permission. */
  Usage: 2,
  /** A temporary failure (an outage, local I/O): run the same command again later. */
  Temporary: 75,
  /** Stopped by Ctrl+C or SIGTERM. */
  Interrupted: 130,
} as const;

/** One of the {@linkcode ExitCode} values. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** Options for the user errors. */
export interface UserErrorOptions {
  /** The exit code the CLI ends with (2 unless said otherwise). */
  exitCode?: number;
  /** Text printed after the message, e.g. a command's help. */
  help?: string;
  /** The error this one explains. */
  cause?: unknown;
}

/**
 * A mistake the user can fix, printed as one line without a stack; the base
 * of {@linkcode UsageError} and {@linkcode InputError}.
 *
 * @example Usage
 * ```ts
 * import { UserError } from "./errors.ts";
 * const error = new UserError("Cannot start: the service is down: try again", { exitCode: 75 });
 * console.log(error.exitCode); // 75
 * ```
 */
export class UserError extends Error {
  /** `"UserError"`, or the subclass's name. */
  override name = "UserError";
  /** The exit code the CLI ends with. */
  readonly exitCode: number;
  /** Text printed after the message, e.g. a command's help. */
  readonly help?: string;

  /**
   * Creates the error.
   *
   * @param message One line: what is wrong and how to fix it.
   * @param options The exit code (2), help text, cause.
   */
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? ExitCode.Usage;
    if (options.help !== undefined) this.help = options.help;
  }
}

/**
 * A mistake in how the tool was called: a flag, an argument, a missing key.
 *
 * @example Usage
 * ```ts
 * import { UsageError } from "./errors.ts";
 * const error = new UsageError('Cannot use "--concurrency": "ten" is not a whole number');
 * console.log(error.exitCode); // 2
 * ```
 */
export class UsageError extends UserError {
  /** The error's name, for logs. */
  override name = "UsageError";
}

/**
 * An input the tool cannot read: a directory, an empty or binary file, a
 * header it cannot use, a damaged file. Carries its exit code (2 unless
 * said otherwise).
 *
 * @example Usage
 * ```ts
 * import { InputError } from "./errors.ts";
 * const error = new InputError('Cannot read "users.csv": it is a directory: give a file');
 * console.log(error.exitCode); // 2
 * ```
 */
export class InputError extends UserError {
  /** The error's name, for logs. */
  override name = "InputError";
}
