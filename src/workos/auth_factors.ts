/**
 * MFA factors of users: enroll a TOTP factor exactly once with a given
 * secret, find a user's TOTP factor, delete a factor. Secrets go out in the
 * enroll request and nowhere else: what these functions return holds ids
 * and times only, and a failure's message never repeats the secret.
 *
 * @module
 */

import { type Ensured, WorkOSApiError, type WorkOSClient } from "./client.ts";
import { timeMs } from "./_time.ts";

/** A user's TOTP factor, without any of its secrets. */
export interface WorkOSAuthFactor {
  id: string;
  userId: string;
  /** When WorkOS created the factor, in milliseconds since the epoch. */
  createdAtMs: number;
}

/** What to enroll. */
export interface TotpEnrollment {
  /** Base32 shared secret. */
  secret: string;
  /** Shown in authenticator apps; WorkOS uses the team name when absent. */
  issuer?: string;
  /** The account name in authenticator apps; WorkOS uses the email when absent. */
  user?: string;
}

/**
 * The user's first TOTP factor, without writing.
 *
 * @param client The WorkOS client.
 * @param userId The user.
 * @returns The factor, or `undefined` when the user has none.
 *
 * @example Usage
 * ```ts ignore
 * const factor = await findTotpFactor(client, "user_1");
 * ```
 */
export async function findTotpFactor(
  client: WorkOSClient,
  userId: string,
): Promise<WorkOSAuthFactor | undefined> {
  const page = await client.read(
    "read",
    (sdk) => sdk.multiFactorAuth.listUserAuthFactors({ userId, limit: 100, order: "asc" }),
  );
  const factor = page.data.find((candidate) => candidate.type === "totp");
  return factor ? { id: factor.id, userId, createdAtMs: timeMs(factor.createdAt) } : undefined;
}

/**
 * Enrolls a TOTP factor with the given secret, exactly once whatever the
 * network does: after an answer that may hide a success, the next attempt
 * lists the user's factors first and adopts the TOTP factor it finds
 * (`uncertain`).
 *
 * @param client The WorkOS client.
 * @param userId The user.
 * @param enrollment Secret, issuer and account name.
 * @returns The factor (ids and times only) and whether this call enrolled it.
 *
 * @example Usage
 * ```ts ignore
 * const { value } = await enrollTotpFactor(client, "user_1", { secret: "JBSWY3DPEHPK3PXP" });
 * ```
 */
export async function enrollTotpFactor(
  client: WorkOSClient,
  userId: string,
  enrollment: TotpEnrollment,
): Promise<Ensured<WorkOSAuthFactor>> {
  try {
    return await client.ensure<WorkOSAuthFactor>({
      kind: "write",
      lookupKind: "read",
      create: async (sdk) => {
        const { authenticationFactor } = await sdk.multiFactorAuth.createUserAuthFactor({
          userId,
          type: "totp",
          totpSecret: enrollment.secret,
          totpIssuer: enrollment.issuer,
          totpUser: enrollment.user,
        });
        // Only the id and time leave: the answer also holds the secret, its
        // QR code and its otpauth URI.
        return {
          id: authenticationFactor.id,
          userId,
          createdAtMs: timeMs(authenticationFactor.createdAt),
        };
      },
      lookup: (sdk) =>
        sdk.multiFactorAuth.listUserAuthFactors({ userId, limit: 100, order: "asc" }).then(
          (page) => {
            const factor = page.data.find((candidate) => candidate.type === "totp");
            return factor
              ? { id: factor.id, userId, createdAtMs: timeMs(factor.createdAt) }
              : undefined;
          },
        ),
      exists: () => false,
      createdAtMs: (value) => value.createdAtMs,
    });
  } catch (error) {
    throw withoutSecret(error, enrollment.secret);
  }
}

/**
 * Deletes a factor; one already gone counts as deleted.
 *
 * @param client The WorkOS client.
 * @param factorId The factor.
 *
 * @example Usage
 * ```ts ignore
 * await deleteAuthFactor(client, "auth_factor_1");
 * ```
 */
export async function deleteAuthFactor(client: WorkOSClient, factorId: string): Promise<void> {
  try {
    await client.write("other", (sdk) => sdk.multiFactorAuth.deleteFactor(factorId));
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}

/** The error with every copy of the secret in its message blanked out. */
function withoutSecret(error: unknown, secret: string): unknown {
  if (!(error instanceof WorkOSApiError) || !error.message.includes(secret)) return error;
  const message = error.failure.message.replaceAll(secret, "[totp secret]");
  return new WorkOSApiError({ ...error.failure, message }, error.requestId);
}
