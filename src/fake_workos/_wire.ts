/**
 * Stored entities in WorkOS's wire format (snake_case, `object` fields).
 *
 * @module
 */

import type { Page } from "./_pagination.ts";
import type {
  InvitationRecord,
  MembershipRecord,
  OrganizationRecord,
  Store,
  UserRecord,
} from "./_store.ts";

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A user as WorkOS sends it. */
export function userJson(user: UserRecord): Record<string, unknown> {
  const created = iso(user.createdAt);
  return {
    object: "user",
    id: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    first_name: user.firstName,
    last_name: user.lastName,
    name: null,
    profile_picture_url: null,
    last_sign_in_at: null,
    locale: user.locale,
    external_id: user.externalId,
    metadata: user.metadata ? { ...user.metadata } : {},
    created_at: created,
    updated_at: user.updatedAt === user.createdAt ? created : iso(user.updatedAt),
  };
}

/** An organization as WorkOS sends it. */
export function organizationJson(organization: OrganizationRecord): Record<string, unknown> {
  return {
    object: "organization",
    id: organization.id,
    name: organization.name,
    allow_profiles_outside_organization: false,
    domains: [],
    external_id: organization.externalId,
    metadata: organization.metadata ? { ...organization.metadata } : {},
    created_at: iso(organization.createdAt),
    updated_at: iso(organization.updatedAt),
  };
}

/** A membership as WorkOS sends it; the organization name is looked up now. */
export function membershipJson(
  membership: MembershipRecord,
  store: Store,
): Record<string, unknown> {
  return {
    object: "organization_membership",
    id: membership.id,
    user_id: membership.userId,
    organization_id: membership.organizationId,
    organization_name: store.organizations.get(membership.organizationId)?.name ?? "",
    status: "active",
    role: { slug: membership.roleSlug },
    roles: membership.roleSlugs.map((slug) => ({ slug })),
    directory_managed: false,
    custom_attributes: {},
    created_at: iso(membership.createdAt),
    updated_at: iso(membership.updatedAt),
  };
}

/** The state WorkOS reports for an invitation at time `now`. */
export function invitationState(invitation: InvitationRecord, now: number): string {
  return invitation.expiresAt <= now ? "expired" : "pending";
}

/** An invitation as WorkOS sends it. */
export function invitationJson(invitation: InvitationRecord, now: number): Record<string, unknown> {
  return {
    object: "invitation",
    id: invitation.id,
    email: invitation.email,
    state: invitationState(invitation, now),
    accepted_at: null,
    revoked_at: null,
    expires_at: iso(invitation.expiresAt),
    organization_id: invitation.organizationId,
    inviter_user_id: invitation.inviterUserId,
    accepted_user_id: null,
    role_slug: invitation.roleSlug,
    token: invitation.token,
    accept_invitation_url:
      `https://fake-workos.invalid/invite?invitation_token=${invitation.token}`,
    created_at: iso(invitation.createdAt),
    updated_at: iso(invitation.updatedAt),
  };
}

/** A list answer. */
export function listJson<T>(
  page: Page,
  lookup: (id: string) => T | undefined,
  toJson: (item: T) => Record<string, unknown>,
): string {
  const data: Record<string, unknown>[] = [];
  for (const id of page.ids) {
    const item = lookup(id);
    if (item !== undefined) data.push(toJson(item));
  }
  return JSON.stringify({
    object: "list",
    data,
    list_metadata: { before: page.before, after: page.after },
  });
}
