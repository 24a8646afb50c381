/**
 * Brings WorkOS's role definitions in line with a file, before an import:
 * creates the permissions and roles that are missing (with their
 * permissions), leaves the ones that match, and reports the ones that
 * differ without changing them. A plan reads the tenant and writes nothing.
 * Creates are exactly-once (a ghost success is found, not made twice), so
 * running it again after any failure is safe and finishes the job.
 *
 * @module
 */

import type { OrganizationRef } from "../types.ts";
import { OrganizationResolver } from "../organizations/organization_resolver.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import {
  ensurePermission,
  ensureRole,
  listEnvironmentRoles,
  listOrganizationRoles,
  listPermissionSlugs,
  setRolePermissions,
  type WorkOSRole,
} from "../workos/authorization.ts";
import type { RoleDefinition } from "./role_definitions.ts";
import type { AuditEntry } from "../report/audit_log.ts";
import type { SetupRecorder } from "./setup_ledger.ts";

/** What happened to one definition. */
export type RoleAction =
  /** Created (or, in a plan, would be). */
  | "created"
  /** In WorkOS with the same name and permissions. */
  | "matches"
  /** In WorkOS with another name or other permissions: left as is. */
  | "differs"
  /** Could not be read or created (see `detail`). */
  | "failed";

/** The result of one definition. */
export interface RoleResult {
  definition: RoleDefinition;
  action: RoleAction;
  /** The organization's id, for an organization role that resolved. */
  organizationId?: string;
  /** What differs, or what failed. */
  detail?: string;
}

/** What {@linkcode applyRoleDefinitions} did. */
export interface ApplyRolesSummary {
  results: RoleResult[];
  rolesCreated: number;
  rolesMatching: number;
  rolesDiffering: number;
  permissionsCreated: number;
  failures: number;
  /** `true` for a plan: nothing was written. */
  planned: boolean;
}

/** Options for {@linkcode applyRoleDefinitions}. */
export interface ApplyRolesOptions {
  /** Read the tenant and report what would be done; write nothing. */
  plan?: boolean;
  /** Called once per definition, in file order. */
  onResult?(result: RoleResult): void;
  /**
   * Records each create before it is sent and once it is made, with its
   * audit entry (a job's setup ledger): a resumed run then knows a role or
   * permission it made before a crash, and `undo` can take it back.
   */
  recorder?: SetupRecorder;
  /**
   * In a plan: external ids of organizations that do not exist yet but will
   * when the definitions are applied (a package creates them first).
   */
  plannedOrganizations?: ReadonlySet<string>;
}

/**
 * The key of a role in a setup ledger.
 *
 * @param slug The role's slug.
 * @param organizationId The organization, for an organization role.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { roleKey } from "./apply_roles.ts";
 * console.log(roleKey("billing")); // role:-:billing
 * ```
 */
export function roleKey(slug: string, organizationId?: string): string {
  return `role:${organizationId ?? "-"}:${slug}`;
}

/**
 * The key of a permission in a setup ledger.
 *
 * @param slug The permission's slug.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { permissionKey } from "./apply_roles.ts";
 * console.log(permissionKey("invoices:read")); // permission:invoices:read
 * ```
 */
export function permissionKey(slug: string): string {
  return `permission:${slug}`;
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof WorkOSApiError && error.requestId
    ? `${message} (request ID ${error.requestId})`
    : message;
}

function quoted(slugs: readonly string[]): string {
  return slugs.map((slug) => JSON.stringify(slug)).join(", ");
}

/** How the role in WorkOS differs from its definition; `undefined` when it does not. */
function difference(definition: RoleDefinition, role: WorkOSRole): string | undefined {
  const parts: string[] = [];
  if (role.name !== definition.name) {
    parts.push(
      `name is ${JSON.stringify(role.name)} in WorkOS, ${
        JSON.stringify(definition.name)
      } in the file`,
    );
  }
  const have = new Set(role.permissions);
  const want = new Set(definition.permissions);
  const missing = definition.permissions.filter((slug) => !have.has(slug));
  const extra = role.permissions.filter((slug) => !want.has(slug));
  if (missing.length > 0) parts.push(`permissions missing in WorkOS: ${quoted(missing)}`);
  if (extra.length > 0) parts.push(`permissions only in WorkOS: ${quoted(extra)}`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * Applies role definitions: creates what is missing, leaves what matches,
 * reports what differs.
 *
 * @param client The WorkOS client (its general budget, retries and request ids).
 * @param definitions The definitions, as read from the file.
 * @param options Plan only, and a callback per definition.
 * @returns What was (or would be) done.
 *
 * @example Apply definitions to a fake WorkOS
 * ```ts
 * import { applyRoleDefinitions } from "./apply_roles.ts";
 * import { WorkOSClient } from "../workos/client.ts";
 * import { startFakeWorkOS } from "../fake_workos/server.ts";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const client = new WorkOSClient({ apiKey: fake.apiKey, apiUrl: fake.url });
 * const definitions = [
 *   { row: 1, slug: "billing", name: "Billing", type: "environment" as const, permissions: ["invoices:read"] },
 * ];
 * const first = await applyRoleDefinitions(client, definitions);
 * assert.equal(first.rolesCreated, 1);
 * const again = await applyRoleDefinitions(client, definitions);
 * assert.equal(again.rolesMatching, 1);
 * ```
 */
export async function applyRoleDefinitions(
  client: WorkOSClient,
  definitions: readonly RoleDefinition[],
  options: ApplyRolesOptions = {},
): Promise<ApplyRolesSummary> {
  const planned = options.plan ?? false;
  const summary: ApplyRolesSummary = {
    results: [],
    rolesCreated: 0,
    rolesMatching: 0,
    rolesDiffering: 0,
    permissionsCreated: 0,
    failures: 0,
    planned,
  };
  const report = (result: RoleResult) => {
    summary.results.push(result);
    if (result.action === "created") summary.rolesCreated++;
    else if (result.action === "matches") summary.rolesMatching++;
    else if (result.action === "differs") summary.rolesDiffering++;
    else summary.failures++;
    options.onResult?.(result);
  };

  // What WorkOS has, read once: permissions, environment roles, each organization's roles.
  const permissions = definitions.some((definition) => definition.permissions.length > 0)
    ? await listPermissionSlugs(client)
    : new Set<string>();
  const environmentRoles = new Map(
    (await listEnvironmentRoles(client)).map((role) => [role.slug, role]),
  );
  const resolver = new OrganizationResolver(client);
  const organizationRoles = new Map<string, Promise<Map<string, WorkOSRole>>>();
  const rolesOf = (organizationId: string) => {
    let roles = organizationRoles.get(organizationId);
    if (!roles) {
      roles = listOrganizationRoles(client, organizationId).then((list) =>
        new Map(
          list.filter((role) => role.type === "OrganizationRole").map((role) => [role.slug, role]),
        )
      );
      organizationRoles.set(organizationId, roles);
    }
    return roles;
  };

  const recorder = options.recorder;
  const entry = (fields: Omit<AuditEntry, "timestamp">, uncertain: boolean): AuditEntry => ({
    timestamp: new Date().toISOString(),
    ...fields,
    ...(uncertain ? { uncertain: true } : {}),
  });
  // A permission an earlier session began to create and never recorded: the job's.
  for (const slug of permissions) {
    const key = permissionKey(slug);
    if (!planned && recorder?.isPending(key)) {
      await recorder.settle(key, entry({ action: "permission_created", id: slug }, true));
      summary.permissionsCreated++;
    }
  }
  const ensurePermissions = async (slugs: readonly string[]) => {
    for (const slug of slugs) {
      const key = permissionKey(slug);
      await recorder?.intend(key);
      const created = await ensurePermission(client, slug);
      await recorder?.settle(
        key,
        created ? entry({ action: "permission_created", id: slug }, false) : undefined,
      );
      if (created) summary.permissionsCreated++;
      permissions.add(slug);
    }
  };
  const roleEntry =
    (definition: RoleDefinition, role: WorkOSRole, organizationId?: string) =>
    (uncertain: boolean) =>
      entry({
        action: "role_created",
        id: role.id ?? definition.slug,
        roleSlug: definition.slug,
        ...(organizationId ? { organizationId } : {}),
        ...(definition.organization?.kind === "external_id"
          ? { organizationExternalId: definition.organization.externalId }
          : {}),
      }, uncertain);

  for (const definition of definitions) {
    let organizationId: string | undefined;
    try {
      if (definition.organization) {
        const ref = definition.organization;
        if (
          planned && ref.kind === "external_id" && options.plannedOrganizations?.has(ref.externalId)
        ) {
          // Its organization is created first, so the role is too.
          const missing = definition.permissions.filter((slug) => !permissions.has(slug));
          for (const slug of missing) permissions.add(slug);
          summary.permissionsCreated += missing.length;
          report({
            definition,
            action: "created",
            detail: missing.length > 0 ? `with new permissions ${quoted(missing)}` : undefined,
          });
          continue;
        }
        organizationId = await resolveOrganization(resolver, ref);
      }
      const key = roleKey(definition.slug, organizationId);
      const existing = organizationId
        ? (await rolesOf(organizationId)).get(definition.slug)
        : environmentRoles.get(definition.slug);
      if (existing && !planned && recorder?.isPending(key)) {
        // Made by an earlier session a crash cut off, perhaps before its permissions were set.
        await ensurePermissions(definition.permissions.filter((slug) => !permissions.has(slug)));
        await finishRole(definition, existing, organizationId);
        await recorder.settle(key, roleEntry(definition, existing, organizationId)(true));
        report({ definition, action: "created", organizationId });
        continue;
      }
      if (existing) {
        const detail = difference(definition, existing);
        report({
          definition,
          action: detail ? "differs" : "matches",
          organizationId,
          detail: detail && `${detail}: left as is (change it in the WorkOS dashboard)`,
        });
        continue;
      }
      const missing = definition.permissions.filter((slug) => !permissions.has(slug));
      if (planned) {
        report({
          definition,
          action: "created",
          organizationId,
          detail: missing.length > 0 ? `with new permissions ${quoted(missing)}` : undefined,
        });
        for (const slug of missing) permissions.add(slug);
        summary.permissionsCreated += missing.length;
        continue;
      }
      await ensurePermissions(missing);
      await recorder?.intend(key);
      const { value, created } = await ensureRole(
        client,
        { slug: definition.slug, name: definition.name },
        organizationId,
      );
      if (!created) {
        // Someone else made it between the listing and the create.
        await recorder?.settle(key, undefined);
        const detail = difference(definition, value);
        report({
          definition,
          action: detail ? "differs" : "matches",
          organizationId,
          detail: detail && `${detail}: left as is (change it in the WorkOS dashboard)`,
        });
        continue;
      }
      await finishRole(definition, value, organizationId);
      await recorder?.settle(key, roleEntry(definition, value, organizationId)(false));
      report({ definition, action: "created", organizationId });
    } catch (error) {
      report({ definition, action: "failed", organizationId, detail: describeError(error) });
    }
  }

  /** Gives a role the job made its permissions, and remembers it as made. */
  async function finishRole(
    definition: RoleDefinition,
    role: WorkOSRole,
    organizationId: string | undefined,
  ): Promise<void> {
    if (definition.permissions.length > 0) {
      await setRolePermissions(client, definition.slug, definition.permissions, organizationId);
    }
    const made = { ...role, permissions: [...definition.permissions] };
    if (organizationId) (await rolesOf(organizationId)).set(definition.slug, made);
    else environmentRoles.set(definition.slug, made);
  }
  return summary;
}

async function resolveOrganization(
  resolver: OrganizationResolver,
  organization: OrganizationRef,
): Promise<string> {
  return await resolver.resolve(organization);
}
