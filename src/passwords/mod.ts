/**
 * Password hashes as WorkOS takes them: detect the type, convert what other
 * systems write (Django, Werkzeug, passlib, Firebase exports, padded or hex
 * base64) into WorkOS's format, and refuse what WorkOS would refuse, naming
 * the parameter, before any request.
 *
 * @example Prepare a row's hash
 * ```ts
 * import { preparePasswordHash } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const result = preparePasswordHash("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG");
 * equal(result.ok && result.value.type, "argon2");
 * ```
 *
 * @example Convert a Firebase export with the project's hash config
 * ```ts
 * import { firebaseScryptHash, parseFirebaseHashConfig } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const config = parseFirebaseHashConfig(
 *   '{"base64_signer_key":"a2V5","base64_salt_separator":"Bw==","rounds":8,"mem_cost":14}',
 * );
 * const result = firebaseScryptHash({ passwordHash: "aGFzaA==", salt: "c2FsdA==" }, config);
 * equal(result.ok && result.value.hash, "$firebase-scrypt$hash=aGFzaA$salt=c2FsdA$sk=a2V5$ss=Bw$r=8$m=14");
 * ```
 *
 * @module
 */

export {
  type HashColumn,
  type HashPreparation,
  type HashProblem,
  type PreparedPasswordHash,
  type SaltPosition,
  WORKOS_HASH_TYPES,
  type WorkOSHashType,
} from "./_types.ts";
export { preparePasswordHash, type PreparePasswordHashOptions } from "./password_hash.ts";
export {
  type FirebaseHashConfig,
  FirebaseHashConfigError,
  firebaseScryptHash,
  type FirebaseUserPassword,
  parseFirebaseHashConfig,
} from "./firebase.ts";
