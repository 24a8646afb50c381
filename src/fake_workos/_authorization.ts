/**
 * The fake's role-based access control: environment roles, organization
 * roles and permissions (their routes are in `_authorization_routes.ts`). The environment's configured roles (the fake's `roles` option) are
 * environment roles that exist from the start, without permissions.
 *
 * @module
 */

import { ApiError, fieldError } from "./_api_error.ts";
import type { IdGenerator } from "./_ids.ts";

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

  /** Deletes an organization's own role; `false` when there is none. */
  deleteOrganizationRole(slug: string, organizationId: string): boolean {
    return this.#organizationRoles.get(organizationId)?.delete(slug) ?? false;
  }

  /** Deletes a permission and takes it off every role; `false` when there is none. */
  deletePermission(slug: string, now: number): boolean {
    if (!this.#permissions.delete(slug)) return false;
    const roles = [
      ...this.#environmentRoles.values(),
      ...[...this.#organizationRoles.values()].flatMap((roles) => [...roles.values()]),
    ];
    for (const role of roles) {
      if (!role.permissions.includes(slug)) continue;
      role.permissions = role.permissions.filter((permission) => permission !== slug);
      role.updatedAt = now;
    }
    return true;
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
