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
  return ref.kind === "id" ? ID_KEY_PREFIX + ref.id : EXTERNAL_ID_KEY_PREFIX + ref.externalId;
}

/**
 * What {@linkcode organizationKey} puts before an id, for a caller that
 * hashes a key from its two parts without building it.
 *
 * @example Usage
 * ```ts
 * import { ID_KEY_PREFIX, organizationKey } from "./organization_key.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ID_KEY_PREFIX + "org_1", organizationKey({ kind: "id", id: "org_1" }));
 * ```
 */
export const ID_KEY_PREFIX = "id:";

/**
 * What {@linkcode organizationKey} puts before an external id.
 *
 * @example Usage
 * ```ts
 * import { EXTERNAL_ID_KEY_PREFIX, organizationKey } from "./organization_key.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   EXTERNAL_ID_KEY_PREFIX + "acme",
 *   organizationKey({ kind: "external_id", externalId: "acme" }),
 * );
 * ```
 */
export const EXTERNAL_ID_KEY_PREFIX = "ext:";
