/**
 * Password sign-ins through WorkOS (`POST /user_management/authenticate`,
 * `grant_type: "password"`), told apart into "the password was accepted"
 * and why not, for the login canary.
 *
 * @module
 */

import { WorkOSApiError, type WorkOSClient } from "./client.ts";

/** One account to sign in with. */
export interface PasswordCredentials {
  /** The WorkOS client id (`client_...`) of the environment's application. */
  clientId: string;
  email: string;
  /** Sent to WorkOS only; never logged or returned. */
  password: string;
}

/** How a sign-in ended. */
export type SignInResult =
  | {
    ok: true;
    /** The user WorkOS signed in. */
    userId?: string;
    /**
     * Set when WorkOS accepted the password but asks for another step before
     * it issues a session (email verification, MFA, organization selection).
     */
    nextStep?: string;
  }
  | {
    ok: false;
    /** Sentence-case reason, without the password. */
    reason: string;
    /** WorkOS's error code, when it gave one. */
    code?: string;
    status?: number;
  };

// Codes WorkOS answers only after the password matched.
const NEXT_STEPS: Record<string, string> = {
  email_verification_required: "email verification",
  mfa_challenge: "an MFA code",
  mfa_enrollment: "MFA enrollment",
  organization_selection_required: "an organization choice",
  radar_email_challenge: "a Radar email challenge",
  radar_sms_challenge: "a Radar SMS challenge",
};

/**
 * Signs one account in with its password through the client's budget and
 * retries. Each attempt counts against WorkOS's limit of 10 sign-ins per
 * 60 s per email, so callers bound the retries.
 *
 * @param client The WorkOS client.
 * @param credentials The client id, email and password.
 * @returns Whether WorkOS accepted the password, and if not, why.
 *
 * @example Usage
 * ```ts ignore
 * const result = await signInWithPassword(client, { clientId, email, password });
 * console.log(result.ok ? "signed in" : result.reason);
 * ```
 */
export async function signInWithPassword(
  client: WorkOSClient,
  credentials: PasswordCredentials,
): Promise<SignInResult> {
  try {
    const result = await client.read("write", (sdk) =>
      sdk.userManagement.authenticateWithPassword({
        clientId: credentials.clientId,
        email: credentials.email,
        password: credentials.password,
      }));
    return { ok: true, userId: result.user?.id };
  } catch (error) {
    if (!(error instanceof WorkOSApiError)) throw error;
    const { code, status, message } = error.failure;
    const nextStep = code === undefined ? undefined : NEXT_STEPS[code];
    if (nextStep !== undefined) return { ok: true, nextStep };
    if (code === "invalid_credentials") {
      return {
        ok: false,
        code,
        status,
        reason: "WorkOS refused the password (invalid_credentials): the imported hash does not " +
          "match it, the user has no password, or there is no such user",
      };
    }
    if (code === "sso_required") {
      return {
        ok: false,
        code,
        status,
        reason: "WorkOS requires SSO for this user (sso_required): password sign-in is off for it",
      };
    }
    if (status === 429) {
      return {
        ok: false,
        code,
        status,
        reason:
          "WorkOS rate-limited the sign-in (10 per 60 seconds per email): try again in a minute",
      };
    }
    return {
      ok: false,
      code,
      status,
      reason: `${message}${code ? ` (${code})` : ""}${
        error.requestId ? ` (request ID ${error.requestId})` : ""
      }`,
    };
  }
}
