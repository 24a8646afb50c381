/**
 * Passwords in the fake, for real: the hash formats WorkOS documents are
 * checked when a user is created or updated, the credential is kept beside
 * the user (never in its JSON or in snapshots), and password authentication
 * (`POST /user_management/authenticate`, `grant_type: "password"`) verifies
 * it with the algorithm of its type, within WorkOS's limit of 10 attempts
 * per 60 s per email.
 *
 * bcrypt, scrypt and argon2 run in hash-wasm; pbkdf2, SHA and AES in
 * node:crypto. Firebase's scrypt variant follows its published algorithm:
 * scrypt of the password with salt + salt separator (N = 2^m, r, p = 1,
 * 32 bytes), then AES-256-CTR (zero IV) of the signer key under that key.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createCipheriv, createHash, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { argon2Verify, bcryptVerify, scrypt } from "hash-wasm";
import { ApiError, fieldError } from "./_api_error.ts";

const pbkdf2Async = promisify(pbkdf2);

/** What the fake keeps to check a password: a digest of a plain one, or the imported hash. */
export type Credential =
  | { kind: "password"; salt: Uint8Array; digest: Uint8Array }
  | { kind: "hash"; type: string; hash: string; saltPosition: "prefix" | "suffix" };

// Kept beside the records, so that no snapshot, JSON answer or copy of a
// record can carry a credential.
const credentials = new WeakMap<object, Credential>();

/**
 * Gives a user its credential (or takes it away with `null`).
 *
 * @param user The stored user.
 * @param credential The new credential.
 */
export function setCredential(user: object, credential: Credential | null): void {
  if (credential === null) credentials.delete(user);
  else credentials.set(user, credential);
}

/**
 * A plain password's credential: a salted SHA-256, enough for a fake.
 *
 * @param password The password.
 * @returns The credential.
 */
export function passwordCredential(password: string): Credential {
  const salt = new Uint8Array(randomBytes(16));
  return { kind: "password", salt, digest: sha("sha256", salt, Buffer.from(password)) };
}

function sha(algorithm: string, ...parts: Uint8Array[]): Uint8Array {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function b64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

interface Phc {
  id: string;
  version?: number;
  params: Map<string, string>;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parsePhc(text: string): Phc | undefined {
  const fields = text.split("$");
  if (fields[0] !== "") return undefined;
  let index = 2;
  let version: number | undefined;
  const versionMatch = fields[index]?.match(/^v=(\d+)$/);
  if (versionMatch) {
    version = Number(versionMatch[1]);
    index++;
  }
  if (fields.length !== index + 3) return undefined;
  const b64Field = /^[A-Za-z0-9+/]+$/;
  if (!b64Field.test(fields[index + 1]) || !b64Field.test(fields[index + 2])) return undefined;
  const params = new Map<string, string>();
  for (const pair of fields[index].split(",")) {
    const [name, value, extra] = pair.split("=");
    if (!name || value === undefined || extra !== undefined) return undefined;
    params.set(name, value);
  }
  return {
    id: fields[1],
    version,
    params,
    salt: b64(fields[index + 1]),
    hash: b64(fields[index + 2]),
  };
}

function intParam(phc: Phc, name: string): number {
  const value = phc.params.get(name);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN;
}

function within(value: number, min: number, max: number): boolean {
  return value >= min && value <= max;
}

/** Why WorkOS's documented rules refuse this hash; `undefined` when they do not. */
function hashFormatProblem(type: string, hash: string): string | undefined {
  switch (type) {
    case "pbkdf2": {
      const phc = hash.startsWith("$pbkdf2$") ? parsePhc(hash) : undefined;
      if (!phc) {
        return "pbkdf2 hashes must be PHC strings: $pbkdf2$i=<iterations>,d=<digest>$<salt>$<hash>";
      }
      const digest = phc.params.get("d");
      const i = intParam(phc, "i");
      if (digest === "sha256" && within(i, 600_000, 1_000_000)) return undefined;
      if (digest === "sha512" && within(i, 210_000, 1_000_000)) return undefined;
      return "pbkdf2 needs d=sha256 with i from 600,000 to 1,000,000 or d=sha512 with i from 210,000 to 1,000,000";
    }
    case "argon2": {
      const phc = /^\$argon2(id|i|d)\$/.test(hash) ? parsePhc(hash) : undefined;
      if (!phc) {
        return "argon2 hashes must be PHC strings: $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>";
      }
      if (phc.version !== 19) return "argon2 version must be 19";
      if (!within(intParam(phc, "m"), 4_096, 262_144)) {
        return "argon2 memory must be 4096 to 262144 KiB";
      }
      const minTime = phc.id === "argon2i" ? 3 : 1;
      if (!within(intParam(phc, "t"), minTime, 5)) return `argon2 time must be ${minTime} to 5`;
      if (!within(intParam(phc, "p"), 1, 8)) return "argon2 parallelism must be 1 to 8";
      return undefined;
    }
    case "scrypt": {
      const phc = hash.startsWith("$scrypt$") ? parsePhc(hash) : undefined;
      if (!phc) return "scrypt hashes must be PHC strings: $scrypt$n=…,r=…,p=…,kl=…$<salt>$<hash>";
      if (!["n", "r", "p", "kl"].every((name) => intParam(phc, name) > 0)) {
        return "scrypt needs n, r, p and kl";
      }
      return undefined;
    }
    case "firebase-scrypt":
      return parseFirebase(hash)
        ? undefined
        : "firebase-scrypt hashes must be $firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…";
    case "ssha":
    case "ssha256": {
      const prefix = type === "ssha" ? "{SSHA}" : "{SSHA256}";
      if (!hash.startsWith(prefix)) return `${type} hashes start with ${prefix}`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Checks a create or update body's hash against WorkOS's documented formats
 * and returns the credential to keep.
 *
 * @param body The request body.
 * @returns The credential, `undefined` when the body sets none, or the 422.
 */
export function credentialOf(body: Record<string, unknown>): Credential | undefined | ApiError {
  const password = body.password;
  const hash = body.password_hash;
  const type = body.password_hash_type;
  const position = body.password_salt_position ?? "suffix";
  if (position !== "prefix" && position !== "suffix") {
    return fieldError(
      "password_salt_position",
      "password_salt_position_invalid",
      "password_salt_position must be prefix or suffix",
    );
  }
  if (typeof hash === "string" && hash !== "" && typeof type === "string") {
    const problem = hashFormatProblem(type, hash);
    if (problem) return fieldError("password_hash", "password_hash_invalid", problem);
    return { kind: "hash", type, hash, saltPosition: position };
  }
  if (typeof password === "string" && password !== "") return passwordCredential(password);
  return undefined;
}

interface FirebaseFields {
  hash: Uint8Array;
  salt: Uint8Array;
  signerKey: Uint8Array;
  separator: Uint8Array;
  rounds: number;
  memCost: number;
}

function parseFirebase(text: string): FirebaseFields | undefined {
  if (!text.startsWith("$firebase-scrypt$")) return undefined;
  const fields = new Map<string, string>();
  for (const field of text.slice("$firebase-scrypt$".length).split("$")) {
    const equals = field.indexOf("=");
    if (equals <= 0) return undefined;
    fields.set(field.slice(0, equals), field.slice(equals + 1));
  }
  const [hash, salt, sk, ss, r, m] = ["hash", "salt", "sk", "ss", "r", "m"].map((name) =>
    fields.get(name)
  );
  if (!hash || !salt || !sk || ss === undefined || !r || !m) return undefined;
  if (!/^\d+$/.test(r) || !/^\d+$/.test(m) || Number(m) > 20) return undefined;
  return {
    hash: b64(hash),
    salt: b64(salt),
    signerKey: b64(sk),
    separator: b64(ss),
    rounds: Number(r),
    memCost: Number(m),
  };
}

/**
 * Whether a password matches a credential, computed with the credential's
 * own algorithm and parameters.
 *
 * @param credential The stored credential.
 * @param password The password given.
 * @returns `true` when it matches.
 */
export async function verifyPassword(credential: Credential, password: string): Promise<boolean> {
  const given = new Uint8Array(Buffer.from(password));
  if (credential.kind === "password") {
    return same(sha("sha256", credential.salt, given), credential.digest);
  }
  const { type, hash } = credential;
  try {
    switch (type) {
      case "bcrypt":
        return await bcryptVerify({ password: given, hash });
      case "argon2":
        return await argon2Verify({ password: given, hash });
      case "scrypt": {
        const phc = parsePhc(hash);
        if (!phc) return false;
        const derived = await scrypt({
          password: given,
          salt: phc.salt,
          costFactor: intParam(phc, "n"),
          blockSize: intParam(phc, "r"),
          parallelism: intParam(phc, "p"),
          hashLength: intParam(phc, "kl"),
          outputType: "binary",
        });
        return same(derived, phc.hash);
      }
      case "pbkdf2": {
        const phc = parsePhc(hash);
        if (!phc) return false;
        const derived = await pbkdf2Async(
          given,
          phc.salt,
          intParam(phc, "i"),
          phc.hash.length,
          phc.params.get("d") ?? "",
        );
        return same(new Uint8Array(derived), phc.hash);
      }
      case "ssha":
      case "ssha256": {
        const prefix = type === "ssha" ? "{SSHA}" : "{SSHA256}";
        const bytes = b64(hash.slice(prefix.length));
        const digestLength = type === "ssha" ? 20 : 32;
        const digest = bytes.subarray(0, digestLength);
        const salt = bytes.subarray(digestLength);
        const algorithm = type === "ssha" ? "sha1" : "sha256";
        const computed = credential.saltPosition === "prefix"
          ? sha(algorithm, salt, given)
          : sha(algorithm, given, salt);
        return same(computed, digest);
      }
      case "firebase-scrypt":
        return await verifyFirebase(hash, given);
      default:
        return false;
    }
  } catch {
    // A hash its algorithm cannot read never matches.
    return false;
  }
}

async function verifyFirebase(text: string, password: Uint8Array): Promise<boolean> {
  const fields = parseFirebase(text);
  if (!fields) return false;
  const salted = new Uint8Array(fields.salt.length + fields.separator.length);
  salted.set(fields.salt);
  salted.set(fields.separator, fields.salt.length);
  const key = await scrypt({
    password,
    salt: salted,
    costFactor: 2 ** fields.memCost,
    blockSize: fields.rounds,
    parallelism: 1,
    hashLength: 32,
    outputType: "binary",
  });
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const encrypted = Buffer.concat([cipher.update(fields.signerKey), cipher.final()]);
  return same(new Uint8Array(encrypted), fields.hash);
}

/** WorkOS's authentication limit: 10 requests per 60 seconds per email. */
export const AUTHENTICATION_LIMIT = { requests: 10, windowMs: 60_000 } as const;

/** Sign-in attempts per email in the last window, for the per-email limit. */
export class AuthenticationWindow {
  readonly #attempts = new Map<string, number[]>();

  /**
   * Counts an attempt for `email` at `now`.
   *
   * @returns 0 when admitted, else the seconds until the next one would be.
   */
  admit(email: string, now: number): number {
    const key = email.toLowerCase();
    const since = now - AUTHENTICATION_LIMIT.windowMs;
    const recent = (this.#attempts.get(key) ?? []).filter((time) => time > since);
    if (recent.length >= AUTHENTICATION_LIMIT.requests) {
      this.#attempts.set(key, recent);
      return Math.max(1, Math.ceil((recent[0] - since) / 1000));
    }
    recent.push(now);
    this.#attempts.set(key, recent);
    if (this.#attempts.size > 100_000) this.#prune(since);
    return 0;
  }

  #prune(since: number): void {
    for (const [key, times] of this.#attempts) {
      if (times[times.length - 1] <= since) this.#attempts.delete(key);
    }
  }

  /** Forgets every attempt. */
  clear(): void {
    this.#attempts.clear();
  }
}

const INVALID_CREDENTIALS = new ApiError(400, {
  code: "invalid_credentials",
  message: "Invalid credentials.",
});

/** What the authenticate endpoint needs from the store. */
export interface AuthenticationStore<User extends object> {
  findUserByEmail(email: string): User | undefined;
  readonly authentications: AuthenticationWindow;
}

/**
 * `POST /user_management/authenticate` with `grant_type: "password"`.
 *
 * @param store Users and the per-email window.
 * @param body The request body.
 * @param now Wall-clock time.
 * @returns The status, body and (for 429) `Retry-After` seconds.
 */
export async function authenticateWithPassword<User extends object>(
  store: AuthenticationStore<User>,
  body: Record<string, unknown>,
  now: number,
): Promise<{ error: ApiError; retryAfter?: number } | { user: User }> {
  if (body.grant_type !== "password") {
    return {
      error: new ApiError(400, {
        error: "unsupported_grant_type",
        error_description: `grant_type "${String(body.grant_type)}" is not supported by this fake`,
      }),
    };
  }
  if (typeof body.client_id !== "string" || body.client_id === "") {
    return {
      error: new ApiError(400, {
        error: "invalid_client",
        error_description: "client_id is required",
      }),
    };
  }
  const { email, password } = body;
  if (typeof email !== "string" || email === "" || typeof password !== "string") {
    return {
      error: fieldError("email", "email_and_password_required", "email and password are required"),
    };
  }
  const retryAfter = store.authentications.admit(email, now);
  if (retryAfter > 0) {
    return {
      error: new ApiError(429, { message: "Too many authentication attempts for this email" }),
      retryAfter,
    };
  }
  const user = store.findUserByEmail(email);
  const credential = user && credentials.get(user);
  if (!user || !credential || !(await verifyPassword(credential, password))) {
    return { error: INVALID_CREDENTIALS };
  }
  return { user };
}
