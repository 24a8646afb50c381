/**
 * Organization memberships: create exactly once, delete.
 *
 * @module
 */

import type { OrganizationMembership } from "@workos-inc/node";
import { type Ensured, WorkOSApiError, type WorkOSClient } from "./client.ts";
import { isAlreadyExists } from "./errors.ts";
import { timeMs } from "./_time.ts";

/** An organization membership as the importer reads it back (the project's own type). */
export interface WorkOSMembership {
  /** The WorkOS membership id (`om_...`). */
  id: string;
  /** The member. */
  userId: string;
  /** The organization. */
  organizationId: string;
  /** `active`, `inactive` or `pending`. */
  status: "active" | "inactive" | "pending";
  /** When WorkOS created the membership, in milliseconds since the epoch. */
  createdAtMs: number;
  /** The member's role slugs, the primary one first (absent or empty when WorkOS sent none). */
  roleSlugs?: string[];
}

function toMembership(membership: OrganizationMembership): WorkOSMembership {
  const roles = membership.roles && membership.roles.length > 0
    ? membership.roles
    : membership.role
    ? [membership.role]
    : [];
  return {
    id: membership.id,
    userId: membership.userId,
    organizationId: membership.organizationId,
    status: membership.status,
    createdAtMs: timeMs(membership.createdAt),
    roleSlugs: roles.map((role) => role.slug),
  };
}

/** The first membership of a page that is not inactive. */
function activeOf(page: { data: OrganizationMembership[] }): WorkOSMembership | undefined {
  const membership = page.data.find((membership) => membership.status !== "inactive");
  return membership && toMembership(membership);
}

/**
 * Replaces a membership's roles.
 *
 * @param client The WorkOS client.
 * @param membershipId The membership.
 * @param roleSlugs The roles it ends with (one is sent as `role_slug`).
 * @returns The membership as updated.
 *
 * @example Usage
 * ```ts ignore
 * await updateMembershipRoles(client, "om_1", ["admin", "billing"]);
 * ```
 */
export function updateMembershipRoles(
  client: WorkOSClient,
  membershipId: string,
  roleSlugs: readonly string[],
): Promise<WorkOSMembership> {
  return client.write(
    "write",
    (sdk) =>
      sdk.userManagement.updateOrganizationMembership(
        membershipId,
        roleSlugs.length === 1 ? { roleSlug: roleSlugs[0] } : { roleSlugs: [...roleSlugs] },
      ).then(toMembership),
  );
}

/**
 * Adds a user to an organization, or adopts the membership that exists
 * already (`created: false`).
 *
 * @param client The WorkOS client.
 * @param userId The user.
 * @param options The organization and the role (`roleSlug`) or roles (`roleSlugs`).
 * @returns The membership and whether this call created it.
 *
 * @example Usage
 * ```ts ignore
 * const { value } = await ensureMembership(client, "user_1", { organizationId: "org_1" });
 * ```
 */
export function ensureMembership(
  client: WorkOSClient,
  userId: string,
  options: { organizationId: string; roleSlug?: string; roleSlugs?: readonly string[] },
): Promise<Ensured<WorkOSMembership>> {
  const { organizationId, roleSlug } = options;
  const roles = options.roleSlugs ? { roleSlugs: [...options.roleSlugs] } : { roleSlug };
  return client.ensure<WorkOSMembership>({
    kind: "write",
    lookupKind: "read",
    create: (sdk) =>
      sdk.userManagement.createOrganizationMembership({ userId, organizationId, ...roles }).then(
        toMembership,
      ),
    lookup: (sdk) =>
      sdk.userManagement.listOrganizationMemberships({ userId, organizationId, limit: 1 }).then(
        activeOf,
      ),
    exists: isAlreadyExists,
    createdAtMs: (value) => value.createdAtMs,
  });
}

/**
 * Finds the active membership of a user in an organization, without writing.
 *
 * @param client The WorkOS client.
 * @param userId The user.
 * @param organizationId The organization.
 * @returns The membership, or `undefined` when the user is not a member.
 *
 * @example Usage
 * ```ts ignore
 * const membership = await findMembership(client, "user_1", "org_1");
 * ```
 */
export async function findMembership(
  client: WorkOSClient,
  userId: string,
  organizationId: string,
): Promise<WorkOSMembership | undefined> {
  const page = await client.read(
    "read",
    (sdk) => sdk.userManagement.listOrganizationMemberships({ userId, organizationId, limit: 1 }),
  );
  return activeOf(page);
}

/**
 * Whether an organization has any active member, without writing.
 *
 * @param client The WorkOS client.
 * @param organizationId The organization.
 * @returns `true` when at least one membership is active.
 *
 * @example Usage
 * ```ts ignore
 * if (!(await hasMembers(client, "org_1"))) await deleteOrganization(client, "org_1");
 * ```
 */
export async function hasMembers(client: WorkOSClient, organizationId: string): Promise<boolean> {
  const page = await client.read(
    "read",
    (sdk) =>
      sdk.userManagement.listOrganizationMemberships({
        organizationId,
        statuses: ["active", "pending"],
        limit: 1,
      }),
  );
  return page.data.length > 0;
}

/**
 * Deletes a membership; one already gone counts as deleted.
 *
 * @param client The WorkOS client.
 * @param membershipId The membership to delete.
 *
 * @example Usage
 * ```ts ignore
 * await deleteMembership(client, "om_123");
 * ```
 */
export async function deleteMembership(client: WorkOSClient, membershipId: string): Promise<void> {
  try {
    await client.write(
      "write",
      (sdk) => sdk.userManagement.deleteOrganizationMembership(membershipId),
    );
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}
