/**
 * The HTTP routes of MFA factors
 * over the store's `factors`.
 *
 * @module
 */

import { ApiError, fieldError, notFound } from "./_api_error.ts";
import type { HttpReply } from "./_http1.ts";
import { type FactorRecord, generatedSecret, isUsableTotpSecret } from "./_auth_factors.ts";
import { type PageQuery, paginateAll } from "./_pagination.ts";
import type { Store } from "./_store.ts";

/** What a route gets (the shape of the endpoint table's calls). */
interface EndpointCall {
  store: Store;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  now: number;
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
