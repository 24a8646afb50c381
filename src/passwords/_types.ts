/**
 * The shapes every part of the password-hash module shares.
 *
 * @module
 */

/**
 * The `password_hash_type` values WorkOS takes.
 *
 * @example Check a type
 * ```ts
 * import { WORKOS_HASH_TYPES } from "./_types.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(WORKOS_HASH_TYPES.includes("ssha256"));
 * ```
 */
export const WORKOS_HASH_TYPES = Object.freeze(
  ["bcrypt", "firebase-scrypt", "ssha", "ssha256", "scrypt", "pbkdf2", "argon2"] as const,
);

/** One of {@linkcode WORKOS_HASH_TYPES}. */
export type WorkOSHashType = typeof WORKOS_HASH_TYPES[number];

/** Where an `ssha`/`ssha256` hash put the salt when it hashed: after the password (default) or before. */
export type SaltPosition = "prefix" | "suffix";

/** The column a hash problem is reported against. */
export type HashColumn = "password_hash" | "password_hash_type" | "password_salt_position";

/** Why a hash cannot be sent: the column at fault and what is wrong, how to fix it. */
export interface HashProblem {
  column: HashColumn;
  /** Sentence-case detail without the row prefix; never contains the hash. */
  reason: string;
}

/** A hash ready for WorkOS's create-user call. */
export interface PreparedPasswordHash {
  /** The hash in WorkOS's format, as it will be sent. */
  hash: string;
  /** The `password_hash_type` to send. */
  type: WorkOSHashType;
  /** Set for `ssha`/`ssha256` hashes whose salt went before the password. */
  saltPosition?: SaltPosition;
  /** The format the hash came in, e.g. `"django-pbkdf2"`, `"phc"`, `"bcrypt"`. */
  sourceFormat: string;
  /** Whether the hash was rewritten into WorkOS's format. */
  converted: boolean;
  /** Things worth a look that do not stop the import (never containing the hash). */
  warnings: string[];
}

/** What {@linkcode preparePasswordHash} and {@linkcode firebaseScryptHash} return. */
export type HashPreparation =
  | { ok: true; value: PreparedPasswordHash }
  | { ok: false; problem: HashProblem };

/** The fix offered when WorkOS cannot take a hash at all. */
export const NO_HASH_FIX =
  "import this user with --invite, or without the hash and send a password reset";

/**
 * A failed {@linkcode HashPreparation}.
 *
 * @param column The column at fault.
 * @param reason What is wrong and how to fix it.
 * @returns The failure.
 *
 * @example Usage
 * ```ts
 * import { hashProblem } from "./_types.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(hashProblem("password_hash", "it is empty").ok, false);
 * ```
 */
export function hashProblem(column: HashColumn, reason: string): HashPreparation {
  return { ok: false, problem: { column, reason } };
}
