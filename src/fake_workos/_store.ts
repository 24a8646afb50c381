/**
 * The fake's entities and the invariants WorkOS keeps on them: unique emails
 * (case-insensitive) and external ids, one active membership per user and
 * organization, known role slugs. Memory per user is kept small so a million
 * users fit comfortably.
 *
 * @module
 */

import { ApiError, fieldError, notFound } from "./_api_error.ts";
import { IdGenerator } from "./_ids.ts";
import { IdList } from "./_pagination.ts";
import { AuthorizationStore } from "./_authorization.ts";
import { AuthFactorStore } from "./_auth_factors.ts";
import { AuthenticationWindow, setCredential } from "./_passwords.ts";
import type {
  InvitationInput,
  MembershipInput,
  OrganizationInput,
  OrganizationPatch,
  UserInput,
  UserPatch,
} from "./_validate.ts";

/** A stored user. Passwords are never stored, only whether one was set. */
export class UserRecord {
  id: string;
  email: string;
  emailVerified: boolean;
  firstName: string | null;
  lastName: string | null;
  externalId: string | null;
  /** Set by an update only: a create takes no locale. */
  locale: string | null = null;
  metadata: Record<string, string> | null;
  hasPassword: boolean;
  passwordHashType: string | null;
  createdAt: number;
  updatedAt: number;

  constructor(id: string, input: UserInput, now: number) {
    this.id = id;
    this.email = input.email;
    this.emailVerified = input.emailVerified;
    this.firstName = input.firstName;
    this.lastName = input.lastName;
    this.externalId = input.externalId;
    this.metadata = input.metadata && Object.keys(input.metadata).length > 0
      ? input.metadata
      : null;
    this.hasPassword = input.hasPassword;
    this.passwordHashType = input.passwordHashType;
    this.createdAt = now;
    this.updatedAt = now;
  }
}

/** A stored organization. */
export class OrganizationRecord {
  id: string;
  name: string;
  externalId: string | null;
  metadata: Record<string, string> | null;
  createdAt: number;
  updatedAt: number;

  constructor(id: string, input: OrganizationInput, now: number) {
    this.id = id;
    this.name = input.name;
    this.externalId = input.externalId;
    this.metadata = input.metadata && Object.keys(input.metadata).length > 0
      ? input.metadata
      : null;
    this.createdAt = now;
    this.updatedAt = now;
  }
}

/** A stored membership; the fake only has active ones (deleting removes them). */
export class MembershipRecord {
  id: string;
  userId: string;
  organizationId: string;
  /** The member's roles, the primary one first. */
  roleSlugs: string[];
  createdAt: number;
  updatedAt: number;

  constructor(
    id: string,
    userId: string,
    organizationId: string,
    roleSlugs: string[],
    now: number,
  ) {
    this.id = id;
    this.userId = userId;
    this.organizationId = organizationId;
    this.roleSlugs = roleSlugs;
    this.createdAt = now;
    this.updatedAt = now;
  }

  /** The primary role. */
  get roleSlug(): string {
    return this.roleSlugs[0];
  }
}

/** A stored invitation. */
export class InvitationRecord {
  id: string;
  email: string;
  organizationId: string | null;
  roleSlug: string | null;
  inviterUserId: string | null;
  locale: string | null;
  token: string;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;

  constructor(id: string, input: InvitationInput, token: string, now: number) {
    this.id = id;
    this.email = input.email;
    this.organizationId = input.organizationId;
    this.roleSlug = input.roleSlug;
    this.inviterUserId = input.inviterUserId;
    this.locale = input.locale ?? null;
    this.token = token;
    this.expiresAt = now + input.expiresInDays * 86_400_000;
    this.createdAt = now;
    this.updatedAt = now;
  }
}

/** Settings the store's answers depend on. */
export interface StoreConfig {
  /** How a duplicate email is answered: 400 `user_creation_error` or 409 `user_already_exists`. */
  duplicateEmailStatus: 400 | 409;
  /** Known role slugs. */
  roles: ReadonlySet<string>;
  /** Role given when a membership names none. */
  defaultRole: string;
  /** Whether a membership may have several roles (WorkOS's "Multiple Roles", off by default). */
  multipleRoles?: boolean;
}

const EMAIL_NOT_AVAILABLE = {
  code: "email_not_available",
  message: "This email is not available.",
};
const EXTERNAL_ID_NOT_AVAILABLE = {
  code: "external_id_not_available",
  message: "This external ID is not available.",
};

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(25));
  let token = "";
  for (const byte of bytes) token += TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length];
  return token;
}

function mergeMetadata(
  current: Record<string, string> | null,
  patch: Record<string, string | null>,
): Record<string, string> | null {
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return Object.keys(merged).length > 0 ? merged : null;
}

/** All entities of one fake WorkOS environment. */
export class Store {
  config: StoreConfig;
  readonly ids: IdGenerator = new IdGenerator();

  readonly users: Map<string, UserRecord> = new Map();
  readonly #usersByEmail = new Map<string, UserRecord>();
  readonly #usersByExternalId = new Map<string, UserRecord>();
  readonly userIds: IdList = new IdList((id) => this.users.has(id));
  /** Sign-in attempts per email, for WorkOS's per-email authentication limit. */
  readonly authentications: AuthenticationWindow = new AuthenticationWindow();

  readonly organizations: Map<string, OrganizationRecord> = new Map();
  readonly #organizationsByExternalId = new Map<string, OrganizationRecord>();
  readonly organizationIds: IdList = new IdList((id) => this.organizations.has(id));

  readonly memberships: Map<string, MembershipRecord> = new Map();
  readonly #membershipsByUser = new Map<string, MembershipRecord[]>();
  readonly #membershipIdsByOrganization = new Map<string, IdList>();
  readonly membershipIds: IdList = new IdList((id) => this.memberships.has(id));

  readonly invitations: Map<string, InvitationRecord> = new Map();
  readonly #invitationsByEmail = new Map<string, InvitationRecord[]>();
  readonly #invitationIdsByOrganization = new Map<string, IdList>();
  readonly invitationIds: IdList = new IdList((id) => this.invitations.has(id));

  /** Roles and permissions (the configured roles are environment roles). */
  readonly authorization: AuthorizationStore = new AuthorizationStore(this.ids);
  /** MFA factors. */
  readonly factors: AuthFactorStore = new AuthFactorStore(this.ids);

  readonly #isLiveMembership = (id: string) => this.memberships.has(id);
  readonly #isLiveInvitation = (id: string) => this.invitations.has(id);

  constructor(config: StoreConfig) {
    this.config = config;
  }

  // Users

  /** The user with this email (any case), if any. */
  findUserByEmail(email: string): UserRecord | undefined {
    return this.#usersByEmail.get(email.toLowerCase());
  }

  /** The user with this external id, if any. */
  findUserByExternalId(externalId: string): UserRecord | undefined {
    return this.#usersByExternalId.get(externalId);
  }

  #duplicateEmail(action: "create" | "update"): ApiError {
    if (this.config.duplicateEmailStatus === 409) {
      return new ApiError(409, {
        message: "A user with this email already exists.",
        code: "user_already_exists",
      });
    }
    return new ApiError(400, {
      message: action === "create" ? "Could not create user." : "Could not update user.",
      code: action === "create" ? "user_creation_error" : "user_update_error",
      errors: [EMAIL_NOT_AVAILABLE],
    });
  }

  #duplicateExternalId(action: "create" | "update"): ApiError {
    return new ApiError(400, {
      message: action === "create" ? "Could not create user." : "Could not update user.",
      code: action === "create" ? "user_creation_error" : "user_update_error",
      errors: [EXTERNAL_ID_NOT_AVAILABLE],
    });
  }

  /** Creates a user, or answers why not. */
  createUser(input: UserInput, now: number = Date.now()): UserRecord | ApiError {
    if (this.#usersByEmail.has(input.email)) return this.#duplicateEmail("create");
    if (input.externalId !== null && this.#usersByExternalId.has(input.externalId)) {
      return this.#duplicateExternalId("create");
    }
    const user = new UserRecord(this.ids.next("user"), input, now);
    if (input.credential) setCredential(user, input.credential);
    this.users.set(user.id, user);
    this.#usersByEmail.set(user.email, user);
    if (user.externalId !== null) this.#usersByExternalId.set(user.externalId, user);
    this.userIds.push(user.id);
    return user;
  }

  /** Applies a patch to a user, or answers why not. */
  updateUser(id: string, patch: UserPatch, now: number = Date.now()): UserRecord | ApiError {
    const user = this.users.get(id);
    if (!user) return notFound("User", id);
    if (patch.email !== undefined && patch.email !== user.email) {
      if (this.#usersByEmail.has(patch.email)) return this.#duplicateEmail("update");
    }
    if (
      patch.externalId !== undefined && patch.externalId !== null &&
      patch.externalId !== user.externalId && this.#usersByExternalId.has(patch.externalId)
    ) {
      return this.#duplicateExternalId("update");
    }
    if (patch.email !== undefined && patch.email !== user.email) {
      this.#usersByEmail.delete(user.email);
      user.email = patch.email;
      this.#usersByEmail.set(user.email, user);
    }
    if (patch.externalId !== undefined && patch.externalId !== user.externalId) {
      if (user.externalId !== null) this.#usersByExternalId.delete(user.externalId);
      user.externalId = patch.externalId;
      if (user.externalId !== null) this.#usersByExternalId.set(user.externalId, user);
    }
    if (patch.firstName !== undefined) user.firstName = patch.firstName;
    if (patch.lastName !== undefined) user.lastName = patch.lastName;
    if (patch.emailVerified !== undefined) user.emailVerified = patch.emailVerified;
    if (patch.locale !== undefined) user.locale = patch.locale;
    if (patch.metadata !== undefined) user.metadata = mergeMetadata(user.metadata, patch.metadata);
    if (patch.passwordHashType !== undefined) {
      user.hasPassword = true;
      user.passwordHashType = patch.passwordHashType;
      setCredential(user, patch.credential ?? null);
    }
    user.updatedAt = now;
    return user;
  }

  /** Deletes a user and its memberships; false when there was no such user. */
  deleteUser(id: string): boolean {
    const user = this.users.get(id);
    if (!user) return false;
    for (const membership of this.#membershipsByUser.get(id)?.slice() ?? []) {
      this.deleteMembership(membership.id);
    }
    this.factors.deleteUser(id);
    this.users.delete(id);
    this.#usersByEmail.delete(user.email);
    if (user.externalId !== null) this.#usersByExternalId.delete(user.externalId);
    this.userIds.deleted();
    return true;
  }

  // Organizations

  /** The organization with this external id, if any. */
  findOrganizationByExternalId(externalId: string): OrganizationRecord | undefined {
    return this.#organizationsByExternalId.get(externalId);
  }

  #duplicateOrganizationExternalId(): ApiError {
    return new ApiError(409, {
      message: "An organization with this external ID already exists.",
      code: "external_id_already_exists",
    });
  }

  /** Creates an organization, or answers why not. */
  createOrganization(
    input: OrganizationInput,
    now: number = Date.now(),
  ): OrganizationRecord | ApiError {
    if (input.externalId !== null && this.#organizationsByExternalId.has(input.externalId)) {
      return this.#duplicateOrganizationExternalId();
    }
    const organization = new OrganizationRecord(this.ids.next("org"), input, now);
    this.organizations.set(organization.id, organization);
    if (organization.externalId !== null) {
      this.#organizationsByExternalId.set(organization.externalId, organization);
    }
    this.organizationIds.push(organization.id);
    return organization;
  }

  /** Applies a patch to an organization, or answers why not. */
  updateOrganization(
    id: string,
    patch: OrganizationPatch,
    now: number = Date.now(),
  ): OrganizationRecord | ApiError {
    const organization = this.organizations.get(id);
    if (!organization) return notFound("Organization", id);
    if (patch.externalId !== undefined && patch.externalId !== organization.externalId) {
      if (patch.externalId !== null && this.#organizationsByExternalId.has(patch.externalId)) {
        return this.#duplicateOrganizationExternalId();
      }
      if (organization.externalId !== null) {
        this.#organizationsByExternalId.delete(organization.externalId);
      }
      organization.externalId = patch.externalId;
      if (organization.externalId !== null) {
        this.#organizationsByExternalId.set(organization.externalId, organization);
      }
    }
    if (patch.name !== undefined) organization.name = patch.name;
    if (patch.metadata !== undefined) {
      organization.metadata = mergeMetadata(organization.metadata, patch.metadata);
    }
    organization.updatedAt = now;
    return organization;
  }

  /** Deletes an organization with its memberships and invitations. */
  deleteOrganization(id: string): boolean {
    const organization = this.organizations.get(id);
    if (!organization) return false;
    for (const membershipId of this.#membershipIdsByOrganization.get(id)?.live() ?? []) {
      this.deleteMembership(membershipId);
    }
    this.#membershipIdsByOrganization.delete(id);
    for (const invitationId of this.#invitationIdsByOrganization.get(id)?.live() ?? []) {
      this.#deleteInvitation(invitationId);
    }
    this.#invitationIdsByOrganization.delete(id);
    this.authorization.deleteOrganization(id);
    this.organizations.delete(id);
    if (organization.externalId !== null) {
      this.#organizationsByExternalId.delete(organization.externalId);
    }
    this.organizationIds.deleted();
    return true;
  }

  // Memberships

  /**
   * Answers 422 unless the role slug is known: a configured role, a role
   * created through the authorization API, or a role of `organizationId`.
   */
  checkRole(roleSlug: string, organizationId?: string | null): ApiError | undefined {
    if (this.config.roles.has(roleSlug)) return undefined;
    if (this.authorization.hasRole(roleSlug, organizationId)) return undefined;
    const error = fieldError(
      "role_slug",
      "role_not_found",
      `Role '${roleSlug}' does not exist in this environment`,
    );
    error.body.code = "invalid_role";
    error.body.message = `Role '${roleSlug}' is not a valid role for this organization.`;
    return error;
  }

  /** Answers 422 unless every role is known and several are allowed. */
  checkRoles(roleSlugs: readonly string[], organizationId: string): ApiError | undefined {
    if (roleSlugs.length > 1 && !this.config.multipleRoles) {
      return new ApiError(422, {
        message:
          "Multiple roles are not enabled for this environment. Enable Multiple Roles to assign more than one role.",
        code: "multiple_roles_not_enabled",
      });
    }
    for (const slug of roleSlugs) {
      const error = this.checkRole(slug, organizationId);
      if (error) return error;
    }
    return undefined;
  }

  /** Memberships of one user, in creation order. */
  membershipsOfUser(userId: string): readonly MembershipRecord[] {
    return this.#membershipsByUser.get(userId) ?? [];
  }

  /** Membership ids of one organization. */
  membershipIdsOfOrganization(organizationId: string): IdList | undefined {
    return this.#membershipIdsByOrganization.get(organizationId);
  }

  /** Creates an active membership, or answers why not. */
  createMembership(
    input: MembershipInput,
    now: number = Date.now(),
  ): MembershipRecord | ApiError {
    if (!this.users.has(input.userId)) return notFound("User", input.userId);
    if (!this.organizations.has(input.organizationId)) {
      return notFound("Organization", input.organizationId);
    }
    const roleSlugs = input.roleSlugs ?? [this.config.defaultRole];
    const roleError = this.checkRoles(roleSlugs, input.organizationId);
    if (roleError) return roleError;
    const ofUser = this.#membershipsByUser.get(input.userId);
    if (ofUser?.some((membership) => membership.organizationId === input.organizationId)) {
      return new ApiError(400, {
        message: "The user already has an active membership in this organization.",
        code: "organization_membership_already_exists",
      });
    }
    const membership = new MembershipRecord(
      this.ids.next("om"),
      input.userId,
      input.organizationId,
      [...roleSlugs],
      now,
    );
    this.memberships.set(membership.id, membership);
    if (ofUser) ofUser.push(membership);
    else this.#membershipsByUser.set(input.userId, [membership]);
    let ofOrganization = this.#membershipIdsByOrganization.get(input.organizationId);
    if (!ofOrganization) {
      ofOrganization = new IdList(this.#isLiveMembership);
      this.#membershipIdsByOrganization.set(input.organizationId, ofOrganization);
    }
    ofOrganization.push(membership.id);
    this.membershipIds.push(membership.id);
    return membership;
  }

  /** Changes a membership's roles, or answers why not. */
  updateMembership(
    id: string,
    roleSlugs: string | string[],
    now: number = Date.now(),
  ): MembershipRecord | ApiError {
    const membership = this.memberships.get(id);
    if (!membership) return notFound("Organization membership", id);
    const slugs = typeof roleSlugs === "string" ? [roleSlugs] : roleSlugs;
    const roleError = this.checkRoles(slugs, membership.organizationId);
    if (roleError) return roleError;
    membership.roleSlugs = [...slugs];
    membership.updatedAt = now;
    return membership;
  }

  /** Deletes a membership; false when there was no such membership. */
  deleteMembership(id: string): boolean {
    const membership = this.memberships.get(id);
    if (!membership) return false;
    this.memberships.delete(id);
    const ofUser = this.#membershipsByUser.get(membership.userId);
    if (ofUser) {
      const index = ofUser.indexOf(membership);
      if (index >= 0) ofUser.splice(index, 1);
      if (ofUser.length === 0) this.#membershipsByUser.delete(membership.userId);
    }
    this.#membershipIdsByOrganization.get(membership.organizationId)?.deleted();
    this.membershipIds.deleted();
    return true;
  }

  // Invitations

  /** Invitations sent to one email (lower case), in creation order. */
  invitationsByEmail(email: string): readonly InvitationRecord[] {
    return this.#invitationsByEmail.get(email) ?? [];
  }

  /** Invitation ids of one organization. */
  invitationIdsOfOrganization(organizationId: string): IdList | undefined {
    return this.#invitationIdsByOrganization.get(organizationId);
  }

  /** Creates a pending invitation, or answers why not. */
  createInvitation(
    input: InvitationInput,
    now: number = Date.now(),
  ): InvitationRecord | ApiError {
    if (input.organizationId !== null && !this.organizations.has(input.organizationId)) {
      return notFound("Organization", input.organizationId);
    }
    if (input.inviterUserId !== null && !this.users.has(input.inviterUserId)) {
      return notFound("User", input.inviterUserId);
    }
    if (input.roleSlug !== null) {
      const roleError = this.checkRole(input.roleSlug, input.organizationId);
      if (roleError) return roleError;
    }
    const id = this.ids.next("invitation");
    const token = randomToken();
    const invitation = new InvitationRecord(id, input, token, now);
    this.invitations.set(id, invitation);
    const ofEmail = this.#invitationsByEmail.get(invitation.email);
    if (ofEmail) ofEmail.push(invitation);
    else this.#invitationsByEmail.set(invitation.email, [invitation]);
    if (invitation.organizationId !== null) {
      let ofOrganization = this.#invitationIdsByOrganization.get(invitation.organizationId);
      if (!ofOrganization) {
        ofOrganization = new IdList(this.#isLiveInvitation);
        this.#invitationIdsByOrganization.set(invitation.organizationId, ofOrganization);
      }
      ofOrganization.push(id);
    }
    this.invitationIds.push(id);
    return invitation;
  }

  #deleteInvitation(id: string): void {
    const invitation = this.invitations.get(id);
    if (!invitation) return;
    this.invitations.delete(id);
    const ofEmail = this.#invitationsByEmail.get(invitation.email);
    if (ofEmail) {
      const index = ofEmail.indexOf(invitation);
      if (index >= 0) ofEmail.splice(index, 1);
      if (ofEmail.length === 0) this.#invitationsByEmail.delete(invitation.email);
    }
    if (invitation.organizationId !== null) {
      this.#invitationIdsByOrganization.get(invitation.organizationId)?.deleted();
    }
    this.invitationIds.deleted();
  }

  /** Removes every entity. */
  clear(): void {
    this.authorization.clear();
    this.factors.clear();
    this.authentications.clear();
    this.users.clear();
    this.#usersByEmail.clear();
    this.#usersByExternalId.clear();
    this.organizations.clear();
    this.#organizationsByExternalId.clear();
    this.memberships.clear();
    this.#membershipsByUser.clear();
    this.#membershipIdsByOrganization.clear();
    this.invitations.clear();
    this.#invitationsByEmail.clear();
    this.#invitationIdsByOrganization.clear();
    this.userIds.clear();
    this.organizationIds.clear();
    this.membershipIds.clear();
    this.invitationIds.clear();
  }
}
