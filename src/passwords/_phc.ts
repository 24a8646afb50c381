/**
 * PHC strings (`$id$v=…$params$salt$hash`) for WorkOS's `scrypt`, `pbkdf2`
 * and `argon2`: read leniently (padded, URL-safe or hex salt and hash are
 * put right), checked against WorkOS's documented ranges, and written back in
 * the strict form WorkOS wants (unpadded standard base64).
 *
 * @module
 */

import { decodeBase64, decodeHex, encodePhcBase64 } from "./_encoding.ts";
import { formatCount } from "../report/_format.ts";
import { type HashPreparation, hashProblem, NO_HASH_FIX, type WorkOSHashType } from "./_types.ts";

/** A PHC string taken apart, with salt and hash as bytes. */
export interface PhcParts {
  id: string;
  version?: number;
  /** Parameters in their written order, values as text. */
  params: [string, string][];
  salt: Uint8Array;
  hash: Uint8Array;
}

/** The outcome of {@linkcode readPhc}. */
export type PhcReading = { ok: true; parts: PhcParts } | {
  ok: false;
  reason: string;
};

/**
 * What PHC allows in an id, a parameter's name and a parameter's value: the
 * checks of @phc/format's `serialize`, which this module's writer replaces.
 * Loading an npm package starts Deno's Node compatibility layer, several MiB
 * that every `validate` and dry run paid for this one function
 * (`tests/passwords_test.ts` holds the writer to the package's output).
 */
const PHC_ID = /^[a-z0-9-]{1,32}$/;
const PHC_NAME = /^[a-z0-9-]{1,32}$/;
const PHC_VALUE = /^[a-zA-Z0-9/+.-]+$/;

const PBKDF2_DIGEST_BYTES: Record<string, number> = { sha256: 32, sha512: 64 };

/**
 * Takes a PHC string apart. Salt and hash may be padded, URL-safe or (for the
 * hash, when its length says so) hex.
 *
 * @param text The hash text.
 * @returns The parts, or why it is not a PHC string.
 *
 * @example A padded salt is read
 * ```ts
 * import { readPhc } from "./_phc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const reading = readPhc("$pbkdf2$i=600000,d=sha256$c2FsdA==$aGFzaA");
 * equal(reading.ok && reading.parts.salt.length, 4);
 * ```
 */
export function readPhc(text: string): PhcReading {
  const fields = text.split("$");
  if (fields[0] !== "" || fields.length < 4) {
    return { ok: false, reason: "it is not a PHC string ($id$params$salt$hash)" };
  }
  const id = fields[1];
  let index = 2;
  let version: number | undefined;
  const versionMatch = fields[index]?.match(/^v=(\d+)$/);
  if (versionMatch) {
    version = Number(versionMatch[1]);
    index++;
  }
  if (fields.length !== index + 3) {
    return {
      ok: false,
      reason: `it has ${fields.length - 1} "$"-separated parts where a PHC string has ${
        index + 2
      } ($${id}${version === undefined ? "" : "$v=…"}$params$salt$hash)`,
    };
  }
  const params: [string, string][] = [];
  for (const pair of fields[index].split(",")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) return { ok: false, reason: "its parameters are not name=value pairs" };
    params.push([pair.slice(0, equals), pair.slice(equals + 1)]);
  }
  const saltText = fields[index + 1];
  const hashText = fields[index + 2];
  const salt = decodeBase64(saltText);
  if (salt === undefined || salt.length === 0) {
    return { ok: false, reason: "its salt is not base64" };
  }
  const hash = decodeHashField(id, params, hashText);
  if (hash === undefined || hash.length === 0) {
    return { ok: false, reason: "its hash is not base64" };
  }
  return { ok: true, parts: { id, version, params, salt, hash: hash.bytes } };
}

function decodeHashField(
  id: string,
  params: [string, string][],
  text: string,
): { bytes: Uint8Array; length: number } | undefined {
  // Hex is recognized only where the expected length makes it unambiguous.
  const expected = id === "pbkdf2"
    ? PBKDF2_DIGEST_BYTES[param(params, "d") ?? ""]
    : id === "scrypt"
    ? Number(param(params, "kl"))
    : undefined;
  if (expected && text.length === expected * 2) {
    const bytes = decodeHex(text);
    if (bytes) return { bytes, length: bytes.length };
  }
  const bytes = decodeBase64(text);
  return bytes && { bytes, length: bytes.length };
}

function param(params: [string, string][], name: string): string | undefined {
  return params.find(([key]) => key === name)?.[1];
}

/**
 * Writes PHC parts as the strict string WorkOS takes.
 *
 * @param parts The parts.
 * @returns The PHC string.
 *
 * @example Usage
 * ```ts
 * import { writePhc } from "./_phc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const salt = new TextEncoder().encode("salt");
 * const hash = new TextEncoder().encode("hash");
 * equal(
 *   writePhc({ id: "pbkdf2", params: [["i", "600000"], ["d", "sha256"]], salt, hash }),
 *   "$pbkdf2$i=600000,d=sha256$c2FsdA$aGFzaA",
 * );
 * ```
 */
export function writePhc(parts: PhcParts): string {
  // Names or values outside PHC's alphabet give "": checkPhc reports them.
  if (!PHC_ID.test(parts.id)) return "";
  const fields = ["", parts.id];
  if (parts.version !== undefined) {
    if (!Number.isInteger(parts.version) || parts.version < 0) return "";
    fields.push(`v=${parts.version}`);
  }
  // Through an object, as @phc/format took them: a repeated name keeps its
  // last value, in the key order objects have.
  const params = Object.entries(Object.fromEntries(parts.params));
  for (const [name, value] of params) {
    if (!PHC_NAME.test(name) || !PHC_VALUE.test(value)) return "";
  }
  fields.push(params.map(([name, value]) => `${name}=${value}`).join(","));
  fields.push(encodePhcBase64(parts.salt), encodePhcBase64(parts.hash));
  return fields.join("$");
}

/**
 * Checks PHC parts against WorkOS's documented rules for the type and
 * writes the hash to send.
 *
 * @param type `scrypt`, `pbkdf2` or `argon2`.
 * @param parts The parts.
 * @returns The hash to send, or the problem (naming the parameter).
 *
 * @example An argon2 hash with too little memory
 * ```ts
 * import { checkPhc, readPhc } from "./_phc.ts";
 * import { equal, match } from "node:assert/strict";
 *
 * const reading = readPhc("$argon2id$v=19$m=1024,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG");
 * if (!reading.ok) throw new Error(reading.reason);
 * const checked = checkPhc("argon2", reading.parts);
 * equal(checked.ok, false);
 * if (!checked.ok) match(checked.problem.reason, /m=1024/);
 * ```
 */
export function checkPhc(type: WorkOSHashType, parts: PhcParts): HashPreparation {
  const problem = type === "pbkdf2"
    ? checkPbkdf2(parts)
    : type === "scrypt"
    ? checkScrypt(parts)
    : checkArgon2(parts);
  if (problem !== undefined) {
    return hashProblem(
      "password_hash",
      `"password_hash" is ${article(type)} ${type} hash ${problem}`,
    );
  }
  const hash = writePhc(parts);
  if (hash === "") {
    return hashProblem(
      "password_hash",
      `"password_hash" is ${article(type)} ${type} hash whose parameters are not PHC text: ` +
        "use lower-case names and values of letters, digits and /+.-",
    );
  }
  return {
    ok: true,
    value: { hash, type, sourceFormat: "phc", converted: false, warnings: [] },
  };
}

function article(type: string): string {
  return type.startsWith("a") ? "an" : "a";
}

function integerParam(parts: PhcParts, name: string): number | string {
  const text = param(parts.params, name);
  if (text === undefined) return `without "${name}": add ${name}=<number>`;
  if (!/^\d{1,10}$/.test(text)) return `with ${name}=${text}: it must be a whole number`;
  return Number(text);
}

function range(
  name: string,
  value: number,
  min: number,
  max: number,
  unit = "",
): string | undefined {
  if (value >= min && value <= max) return undefined;
  return `with ${name}=${value}: WorkOS accepts ${name} from ${formatCount(min)} to ${
    formatCount(max)
  }${unit}: ${NO_HASH_FIX}`;
}

function unknownParams(parts: PhcParts, known: string[]): string | undefined {
  const extra = parts.params.find(([name]) => !known.includes(name));
  return extra
    ? `with an unknown parameter "${extra[0]}": keep only ${known.join(", ")}`
    : undefined;
}

function checkPbkdf2(parts: PhcParts): string | undefined {
  if (parts.version !== undefined) return "with a version: pbkdf2 PHC strings have none";
  const digest = param(parts.params, "d");
  if (digest === undefined) return 'without "d": add d=sha256 or d=sha512';
  if (!(digest in PBKDF2_DIGEST_BYTES)) {
    return `with d=${digest}: WorkOS takes d=sha256 or d=sha512 only: ${NO_HASH_FIX}`;
  }
  const iterations = integerParam(parts, "i");
  if (typeof iterations === "string") return iterations;
  const problem = digest === "sha256"
    ? range("i", iterations, 600_000, 1_000_000, " for sha256")
    : range("i", iterations, 210_000, 1_000_000, " for sha512");
  return problem ?? unknownParams(parts, ["i", "d"]);
}

function checkScrypt(parts: PhcParts): string | undefined {
  if (parts.version !== undefined && parts.version !== 1) {
    return `with v=${parts.version}: scrypt PHC strings have v=1 or none`;
  }
  // passlib and others write log2(N) as "ln".
  const ln = param(parts.params, "ln");
  if (ln !== undefined && param(parts.params, "n") === undefined) {
    if (!/^\d{1,2}$/.test(ln) || Number(ln) < 1 || Number(ln) > 30) {
      return `with ln=${ln}: it must be a whole number from 1 to 30`;
    }
    parts.params = parts.params.map(([name, value]) =>
      name === "ln" ? ["n", String(2 ** Number(ln))] : [name, value]
    );
  }
  const n = integerParam(parts, "n");
  if (typeof n === "string") return n;
  if (n < 2 || (n & (n - 1)) !== 0) return `with n=${n}: n must be a power of 2`;
  for (const name of ["r", "p"]) {
    const value = integerParam(parts, name);
    if (typeof value === "string") return value;
    if (value < 1) return `with ${name}=${value}: it must be at least 1`;
  }
  const kl = param(parts.params, "kl");
  if (kl === undefined) {
    // The key length is the hash's length: say it, as WorkOS's format has it.
    parts.params.push(["kl", String(parts.hash.length)]);
  } else if (Number(kl) !== parts.hash.length) {
    return `with kl=${kl} but a hash of ${parts.hash.length} bytes: make kl the hash's length`;
  }
  return unknownParams(parts, ["n", "r", "p", "kl"]);
}

function checkArgon2(parts: PhcParts): string | undefined {
  if (!["argon2id", "argon2i", "argon2d"].includes(parts.id)) {
    return `of variant "${parts.id}": use argon2id, argon2i or argon2d`;
  }
  if (parts.version === undefined) return 'without "v=19": WorkOS takes version 19 only';
  if (parts.version !== 19) {
    return `with v=${parts.version}: WorkOS takes version 19 only: ${NO_HASH_FIX}`;
  }
  const m = integerParam(parts, "m");
  if (typeof m === "string") return m;
  const memory = range("m", m, 4_096, 262_144, " KiB");
  if (memory) return memory;
  const t = integerParam(parts, "t");
  if (typeof t === "string") return t;
  const time = parts.id === "argon2i" ? range("t", t, 3, 5, " for argon2i") : range("t", t, 1, 5);
  if (time) return time;
  const p = integerParam(parts, "p");
  if (typeof p === "string") return p;
  const lanes = range("p", p, 1, 8);
  if (lanes) return lanes;
  if (parts.salt.length < 8) {
    return `with a salt of ${parts.salt.length} bytes: argon2 salts have at least 8`;
  }
  return unknownParams(parts, ["m", "t", "p"]);
}
