/**
 * Role definitions: the environment's roles, an organization's roles and the
 * permissions they hold, read and created through the SDK's authorization
 * API. Every request takes a slot of the general ("other") budget.
 *
 * @module
 */

import { type Ensured, WorkOSApiError, type WorkOSClient } from "./client.ts";
import type { ApiFailure } from "./errors.ts";

/** A role as the importer reads it (the project's own type). */
export interface WorkOSRole {
  /** The role's WorkOS id, when WorkOS sent it. */
  id?: string;
  slug: string;
  name: string;
  /** Permission slugs. */
  permissions: string[];
  /** Whose role it is. */
  type: "EnvironmentRole" | "OrganizationRole";
}

interface SdkRole {
  id?: string;
  slug: string;
  name: string;
  permissions?: string[];
  type?: string;
}

function toRole(role: SdkRole): WorkOSRole {
  return {
    ...(typeof role.id === "string" ? { id: role.id } : {}),
    slug: role.slug,
    name: role.name,
    permissions: [...role.permissions ?? []],
    type: role.type === "OrganizationRole" ? "OrganizationRole" : "EnvironmentRole",
  };
}

/** A create answered "exists": another run (or a ghost success) made it. */
function isTaken(failure: ApiFailure): boolean {
  return failure.status === 409 || failure.codes.some((code) => code.endsWith("already_exists"));
}

/**
 * The environment's roles.
 *
 * @param client The WorkOS client.
 * @returns The roles.
 *
 * @example Usage
 * ```ts ignore
 * const roles = await listEnvironmentRoles(client);
 * ```
 */
export async function listEnvironmentRoles(client: WorkOSClient): Promise<WorkOSRole[]> {
  const list = await client.read("other", (sdk) => sdk.authorization.listEnvironmentRoles());
  return list.data.map(toRole);
}

/**
 * The roles an organization's members can have: the environment's and the
 * organization's own (`type` tells them apart).
 *
 * @param client The WorkOS client.
 * @param organizationId The organization.
 * @returns The roles.
 *
 * @example Usage
 * ```ts ignore
 * const roles = await listOrganizationRoles(client, "org_1");
 * ```
 */
export async function listOrganizationRoles(
  client: WorkOSClient,
  organizationId: string,
): Promise<WorkOSRole[]> {
  const list = await client.read(
    "other",
    (sdk) => sdk.authorization.listOrganizationRoles(organizationId),
  );
  return list.data.map(toRole);
}

/**
 * Every permission slug of the environment.
 *
 * @param client The WorkOS client.
 * @returns The slugs.
 *
 * @example Usage
 * ```ts ignore
 * const permissions = await listPermissionSlugs(client);
 * ```
 */
export async function listPermissionSlugs(client: WorkOSClient): Promise<Set<string>> {
  const slugs = new Set<string>();
  let after: string | undefined;
  // Bounded: 1,000 pages of 100 is far beyond any environment's permissions.
  for (let page = 0; page < 1_000; page++) {
    const list = await client.read(
      "other",
      (sdk) => sdk.authorization.listPermissions({ limit: 100, order: "asc", after }),
    );
    for (const permission of list.data) slugs.add(permission.slug);
    after = list.listMetadata?.after ?? undefined;
    if (!after) break;
  }
  return slugs;
}

/**
 * Creates a permission exactly once (one that exists is adopted).
 *
 * @param client The WorkOS client.
 * @param slug The permission's slug (also its name).
 * @returns Whether this call created it.
 *
 * @example Usage
 * ```ts ignore
 * await ensurePermission(client, "invoices:read");
 * ```
 */
export async function ensurePermission(client: WorkOSClient, slug: string): Promise<boolean> {
  const { created } = await client.ensure<string>({
    kind: "other",
    lookupKind: "other",
    create: (sdk) => sdk.authorization.createPermission({ slug, name: slug }).then(() => slug),
    lookup: (sdk) =>
      sdk.authorization.getPermission(slug).then(() => slug).catch((error) => {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }),
    exists: isTaken,
  });
  return created;
}

/**
 * Creates a role exactly once: an environment role, or (with
 * `organizationId`) an organization role. A role that exists is adopted.
 *
 * @param client The WorkOS client.
 * @param role Slug and name.
 * @param organizationId The organization, for an organization role.
 * @returns The role and whether this call created it.
 *
 * @example Usage
 * ```ts ignore
 * await ensureRole(client, { slug: "admin", name: "Admin" });
 * ```
 */
export function ensureRole(
  client: WorkOSClient,
  role: { slug: string; name: string },
  organizationId?: string,
): Promise<Ensured<WorkOSRole>> {
  return client.ensure<WorkOSRole>({
    kind: "other",
    lookupKind: "other",
    create: async (sdk) =>
      toRole(
        organizationId
          ? await sdk.authorization.createOrganizationRole(organizationId, role)
          : await sdk.authorization.createEnvironmentRole(role),
      ),
    lookup: async (sdk) => {
      const list = organizationId
        ? await sdk.authorization.listOrganizationRoles(organizationId)
        : await sdk.authorization.listEnvironmentRoles();
      const found = list.data.find((candidate) => candidate.slug === role.slug);
      return found && toRole(found);
    },
    exists: isTaken,
  });
}

/**
 * Replaces a role's permissions.
 *
 * @param client The WorkOS client.
 * @param slug The role.
 * @param permissions The permission slugs it ends with.
 * @param organizationId The organization, for an organization role.
 *
 * @example Usage
 * ```ts ignore
 * await setRolePermissions(client, "admin", ["invoices:read"]);
 * ```
 */
export async function setRolePermissions(
  client: WorkOSClient,
  slug: string,
  permissions: readonly string[],
  organizationId?: string,
): Promise<void> {
  const options = { permissions: [...permissions] };
  await client.write("other", async (sdk) => {
    if (organizationId) {
      await sdk.authorization.setOrganizationRolePermissions(organizationId, slug, options);
    } else {
      await sdk.authorization.setEnvironmentRolePermissions(slug, options);
    }
  });
}

/**
 * Deletes an organization's own role; one already gone counts as deleted.
 * (WorkOS has no endpoint that deletes an environment role.)
 *
 * @param client The WorkOS client.
 * @param organizationId The organization.
 * @param slug The role.
 *
 * @example Usage
 * ```ts ignore
 * await deleteOrganizationRole(client, "org_1", "org-auditor");
 * ```
 */
export async function deleteOrganizationRole(
  client: WorkOSClient,
  organizationId: string,
  slug: string,
): Promise<void> {
  try {
    await client.write(
      "other",
      (sdk) => sdk.authorization.deleteOrganizationRole(organizationId, slug),
    );
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}

/**
 * Deletes a permission (WorkOS takes it off every role); one already gone
 * counts as deleted.
 *
 * @param client The WorkOS client.
 * @param slug The permission.
 *
 * @example Usage
 * ```ts ignore
 * await deletePermission(client, "invoices:read");
 * ```
 */
export async function deletePermission(client: WorkOSClient, slug: string): Promise<void> {
  try {
    await client.write("other", (sdk) => sdk.authorization.deletePermission(slug));
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}
