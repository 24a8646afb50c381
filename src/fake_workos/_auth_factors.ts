/**
 * The fake's MFA factors: TOTP factors enrolled through
 * `POST /user_management/users/:id/auth_factors` (with a given Base32
 * secret, or a generated one), listed per user, deleted through
 * `DELETE /auth/factors/:id`. As the docs describe: the enroll answer holds
 * the factor with its secrets (secret, QR code, `otpauth` URI) and a
 * challenge; the list holds factors without secrets.
 *
 * @module
 */

import { ApiError, fieldError, notFound } from "./_api_error.ts";
import type { EndpointCall } from "./_endpoints.ts";
import type { HttpReply } from "./_http1.ts";
import type { IdGenerator } from "./_ids.ts";
import { type PageQuery, paginateAll } from "./_pagination.ts";

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

function generatedSecret(): string {
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

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function factorJson(factor: FactorRecord, withSecrets: boolean): Record<string, unknown> {
  const totp: Record<string, unknown> = { issuer: factor.issuer, user: factor.user };
  if (withSecrets) {
    const uri = `otpauth://totp/${encodeURIComponent(factor.issuer)}:${
      encodeURIComponent(factor.user)
    }?secret=${factor.secret}&issuer=${encodeURIComponent(factor.issuer)}`;
    totp.qr_code = `data:image/png;base64,${btoa(uri)}`;
    totp.secret = factor.secret;
    totp.uri = uri;
  }
  return {
    object: "authentication_factor",
    id: factor.id,
    created_at: iso(factor.createdAt),
    updated_at: iso(factor.updatedAt),
    type: factor.type,
    totp,
    user_id: factor.userId,
  };
}

function json(status: number, value: unknown): HttpReply {
  return { status, body: JSON.stringify(value) };
}

function failed(error: ApiError): HttpReply {
  return json(error.status, error.body);
}

function optionalText(body: Record<string, unknown>, field: string): string | undefined | ApiError {
  const value = body[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    return fieldError(field, `${field}_invalid`, `${field} must be a string`);
  }
  return value;
}

function enrollFactor({ store, params, body, now }: EndpointCall): HttpReply {
  const user = store.users.get(params[0]);
  if (!user) return failed(notFound("User", params[0]));
  if (body.type !== "totp") {
    return failed(fieldError("type", "type_invalid", "type must be totp"));
  }
  const issuer = optionalText(body, "totp_issuer");
  const account = optionalText(body, "totp_user");
  const secret = optionalText(body, "totp_secret");
  for (const value of [issuer, account, secret]) {
    if (value instanceof ApiError) return failed(value);
  }
  if (typeof secret === "string" && !isUsableTotpSecret(secret)) {
    return failed(fieldError(
      "totp_secret",
      "totp_secret_invalid",
      "totp_secret must be a Base32-encoded secret usable with sha1, 6 digits and a 30 second timestep",
    ));
  }
  const factor = store.factors.enroll({
    userId: user.id,
    issuer: (issuer as string | undefined) ?? "Fake WorkOS",
    user: (account as string | undefined) ?? user.email,
    secret: (secret as string | undefined) ?? generatedSecret(),
  }, now);
  return json(201, {
    authentication_factor: factorJson(factor, true),
    authentication_challenge: {
      object: "authentication_challenge",
      id: store.ids.next("auth_challenge"),
      created_at: iso(now),
      updated_at: iso(now),
      expires_at: iso(now + 10 * 60_000),
      authentication_factor_id: factor.id,
    },
  });
}

function listFactors({ store, params, query }: EndpointCall): HttpReply {
  if (!store.users.has(params[0])) return failed(notFound("User", params[0]));
  const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 10) || 10));
  const page: PageQuery = {
    limit,
    order: query.get("order") === "asc" ? "asc" : "desc",
    after: query.get("after") || null,
    before: query.get("before") || null,
  };
  const factors = store.factors.ofUser(params[0]);
  const result = paginateAll(factors.map((factor) => factor.id), page);
  const data = result.ids.flatMap((id) => {
    const factor = store.factors.factors.get(id);
    return factor ? [factorJson(factor, false)] : [];
  });
  return json(200, {
    object: "list",
    data,
    list_metadata: { before: result.before, after: result.after },
  });
}

function getFactor({ store, params }: EndpointCall): HttpReply {
  const factor = store.factors.factors.get(params[0]);
  return factor
    ? json(200, factorJson(factor, false))
    : failed(notFound("Authentication factor", params[0]));
}

function deleteFactor({ store, params }: EndpointCall): HttpReply {
  return store.factors.delete(params[0])
    ? { status: 202, body: "" }
    : failed(notFound("Authentication factor", params[0]));
}

/** The auth factor routes. */
export const AUTH_FACTOR_ROUTES: [string, string, (call: EndpointCall) => HttpReply][] = [
  ["POST", "/user_management/users/:id/auth_factors", enrollFactor],
  ["GET", "/user_management/users/:id/auth_factors", listFactors],
  ["GET", "/auth/factors/:id", getFactor],
  ["DELETE", "/auth/factors/:id", deleteFactor],
];
