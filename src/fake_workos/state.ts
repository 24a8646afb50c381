/**
 * Synchronous access to a fake WorkOS environment for tests: counts, listings
 * and lookups for assertions, request statistics, seeding, reset and deep
 * snapshots. Nothing here goes through HTTP, so none of it is rate limited,
 * delayed or faulted.
 *
 * Objects are returned as plain camelCase objects (like the SDK's), in
 * creation order, with ISO 8601 timestamps. Passwords and hashes are never
 * kept: a user only records whether it has one (`hasPassword`) and the hash
 * type it came with.
 *
 * @module
 */

import { ApiError } from "./_api_error.ts";
import type { FaultCounts, Stats } from "./_stats.ts";
import type {
  InvitationRecord,
  MembershipRecord,
  OrganizationRecord,
  Store,
  UserRecord,
} from "./_store.ts";
import {
  parseCreateMembership,
  parseCreateOrganization,
  parseCreateUser,
  parseSendInvitation,
} from "./_validate.ts";
import { invitationState } from "./_wire.ts";

export type { FaultCounts } from "./_stats.ts";

/** A user as the fake stores it. */
export interface FakeUser {
  /** `user_` followed by a ULID. */
  id: string;
  /** Lower case, as WorkOS stores it. */
  email: string;
  /** Whether the email counts as verified. */
  emailVerified: boolean;
  /** First name, or null. */
  firstName: string | null;
  /** Last name, or null. */
  lastName: string | null;
  /** Your identifier of the user, unique in the environment, or null. */
  externalId: string | null;
  /** The user's preferred locale, when one was set (by an update). */
  locale?: string;
  /** String key/value pairs; `{}` when none. */
  metadata: Record<string, string>;
  /** Whether a password or a password hash was set; the secret itself is not kept. */
  hasPassword: boolean;
  /** The hash type the user was created or updated with, if a hash was given. */
  passwordHashType: string | null;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
}

/** An organization as the fake stores it. */
export interface FakeOrganization {
  /** `org_` followed by a ULID. */
  id: string;
  /** Display name. */
  name: string;
  /** Your identifier of the organization, unique in the environment, or null. */
  externalId: string | null;
  /** String key/value pairs; `{}` when none. */
  metadata: Record<string, string>;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
}

/** An organization membership as the fake stores it (always active). */
export interface FakeMembership {
  /** `om_` followed by a ULID. */
  id: string;
  /** The member. */
  userId: string;
  /** The organization. */
  organizationId: string;
  /** The member's role (the first of `roleSlugs`). */
  roleSlug: string;
  /** The member's roles. */
  roleSlugs: string[];
  /** Deleted memberships are removed, so every stored one is active. */
  status: "active";
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
}

/** An invitation as the fake stores it (its token is left out). */
export interface FakeInvitation {
  /** `invitation_` followed by a ULID. */
  id: string;
  /** The invitee, lower case. */
  email: string;
  /** The organization to join, or null. */
  organizationId: string | null;
  /** The role to join with, or null for the default. */
  roleSlug: string | null;
  /** Who sent it, or null. */
  inviterUserId: string | null;
  /** The locale of the invitation email, when one was given. */
  locale?: string;
  /** `expired` once `expiresAt` has passed. */
  state: "pending" | "expired";
  /** ISO 8601 expiry time. */
  expiresAt: string;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
}

/** Every entity of the environment, for deep comparison. */
export interface FakeSnapshot {
  /** Users in creation order. */
  users: FakeUser[];
  /** Organizations in creation order. */
  organizations: FakeOrganization[];
  /** Memberships in creation order. */
  memberships: FakeMembership[];
  /** Invitations in creation order. */
  invitations: FakeInvitation[];
}

/** A user to seed. Secrets are checked like the API checks them, then dropped. */
export interface AddUserInput {
  /** Stored lower case; must be unique. */
  email: string;
  /** First name. */
  firstName?: string | null;
  /** Last name. */
  lastName?: string | null;
  /** Default false. */
  emailVerified?: boolean;
  /** Must be unique when given. */
  externalId?: string | null;
  /** Up to 10 string values. */
  metadata?: Record<string, string>;
  /** The user's preferred locale (WorkOS sets one by an update, never on create). */
  locale?: string;
  /** Only recorded as `hasPassword`. */
  password?: string;
  /** Only recorded as `hasPassword`; needs `passwordHashType`. */
  passwordHash?: string;
  /** bcrypt, firebase-scrypt, ssha, scrypt, argon2 or pbkdf2. */
  passwordHashType?: string;
  /** Defaults to now. */
  createdAt?: Date | string;
}

/** An organization to seed. */
export interface AddOrganizationInput {
  /** Display name. */
  name: string;
  /** Must be unique when given. */
  externalId?: string | null;
  /** Up to 10 string values. */
  metadata?: Record<string, string>;
  /** Defaults to now. */
  createdAt?: Date | string;
}

/** A membership to seed. */
export interface AddMembershipInput {
  /** An existing user. */
  userId: string;
  /** An existing organization. */
  organizationId: string;
  /** Defaults to the environment's default role (`member`). */
  roleSlug?: string;
  /** Several roles instead of `roleSlug` (needs `multipleRoles`). */
  roleSlugs?: string[];
  /** Defaults to now. */
  createdAt?: Date | string;
}

/** A TOTP factor as the fake stores it. */
export interface FakeAuthFactor {
  /** `auth_factor_` followed by a ULID. */
  id: string;
  /** The user the factor belongs to. */
  userId: string;
  /** The factor's kind (only TOTP). */
  type: "totp";
  /** The issuer shown in authenticator apps. */
  issuer: string;
  /** The account name shown in authenticator apps. */
  user: string;
  /** The Base32 secret, kept by the fake so tests can check what was enrolled. */
  secret: string;
  /** ISO 8601 creation time. */
  createdAt: string;
}

/** A role as the fake stores it. */
export interface FakeRole {
  /** The role's slug, as memberships name it. */
  slug: string;
  /** The role's display name. */
  name: string;
  /** The role's description, `null` when none. */
  description: string | null;
  /** The slugs of the role's permissions. */
  permissions: string[];
  /** Whether the role is the environment's or one organization's. */
  type: "EnvironmentRole" | "OrganizationRole";
}

/** An invitation to seed. */
export interface AddInvitationInput {
  /** The invitee. */
  email: string;
  /** An existing organization, if any. */
  organizationId?: string | null;
  /** A known role; needs `organizationId`. */
  roleSlug?: string | null;
  /** An existing user, if any. */
  inviterUserId?: string | null;
  /** 1 to 30; default 7. */
  expiresInDays?: number;
  /** Defaults to now. */
  createdAt?: Date | string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toMs(value: Date | string | undefined): number {
  if (value === undefined) return Date.now();
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`Cannot parse "createdAt": "${String(value)}"`);
  return ms;
}

function plainUser(user: UserRecord): FakeUser {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    firstName: user.firstName,
    lastName: user.lastName,
    externalId: user.externalId,
    ...(user.locale === null ? {} : { locale: user.locale }),
    metadata: { ...user.metadata },
    hasPassword: user.hasPassword,
    passwordHashType: user.passwordHashType,
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
  };
}

function plainOrganization(organization: OrganizationRecord): FakeOrganization {
  return {
    id: organization.id,
    name: organization.name,
    externalId: organization.externalId,
    metadata: { ...organization.metadata },
    createdAt: iso(organization.createdAt),
    updatedAt: iso(organization.updatedAt),
  };
}

function plainMembership(membership: MembershipRecord): FakeMembership {
  return {
    id: membership.id,
    userId: membership.userId,
    organizationId: membership.organizationId,
    roleSlug: membership.roleSlug,
    roleSlugs: [...membership.roleSlugs],
    status: "active",
    createdAt: iso(membership.createdAt),
    updatedAt: iso(membership.updatedAt),
  };
}

function plainInvitation(invitation: InvitationRecord, now: number): FakeInvitation {
  return {
    id: invitation.id,
    email: invitation.email,
    organizationId: invitation.organizationId,
    roleSlug: invitation.roleSlug,
    inviterUserId: invitation.inviterUserId,
    ...(invitation.locale === null ? {} : { locale: invitation.locale }),
    state: invitationState(invitation, now) as "pending" | "expired",
    expiresAt: iso(invitation.expiresAt),
    createdAt: iso(invitation.createdAt),
    updatedAt: iso(invitation.updatedAt),
  };
}

function orThrow<T>(result: T | ApiError, what: string): T {
  if (result instanceof ApiError) throw new TypeError(`Cannot add ${what}: ${result.describe()}`);
  return result;
}

/**
 * The inspectable, seedable state of a fake WorkOS environment. Get it from
 * the result of `startFakeWorkOS` (`fake.state`).
 *
 * @example Seed a tenant, then assert on it
 * ```ts
 * import { startFakeWorkOS } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS();
 * const org = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
 * const user = fake.state.addUser({ email: "Ada@Example.com" });
 * fake.state.addMembership({ userId: user.id, organizationId: org.id });
 * assert.equal(fake.state.findUserByEmail("ADA@example.com")?.id, user.id);
 * assert.equal(fake.state.membershipCount(), 1);
 * ```
 */
export class FakeState {
  readonly #store: Store;
  readonly #stats: Stats;
  readonly #onReset: () => void;

  /**
   * Made by `startFakeWorkOS`; not meant to be constructed directly.
   *
   * @param store The entities.
   * @param stats The request counters.
   * @param onReset Also called by {@linkcode FakeState.reset}.
   */
  constructor(store: Store, stats: Stats, onReset: () => void) {
    this.#store = store;
    this.#stats = stats;
    this.#onReset = onReset;
  }

  /**
   * Number of users.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "ada@example.com" });
   * assert.equal(fake.state.userCount(), 1);
   * ```
   */
  userCount(): number {
    return this.#store.users.size;
  }

  /**
   * Number of organizations.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addOrganization({ name: "Acme" });
   * assert.equal(fake.state.organizationCount(), 1);
   * ```
   */
  organizationCount(): number {
    return this.#store.organizations.size;
  }

  /**
   * Number of (active) organization memberships.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * const org = fake.state.addOrganization({ name: "Acme" });
   * fake.state.addMembership({ userId: user.id, organizationId: org.id });
   * assert.equal(fake.state.membershipCount(), 1);
   * ```
   */
  membershipCount(): number {
    return this.#store.memberships.size;
  }

  /**
   * Number of invitations.
   *
   * @returns The count.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addInvitation({ email: "bob@example.com" });
   * assert.equal(fake.state.invitationCount(), 1);
   * ```
   */
  invitationCount(): number {
    return this.#store.invitations.size;
  }

  /**
   * Every user, in creation order.
   *
   * @returns Fresh plain objects.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "ada@example.com" });
   * assert.deepEqual(fake.state.listUsers().map((user) => user.email), ["ada@example.com"]);
   * ```
   */
  listUsers(): FakeUser[] {
    const users = this.#store.users;
    return this.#store.userIds.live().map((id) => plainUser(users.get(id) as UserRecord));
  }

  /**
   * Every organization, in creation order.
   *
   * @returns Fresh plain objects.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addOrganization({ name: "Acme" });
   * assert.equal(fake.state.listOrganizations()[0].name, "Acme");
   * ```
   */
  listOrganizations(): FakeOrganization[] {
    const organizations = this.#store.organizations;
    return this.#store.organizationIds.live().map((id) =>
      plainOrganization(organizations.get(id) as OrganizationRecord)
    );
  }

  /**
   * Every membership, in creation order.
   *
   * @returns Fresh plain objects.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * const org = fake.state.addOrganization({ name: "Acme" });
   * fake.state.addMembership({ userId: user.id, organizationId: org.id });
   * assert.equal(fake.state.listMemberships()[0].roleSlug, "member");
   * ```
   */
  listMemberships(): FakeMembership[] {
    const memberships = this.#store.memberships;
    return this.#store.membershipIds.live().map((id) =>
      plainMembership(memberships.get(id) as MembershipRecord)
    );
  }

  /**
   * Every invitation, in creation order.
   *
   * @returns Fresh plain objects.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addInvitation({ email: "bob@example.com" });
   * assert.equal(fake.state.listInvitations()[0].state, "pending");
   * ```
   */
  listInvitations(): FakeInvitation[] {
    const invitations = this.#store.invitations;
    const now = Date.now();
    return this.#store.invitationIds.live().map((id) =>
      plainInvitation(invitations.get(id) as InvitationRecord, now)
    );
  }

  /**
   * The user with this email, compared case-insensitively.
   *
   * @param email The email.
   * @returns The user, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "Ada@Example.com" });
   * assert.equal(fake.state.findUserByEmail("ADA@example.com")?.email, "ada@example.com");
   * ```
   */
  findUserByEmail(email: string): FakeUser | undefined {
    const user = this.#store.findUserByEmail(email);
    return user ? plainUser(user) : undefined;
  }

  /**
   * The user with this external id.
   *
   * @param externalId The external id.
   * @returns The user, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "ada@example.com", externalId: "u-1" });
   * assert.equal(fake.state.findUserByExternalId("u-1")?.email, "ada@example.com");
   * ```
   */
  findUserByExternalId(externalId: string): FakeUser | undefined {
    const user = this.#store.findUserByExternalId(externalId);
    return user ? plainUser(user) : undefined;
  }

  /**
   * The user with this id.
   *
   * @param id The user id.
   * @returns The user, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * assert.equal(fake.state.getUser(user.id)?.email, "ada@example.com");
   * ```
   */
  getUser(id: string): FakeUser | undefined {
    const user = this.#store.users.get(id);
    return user ? plainUser(user) : undefined;
  }

  /**
   * The organization with this external id.
   *
   * @param externalId The external id.
   * @returns The organization, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addOrganization({ name: "Acme", externalId: "acme" });
   * assert.equal(fake.state.findOrganizationByExternalId("acme")?.name, "Acme");
   * ```
   */
  findOrganizationByExternalId(externalId: string): FakeOrganization | undefined {
    const organization = this.#store.findOrganizationByExternalId(externalId);
    return organization ? plainOrganization(organization) : undefined;
  }

  /**
   * The memberships of one user, in creation order.
   *
   * @param userId The user id.
   * @returns Fresh plain objects.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * const org = fake.state.addOrganization({ name: "Acme" });
   * fake.state.addMembership({ userId: user.id, organizationId: org.id });
   * assert.equal(fake.state.membershipsOfUser(user.id)[0].organizationId, org.id);
   * ```
   */
  membershipsOfUser(userId: string): FakeMembership[] {
    return this.#store.membershipsOfUser(userId).map(plainMembership);
  }

  /**
   * The TOTP factors of a user, in enrollment order.
   *
   * @param userId The user.
   * @returns The factors (with their secrets: the fake is a test double).
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * assert.deepEqual(fake.state.authFactorsOfUser(user.id), []);
   * ```
   */
  authFactorsOfUser(userId: string): FakeAuthFactor[] {
    return this.#store.factors.ofUser(userId).map((factor) => ({
      id: factor.id,
      userId: factor.userId,
      type: factor.type,
      issuer: factor.issuer,
      user: factor.user,
      secret: factor.secret,
      createdAt: iso(factor.createdAt),
    }));
  }

  /**
   * Adds a TOTP factor as if the user had enrolled it before the test.
   *
   * @param input The user, and optionally the secret, issuer and creation time.
   * @returns The stored factor.
   * @throws {TypeError} When the user does not exist.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * fake.state.addAuthFactor({ userId: user.id, secret: "JBSWY3DPEHPK3PXP" });
   * assert.equal(fake.state.authFactorsOfUser(user.id).length, 1);
   * ```
   */
  addAuthFactor(
    input: { userId: string; secret?: string; issuer?: string; createdAt?: Date | string },
  ): FakeAuthFactor {
    const user = this.#store.users.get(input.userId);
    if (!user) throw new TypeError(`Cannot add a factor: user "${input.userId}" does not exist`);
    const factor = this.#store.factors.enroll({
      userId: user.id,
      issuer: input.issuer ?? "Fake WorkOS",
      user: user.email,
      secret: input.secret ?? "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    }, toMs(input.createdAt));
    return this.authFactorsOfUser(user.id).find((f) => f.id === factor.id) as FakeAuthFactor;
  }

  /**
   * The environment's roles (configured ones included), or an
   * organization's own roles.
   *
   * @param organizationId An organization, for its organization roles.
   * @returns The roles.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * assert.deepEqual(fake.state.listRoles().map((role) => role.slug), ["member", "admin"]);
   * ```
   */
  listRoles(organizationId?: string): FakeRole[] {
    const authorization = this.#store.authorization;
    authorization.seed(this.#store.config.roles);
    const roles = organizationId === undefined
      ? authorization.environmentRoles()
      : authorization.organizationRoles(organizationId);
    return roles.map((role) => ({
      slug: role.slug,
      name: role.name,
      description: role.description,
      permissions: [...role.permissions],
      type: role.type,
    }));
  }

  /**
   * The environment's permission slugs, in creation order.
   *
   * @returns The slugs.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * assert.deepEqual(fake.state.listPermissions(), []);
   * ```
   */
  listPermissions(): string[] {
    return this.#store.authorization.permissions().map((permission) => permission.slug);
  }

  /**
   * Requests received per endpoint, keyed like `"POST /user_management/users"`
   * or `"GET /user_management/users/:id"`; unknown paths count under
   * `"<METHOD> (unknown)"`. Every request counts, whatever it was answered.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * await fetch(`${fake.url}/organizations`, {
   *   headers: { authorization: `Bearer ${fake.apiKey}` },
   * }).then((response) => response.body?.cancel());
   * assert.deepEqual(fake.state.requestCounts, { "GET /organizations": 1 });
   * ```
   */
  get requestCounts(): Record<string, number> {
    return Object.fromEntries(this.#stats.requests);
  }

  /**
   * All requests received by the API routes.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * assert.equal(fake.state.totalRequests, 0);
   * ```
   */
  get totalRequests(): number {
    return this.#stats.total;
  }

  /**
   * How many 429 answers were served (limits and storms).
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.rateLimitStorm(1_000);
   * await fetch(`${fake.url}/organizations`, {
   *   headers: { authorization: `Bearer ${fake.apiKey}` },
   * }).then((response) => response.body?.cancel());
   * assert.equal(fake.state.rateLimitedCount, 1);
   * ```
   */
  get rateLimitedCount(): number {
    return this.#stats.rateLimited;
  }

  /**
   * How many faults of each kind were injected.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * assert.deepEqual(fake.state.faultCounts, { failure: 0, drop: 0, slow: 0, ghost: 0 });
   * ```
   */
  get faultCounts(): FaultCounts {
    return { ...this.#stats.faults };
  }

  /**
   * Adds a user as if it existed before the test, with the API's checks
   * (valid email, unique email and external id, valid hash type, metadata).
   *
   * @param input The user.
   * @returns The stored user.
   * @throws {TypeError} When the API would refuse this user.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({
   *   email: "ada@example.com",
   *   passwordHash: "$2b$10$abcdefghijklmnopqrstuv",
   *   passwordHashType: "bcrypt",
   * });
   * assert.equal(user.hasPassword, true);
   * ```
   */
  addUser(input: AddUserInput): FakeUser {
    const parsed = orThrow(
      parseCreateUser({
        email: input.email,
        first_name: input.firstName,
        last_name: input.lastName,
        email_verified: input.emailVerified,
        external_id: input.externalId,
        metadata: input.metadata,
        password: input.password,
        password_hash: input.passwordHash,
        password_hash_type: input.passwordHashType,
      }),
      `user "${input.email}"`,
    );
    const user = orThrow(
      this.#store.createUser(parsed, toMs(input.createdAt)),
      `user "${input.email}"`,
    );
    if (input.locale !== undefined) user.locale = input.locale;
    return plainUser(user);
  }

  /**
   * Adds an organization as if it existed before the test.
   *
   * @param input The organization.
   * @returns The stored organization.
   * @throws {TypeError} When the API would refuse it (e.g. external id taken).
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const org = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
   * assert.match(org.id, /^org_/);
   * ```
   */
  addOrganization(input: AddOrganizationInput): FakeOrganization {
    const parsed = orThrow(
      parseCreateOrganization({
        name: input.name,
        external_id: input.externalId,
        metadata: input.metadata,
      }),
      `organization "${input.name}"`,
    );
    return plainOrganization(
      orThrow(
        this.#store.createOrganization(parsed, toMs(input.createdAt)),
        `organization "${input.name}"`,
      ),
    );
  }

  /**
   * Adds an active membership as if it existed before the test.
   *
   * @param input The membership.
   * @returns The stored membership.
   * @throws {TypeError} When the API would refuse it (unknown user, organization or role; duplicate).
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const user = fake.state.addUser({ email: "ada@example.com" });
   * const org = fake.state.addOrganization({ name: "Acme" });
   * const membership = fake.state.addMembership({
   *   userId: user.id,
   *   organizationId: org.id,
   *   roleSlug: "admin",
   * });
   * assert.equal(membership.status, "active");
   * ```
   */
  addMembership(input: AddMembershipInput): FakeMembership {
    const what = `membership of "${input.userId}" in "${input.organizationId}"`;
    const parsed = orThrow(
      parseCreateMembership({
        user_id: input.userId,
        organization_id: input.organizationId,
        role_slug: input.roleSlug,
        role_slugs: input.roleSlugs,
      }),
      what,
    );
    return plainMembership(
      orThrow(this.#store.createMembership(parsed, toMs(input.createdAt)), what),
    );
  }

  /**
   * Adds a pending invitation as if it had been sent before the test.
   *
   * @param input The invitation.
   * @returns The stored invitation.
   * @throws {TypeError} When the API would refuse it.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * const org = fake.state.addOrganization({ name: "Acme" });
   * const invitation = fake.state.addInvitation({ email: "bob@example.com", organizationId: org.id });
   * assert.equal(invitation.state, "pending");
   * ```
   */
  addInvitation(input: AddInvitationInput): FakeInvitation {
    const what = `invitation for "${input.email}"`;
    const parsed = orThrow(
      parseSendInvitation({
        email: input.email,
        organization_id: input.organizationId,
        role_slug: input.roleSlug,
        inviter_user_id: input.inviterUserId,
        expires_in_days: input.expiresInDays,
      }),
      what,
    );
    const now = toMs(input.createdAt);
    return plainInvitation(orThrow(this.#store.createInvitation(parsed, now), what), Date.now());
  }

  /**
   * Every entity as plain objects, so that two snapshots can be compared with
   * `assert.deepEqual`. Request statistics are not part of it.
   *
   * @returns A deep copy of the environment.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "ada@example.com" });
   * const before = fake.state.snapshot();
   * const extra = fake.state.addOrganization({ name: "Temporary" });
   * assert.notDeepEqual(fake.state.snapshot(), before);
   * await fetch(`${fake.url}/organizations/${extra.id}`, {
   *   method: "DELETE",
   *   headers: { authorization: `Bearer ${fake.apiKey}` },
   * }).then((response) => response.body?.cancel());
   * assert.deepEqual(fake.state.snapshot(), before);
   * ```
   */
  snapshot(): FakeSnapshot {
    return {
      users: this.listUsers(),
      organizations: this.listOrganizations(),
      memberships: this.listMemberships(),
      invitations: this.listInvitations(),
    };
  }

  /**
   * Removes every entity and clears request statistics, rate-limit windows and
   * any running 429 storm. Settings made with `configure` stay.
   *
   * @example Usage
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.state.addUser({ email: "ada@example.com" });
   * fake.state.reset();
   * assert.equal(fake.state.userCount(), 0);
   * ```
   */
  reset(): void {
    this.#store.clear();
    this.#stats.reset();
    this.#onReset();
  }
}
