/**
 * A membership's roles: what a row asks for, what to do when an existing
 * membership has other roles, and WorkOS's refusals explained in the row's
 * terms. WorkOS refuses more than one role per membership unless the
 * environment has Multiple Roles on (`multiple_roles_not_enabled`): the
 * first refusal is reported once for the run, and later rows with several
 * roles fail without spending a request on a sure refusal.
 *
 * @module
 */

import type { UserRow } from "../types.ts";
import type { RolesChange } from "../outcome/mod.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import { updateMembershipRoles, type WorkOSMembership } from "../workos/memberships.ts";

/**
 * The roles a row asks for, or `undefined` when it names none (WorkOS then
 * gives new memberships the default role and existing ones keep theirs).
 *
 * @param row The row.
 * @returns The role slugs.
 *
 * @example Usage
 * ```ts
 * import { rolesOfRow } from "./membership_roles.ts";
 * const row = { recordNumber: 1, byteEnd: 1, email: "a@b.co", emailKey: "a@b.co", original: {} };
 * console.log(rolesOfRow({ ...row, roleSlugs: ["admin", "billing"] })); // ["admin", "billing"]
 * console.log(rolesOfRow(row)); // undefined
 * ```
 */
export function rolesOfRow(row: UserRow): string[] | undefined {
  if (row.roleSlugs && row.roleSlugs.length > 0) return row.roleSlugs;
  return row.roleSlug === undefined ? undefined : [row.roleSlug];
}

/**
 * Whether two role lists hold the same roles, in any order.
 *
 * @param a One list.
 * @param b The other.
 * @returns `true` when they are the same set.
 *
 * @example Usage
 * ```ts
 * import { sameRoles } from "./membership_roles.ts";
 * console.log(sameRoles(["a", "b"], ["b", "a"])); // true
 * ```
 */
export function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((slug) => set.has(slug));
}

const MULTIPLE_ROLES = "multiple_roles_not_enabled";
const UNKNOWN_ROLE_CODES: ReadonlySet<string> = new Set(["invalid_role", "role_not_found"]);

/** The run-level line printed once when WorkOS refuses several roles. */
export const MULTIPLE_ROLES_NOTICE =
  "WorkOS refused a membership with several roles: Multiple Roles is not enabled in this environment: " +
  "enable it in the WorkOS dashboard (Authorization > Configuration), then import the failed rows " +
  "again from the error file; every row with more than one role fails until then, without a request";

/**
 * Remembers that WorkOS refused several roles, so that the refusal is
 * reported once for the run and later rows with several roles fail at once.
 *
 * @example Usage
 * ```ts
 * import { MultipleRolesGate } from "./membership_roles.ts";
 * const notices: string[] = [];
 * const gate = new MultipleRolesGate((line) => notices.push(line));
 * gate.check(["admin", "billing"]); // nothing refused yet: no throw
 * console.log(gate.refused); // false
 * ```
 */
export class MultipleRolesGate {
  #refusal?: WorkOSApiError;
  readonly #notify: (line: string) => void;

  /**
   * @param notify Receives the run-level notice, once.
   */
  constructor(notify: (line: string) => void) {
    this.#notify = notify;
  }

  /** Whether WorkOS has refused several roles during this run. */
  get refused(): boolean {
    return this.#refusal !== undefined;
  }

  /**
   * Throws WorkOS's refusal again for a row with several roles once one was
   * seen: the request would be refused too.
   *
   * @param roles The roles the row asks for.
   */
  check(roles: readonly string[] | undefined): void {
    if (this.#refusal && roles && roles.length > 1) {
      throw new WorkOSApiError(this.#refusal.failure);
    }
  }

  /**
   * Notes a failed membership request: a `multiple_roles_not_enabled`
   * refusal closes the gate and sends the notice (the first time).
   *
   * @param error What the request threw.
   */
  observe(error: unknown): void {
    if (this.#refusal || !isMultipleRolesRefusal(error)) return;
    this.#refusal = error as WorkOSApiError;
    this.#notify(MULTIPLE_ROLES_NOTICE);
  }
}

function isMultipleRolesRefusal(error: unknown): boolean {
  return error instanceof WorkOSApiError && error.failure.codes.includes(MULTIPLE_ROLES);
}

/**
 * A membership failure in the row's terms: which column, what is wrong, how
 * to fix it, for WorkOS's role refusals (several roles without Multiple
 * Roles, an unknown role). Other errors are returned as they are.
 *
 * @param error What the membership request threw.
 * @param row The row.
 * @returns The error to record (the same WorkOS codes and request id).
 *
 * @example Usage
 * ```ts ignore
 * return failRow(outcome, row, "membership_create", explainRoleError(error, row));
 * ```
 */
export function explainRoleError(error: unknown, row: UserRow): unknown {
  if (!(error instanceof WorkOSApiError)) return error;
  const roles = rolesOfRow(row) ?? [];
  const column = row.roleSlugs ? "role_slugs" : "role_slug";
  const where = `Cannot import row ${row.recordNumber}`;
  let message: string | undefined;
  if (isMultipleRolesRefusal(error)) {
    message = `${where}: "${column}" has ${roles.length} roles (${
      roles.map((slug) => JSON.stringify(slug)).join(", ")
    }) but Multiple Roles is not enabled in this WorkOS environment: enable it (Authorization > Configuration) and import this row again, or keep one role`;
  } else if (error.failure.codes.some((code) => UNKNOWN_ROLE_CODES.has(code))) {
    message = `${where}: "${column}" names a role WorkOS does not have (${
      roles.map((slug) => JSON.stringify(slug)).join(", ")
    }): ${error.failure.message}: create the role first ("workos-importer roles apply <file>") or correct "${column}"`;
  }
  if (message === undefined) return error;
  return new WorkOSApiError({ ...error.failure, message }, error.requestId);
}

/**
 * Brings an existing membership's roles to the row's, when they differ and
 * `update` is allowed; otherwise reports the difference.
 *
 * @param client The WorkOS client.
 * @param membership The membership as found.
 * @param roles The roles the row asks for.
 * @param options Whether to update, and where the warning goes.
 * @returns The change made, or `undefined` when none was.
 *
 * @example Usage
 * ```ts ignore
 * const change = await reconcileRoles(client, membership, ["admin"], { update: true, warn });
 * ```
 */
export async function reconcileRoles(
  client: WorkOSClient,
  membership: WorkOSMembership,
  roles: readonly string[],
  options: { update: boolean; warn(message: string): void },
): Promise<RolesChange | undefined> {
  const previous = membership.roleSlugs ?? [];
  if (previous.length === 0 || sameRoles(previous, roles)) return undefined;
  const list = (slugs: readonly string[]) => slugs.map((slug) => JSON.stringify(slug)).join(", ");
  if (!options.update) {
    options.warn(
      `membership in "${membership.organizationId}" already exists with roles ${
        list(previous)
      }, not ${list(roles)}: left as is (use --on-existing update to change its roles)`,
    );
    return undefined;
  }
  await updateMembershipRoles(client, membership.id, roles);
  return { previous, roles: [...roles] };
}
