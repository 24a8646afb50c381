/**
 * The WorkOS API routes the fake serves and what each one does to the store.
 *
 * @module
 */

import { ApiError, fieldError, notFound, validationError } from "./_api_error.ts";
import type { HttpReply } from "./_http1.ts";
import { type PageQuery, paginateAll } from "./_pagination.ts";
import type { Store } from "./_store.ts";
import { authenticateWithPassword } from "./_passwords.ts";
import {
  invalidBody,
  parseCreateMembership,
  parseCreateOrganization,
  parseCreateUser,
  parseSendInvitation,
  parseUpdateMembership,
  parseUpdateOrganization,
  parseUpdateUser,
} from "./_validate.ts";
import { invitationJson, listJson, membershipJson, organizationJson, userJson } from "./_wire.ts";
import { AUTHORIZATION_ROUTES } from "./_authorization_routes.ts";
import { AUTH_FACTOR_ROUTES } from "./_auth_factor_routes.ts";

type Body = Record<string, unknown>;

/** What an endpoint gets besides the store. */
export interface EndpointCall {
  store: Store;
  /** Decoded path parameters, in pattern order. */
  params: string[];
  query: URLSearchParams;
  /** The JSON body for POST and PUT. */
  body: Body;
  /** Wall-clock time of the request, for timestamps. */
  now: number;
}

/** One route. */
export interface Endpoint {
  method: string;
  /** E.g. `/user_management/users/:id`. */
  pattern: string;
  /** `"<METHOD> <pattern>"`, the key of request counts. */
  key: string;
  /** Whether the request has a JSON body to parse. */
  hasBody: boolean;
  run(call: EndpointCall): HttpReply | Promise<HttpReply>;
}

function json(status: number, value: unknown): HttpReply {
  return { status, body: JSON.stringify(value) };
}

function failed(error: ApiError): HttpReply {
  return json(error.status, error.body);
}

const ACCEPTED: HttpReply = { status: 202, body: "" };

function pageQuery(query: URLSearchParams): PageQuery | ApiError {
  let limit = 10;
  const rawLimit = query.get("limit");
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return fieldError("limit", "limit_invalid", "limit must be an integer from 1 to 100");
    }
  }
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    return fieldError("order", "order_invalid", "order must be asc or desc");
  }
  return { limit, order, after: query.get("after") || null, before: query.get("before") || null };
}

// Users

function createUser({ store, body, now }: EndpointCall): HttpReply {
  const input = parseCreateUser(body);
  if (input instanceof ApiError) return failed(input);
  const user = store.createUser(input, now);
  return user instanceof ApiError ? failed(user) : json(201, userJson(user));
}

function listUsers({ store, query }: EndpointCall): HttpReply {
  const page = pageQuery(query);
  if (page instanceof ApiError) return failed(page);
  const email = query.get("email");
  const organizationId = query.get("organization_id");
  const lookup = (id: string) => store.users.get(id);
  if (email) {
    const user = store.findUserByEmail(email);
    const inOrganization = !organizationId || (user !== undefined &&
      store.membershipsOfUser(user.id).some((m) => m.organizationId === organizationId));
    const ids = user && inOrganization ? [user.id] : [];
    return { status: 200, body: listJson(paginateAll(ids, page), lookup, userJson) };
  }
  if (organizationId) {
    const ids = (store.membershipIdsOfOrganization(organizationId)?.live() ?? [])
      .map((id) => store.memberships.get(id)?.userId ?? "")
      .sort();
    return { status: 200, body: listJson(paginateAll(ids, page), lookup, userJson) };
  }
  return { status: 200, body: listJson(store.userIds.page(page), lookup, userJson) };
}

function getUser({ store, params }: EndpointCall): HttpReply {
  const user = store.users.get(params[0]);
  return user ? json(200, userJson(user)) : failed(notFound("User", params[0]));
}

function getUserByExternalId({ store, params }: EndpointCall): HttpReply {
  const user = store.findUserByExternalId(params[0]);
  return user ? json(200, userJson(user)) : failed(notFound("User", params[0]));
}

function updateUser({ store, params, body, now }: EndpointCall): HttpReply {
  const patch = parseUpdateUser(body);
  if (patch instanceof ApiError) return failed(patch);
  const user = store.updateUser(params[0], patch, now);
  return user instanceof ApiError ? failed(user) : json(200, userJson(user));
}

function deleteUser({ store, params }: EndpointCall): HttpReply {
  return store.deleteUser(params[0]) ? ACCEPTED : failed(notFound("User", params[0]));
}

async function authenticate({ store, body, now }: EndpointCall): Promise<HttpReply> {
  const result = await authenticateWithPassword(store, body, now);
  if ("error" in result) {
    const reply = failed(result.error);
    return result.retryAfter === undefined ? reply : { ...reply, retryAfter: result.retryAfter };
  }
  const id = result.user.id.replace(/^user_/, "");
  return json(200, {
    user: userJson(result.user),
    access_token: fakeJwt({ sub: result.user.id, sid: `session_${id}` }),
    refresh_token: `refresh_${id}_${now}`,
    authentication_method: "Password",
  });
}

/** A JWT-shaped, unsigned token: enough for code that decodes but never verifies it. */
function fakeJwt(claims: Record<string, string>): string {
  const encode = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.fake`;
}

// Organizations

function createOrganization({ store, body, now }: EndpointCall): HttpReply {
  const input = parseCreateOrganization(body);
  if (input instanceof ApiError) return failed(input);
  const organization = store.createOrganization(input, now);
  return organization instanceof ApiError
    ? failed(organization)
    : json(201, organizationJson(organization));
}

function listOrganizations({ store, query }: EndpointCall): HttpReply {
  const page = pageQuery(query);
  if (page instanceof ApiError) return failed(page);
  return {
    status: 200,
    body: listJson(
      store.organizationIds.page(page),
      (id) => store.organizations.get(id),
      organizationJson,
    ),
  };
}

function getOrganization({ store, params }: EndpointCall): HttpReply {
  const organization = store.organizations.get(params[0]);
  return organization
    ? json(200, organizationJson(organization))
    : failed(notFound("Organization", params[0]));
}

function getOrganizationByExternalId({ store, params }: EndpointCall): HttpReply {
  const organization = store.findOrganizationByExternalId(params[0]);
  return organization
    ? json(200, organizationJson(organization))
    : failed(notFound("Organization", params[0]));
}

function updateOrganization({ store, params, body, now }: EndpointCall): HttpReply {
  const patch = parseUpdateOrganization(body);
  if (patch instanceof ApiError) return failed(patch);
  const organization = store.updateOrganization(params[0], patch, now);
  return organization instanceof ApiError
    ? failed(organization)
    : json(200, organizationJson(organization));
}

function deleteOrganization({ store, params }: EndpointCall): HttpReply {
  return store.deleteOrganization(params[0])
    ? ACCEPTED
    : failed(notFound("Organization", params[0]));
}

// Memberships

function createMembership({ store, body, now }: EndpointCall): HttpReply {
  const input = parseCreateMembership(body);
  if (input instanceof ApiError) return failed(input);
  const membership = store.createMembership(input, now);
  return membership instanceof ApiError
    ? failed(membership)
    : json(201, membershipJson(membership, store));
}

function listMemberships({ store, query }: EndpointCall): HttpReply {
  const page = pageQuery(query);
  if (page instanceof ApiError) return failed(page);
  const userId = query.get("user_id");
  const organizationId = query.get("organization_id");
  if (!userId && !organizationId) {
    return failed(validationError([{
      field: "user_id",
      code: "user_id_or_organization_id_required",
      message: "user_id or organization_id is required",
    }]));
  }
  const lookup = (id: string) => store.memberships.get(id);
  const toJson = (m: Parameters<typeof membershipJson>[0]) => membershipJson(m, store);
  const statuses = query.get("statuses");
  if (statuses && !statuses.split(",").includes("active")) {
    return { status: 200, body: listJson(paginateAll([], page), lookup, toJson) };
  }
  if (userId) {
    const ids = store.membershipsOfUser(userId)
      .filter((m) => !organizationId || m.organizationId === organizationId)
      .map((m) => m.id);
    return { status: 200, body: listJson(paginateAll(ids, page), lookup, toJson) };
  }
  const list = store.membershipIdsOfOrganization(organizationId as string);
  const result = list ? list.page(page) : paginateAll([], page);
  return { status: 200, body: listJson(result, lookup, toJson) };
}

function getMembership({ store, params }: EndpointCall): HttpReply {
  const membership = store.memberships.get(params[0]);
  return membership
    ? json(200, membershipJson(membership, store))
    : failed(notFound("Organization membership", params[0]));
}

function updateMembership({ store, params, body, now }: EndpointCall): HttpReply {
  const input = parseUpdateMembership(body);
  if (input instanceof ApiError) return failed(input);
  const membership = store.updateMembership(params[0], input.roleSlugs, now);
  return membership instanceof ApiError
    ? failed(membership)
    : json(200, membershipJson(membership, store));
}

function deleteMembership({ store, params }: EndpointCall): HttpReply {
  return store.deleteMembership(params[0])
    ? ACCEPTED
    : failed(notFound("Organization membership", params[0]));
}

// Invitations

function sendInvitation({ store, body, now }: EndpointCall): HttpReply {
  const input = parseSendInvitation(body);
  if (input instanceof ApiError) return failed(input);
  const invitation = store.createInvitation(input, now);
  return invitation instanceof ApiError
    ? failed(invitation)
    : json(201, invitationJson(invitation, now));
}

function listInvitations({ store, query, now }: EndpointCall): HttpReply {
  const page = pageQuery(query);
  if (page instanceof ApiError) return failed(page);
  const email = query.get("email")?.toLowerCase();
  const organizationId = query.get("organization_id");
  const lookup = (id: string) => store.invitations.get(id);
  const toJson = (i: Parameters<typeof invitationJson>[0]) => invitationJson(i, now);
  if (email) {
    const ids = store.invitationsByEmail(email)
      .filter((i) => !organizationId || i.organizationId === organizationId)
      .map((i) => i.id);
    return { status: 200, body: listJson(paginateAll(ids, page), lookup, toJson) };
  }
  if (organizationId) {
    const list = store.invitationIdsOfOrganization(organizationId);
    const result = list ? list.page(page) : paginateAll([], page);
    return { status: 200, body: listJson(result, lookup, toJson) };
  }
  return { status: 200, body: listJson(store.invitationIds.page(page), lookup, toJson) };
}

function getInvitation({ store, params, now }: EndpointCall): HttpReply {
  const invitation = store.invitations.get(params[0]);
  return invitation
    ? json(200, invitationJson(invitation, now))
    : failed(notFound("Invitation", params[0]));
}

const ROUTES: [string, string, (call: EndpointCall) => HttpReply | Promise<HttpReply>][] = [
  ["POST", "/user_management/users", createUser],
  ["GET", "/user_management/users", listUsers],
  ["GET", "/user_management/users/:id", getUser],
  ["GET", "/user_management/users/external_id/:external_id", getUserByExternalId],
  ["PUT", "/user_management/users/:id", updateUser],
  ["DELETE", "/user_management/users/:id", deleteUser],
  ["POST", "/user_management/authenticate", authenticate],
  ["POST", "/organizations", createOrganization],
  ["GET", "/organizations", listOrganizations],
  ["GET", "/organizations/:id", getOrganization],
  ["GET", "/organizations/external_id/:external_id", getOrganizationByExternalId],
  ["PUT", "/organizations/:id", updateOrganization],
  ["DELETE", "/organizations/:id", deleteOrganization],
  ["POST", "/user_management/organization_memberships", createMembership],
  ["GET", "/user_management/organization_memberships", listMemberships],
  ["GET", "/user_management/organization_memberships/:id", getMembership],
  ["PUT", "/user_management/organization_memberships/:id", updateMembership],
  ["DELETE", "/user_management/organization_memberships/:id", deleteMembership],
  ["POST", "/user_management/invitations", sendInvitation],
  ["GET", "/user_management/invitations", listInvitations],
  ["GET", "/user_management/invitations/:id", getInvitation],
  ...AUTHORIZATION_ROUTES,
  ...AUTH_FACTOR_ROUTES,
];

interface CompiledRoute {
  endpoint: Endpoint;
  /** Literal segments; `null` where a parameter goes. */
  segments: (string | null)[];
}

/** Routes grouped by `"<METHOD> <segment count>"`, so a lookup tries only a few. */
const TABLE = new Map<string, CompiledRoute[]>();
for (const [method, pattern, run] of ROUTES) {
  const segments = pattern.slice(1).split("/").map((s) => s.startsWith(":") ? null : s);
  const endpoint: Endpoint = {
    method,
    pattern,
    key: `${method} ${pattern}`,
    hasBody: method === "POST" || method === "PUT",
    run,
  };
  const group = `${method} ${segments.length}`;
  const routes = TABLE.get(group) ?? [];
  routes.push({ endpoint, segments });
  TABLE.set(group, routes);
}

/** Every route, for documentation and tests. */
export const ENDPOINTS: readonly Endpoint[] = [...TABLE.values()].flat().map((r) => r.endpoint);

/** The endpoint for a method and path, with decoded parameters; null when none matches. */
export function matchEndpoint(
  method: string,
  path: string,
): { endpoint: Endpoint; params: string[] } | null {
  const parts = path.length > 1 && path.endsWith("/")
    ? path.slice(1, -1).split("/")
    : path.slice(1).split("/");
  const routes = TABLE.get(`${method} ${parts.length}`);
  if (!routes) return null;
  outer: for (const route of routes) {
    const params: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const literal = route.segments[i];
      if (literal === null) {
        if (parts[i] === "") continue outer;
        try {
          params.push(decodeURIComponent(parts[i]));
        } catch {
          continue outer;
        }
      } else if (literal !== parts[i]) {
        continue outer;
      }
    }
    return { endpoint: route.endpoint, params };
  }
  return null;
}

/** Parses a JSON request body; bodies must be objects (empty means `{}`). */
export function parseBody(text: string): Body | ApiError {
  if (text === "") return {};
  try {
    const value = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // Answered below like any other non-object body.
  }
  return invalidBody();
}

export { failed };
