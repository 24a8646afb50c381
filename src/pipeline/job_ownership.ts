/**
 * What a resumed job's rows make of what they find: whether a user, a
 * membership or an organization that exists was made by this row before a
 * crash, by another row of the job, or by someone else. The journal only
 * keeps the claims ({@linkcode ImportJournal.claimsOf}); the rules are here.
 *
 * @module
 */

import type { ImportJournal } from "../journal/store.ts";
import type { UserOutcome } from "../outcome/mod.ts";
import type { WorkOSMembership } from "../workos/memberships.ts";
import type { WorkOSOrganization } from "../workos/organizations.ts";
import type { WorkOSUser } from "../workos/users.ts";

/**
 * How a committed row of the job already counted a user this row adopted.
 *
 * @param journal The job's journal.
 * @param user The user found.
 * @param recordNumber The row that found it.
 * @returns `"repeat"` when another row established the person, this row's
 *   own outcome when it did (in a commit a crash cut off), `undefined` when
 *   no row did.
 *
 * @example Row 1 created Ada; row 7 finds her
 * ```ts
 * import { priorUserOutcome } from "./job_ownership.ts";
 * import type { OwnershipClaim } from "../journal/store.ts";
 * const claims: OwnershipClaim[] = [{ recordNumber: 1, user: "created", membershipCreated: false }];
 * const ledger = { claimsOf: () => Promise.resolve(claims) };
 * const ada = {
 *   id: "user_1", email: "ada@example.com", firstName: null, lastName: null,
 *   emailVerified: false, externalId: null, metadata: {}, createdAtMs: 0,
 * };
 * console.log(await priorUserOutcome(ledger, ada, 7)); // repeat
 * console.log(await priorUserOutcome(ledger, ada, 1)); // created
 * ```
 */
export async function priorUserOutcome(
  journal: Pick<ImportJournal, "claimsOf">,
  user: WorkOSUser,
  recordNumber: number,
): Promise<UserOutcome | undefined> {
  let other = false;
  for (const claim of await journal.claimsOf(user.id)) {
    if (claim.user === undefined) continue;
    if (claim.recordNumber === recordNumber) return claim.user;
    other = true;
  }
  return other ? "repeat" : undefined;
}

/**
 * Whether a membership the job may have made (a ghost success, or made
 * while a session was cut off) counts as created by this row.
 *
 * @param journal The job's journal.
 * @param membership The membership found.
 * @param recordNumber The row that found it.
 * @returns `false` when another row claimed creating it, else `true`.
 *
 * @example Row 4 created the membership; row 9 finds it
 * ```ts
 * import { classifyOwnMembership } from "./job_ownership.ts";
 * const ledger = {
 *   claimsOf: () =>
 *     Promise.resolve([{ recordNumber: 4, organizationId: "org_1", membershipCreated: true }]),
 * };
 * const membership = {
 *   id: "om_1", userId: "user_1", organizationId: "org_1", status: "active" as const,
 *   createdAtMs: 0,
 * };
 * console.log(await classifyOwnMembership(ledger, membership, 9)); // false
 * console.log(await classifyOwnMembership(ledger, membership, 4)); // true
 * ```
 */
export async function classifyOwnMembership(
  journal: Pick<ImportJournal, "claimsOf">,
  membership: WorkOSMembership,
  recordNumber: number,
): Promise<boolean> {
  let other = false;
  for (const claim of await journal.claimsOf(membership.userId)) {
    if (claim.organizationId !== membership.organizationId || !claim.membershipCreated) continue;
    if (claim.recordNumber === recordNumber) return true;
    other = true;
  }
  return !other;
}

/**
 * Counts an organization found by lookup as the job's own, once: the import
 * asks only about one made while a session of the job was cut off.
 *
 * @param journal The job's journal.
 * @param organization The organization found.
 * @returns `true` when it is to be counted as created now.
 *
 * @example Counted once
 * ```ts
 * import { claimOrganization } from "./job_ownership.ts";
 * const claimed = new Set<string>();
 * const ledger = {
 *   addOrganizationClaim: (id: string) => !claimed.has(id) && claimed.add(id) !== undefined,
 * };
 * const acme = { id: "org_1", name: "Acme", externalId: "acme", createdAtMs: 0 };
 * console.log(claimOrganization(ledger, acme), claimOrganization(ledger, acme)); // true false
 * ```
 */
export function claimOrganization(
  journal: Pick<ImportJournal, "addOrganizationClaim">,
  organization: WorkOSOrganization,
): boolean {
  return journal.addOrganizationClaim(organization.id);
}
