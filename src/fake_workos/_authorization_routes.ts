/**
 * The HTTP routes of the authorization API (roles and permissions)
 * over the store's `authorization`.
 *
 * @module
 */

import { ApiError, fieldError, notFound } from "./_api_error.ts";
import type { AuthorizationStore, PermissionRecord, RoleRecord } from "./_authorization.ts";
import type { HttpReply } from "./_http1.ts";
import { type PageQuery, paginateAll } from "./_pagination.ts";
import type { Store } from "./_store.ts";

// The slug rules of the docs (reference/roles): lowercase letters, numbers,
// hyphens and underscores; permissions may also hold colons, periods and
// asterisks.
const ROLE_SLUG = /^[a-z0-9_-]+$/;
const PERMISSION_SLUG = /^[a-z0-9_:.*-]+$/;

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

/** A role as WorkOS sends it. */
export function roleJson(role: RoleRecord): Record<string, unknown> {
  return {
    object: "role",
    id: role.id,
    name: role.name,
    slug: role.slug,
    description: role.description,
    permissions: [...role.permissions],
    resource_type_slug: "organization",
    type: role.type,
    created_at: iso(role.createdAt),
    updated_at: iso(role.updatedAt),
  };
}

function permissionJson(permission: PermissionRecord): Record<string, unknown> {
  return {
    object: "permission",
    id: permission.id,
    slug: permission.slug,
    name: permission.name,
    description: permission.description,
    resource_type_slug: "organization",
    system: false,
    created_at: iso(permission.createdAt),
    updated_at: iso(permission.updatedAt),
  };
}

function json(status: number, value: unknown): HttpReply {
  return { status, body: JSON.stringify(value) };
}

function failed(error: ApiError): HttpReply {
  return json(error.status, error.body);
}

function definition(
  body: Record<string, unknown>,
  pattern: RegExp,
): { slug: string; name: string; description: string | null } | ApiError {
  const { slug, name, description } = body;
  if (typeof slug !== "string" || !pattern.test(slug)) {
    return fieldError(
      "slug",
      "slug_invalid",
      "slug must be lowercase and contain only letters, numbers, hyphens and underscores",
    );
  }
  if (typeof name !== "string" || name.trim() === "") {
    return fieldError("name", "name_required", "name is required");
  }
  if (description !== undefined && description !== null && typeof description !== "string") {
    return fieldError("description", "description_invalid", "description must be a string");
  }
  return { slug, name, description: typeof description === "string" ? description : null };
}

function permissionList(body: Record<string, unknown>): string[] | ApiError {
  const list = body.permissions;
  if (!Array.isArray(list) || list.some((slug) => typeof slug !== "string")) {
    return fieldError("permissions", "permissions_invalid", "permissions must be a list of slugs");
  }
  return list as string[];
}

/** The environment's authorization store, with the configured roles in it. */
function authorizationOf(call: EndpointCall): AuthorizationStore {
  call.store.authorization.seed(call.store.config.roles);
  return call.store.authorization;
}

function organizationOf(call: EndpointCall): string | ApiError {
  const id = call.params[0];
  return call.store.organizations.has(id) ? id : notFound("Organization", id);
}

function createEnvironmentRole(call: EndpointCall): HttpReply {
  const input = definition(call.body, ROLE_SLUG);
  if (input instanceof ApiError) return failed(input);
  const role = authorizationOf(call).createRole(input, undefined, call.now);
  return role instanceof ApiError ? failed(role) : json(201, roleJson(role));
}

function listEnvironmentRoles(call: EndpointCall): HttpReply {
  const data = authorizationOf(call).environmentRoles().map(roleJson);
  return json(200, { object: "list", data });
}

function getEnvironmentRole(call: EndpointCall): HttpReply {
  const role = authorizationOf(call).role(call.params[0]);
  return role ? json(200, roleJson(role)) : failed(notFound("Role", call.params[0]));
}

function setEnvironmentRolePermissions(call: EndpointCall): HttpReply {
  const role = authorizationOf(call).role(call.params[0]);
  if (!role) return failed(notFound("Role", call.params[0]));
  const permissions = permissionList(call.body);
  if (permissions instanceof ApiError) return failed(permissions);
  const updated = authorizationOf(call).setPermissions(role, permissions, call.now);
  return updated instanceof ApiError ? failed(updated) : json(200, roleJson(updated));
}

function createOrganizationRole(call: EndpointCall): HttpReply {
  const organizationId = organizationOf(call);
  if (organizationId instanceof ApiError) return failed(organizationId);
  const input = definition(call.body, ROLE_SLUG);
  if (input instanceof ApiError) return failed(input);
  const role = authorizationOf(call).createRole(input, organizationId, call.now);
  return role instanceof ApiError ? failed(role) : json(201, roleJson(role));
}

function listOrganizationRoles(call: EndpointCall): HttpReply {
  const organizationId = organizationOf(call);
  if (organizationId instanceof ApiError) return failed(organizationId);
  const authorization = authorizationOf(call);
  // The docs: environment roles and organization roles, in priority order.
  const data = [
    ...authorization.environmentRoles(),
    ...authorization.organizationRoles(organizationId),
  ].map(roleJson);
  return json(200, { object: "list", data });
}

function setOrganizationRolePermissions(call: EndpointCall): HttpReply {
  const organizationId = organizationOf(call);
  if (organizationId instanceof ApiError) return failed(organizationId);
  const role = authorizationOf(call).role(call.params[1], organizationId);
  if (!role) return failed(notFound("Role", call.params[1]));
  const permissions = permissionList(call.body);
  if (permissions instanceof ApiError) return failed(permissions);
  const updated = authorizationOf(call).setPermissions(role, permissions, call.now);
  return updated instanceof ApiError ? failed(updated) : json(200, roleJson(updated));
}

// The docs (reference/roles/organization-role/delete, permission/delete):
// no body. An environment role has no delete endpoint.
const DELETED: HttpReply = { status: 204, body: "" };

function deleteOrganizationRole(call: EndpointCall): HttpReply {
  const organizationId = organizationOf(call);
  if (organizationId instanceof ApiError) return failed(organizationId);
  return authorizationOf(call).deleteOrganizationRole(call.params[1], organizationId)
    ? DELETED
    : failed(notFound("Role", call.params[1]));
}

function deletePermission(call: EndpointCall): HttpReply {
  return authorizationOf(call).deletePermission(call.params[0], call.now)
    ? DELETED
    : failed(notFound("Permission", call.params[0]));
}

function createPermission(call: EndpointCall): HttpReply {
  const input = definition(call.body, PERMISSION_SLUG);
  if (input instanceof ApiError) return failed(input);
  const permission = authorizationOf(call).createPermission(input, call.now);
  return permission instanceof ApiError
    ? failed(permission)
    : json(201, permissionJson(permission));
}

function listPermissions(call: EndpointCall): HttpReply {
  const query = call.query;
  const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 10) || 10));
  const order = query.get("order") === "asc" ? "asc" : "desc";
  const page: PageQuery = {
    limit,
    order,
    after: query.get("after") || null,
    before: query.get("before") || null,
  };
  const all = authorizationOf(call).permissions();
  const byId = new Map(all.map((permission) => [permission.id, permission]));
  const result = paginateAll(all.map((permission) => permission.id), page);
  const data = result.ids.flatMap((id) => {
    const permission = byId.get(id);
    return permission ? [permissionJson(permission)] : [];
  });
  return json(200, {
    object: "list",
    data,
    list_metadata: { before: result.before, after: result.after },
  });
}

function getPermission(call: EndpointCall): HttpReply {
  const permission = authorizationOf(call).permission(call.params[0]);
  return permission
    ? json(200, permissionJson(permission))
    : failed(notFound("Permission", call.params[0]));
}

/** The `/authorization/…` routes. */
export const AUTHORIZATION_ROUTES: [string, string, (call: EndpointCall) => HttpReply][] = [
  ["POST", "/authorization/roles", createEnvironmentRole],
  ["GET", "/authorization/roles", listEnvironmentRoles],
  ["GET", "/authorization/roles/:slug", getEnvironmentRole],
  ["PUT", "/authorization/roles/:slug/permissions", setEnvironmentRolePermissions],
  ["POST", "/authorization/organizations/:id/roles", createOrganizationRole],
  ["GET", "/authorization/organizations/:id/roles", listOrganizationRoles],
  [
    "PUT",
    "/authorization/organizations/:id/roles/:slug/permissions",
    setOrganizationRolePermissions,
  ],
  ["DELETE", "/authorization/organizations/:id/roles/:slug", deleteOrganizationRole],
  ["POST", "/authorization/permissions", createPermission],
  ["GET", "/authorization/permissions", listPermissions],
  ["GET", "/authorization/permissions/:slug", getPermission],
  ["DELETE", "/authorization/permissions/:slug", deletePermission],
];
