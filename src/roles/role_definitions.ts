/**
 * Role definitions from a file: the migration package's
 * `role_definitions.csv` (`role_slug,role_name,role_type,permissions,org_id,
 * org_external_id`) or JSON (an array of objects with the same keys, or
 * `{ "roles": [...] }`; `permissions` may be an array). Each definition is
 * checked against WorkOS's rules; a bad one is an error naming its row and
 * column, and the others are still applied.
 *
 * @module
 */

import type { OrganizationRef } from "../types.ts";
import { roleSlugProblem } from "../validation/roles_and_mfa.ts";

/** One role to have in WorkOS. */
export interface RoleDefinition {
  /** Row of the CSV (1 = first data row) or index + 1 in the JSON array. */
  row: number;
  slug: string;
  name: string;
  /** An environment role, or an organization's own role. */
  type: "environment" | "organization";
  /** Permission slugs, in file order, without repeats. */
  permissions: string[];
  /** The organization, for an organization role. */
  organization?: OrganizationRef;
}

/** A definition that cannot be applied. */
export interface DefinitionProblem {
  row: number;
  column: string;
  /** `Cannot apply row N: …`, with the fix. */
  message: string;
}

/** What {@linkcode readRoleDefinitions} found. */
export interface RoleDefinitionsFile {
  definitions: RoleDefinition[];
  problems: DefinitionProblem[];
}

// Permission slugs (reference/roles/permission): lowercase letters, numbers,
// hyphens, underscores, colons, periods and asterisks.
const PERMISSION_SLUG = /^[a-z0-9_:.*-]+$/;

/**
 * Reads and checks a role definitions file (CSV, or JSON by its `.json`
 * extension or first character).
 *
 * @param path The file.
 * @returns The definitions that can be applied, and the problems of the others.
 *
 * @example Usage
 * ```ts
 * import { readRoleDefinitions } from "./role_definitions.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "role_slug,role_name,role_type,permissions\nadmin,Admin,environment,\"a:read,a:write\"\n");
 * const { definitions, problems } = await readRoleDefinitions(path);
 * assert.deepEqual(definitions[0].permissions, ["a:read", "a:write"]);
 * assert.equal(problems.length, 0);
 * await Deno.remove(path);
 * ```
 */
export async function readRoleDefinitions(path: string): Promise<RoleDefinitionsFile> {
  const text = await Deno.readTextFile(path);
  const records: Array<{ row: number; fields: Record<string, unknown> }> = [];
  if (path.toLowerCase().endsWith(".json") || /^\s*[[{]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new TypeError(
        `Cannot read role definitions "${path}": it is not JSON (${(error as Error).message})`,
      );
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { roles?: unknown })?.roles;
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot read role definitions "${path}": the JSON is not an array of roles or { "roles": [...] }`,
      );
    }
    list.forEach((item, index) => {
      const fields: Record<string, unknown> = {};
      if (typeof item === "object" && item !== null) {
        for (const [key, value] of Object.entries(item)) fields[key.trim().toLowerCase()] = value;
      }
      records.push({ row: index + 1, fields });
    });
  } else {
    let rows: string[][];
    // Loaded here, not with the module: an npm package costs the CLI's every run memory.
    const { parse } = await import("csv-parse/sync");
    try {
      rows = parse(text.replace(/^\uFEFF/, ""), {
        skip_empty_lines: true,
        relax_column_count: true,
      }) as string[][];
    } catch (error) {
      throw new TypeError(
        `Cannot read role definitions "${path}": it is not CSV (${(error as Error).message})`,
      );
    }
    const columns = (rows[0] ?? []).map((column) => column.trim().toLowerCase());
    const missing = ["role_slug", "role_name", "role_type"].filter((column) =>
      !columns.includes(column)
    );
    if (missing.length > 0) {
      throw new TypeError(
        `Cannot read role definitions "${path}": the header lacks ${
          missing.map((column) => `"${column}"`).join(", ")
        }: use role_slug,role_name,role_type,permissions,org_id,org_external_id`,
      );
    }
    rows.slice(1).forEach((values, index) => {
      const fields: Record<string, unknown> = {};
      columns.forEach((column, at) => fields[column] = values[at]);
      records.push({ row: index + 1, fields });
    });
  }
  return checkDefinitions(records);
}

function checkDefinitions(
  records: Array<{ row: number; fields: Record<string, unknown> }>,
): RoleDefinitionsFile {
  const definitions: RoleDefinition[] = [];
  const problems: DefinitionProblem[] = [];
  const seen = new Map<string, number>();
  for (const { row, fields } of records) {
    const fail = (column: string, detail: string) =>
      problems.push({ row, column, message: `Cannot apply row ${row}: ${detail}` });
    const text = (column: string) => {
      const value = fields[column];
      return typeof value === "string"
        ? value.trim()
        : typeof value === "number"
        ? String(value)
        : "";
    };
    const before = problems.length;
    const slug = text("role_slug");
    const name = text("role_name");
    const type = text("role_type").toLowerCase();
    const orgId = text("org_id");
    const orgExternalId = text("org_external_id");
    if (slug === "") fail("role_slug", '"role_slug" is empty: add the role\'s slug');
    else {
      const problem = roleSlugProblem(slug, "role_slug");
      if (problem) fail("role_slug", problem);
    }
    if (name === "") fail("role_name", '"role_name" is empty: add the name WorkOS shows');
    if (type !== "environment" && type !== "organization") {
      fail(
        "role_type",
        `"role_type" is ${JSON.stringify(text("role_type"))}: use environment or organization`,
      );
    }
    if (type === "organization") {
      if (orgId === "" && orgExternalId === "") {
        fail(
          "org_id",
          'an organization role needs its organization: fill "org_id" or "org_external_id"',
        );
      }
      if (slug !== "" && !slug.startsWith("org-")) {
        fail(
          "role_slug",
          `"role_slug" is ${
            JSON.stringify(slug)
          }: an organization role's slug begins with "org-" in WorkOS: use ${
            JSON.stringify(`org-${slug}`)
          }`,
        );
      }
    }
    const permissions = readPermissions(fields.permissions, fail);
    if (problems.length > before) continue;
    const organization: OrganizationRef | undefined = type !== "organization"
      ? undefined
      : orgId !== ""
      ? { kind: "id", id: orgId }
      : { kind: "external_id", externalId: orgExternalId };
    const scope = organization
      ? `${organization.kind === "id" ? organization.id : `ext:${organization.externalId}`} ${slug}`
      : slug;
    const earlier = seen.get(scope);
    if (earlier !== undefined) {
      fail(
        "role_slug",
        `role ${JSON.stringify(slug)} is already defined on row ${earlier}: keep one`,
      );
      continue;
    }
    seen.set(scope, row);
    definitions.push({
      row,
      slug,
      name,
      type: type as RoleDefinition["type"],
      permissions,
      ...(organization ? { organization } : {}),
    });
  }
  return { definitions, problems };
}

function readPermissions(
  value: unknown,
  fail: (column: string, detail: string) => void,
): string[] {
  let items: unknown[] = [];
  if (Array.isArray(value)) items = value;
  else if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(text);
        items = Array.isArray(parsed) ? parsed : [];
      } catch {
        fail("permissions", '"permissions" starts with "[" but is not a JSON array: fix it');
        return [];
      }
    } else if (text !== "") items = text.split(",");
  } else if (value !== undefined && value !== null) {
    fail("permissions", '"permissions" must be a list: write a:read,a:write');
    return [];
  }
  const slugs: string[] = [];
  for (const item of items) {
    const slug = typeof item === "string" ? item.trim() : "";
    if (slug === "") continue;
    if (!PERMISSION_SLUG.test(slug)) {
      fail(
        "permissions",
        `"permissions" has ${
          JSON.stringify(slug)
        }, which is not a permission slug: use lowercase letters, digits and - _ : . *`,
      );
      return [];
    }
    if (!slugs.includes(slug)) slugs.push(slug);
  }
  return slugs;
}
