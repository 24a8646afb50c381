/**
 * The importer's own view of WorkOS objects. No SDK type crosses this
 * boundary: these are converted from the SDK's answers inside `src/workos`.
 *
 * @module
 */

export type { WorkOSInvitation } from "./invitations.ts";
export type { WorkOSMembership } from "./memberships.ts";
export type { WorkOSOrganization } from "./organizations.ts";
export type { UserChanges, WorkOSUser } from "./users.ts";
export type { OutageEvent } from "./_outage.ts";
