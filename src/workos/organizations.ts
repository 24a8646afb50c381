/**
 * Organizations: find by external id, create exactly once, delete.
 *
 * Organization endpoints are outside user management, so they take only the
 * general budget (`"other"`).
 *
 * @module
 */

import type { Organization } from "@workos-inc/node";
import { type Ensured, WorkOSApiError, type WorkOSClient } from "./client.ts";
import { isAlreadyExists } from "./errors.ts";
import { timeMs } from "./_time.ts";

/** A WorkOS organization as the importer reads it back (the project's own type). */
export interface WorkOSOrganization {
  /** The WorkOS organization id (`org_...`). */
  id: string;
  /** The organization's name. */
  name: string;
  /** Your identifier of the organization, `null` when unset. */
  externalId: string | null;
  /** When WorkOS created the organization, in milliseconds since the epoch. */
  createdAtMs: number;
}

function toOrganization(organization: Organization): WorkOSOrganization {
  return {
    id: organization.id,
    name: organization.name,
    externalId: organization.externalId ?? null,
    createdAtMs: timeMs(organization.createdAt),
  };
}

async function getByExternalId(
  lookup: () => Promise<Organization>,
): Promise<WorkOSOrganization | undefined> {
  try {
    return toOrganization(await lookup());
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return undefined;
    // The SDK's own NotFoundException, when called outside client.read.
    if ((error as { status?: unknown })?.status === 404) return undefined;
    throw error;
  }
}

/**
 * Finds the organization with this external id.
 *
 * @param client The WorkOS client.
 * @param externalId Your identifier of the organization.
 * @returns The organization, or `undefined` when none has this external id.
 *
 * @example Usage
 * ```ts ignore
 * const organization = await findOrganizationByExternalId(client, "acme");
 * ```
 */
export function findOrganizationByExternalId(
  client: WorkOSClient,
  externalId: string,
): Promise<WorkOSOrganization | undefined> {
  return getByExternalId(() =>
    client.read("other", (sdk) => sdk.organizations.getOrganizationByExternalId(externalId))
  );
}

/**
 * Finds the organization with this id.
 *
 * @param client The WorkOS client.
 * @param organizationId The WorkOS organization id.
 * @returns The organization, or `undefined` when none has this id.
 *
 * @example Usage
 * ```ts ignore
 * const organization = await findOrganizationById(client, "org_123");
 * ```
 */
export function findOrganizationById(
  client: WorkOSClient,
  organizationId: string,
): Promise<WorkOSOrganization | undefined> {
  return getByExternalId(() =>
    client.read("other", (sdk) => sdk.organizations.getOrganization(organizationId))
  );
}

/**
 * Creates an organization with this external id, or adopts the one that has
 * it already (`created: false`).
 *
 * @param client The WorkOS client.
 * @param externalId Your identifier of the organization.
 * @param options The name to create it with.
 * @returns The organization and whether this call created it.
 *
 * @example Usage
 * ```ts ignore
 * const { value } = await ensureOrganization(client, "acme", { name: "Acme Inc." });
 * ```
 */
export function ensureOrganization(
  client: WorkOSClient,
  externalId: string,
  options: { name: string },
): Promise<Ensured<WorkOSOrganization>> {
  return client.ensure<WorkOSOrganization>({
    kind: "other",
    lookupKind: "other",
    create: (sdk) =>
      sdk.organizations.createOrganization({ name: options.name, externalId }).then(toOrganization),
    lookup: (sdk) =>
      getByExternalId(() => sdk.organizations.getOrganizationByExternalId(externalId)),
    exists: isAlreadyExists,
    createdAtMs: (value) => value.createdAtMs,
  });
}

/**
 * Deletes an organization; one already gone counts as deleted.
 *
 * @param client The WorkOS client.
 * @param organizationId The organization to delete.
 *
 * @example Usage
 * ```ts ignore
 * await deleteOrganization(client, "org_123");
 * ```
 */
export async function deleteOrganization(
  client: WorkOSClient,
  organizationId: string,
): Promise<void> {
  try {
    await client.write("other", (sdk) => sdk.organizations.deleteOrganization(organizationId));
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}
