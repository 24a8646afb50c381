/**
 * One password hash from an input row, made ready for WorkOS: its type
 * detected when the row leaves it blank, the source format (Django,
 * Werkzeug, passlib, padded or hex base64) converted to WorkOS's, and every
 * documented WorkOS rule checked, so that a hash WorkOS would refuse, or one
 * that could never sign anyone in, is a row error before any request.
 *
 * @module
 */

import { decodeBase64 } from "./_encoding.ts";
import { checkPhc, readPhc } from "./_phc.ts";
import { readSourceFormat, UNSUPPORTED_TYPE_NAMES } from "./_source_formats.ts";
import {
  type HashPreparation,
  hashProblem,
  NO_HASH_FIX,
  type PreparedPasswordHash,
  type SaltPosition,
  WORKOS_HASH_TYPES,
  type WorkOSHashType,
} from "./_types.ts";
import { formatFirebaseHash, readFirebaseHash } from "./firebase.ts";

/** Options for {@linkcode preparePasswordHash}. */
export interface PreparePasswordHashOptions {
  /** The row's `password_hash_type`; blank or absent means "detect it". */
  type?: string;
  /** The row's `password_salt_position` (`prefix` or `suffix`; only for `ssha`/`ssha256`). */
  saltPosition?: string;
}

const TYPE_SET: ReadonlySet<string> = new Set(WORKOS_HASH_TYPES);
const TYPE_LIST = "bcrypt, firebase-scrypt, ssha, ssha256, scrypt, pbkdf2 or argon2";
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SSHA_DIGEST_BYTES: Record<string, number> = { ssha: 20, ssha256: 32 };

/**
 * Detects, converts and checks one password hash.
 *
 * The type comes from the hash when `type` is blank: `$2a$`/`$2b$`/`$2y$`
 * bcrypt, `$argon2id$`/`$argon2i$`/`$argon2d$`, `{SSHA}`, `{SSHA256}`,
 * `$scrypt$`, `$pbkdf2$`, `$firebase-scrypt$`, Django's `pbkdf2_sha256$…`,
 * `scrypt$…`, `argon2$…`, `bcrypt$…`, Werkzeug's `pbkdf2:sha256:<i>$…` and
 * `scrypt:<n>:<r>:<p>$…`, passlib's `$pbkdf2-sha256$…`. When `type` is set,
 * the hash must be of that type. MD5, unsalted SHA and other hashes WorkOS
 * cannot take are a problem that suggests `--invite` or a password reset.
 *
 * Problems never contain the hash.
 *
 * @param hash The row's `password_hash`.
 * @param options The row's `password_hash_type` and `password_salt_position`.
 * @returns The hash to send, or the problem with the column at fault.
 *
 * @example A Django hash becomes WorkOS's pbkdf2
 * ```ts
 * import { preparePasswordHash } from "./password_hash.ts";
 * import { equal } from "node:assert/strict";
 *
 * const result = preparePasswordHash(
 *   "pbkdf2_sha256$600000$OjmDXz1xCAXvIfnPgiApTN$xXiyTisD7390NijyCv5ICMhFW4eDuMlzypRoLGLyIvA=",
 * );
 * equal(result.ok && result.value.type, "pbkdf2");
 * equal(
 *   result.ok && result.value.hash,
 *   "$pbkdf2$i=600000,d=sha256$T2ptRFh6MXhDQVh2SWZuUGdpQXBUTg$xXiyTisD7390NijyCv5ICMhFW4eDuMlzypRoLGLyIvA",
 * );
 * ```
 *
 * @example Too few iterations is a problem naming the parameter
 * ```ts
 * import { preparePasswordHash } from "./password_hash.ts";
 * import { equal, match } from "node:assert/strict";
 *
 * const result = preparePasswordHash("pbkdf2_sha256$260000$salt$aGFzaGhhc2hoYXNoaGFzaA==");
 * equal(result.ok, false);
 * if (!result.ok) match(result.problem.reason, /i=260000: WorkOS accepts i from 600,000/);
 * ```
 */
export function preparePasswordHash(
  hash: string,
  options: PreparePasswordHashOptions = {},
): HashPreparation {
  const typeText = options.type?.trim() ?? "";
  let declared: WorkOSHashType | undefined;
  if (typeText !== "") {
    const type = typeText.toLowerCase();
    const unsupported = UNSUPPORTED_TYPE_NAMES[type];
    if (unsupported !== undefined) {
      return hashProblem(
        "password_hash_type",
        `"password_hash_type" is "${typeText}": WorkOS cannot take ${unsupported} hashes: ${NO_HASH_FIX}`,
      );
    }
    if (!TYPE_SET.has(type)) {
      return hashProblem(
        "password_hash_type",
        `"password_hash_type" is "${typeText}": use ${TYPE_LIST}, or leave it empty to detect the type from the hash`,
      );
    }
    declared = type as WorkOSHashType;
  }
  const position = readSaltPosition(options.saltPosition);
  if (typeof position === "object") return position;

  const text = hash.trim();
  const result = readHash(text, declared);
  if (!result.ok) return result;
  const value = result.value;
  if (declared !== undefined && value.type !== declared) {
    return hashProblem(
      "password_hash_type",
      `"password_hash_type" is "${typeText}" but "password_hash" is ${describeType(value)}: ` +
        "correct the type, or leave it empty to detect it",
    );
  }
  value.converted = value.hash !== text;
  if (position !== undefined) {
    if (value.type === "ssha" || value.type === "ssha256") {
      if (position === "prefix") value.saltPosition = "prefix";
    } else {
      value.warnings.push(
        `Ignoring "password_salt_position": it applies to ssha and ssha256 hashes, not ${value.type}`,
      );
    }
  }
  return result;
}

function describeType(value: PreparedPasswordHash): string {
  const source = value.sourceFormat === value.type || value.sourceFormat === "phc"
    ? ""
    : ` (${value.sourceFormat})`;
  return `${value.type === "argon2" ? "an" : "a"} ${value.type} hash${source}`;
}

function readSaltPosition(text: string | undefined): SaltPosition | undefined | HashPreparation {
  const position = text?.trim().toLowerCase() ?? "";
  if (position === "") return undefined;
  if (position === "prefix" || position === "suffix") return position;
  return hashProblem(
    "password_salt_position",
    `"password_salt_position" is "${text?.trim()}": use prefix or suffix (the default)`,
  );
}

function prepared(
  type: WorkOSHashType,
  hash: string,
  sourceFormat: string,
  warnings: string[] = [],
): HashPreparation {
  return { ok: true, value: { hash, type, sourceFormat, converted: false, warnings } };
}

function readHash(text: string, declared: WorkOSHashType | undefined): HashPreparation {
  if (text.startsWith("$firebase-scrypt$")) return readFirebase(text);
  if (/^\$2[aby]\$/.test(text)) return readBcrypt(text, "bcrypt");
  if (/^\$argon2(id|i|d)\$/.test(text)) return readPhcType("argon2", text, "phc");
  if (text.startsWith("$scrypt$")) return readPhcType("scrypt", text, "phc");
  if (text.startsWith("$pbkdf2$") && !/^\$pbkdf2\$\d+\$/.test(text)) {
    return readPhcType("pbkdf2", text, "phc");
  }
  const ssha = text.match(/^\{(SSHA|SSHA256)\}(.*)$/i);
  if (ssha) return readSsha(ssha[1].toLowerCase() as "ssha" | "ssha256", ssha[2]);

  const source = readSourceFormat(text);
  if (source?.kind === "unusable") {
    return hashProblem(
      "password_hash",
      `"password_hash" is ${source.reason}: WorkOS cannot take it: ${NO_HASH_FIX}`,
    );
  }
  if (source?.kind === "text") {
    const result = readHash(source.text, declared);
    if (result.ok) result.value.sourceFormat = source.format;
    return result;
  }
  if (source?.kind === "phc") {
    const result = checkPhc(source.type, source.parts);
    if (result.ok) result.value.sourceFormat = source.format;
    return result;
  }

  // No marker: only the declared type can say what it is.
  if (declared === "ssha" || declared === "ssha256") return readSsha(declared, text);
  if (declared === "firebase-scrypt") {
    return hashProblem(
      "password_hash",
      `"password_hash" is a bare Firebase hash: WorkOS needs it with its salt and the project's ` +
        "hash config: import from the Firebase export with --from firebase --hash-config <file>, " +
        "or write $firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…",
    );
  }
  if (declared !== undefined) {
    return hashProblem(
      "password_hash",
      `"password_hash" does not look like a ${declared} hash: expected ${EXPECTED[declared]}`,
    );
  }
  return hashProblem(
    "password_hash_type",
    `"password_hash" is in a format the importer does not recognize and "password_hash_type" is empty: ` +
      `set the type (${TYPE_LIST}) and write the hash in WorkOS's format (see docs/passwords.md)`,
  );
}

const EXPECTED: Record<WorkOSHashType, string> = {
  "bcrypt": "$2b$<cost>$<53 characters>",
  "firebase-scrypt": "$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…",
  "ssha": "{SSHA}<base64 of SHA-1 digest and salt>",
  "ssha256": "{SSHA256}<base64 of SHA-256 digest and salt>",
  "scrypt": "$scrypt$n=…,r=…,p=…,kl=…$<salt>$<hash>",
  "pbkdf2": "$pbkdf2$i=…,d=sha256$<salt>$<hash>",
  "argon2": "$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>",
};

function readBcrypt(text: string, sourceFormat: string): HashPreparation {
  const match = text.match(BCRYPT);
  if (!match) {
    return hashProblem(
      "password_hash",
      `"password_hash" is not a complete bcrypt hash: expected ${EXPECTED.bcrypt} (60 characters)`,
    );
  }
  const cost = Number(match[1]);
  if (cost < 4 || cost > 31) {
    return hashProblem(
      "password_hash",
      `"password_hash" is a bcrypt hash with cost ${match[1]}: bcrypt costs are 04 to 31`,
    );
  }
  return prepared("bcrypt", text, sourceFormat);
}

function readPhcType(type: WorkOSHashType, text: string, sourceFormat: string): HashPreparation {
  const reading = readPhc(text);
  if (!reading.ok) {
    return hashProblem("password_hash", `"password_hash" looks like ${type} but ${reading.reason}`);
  }
  const result = checkPhc(type, reading.parts);
  if (result.ok) result.value.sourceFormat = sourceFormat;
  return result;
}

function readSsha(type: "ssha" | "ssha256", body: string): HashPreparation {
  const bytes = decodeBase64(body);
  const digest = SSHA_DIGEST_BYTES[type];
  if (bytes === undefined) {
    return hashProblem("password_hash", `"password_hash" is ${type} but its body is not base64`);
  }
  if (bytes.length <= digest) {
    return hashProblem(
      "password_hash",
      `"password_hash" is ${type} with ${bytes.length} bytes: it needs the ${digest}-byte digest ` +
        "followed by the salt; without a salt WorkOS cannot take it: " + NO_HASH_FIX,
    );
  }
  const prefix = type === "ssha" ? "{SSHA}" : "{SSHA256}";
  return prepared(type, prefix + body, type);
}

function readFirebase(text: string): HashPreparation {
  const reading = readFirebaseHash(text);
  if (!reading.ok) {
    return hashProblem(
      "password_hash",
      `"password_hash" looks like firebase-scrypt but ${reading.reason}: expected ${
        EXPECTED["firebase-scrypt"]
      }`,
    );
  }
  const warnings: string[] = [];
  const { rounds, memCost } = reading.parts;
  if (rounds > 8 || memCost > 14) {
    warnings.push(
      `The firebase-scrypt hash has r=${rounds}, m=${memCost}: Firebase projects use r 1–8 and m 1–14: check the hash config`,
    );
  }
  return prepared(
    "firebase-scrypt",
    formatFirebaseHash(reading.parts),
    "firebase-scrypt",
    warnings,
  );
}
