/**
 * The one key an organization reference is known by: the resolver's cache
 * (and the journal that saves it), the dry run, the tenant plan and the
 * duplicate count all key organizations alike.
 *
 * @module
 */

import type { OrganizationRef } from "../types.ts";

/**
 * The key of an organization reference: `id:<id>` or `ext:<external id>`
 * (the name a row gives is not part of it).
 *
 * @param ref The organization, by id or by external id.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { organizationKey } from "./organization_key.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(organizationKey({ kind: "id", id: "org_1" }), "id:org_1");
 * assert.equal(organizationKey({ kind: "external_id", externalId: "acme", name: "Acme" }), "ext:acme");
 * ```
 */
export function organizationKey(ref: OrganizationRef): string {
  return ref.kind === "id" ? `id:${ref.id}` : `ext:${ref.externalId}`;
}
