/**
 * The fake's role-based access control: environment roles, organization
 * roles and permissions, with the `/authorization/…` routes that manage
 * them. The environment's configured roles (the fake's `roles` option) are
 * environment roles that exist from the start, without permissions.
 *
 * @module
 */

import { ApiError, fieldError, notFound } from "./_api_error.ts";
import type { EndpointCall } from "./_endpoints.ts";
import type { HttpReply } from "./_http1.ts";
import type { IdGenerator } from "./_ids.ts";
import type { PageQuery } from "./_pagination.ts";
import { paginateAll } from "./_pagination.ts";

/** A stored role. */
export interface RoleRecord {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  permissions: string[];
  type: "EnvironmentRole" | "OrganizationRole";
  createdAt: number;
  updatedAt: number;
}

/** A stored permission. */
export interface PermissionRecord {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

// The slug rules of the docs (reference/roles): lowercase letters, numbers,
// hyphens and underscores; organization roles begin with `org-`;
// permissions may also hold colons, periods and asterisks.
const ROLE_SLUG = /^[a-z0-9_-]+$/;
const PERMISSION_SLUG = /^[a-z0-9_:.*-]+$/;

/** Roles and permissions of one environment. */
export class AuthorizationStore {
  readonly #ids: IdGenerator;
  readonly #environmentRoles = new Map<string, RoleRecord>();
  readonly #organizationRoles = new Map<string, Map<string, RoleRecord>>();
  readonly #permissions = new Map<string, PermissionRecord>();

  constructor(ids: IdGenerator) {
    this.#ids = ids;
  }

  /** The configured roles, made environment roles on first sight. */
  seed(slugs: Iterable<string>): void {
    for (const slug of slugs) {
      if (this.#environmentRoles.has(slug)) continue;
      this.#environmentRoles.set(slug, {
        id: this.#ids.next("role"),
        slug,
        name: slug.charAt(0).toUpperCase() + slug.slice(1),
        description: null,
        permissions: [],
        type: "EnvironmentRole",
        createdAt: 0,
        updatedAt: 0,
      });
    }
  }

  /** Whether a role slug can be given to a member of `organizationId`. */
  hasRole(slug: string, organizationId?: string | null): boolean {
    if (this.#environmentRoles.has(slug)) return true;
    return organizationId ? this.#organizationRoles.get(organizationId)?.has(slug) ?? false : false;
  }

  environmentRoles(): RoleRecord[] {
    return [...this.#environmentRoles.values()];
  }

  organizationRoles(organizationId: string): RoleRecord[] {
    return [...this.#organizationRoles.get(organizationId)?.values() ?? []];
  }

  permissions(): PermissionRecord[] {
    return [...this.#permissions.values()].sort((a, b) => a.id < b.id ? -1 : 1);
  }

  permission(slug: string): PermissionRecord | undefined {
    return this.#permissions.get(slug);
  }

  role(slug: string, organizationId?: string): RoleRecord | undefined {
    return organizationId
      ? this.#organizationRoles.get(organizationId)?.get(slug)
      : this.#environmentRoles.get(slug);
  }

  createRole(
    input: { slug: string; name: string; description: string | null },
    organizationId: string | undefined,
    now: number,
  ): RoleRecord | ApiError {
    if (organizationId && !input.slug.startsWith("org-")) {
      return fieldError("slug", "slug_invalid", "An organization role's slug must begin with org-");
    }
    if (this.hasRole(input.slug, organizationId)) {
      return new ApiError(409, {
        message: `A role with slug '${input.slug}' already exists.`,
        code: "role_slug_already_exists",
      });
    }
    const role: RoleRecord = {
      id: this.#ids.next("role"),
      slug: input.slug,
      name: input.name,
      description: input.description,
      permissions: [],
      type: organizationId ? "OrganizationRole" : "EnvironmentRole",
      createdAt: now,
      updatedAt: now,
    };
    if (organizationId) {
      let roles = this.#organizationRoles.get(organizationId);
      if (!roles) this.#organizationRoles.set(organizationId, roles = new Map());
      roles.set(role.slug, role);
    } else {
      this.#environmentRoles.set(role.slug, role);
    }
    return role;
  }

  setPermissions(role: RoleRecord, permissions: string[], now: number): RoleRecord | ApiError {
    const unknown = permissions.find((slug) => !this.#permissions.has(slug));
    if (unknown !== undefined) {
      return fieldError(
        "permissions",
        "permission_not_found",
        `Permission '${unknown}' does not exist in this environment`,
      );
    }
    role.permissions = [...new Set(permissions)];
    role.updatedAt = now;
    return role;
  }

  createPermission(
    input: { slug: string; name: string; description: string | null },
    now: number,
  ): PermissionRecord | ApiError {
    if (this.#permissions.has(input.slug)) {
      return new ApiError(409, {
        message: `A permission with slug '${input.slug}' already exists.`,
        code: "permission_slug_already_exists",
      });
    }
    const permission: PermissionRecord = {
      id: this.#ids.next("perm"),
      ...input,
      createdAt: now,
      updatedAt: now,
    };
    this.#permissions.set(permission.slug, permission);
    return permission;
  }

  /** Drops organization roles of a deleted organization. */
  deleteOrganization(organizationId: string): void {
    this.#organizationRoles.delete(organizationId);
  }

  clear(): void {
    this.#environmentRoles.clear();
    this.#organizationRoles.clear();
    this.#permissions.clear();
  }
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
  ["POST", "/authorization/permissions", createPermission],
  ["GET", "/authorization/permissions", listPermissions],
  ["GET", "/authorization/permissions/:slug", getPermission],
];
