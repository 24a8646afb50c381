/**
 * The fake's MFA factors: TOTP factors enrolled through
 * `POST /user_management/users/:id/auth_factors` (with a given Base32
 * secret, or a generated one), listed per user, deleted through
 * `DELETE /auth/factors/:id` (the routes are in `_auth_factor_routes.ts`). As the docs describe: the enroll answer holds
 * the factor with its secrets (secret, QR code, `otpauth` URI) and a
 * challenge; the list holds factors without secrets.
 *
 * @module
 */

import type { IdGenerator } from "./_ids.ts";

/** A stored TOTP factor. The fake keeps the secret so tests can check it. */
export interface FactorRecord {
  id: string;
  userId: string;
  type: "totp";
  issuer: string;
  user: string;
  secret: string;
  createdAt: number;
  updatedAt: number;
}

const BASE32 = /^[A-Z2-7]+=*$/;
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
// Lengths (mod 8) a Base32 text of whole bytes can have.
const WHOLE_BYTES: ReadonlySet<number> = new Set([0, 2, 4, 5, 7]);

/**
 * Whether WorkOS's TOTP parameters (SHA-1, 6 digits, 30 s) can use `secret`:
 * Base32 of whole bytes, at least 80 bits.
 */
export function isUsableTotpSecret(secret: string): boolean {
  if (!BASE32.test(secret)) return false;
  const bare = secret.replace(/=+$/, "");
  return WHOLE_BYTES.has(bare.length % 8) && bare.length * 5 >= 80;
}

/** A random 160-bit Base32 secret, for an enroll without one. */
export function generatedSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let secret = "";
  for (const byte of bytes) secret += BASE32_ALPHABET[byte % 32];
  return secret;
}

/** The factors of one environment. */
export class AuthFactorStore {
  readonly #ids: IdGenerator;
  readonly factors: Map<string, FactorRecord> = new Map();
  readonly #byUser = new Map<string, FactorRecord[]>();

  constructor(ids: IdGenerator) {
    this.#ids = ids;
  }

  ofUser(userId: string): readonly FactorRecord[] {
    return this.#byUser.get(userId) ?? [];
  }

  enroll(
    input: { userId: string; issuer: string; user: string; secret: string },
    now: number,
  ): FactorRecord {
    const factor: FactorRecord = {
      id: this.#ids.next("auth_factor"),
      type: "totp",
      ...input,
      createdAt: now,
      updatedAt: now,
    };
    this.factors.set(factor.id, factor);
    const list = this.#byUser.get(input.userId);
    if (list) list.push(factor);
    else this.#byUser.set(input.userId, [factor]);
    return factor;
  }

  delete(id: string): boolean {
    const factor = this.factors.get(id);
    if (!factor) return false;
    this.factors.delete(id);
    const list = this.#byUser.get(factor.userId) ?? [];
    const index = list.indexOf(factor);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#byUser.delete(factor.userId);
    return true;
  }

  /** Drops the factors of a deleted user. */
  deleteUser(userId: string): void {
    for (const factor of this.#byUser.get(userId) ?? []) this.factors.delete(factor.id);
    this.#byUser.delete(userId);
  }

  clear(): void {
    this.factors.clear();
    this.#byUser.clear();
  }
}
