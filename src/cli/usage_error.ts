/**
 * Errors the user can fix, as the CLI's modules import them: the exit codes
 * and typed errors live in `src/errors.ts` so that every layer can throw them.
 *
 * @module
 */

export {
  ExitCode,
  type ExitCodeValue,
  InputError,
  UsageError,
  UserError,
  type UserErrorOptions,
} from "../errors.ts";
