/**
 * Where a run's memberships go, decided once from the flags and the input's
 * columns, and the organization each row joins under it. Import, dry run,
 * plan and validate all decide it here.
 *
 * @module
 */

import type { InputFormat, OrganizationRef, UserRow } from "../types.ts";

/**
 * Where memberships go: nowhere (`none`), one organization for every row
 * (`single`, from `--org-id`/`--org-external-id`), or each row's own
 * columns (`multi`).
 *
 * @example Usage
 * ```ts
 * import type { OrganizationMode } from "@workos-importer/cli";
 *
 * const mode: OrganizationMode = { kind: "single", organization: { kind: "id", id: "org_1" } };
 * console.log(mode.kind); // "single"
 * ```
 */
export type OrganizationMode =
  | { kind: "none" }
  | { kind: "single"; organization: OrganizationRef }
  | { kind: "multi" };

/** The input columns that put a run in multi-organization mode. */
const ORGANIZATION_COLUMNS: readonly string[] = ["org_id", "org_external_id"];

/** The flags that choose the organization mode. */
export interface OrganizationFlags {
  /** Every user joins this organization (by WorkOS id). */
  organizationId?: string;
  /** Every user joins the organization with this external id. */
  organizationExternalId?: string;
  /** Create the `organizationExternalId` organization when missing. */
  createOrganizationIfMissing?: boolean;
  /** Name for the organization to create. */
  organizationName?: string;
}

/**
 * The organization mode of a run: the flags win; otherwise organization
 * columns (or NDJSON, whose records may carry them) mean per-row
 * organizations. A reader that knows whether its records can name an
 * organization says so (`namesOrganizations`: a provider's export, from its
 * mapping and `--map`), and that decides instead of the format: a Firebase
 * export names none, so its run creates users only and its plan keeps no
 * person-and-organization pairs.
 *
 * @param input The input's format and columns, and whether its records may name an organization.
 * @param flags The organization flags.
 * @returns The mode, and whether the input's organization columns are ignored for the flags.
 *
 * @example Columns decide without flags
 * ```ts
 * import { detectOrganizationMode } from "./organization_mode.ts";
 * import assert from "node:assert/strict";
 *
 * const input = { format: "csv", columns: ["email", "org_external_id"] } as const;
 * assert.equal(detectOrganizationMode(input, {}).mode.kind, "multi");
 * const flagged = detectOrganizationMode(input, { organizationId: "org_1" });
 * assert.equal(flagged.mode.kind, "single");
 * assert.equal(flagged.columnsIgnored, true);
 * ```
 *
 * @example A provider's export that names no organization
 * ```ts
 * import { detectOrganizationMode } from "./organization_mode.ts";
 * import assert from "node:assert/strict";
 *
 * const firebase = { format: "ndjson", columns: ["email"], namesOrganizations: false } as const;
 * assert.equal(detectOrganizationMode(firebase, {}).mode.kind, "none");
 * const plain = { format: "ndjson", columns: [] } as const;
 * assert.equal(detectOrganizationMode(plain, {}).mode.kind, "multi");
 * ```
 */
export function detectOrganizationMode(
  input: { format: InputFormat; columns: readonly string[]; namesOrganizations?: boolean },
  flags: OrganizationFlags,
): { mode: OrganizationMode; columnsIgnored: boolean } {
  const known = input.namesOrganizations;
  const hasColumns = known ??
    input.columns.some((column) => ORGANIZATION_COLUMNS.includes(column));
  if (flags.organizationId !== undefined) {
    return {
      mode: { kind: "single", organization: { kind: "id", id: flags.organizationId } },
      columnsIgnored: hasColumns,
    };
  }
  if (flags.organizationExternalId !== undefined) {
    return {
      mode: {
        kind: "single",
        organization: {
          kind: "external_id",
          externalId: flags.organizationExternalId,
          name: flags.createOrganizationIfMissing ? flags.organizationName : undefined,
        },
      },
      columnsIgnored: hasColumns,
    };
  }
  const multi = hasColumns || (known === undefined && input.format === "ndjson");
  return { mode: multi ? { kind: "multi" } : { kind: "none" }, columnsIgnored: false };
}

/**
 * The organization a row joins under a mode, if any.
 *
 * @param mode The run's organization mode.
 * @param row The validated row.
 * @returns The organization, or `undefined` when the row joins none.
 *
 * @example Usage
 * ```ts
 * import { organizationOf } from "./organization_mode.ts";
 * import assert from "node:assert/strict";
 *
 * const row = {
 *   recordNumber: 1,
 *   byteEnd: 10,
 *   email: "ada@example.com",
 *   emailKey: "ada@example.com",
 *   organization: { kind: "external_id", externalId: "acme" } as const,
 *   original: {},
 * };
 * assert.equal(organizationOf({ kind: "none" }, row), undefined);
 * assert.equal(organizationOf({ kind: "multi" }, row)?.kind, "external_id");
 * ```
 */
export function organizationOf(
  mode: OrganizationMode,
  row: UserRow,
): OrganizationRef | undefined {
  if (mode.kind === "single") return mode.organization;
  return mode.kind === "multi" ? row.organization : undefined;
}
