/**
 * The TOTP step of a row: once its user exists, enroll the row's TOTP
 * factor, exactly once across retries, ghost successes and resumed jobs. A
 * user who already has a TOTP factor keeps it and gets no second one.
 *
 * @module
 */

import type { FactorOutcome } from "../outcome/mod.ts";
import type { WorkOSClient } from "../workos/client.ts";
import { enrollTotpFactor, findTotpFactor } from "../workos/auth_factors.ts";

/** Options for {@linkcode ensureTotpFactor}. */
export interface TotpStepOptions {
  /** The issuer when the row gives none (`--totp-issuer`). */
  issuer?: string;
  /**
   * Look for a factor before enrolling: for every user this very row did
   * not just create (an existing user, a resumed row).
   */
  lookupFirst: boolean;
  /** Factors made since (ms since epoch) are the import's own. */
  startedAt: number;
}

/**
 * Enrolls the row's TOTP factor unless the user has one.
 *
 * @param client The WorkOS client.
 * @param userId The user.
 * @param totp The row's secret, issuer and account name.
 * @param options Default issuer, lookup, start time.
 * @returns The factor and whether the import enrolled it.
 *
 * @example Usage
 * ```ts ignore
 * const factor = await ensureTotpFactor(client, user.id, row.totp, { lookupFirst: true, startedAt });
 * ```
 */
export async function ensureTotpFactor(
  client: WorkOSClient,
  userId: string,
  totp: { secret: string; issuer?: string; user?: string },
  options: TotpStepOptions,
): Promise<FactorOutcome> {
  const ours = (createdAtMs: number) => createdAtMs >= options.startedAt;
  if (options.lookupFirst) {
    const found = await findTotpFactor(client, userId);
    if (found) return { id: found.id, created: ours(found.createdAtMs) };
  }
  const { value, uncertain } = await enrollTotpFactor(client, userId, {
    secret: totp.secret,
    issuer: totp.issuer ?? options.issuer,
    user: totp.user,
  });
  return { id: value.id, created: uncertain ? ours(value.createdAtMs) : true };
}
