/**
 * Invitations: find the pending one for an email and organization, send one
 * exactly once.
 *
 * @module
 */

import type { Invitation, SendInvitationOptions } from "@workos-inc/node";
import type { Ensured, WorkOSClient } from "./client.ts";
import { timeMs } from "./_time.ts";

/** An invitation as the importer reads it back (the project's own type). */
export interface WorkOSInvitation {
  /** The WorkOS invitation id (`invitation_...`). */
  id: string;
  /** The invitee. */
  email: string;
  /** `pending`, `accepted`, `expired` or `revoked`. */
  state: "pending" | "accepted" | "expired" | "revoked";
  /** The organization to join, `null` for an invitation to the application. */
  organizationId: string | null;
  /** When the invitation expires, in milliseconds since the epoch. */
  expiresAtMs: number;
  /** When it was sent, in milliseconds since the epoch. */
  createdAtMs: number;
}

function toInvitation(invitation: Invitation): WorkOSInvitation {
  return {
    id: invitation.id,
    email: invitation.email,
    state: invitation.state,
    organizationId: invitation.organizationId ?? null,
    expiresAtMs: timeMs(invitation.expiresAt),
    createdAtMs: timeMs(invitation.createdAt),
  };
}

/** The pending invitation of a page for this organization. */
function pendingOf(
  page: { data: Invitation[] },
  organizationId: string | undefined,
): WorkOSInvitation | undefined {
  const invitation = page.data.find((invitation) =>
    invitation.state === "pending" &&
    (invitation.organizationId ?? undefined) === organizationId
  );
  return invitation && toInvitation(invitation);
}

/** What to invite whom to. */
export interface InvitationRequest {
  /** The invitee. */
  email: string;
  /** The organization to join; an invitation to the application when absent. */
  organizationId?: string;
  /** The role to join with; the organization's default role when absent. */
  roleSlug?: string;
  /** Days until the invitation expires (WorkOS allows 1 to 30). */
  expiresInDays?: number;
  /** The locale the invitation email is written in. */
  locale?: string;
}

/**
 * Finds a pending invitation for this email and organization (WorkOS
 * compares emails case-insensitively). Expired, revoked and accepted
 * invitations do not count.
 *
 * @param client The WorkOS client.
 * @param email The invitee.
 * @param organizationId The organization; without it, only invitations to no organization count.
 * @returns The pending invitation, or `undefined`.
 *
 * @example Usage
 * ```ts ignore
 * const pending = await findPendingInvitation(client, "ada@example.com", "org_123");
 * ```
 */
export async function findPendingInvitation(
  client: WorkOSClient,
  email: string,
  organizationId: string | undefined,
): Promise<WorkOSInvitation | undefined> {
  // An email has few invitations: one page of 100 holds them all in practice,
  // and the SDK's auto-pagination would spend reads we cannot budget.
  const page = await client.read(
    "read",
    (sdk) =>
      sdk.userManagement.listInvitations({
        email: email.toLowerCase(),
        organizationId,
        limit: 100,
      }),
  );
  return pendingOf(page, organizationId);
}

/**
 * Sends an invitation unless one is already pending for the same email and
 * organization (`created: false` then). After an ambiguous failure (timeout,
 * dropped connection, 5xx) the next attempt looks for the invitation first,
 * so a flaky network never sends two.
 *
 * @param client The WorkOS client.
 * @param request The invitee, organization, role and lifetime.
 * @param options `beforeSend`: awaited once no invitation is found pending,
 *   right before sending (e.g. to pace sends).
 * @returns The invitation and whether this call sent it.
 *
 * @example Usage
 * ```ts ignore
 * const { value, created } = await ensureInvitation(client, {
 *   email: "ada@example.com",
 *   organizationId: "org_123",
 *   roleSlug: "admin",
 * });
 * ```
 */
export async function ensureInvitation(
  client: WorkOSClient,
  request: InvitationRequest,
  options: { beforeSend?(): Promise<void> } = {},
): Promise<Ensured<WorkOSInvitation>> {
  const pending = await findPendingInvitation(client, request.email, request.organizationId);
  if (pending) return { value: pending, created: false };
  await options.beforeSend?.();
  return await client.ensure<WorkOSInvitation>({
    kind: "write",
    lookupKind: "read",
    create: (sdk) =>
      sdk.userManagement.sendInvitation({
        email: request.email,
        organizationId: request.organizationId,
        roleSlug: request.roleSlug,
        expiresInDays: request.expiresInDays,
        // WorkOS checks it against its locales; an unknown one is its row error.
        ...(request.locale ? { locale: request.locale as SendInvitationOptions["locale"] } : {}),
      }).then(toInvitation),
    lookup: async (sdk) => {
      const page = await sdk.userManagement.listInvitations({
        email: request.email.toLowerCase(),
        organizationId: request.organizationId,
        limit: 100,
      });
      return pendingOf(page, request.organizationId);
    },
    // WorkOS has no "already invited" error to adopt: the lookup above is
    // what keeps an invitation from being sent twice.
    exists: () => false,
    createdAtMs: (value) => value.createdAtMs,
  });
}
