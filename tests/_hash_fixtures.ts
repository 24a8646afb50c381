/**
 * Real password hashes made in the test from known passwords, in the formats
 * the systems people migrate from write them, so tests can prove that a
 * converted hash still signs in with its original password.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createCipheriv, createHash, pbkdf2Sync } from "node:crypto";
import { argon2id, bcrypt, scrypt } from "hash-wasm";

/** A Firebase project's hash config, as the console shows it (Firebase's published sample). */
export const FIREBASE_CONFIG = {
  signerKey:
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
  saltSeparator: "Bw==",
  rounds: 8,
  memCost: 14,
} as const;

const SALT = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function sha(algorithm: string, ...parts: Uint8Array[]): Uint8Array {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** A bcrypt hash (`$2a$`, cost 4). */
export function bcryptHash(password: string): Promise<string> {
  return bcrypt({ password, salt: SALT, costFactor: 4, outputType: "encoded" });
}

/** An argon2id PHC string with the given memory (KiB). */
export function argon2Hash(password: string, memoryKiB = 4096): Promise<string> {
  return argon2id({
    password,
    salt: SALT,
    parallelism: 1,
    iterations: 2,
    memorySize: memoryKiB,
    hashLength: 32,
    outputType: "encoded",
  });
}

/** A scrypt PHC string, with padded base64 (what Node's Buffer writes). */
export async function scryptPhcPadded(password: string): Promise<string> {
  const hash = await scrypt({
    password,
    salt: SALT,
    costFactor: 1024,
    blockSize: 8,
    parallelism: 1,
    hashLength: 32,
    outputType: "binary",
  });
  return `$scrypt$n=1024,r=8,p=1,kl=32$${b64(SALT)}$${b64(hash)}`;
}

/** Django's `pbkdf2_sha256$600000$<salt>$<base64>`. */
export function djangoPbkdf2(password: string, salt = "seasaltseasalt12"): string {
  const hash = pbkdf2Sync(password, salt, 600_000, 32, "sha256");
  return `pbkdf2_sha256$600000$${salt}$${hash.toString("base64")}`;
}

/** Werkzeug's `pbkdf2:sha512:210000$<salt>$<hex>`. */
export function werkzeugPbkdf2(password: string, salt = "werkzeugsalt"): string {
  const hash = pbkdf2Sync(password, salt, 210_000, 64, "sha512");
  return `pbkdf2:sha512:210000$${salt}$${hash.toString("hex")}`;
}

/** Werkzeug's `scrypt:1024:8:1$<salt>$<hex>` (64-byte key). */
export async function werkzeugScrypt(password: string, salt = "werkzeugsalt"): Promise<string> {
  const hash = await scrypt({
    password,
    salt,
    costFactor: 1024,
    blockSize: 8,
    parallelism: 1,
    hashLength: 64,
    outputType: "hex",
  });
  return `scrypt:1024:8:1$${salt}$${hash}`;
}

/** `{SSHA}` or `{SSHA256}`: base64(digest + salt), salt after the password unless `prefix`. */
export function sshaHash(
  password: string,
  type: "ssha" | "ssha256",
  position: "prefix" | "suffix" = "suffix",
): string {
  const algorithm = type === "ssha" ? "sha1" : "sha256";
  const given = new TextEncoder().encode(password);
  const digest = position === "prefix" ? sha(algorithm, SALT, given) : sha(algorithm, given, SALT);
  const body = new Uint8Array([...digest, ...SALT]);
  return `${type === "ssha" ? "{SSHA}" : "{SSHA256}"}${b64(body)}`;
}

/**
 * What Firebase's `auth:export` writes for a user: `passwordHash` and `salt`
 * (base64), made with Firebase's scrypt variant and {@linkcode FIREBASE_CONFIG}.
 */
export async function firebaseExport(
  password: string,
): Promise<{ passwordHash: string; salt: string }> {
  const salt = SALT.subarray(0, 10);
  const separator = Buffer.from(FIREBASE_CONFIG.saltSeparator, "base64");
  const key = await scrypt({
    password,
    salt: new Uint8Array([...salt, ...separator]),
    costFactor: 2 ** FIREBASE_CONFIG.memCost,
    blockSize: FIREBASE_CONFIG.rounds,
    parallelism: 1,
    hashLength: 32,
    outputType: "binary",
  });
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const signerKey = Buffer.from(FIREBASE_CONFIG.signerKey, "base64");
  const hash = Buffer.concat([cipher.update(signerKey), cipher.final()]);
  return { passwordHash: hash.toString("base64"), salt: b64(salt) };
}
