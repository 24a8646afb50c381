/**
 * Which audit entries a row's outcome makes: one per write the row caused.
 * Adopted users and memberships that already existed make none, which is
 * what lets `undo` leave them alone.
 *
 * @module
 */

import type { AuditEntry } from "./audit_log.ts";
import type { WorkOSOrganization } from "../workos/organizations.ts";
import type { RowOutcome } from "../outcome/mod.ts";

/**
 * The audit entries of one row's outcome, in the order the writes happened.
 *
 * @param outcome The row's outcome.
 * @param timestamp When the entries are recorded (ISO 8601).
 * @returns The entries; none when the row wrote nothing.
 *
 * @example Usage
 * ```ts
 * import { auditEntriesOf } from "./audit_entries.ts";
 * const entries = auditEntriesOf({
 *   recordNumber: 3,
 *   byteEnd: 90,
 *   email: "ada@example.com",
 *   userId: "user_1",
 *   user: "created",
 *   membership: { id: "om_1", organizationId: "org_1", created: true },
 * }, "2024-01-01T00:00:00.000Z");
 * console.log(entries.map((entry) => entry.action)); // ["user_created", "membership_created"]
 * ```
 */
export function auditEntriesOf(outcome: RowOutcome, timestamp: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  const base = { timestamp, email: outcome.email, row: outcome.recordNumber };
  const requestIds = outcome.requestIds ?? {};
  if (outcome.user === "created" && outcome.userId !== undefined) {
    entries.push({
      ...base,
      action: "user_created",
      id: outcome.userId,
      requestId: requestIds.user,
      ...(outcome.uncertain?.user ? { uncertain: true } : {}),
    });
  }
  if (outcome.user === "updated" && outcome.userId !== undefined) {
    entries.push({
      ...base,
      action: "user_updated",
      id: outcome.userId,
      requestId: requestIds.user,
      previous: outcome.previous,
      changes: outcome.changes,
    });
  }
  if (outcome.membership?.created) {
    entries.push({
      ...base,
      action: "membership_created",
      id: outcome.membership.id,
      userId: outcome.userId,
      organizationId: outcome.membership.organizationId,
      requestId: requestIds.membership,
      ...(outcome.uncertain?.membership ? { uncertain: true } : {}),
    });
  }
  const roles = outcome.membership?.roles;
  if (outcome.membership && roles) {
    // The previous roles are what `undo` puts back.
    entries.push({
      ...base,
      action: "membership_roles_updated",
      id: outcome.membership.id,
      userId: outcome.userId,
      organizationId: outcome.membership.organizationId,
      previousRoleSlugs: roles.previous,
      roleSlugs: roles.roles,
      requestId: requestIds.membership,
    });
  }
  if (outcome.factor?.created && outcome.userId !== undefined) {
    // Only the factor's id: its secret is never written down.
    entries.push({
      ...base,
      action: "totp_factor_enrolled",
      id: outcome.factor.id,
      userId: outcome.userId,
      requestId: requestIds.factor,
    });
  }
  if (outcome.deletedUserId !== undefined) {
    // `--require-membership` took back the user this row had just created.
    entries.push(
      { ...base, action: "user_created", id: outcome.deletedUserId, requestId: requestIds.user },
      {
        ...base,
        action: "user_deleted",
        id: outcome.deletedUserId,
        requestId: requestIds.deletion,
      },
    );
  }
  if (outcome.invitation?.created) {
    entries.push({
      ...base,
      action: "invitation_sent",
      id: outcome.invitation.id,
      organizationId: outcome.invitation.organizationId,
      roleSlug: outcome.invitation.roleSlug,
      requestId: requestIds.invitation,
    });
  }
  return entries;
}

/**
 * The audit entry of an organization the import created.
 *
 * @param organization The organization.
 * @param context The row that caused it and the request that made it, when known.
 * @returns The entry.
 *
 * @example Usage
 * ```ts
 * import { organizationAuditEntry } from "./audit_entries.ts";
 * const entry = organizationAuditEntry(
 *   { id: "org_1", name: "Acme", externalId: "acme", createdAtMs: 1704067200000 },
 *   { row: 4 },
 * );
 * console.log(entry.action, entry.organizationExternalId); // organization_created acme
 * ```
 */
export function organizationAuditEntry(
  organization: WorkOSOrganization,
  context: { row?: number; requestId?: string } = {},
): AuditEntry {
  return {
    timestamp: new Date().toISOString(),
    action: "organization_created",
    id: organization.id,
    organizationId: organization.id,
    organizationExternalId: organization.externalId ?? undefined,
    row: context.row,
    requestId: context.requestId,
  };
}
