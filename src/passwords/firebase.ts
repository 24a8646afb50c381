/**
 * Firebase's modified scrypt: the project's hash config (as the Firebase
 * console shows it, or as JSON) and the WorkOS `firebase-scrypt` hash made
 * from a user's exported `passwordHash` and `salt` with it.
 *
 * @module
 */

import { decodeBase64, encodePhcBase64 } from "./_encoding.ts";
import { type HashPreparation, hashProblem } from "./_types.ts";

/** A Firebase project's password hash parameters. */
export interface FirebaseHashConfig {
  /** `base64_signer_key`, base64. */
  signerKey: string;
  /** `base64_salt_separator`, base64. */
  saltSeparator: string;
  /** `rounds` (Firebase uses 1–8). */
  rounds: number;
  /** `mem_cost` (Firebase uses 1–14). */
  memCost: number;
}

/** A hash config that cannot be used; the message names the field. */
export class FirebaseHashConfigError extends Error {
  override name = "FirebaseHashConfigError";
}

const FIELD_NAMES: Record<keyof FirebaseHashConfig | "algorithm", string[]> = {
  algorithm: ["algorithm"],
  signerKey: ["base64_signer_key", "base64signerkey", "signerkey", "signer_key"],
  saltSeparator: [
    "base64_salt_separator",
    "base64saltseparator",
    "saltseparator",
    "salt_separator",
  ],
  rounds: ["rounds"],
  memCost: ["mem_cost", "memcost", "memorycost", "memory_cost"],
};

/**
 * Reads a Firebase project's hash config: the block the Firebase console
 * shows under Authentication → Users → Password hash parameters
 * (`hash_config { algorithm: SCRYPT, base64_signer_key: …, … }`), or JSON
 * with the same fields (snake or camel case, optionally under `hash_config`
 * or `hashConfig`).
 *
 * @param text The file's text.
 * @returns The config.
 * @throws {FirebaseHashConfigError} When a field is missing or wrong.
 *
 * @example The console's block
 * ```ts
 * import { parseFirebaseHashConfig } from "./firebase.ts";
 * import { equal } from "node:assert/strict";
 *
 * const config = parseFirebaseHashConfig(`hash_config {
 *   algorithm: SCRYPT,
 *   base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
 *   base64_salt_separator: Bw==,
 *   rounds: 8,
 *   mem_cost: 14,
 * }`);
 * equal(config.rounds, 8);
 * equal(config.saltSeparator, "Bw==");
 * ```
 */
export function parseFirebaseHashConfig(text: string): FirebaseHashConfig {
  const fields = readFields(text);
  const lookup = (name: keyof typeof FIELD_NAMES): string | undefined => {
    for (const alias of FIELD_NAMES[name]) {
      const value = fields.get(alias);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const algorithm = lookup("algorithm");
  if (algorithm !== undefined && algorithm.toUpperCase() !== "SCRYPT") {
    throw new FirebaseHashConfigError(
      `Cannot use the Firebase hash config: "algorithm" is "${algorithm}": ` +
        "only Firebase's SCRYPT hashes become WorkOS firebase-scrypt hashes",
    );
  }
  const signerKey = base64Field(lookup("signerKey"), "base64_signer_key", false);
  const saltSeparator = base64Field(lookup("saltSeparator"), "base64_salt_separator", true);
  const rounds = integerField(lookup("rounds"), "rounds", 1, 8);
  const memCost = integerField(lookup("memCost"), "mem_cost", 1, 14);
  return { signerKey, saltSeparator, rounds, memCost };
}

function readFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new FirebaseHashConfigError(
        "Cannot use the Firebase hash config: it starts with { but is not JSON: check the file",
      );
    }
    collect(value, fields);
    return fields;
  }
  // The console's block: `name: value` pairs separated by commas or lines.
  const body = trimmed.replace(/^hash_config\s*\{/, "").replace(/\}\s*$/, "");
  for (const line of body.split(/[,\n]/)) {
    const match = line.match(/^\s*([A-Za-z0-9_]+)\s*[:=]\s*"?([^"]*?)"?\s*$/);
    if (match) fields.set(match[1].toLowerCase(), match[2]);
  }
  return fields;
}

function collect(value: unknown, fields: Map<string, string>): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  for (const [key, field] of Object.entries(value)) {
    const name = key.toLowerCase();
    if (name === "hash_config" || name === "hashconfig") collect(field, fields);
    else if (typeof field === "string" || typeof field === "number") {
      fields.set(name, String(field));
    }
  }
}

function base64Field(value: string | undefined, name: string, emptyOk: boolean): string {
  if (value === undefined) {
    throw new FirebaseHashConfigError(
      `Cannot use the Firebase hash config: "${name}" is missing: copy it from the Firebase console`,
    );
  }
  const bytes = decodeBase64(value.trim());
  if (bytes === undefined || (bytes.length === 0 && !emptyOk)) {
    throw new FirebaseHashConfigError(
      `Cannot use the Firebase hash config: "${name}" is not base64: copy it from the Firebase console`,
    );
  }
  return value.trim();
}

function integerField(value: string | undefined, name: string, min: number, max: number): number {
  if (value === undefined) {
    throw new FirebaseHashConfigError(
      `Cannot use the Firebase hash config: "${name}" is missing: copy it from the Firebase console`,
    );
  }
  const number = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
    throw new FirebaseHashConfigError(
      `Cannot use the Firebase hash config: "${name}" is "${value}": Firebase uses ${min} to ${max}`,
    );
  }
  return number;
}

/** A user's password fields from a Firebase `auth:export`. */
export interface FirebaseUserPassword {
  /** `passwordHash`, base64 (standard or URL-safe). */
  passwordHash: string;
  /** `salt`, base64 (standard or URL-safe). */
  salt: string;
}

/**
 * Makes the WorkOS `firebase-scrypt` hash of one exported Firebase user:
 * `$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…`, every base64 value in
 * PHC's unpadded standard base64.
 *
 * @param user The user's `passwordHash` and `salt`.
 * @param config The project's hash config ({@linkcode parseFirebaseHashConfig}).
 * @returns The hash to send, or the problem (a row error: the user's fields are not base64).
 *
 * @example Convert an exported user
 * ```ts
 * import { firebaseScryptHash } from "./firebase.ts";
 * import { equal } from "node:assert/strict";
 *
 * const result = firebaseScryptHash(
 *   { passwordHash: "aGFzaA==", salt: "c2FsdA==" },
 *   { signerKey: "a2V5", saltSeparator: "Bw==", rounds: 8, memCost: 14 },
 * );
 * equal(result.ok && result.value.hash, "$firebase-scrypt$hash=aGFzaA$salt=c2FsdA$sk=a2V5$ss=Bw$r=8$m=14");
 * ```
 */
export function firebaseScryptHash(
  user: FirebaseUserPassword,
  config: FirebaseHashConfig,
): HashPreparation {
  const hash = decodeBase64(user.passwordHash.trim());
  if (!hash || hash.length === 0) {
    return hashProblem(
      "password_hash",
      `"passwordHash" is not base64: use the value exactly as Firebase exported it`,
    );
  }
  const salt = decodeBase64(user.salt.trim());
  if (!salt || salt.length === 0) {
    return hashProblem(
      "password_hash",
      `"salt" is not base64: use the value exactly as Firebase exported it`,
    );
  }
  const signerKey = decodeBase64(config.signerKey) ?? new Uint8Array();
  const separator = decodeBase64(config.saltSeparator) ?? new Uint8Array();
  return {
    ok: true,
    value: {
      hash: formatFirebaseHash({
        hash,
        salt,
        signerKey,
        separator,
        rounds: config.rounds,
        memCost: config.memCost,
      }),
      type: "firebase-scrypt",
      sourceFormat: "firebase-export",
      converted: true,
      warnings: [],
    },
  };
}

/** The decoded fields of a `$firebase-scrypt$` hash. */
export interface FirebaseHashParts {
  hash: Uint8Array;
  salt: Uint8Array;
  signerKey: Uint8Array;
  separator: Uint8Array;
  rounds: number;
  memCost: number;
}

/**
 * Writes WorkOS's `$firebase-scrypt$` string from its decoded fields.
 *
 * @param parts The fields.
 * @returns The hash string.
 *
 * @example Usage
 * ```ts
 * import { formatFirebaseHash } from "./firebase.ts";
 * import { match } from "node:assert/strict";
 *
 * const bytes = new Uint8Array([1, 2, 3]);
 * const text = formatFirebaseHash({
 *   hash: bytes, salt: bytes, signerKey: bytes, separator: new Uint8Array([7]), rounds: 8, memCost: 14,
 * });
 * match(text, /^\$firebase-scrypt\$hash=AQID\$salt=AQID\$sk=AQID\$ss=Bw\$r=8\$m=14$/);
 * ```
 */
export function formatFirebaseHash(parts: FirebaseHashParts): string {
  return `$firebase-scrypt$hash=${encodePhcBase64(parts.hash)}$salt=${
    encodePhcBase64(parts.salt)
  }$sk=${encodePhcBase64(parts.signerKey)}$ss=${
    encodePhcBase64(parts.separator)
  }$r=${parts.rounds}$m=${parts.memCost}`;
}

/**
 * Reads a `$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…` string.
 *
 * @param text The hash text.
 * @returns The fields, or why the text is not such a hash.
 *
 * @example Usage
 * ```ts
 * import { readFirebaseHash } from "./firebase.ts";
 * import { equal } from "node:assert/strict";
 *
 * const reading = readFirebaseHash("$firebase-scrypt$hash=AQID$salt=AQID$sk=AQID$ss=Bw$r=8$m=14");
 * equal(reading.ok && reading.parts.memCost, 14);
 * ```
 */
export function readFirebaseHash(
  text: string,
): { ok: true; parts: FirebaseHashParts } | { ok: false; reason: string } {
  const fields = new Map<string, string>();
  for (const field of text.replace(/^\$firebase-scrypt\$/, "").split("$")) {
    const equals = field.indexOf("=");
    if (equals <= 0) return { ok: false, reason: "its fields are not name=value" };
    fields.set(field.slice(0, equals), field.slice(equals + 1));
  }
  const bytes: Record<string, Uint8Array> = {};
  for (const name of ["hash", "salt", "sk", "ss"]) {
    const value = fields.get(name);
    if (value === undefined) return { ok: false, reason: `it has no ${name}= field` };
    const decoded = decodeBase64(value);
    if (decoded === undefined || (decoded.length === 0 && name !== "ss")) {
      return { ok: false, reason: `its ${name}= field is not base64` };
    }
    bytes[name] = decoded;
  }
  const numbers: Record<string, number> = {};
  for (const name of ["r", "m"]) {
    const value = fields.get(name);
    if (value === undefined) return { ok: false, reason: `it has no ${name}= field` };
    if (!/^\d{1,3}$/.test(value) || Number(value) < 1) {
      return { ok: false, reason: `its ${name}= field is "${value}", not a whole number` };
    }
    numbers[name] = Number(value);
  }
  const extra = [...fields.keys()].find((name) =>
    !["hash", "salt", "sk", "ss", "r", "m"].includes(name)
  );
  if (extra) return { ok: false, reason: `it has an unknown field "${extra}"` };
  return {
    ok: true,
    parts: {
      hash: bytes.hash,
      salt: bytes.salt,
      signerKey: bytes.sk,
      separator: bytes.ss,
      rounds: numbers.r,
      memCost: numbers.m,
    },
  };
}
