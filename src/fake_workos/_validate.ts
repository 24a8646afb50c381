/**
 * Turns WorkOS request bodies (snake_case JSON) into checked inputs, with the
 * 422 answers WorkOS gives for bad ones.
 *
 * @module
 */

import { ApiError, type FieldError, validationError } from "./_api_error.ts";
import { type Credential, credentialOf } from "./_passwords.ts";

/** Password hash types WorkOS accepts. */
export const PASSWORD_HASH_TYPES: ReadonlySet<string> = new Set([
  "bcrypt",
  "firebase-scrypt",
  "ssha",
  "ssha256",
  "scrypt",
  "argon2",
  "pbkdf2",
]);

const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
const METADATA_MAX_KEYS = 10;
const METADATA_MAX_KEY_LENGTH = 40;
const METADATA_MAX_VALUE_LENGTH = 600;

/** A user to create. Secrets are reduced to whether one was given. */
export interface UserInput {
  email: string;
  firstName: string | null;
  lastName: string | null;
  emailVerified: boolean;
  externalId: string | null;
  metadata: Record<string, string> | null;
  hasPassword: boolean;
  passwordHashType: string | null;
  /** What a sign-in is checked against; kept beside the record, never in it. */
  credential?: Credential;
}

/** Changes to a user; absent fields stay as they are. */
export interface UserPatch {
  email?: string;
  firstName?: string | null;
  lastName?: string | null;
  emailVerified?: boolean;
  externalId?: string | null;
  /** The user's preferred locale; `null` clears it. */
  locale?: string | null;
  /** Merged into the user's metadata; a `null` value removes the key. */
  metadata?: Record<string, string | null>;
  /** Set when a new password or hash was given. */
  passwordHashType?: string | null;
  /** The new credential, when a password or hash was given. */
  credential?: Credential;
}

/** An organization to create. */
export interface OrganizationInput {
  name: string;
  externalId: string | null;
  metadata: Record<string, string> | null;
}

/** Changes to an organization. */
export interface OrganizationPatch {
  name?: string;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

/** A membership to create; `roleSlugs` null means the default role. */
export interface MembershipInput {
  userId: string;
  organizationId: string;
  roleSlugs: string[] | null;
}

/** An invitation to send. */
export interface InvitationInput {
  email: string;
  organizationId: string | null;
  expiresInDays: number;
  roleSlug: string | null;
  inviterUserId: string | null;
  /** The locale the invitation email is rendered in (reference/authkit/invitation/send). */
  locale?: string | null;
}

type Body = Record<string, unknown>;

class Checker {
  readonly errors: FieldError[] = [];
  readonly body: Body;

  constructor(body: Body) {
    this.body = body;
  }

  fail(field: string, code: string, message: string): void {
    this.errors.push({ field, code, message });
  }

  /** A string field; `undefined` when absent, `null` when null and allowed. */
  string(field: string, nullable: boolean): string | null | undefined {
    const value = this.body[field];
    if (value === undefined) return undefined;
    if (value === null && nullable) return null;
    if (typeof value !== "string") {
      this.fail(field, `${field}_invalid`, `${field} must be a string`);
      return undefined;
    }
    return value;
  }

  boolean(field: string): boolean | undefined {
    const value = this.body[field];
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.fail(field, `${field}_invalid`, `${field} must be a boolean`);
      return undefined;
    }
    return value;
  }

  email(field: string, required: boolean): string | undefined {
    const value = this.body[field];
    if (value === undefined || value === null || value === "") {
      if (required) this.fail(field, `${field}_required`, `${field} is required`);
      return undefined;
    }
    if (typeof value !== "string" || !EMAIL_PATTERN.test(value) || value.length > 320) {
      this.fail(field, `${field}_invalid`, `${field} must be a valid email address`);
      return undefined;
    }
    return value.toLowerCase();
  }

  metadata(allowNullValues: boolean): Record<string, string | null> | undefined {
    const value = this.body.metadata;
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) {
      this.fail("metadata", "metadata_invalid", "metadata must be an object of strings");
      return undefined;
    }
    const entries = Object.entries(value);
    if (entries.length > METADATA_MAX_KEYS) {
      this.fail(
        "metadata",
        "metadata_too_many_keys",
        `metadata can have at most ${METADATA_MAX_KEYS} keys`,
      );
      return undefined;
    }
    const out: Record<string, string | null> = {};
    for (const [key, item] of entries) {
      if (key.length === 0 || key.length > METADATA_MAX_KEY_LENGTH) {
        this.fail(
          "metadata",
          "metadata_key_invalid",
          `metadata keys must be 1 to ${METADATA_MAX_KEY_LENGTH} characters: '${key}'`,
        );
        return undefined;
      }
      if (item === null && allowNullValues) {
        out[key] = null;
        continue;
      }
      if (typeof item !== "string") {
        this.fail(
          "metadata",
          "metadata_invalid",
          `metadata values must be strings: '${key}'`,
        );
        return undefined;
      }
      if (item.length > METADATA_MAX_VALUE_LENGTH) {
        this.fail(
          "metadata",
          "metadata_value_too_long",
          `metadata values can have at most ${METADATA_MAX_VALUE_LENGTH} characters: '${key}'`,
        );
        return undefined;
      }
      out[key] = item;
    }
    return out;
  }

  /** Checks password / password_hash / password_hash_type; returns the hash type, if any. */
  password(): { given: boolean; hashType: string | null; credential?: Credential } {
    const password = this.string("password", true);
    const hash = this.string("password_hash", true);
    const hashType = this.string("password_hash_type", true);
    if (password && hash) {
      this.fail(
        "password",
        "password_and_password_hash_exclusive",
        "password and password_hash cannot be given together",
      );
    }
    if (hashType && !PASSWORD_HASH_TYPES.has(hashType)) {
      this.fail(
        "password_hash_type",
        "password_hash_type_invalid",
        `password_hash_type must be one of ${[...PASSWORD_HASH_TYPES].join(", ")}`,
      );
    }
    if (hash && !hashType) {
      this.fail(
        "password_hash_type",
        "password_hash_type_required",
        "password_hash_type is required with password_hash",
      );
    }
    if (hashType && !hash) {
      this.fail(
        "password_hash",
        "password_hash_required",
        "password_hash is required with password_hash_type",
      );
    }
    const credential = this.errors.length === 0 ? credentialOf(this.body) : undefined;
    if (credential instanceof ApiError) {
      this.errors.push(...(credential.body.errors as FieldError[]));
      return { given: true, hashType: null };
    }
    return {
      given: Boolean(password || hash),
      hashType: hash ? hashType ?? null : null,
      credential,
    };
  }

  result<T>(value: T): T | ApiError {
    return this.errors.length > 0 ? validationError(this.errors) : value;
  }
}

function stringOrNull(value: string | null | undefined): string | null {
  return value ?? null;
}

/** POST /user_management/users */
export function parseCreateUser(body: Body): UserInput | ApiError {
  const c = new Checker(body);
  const email = c.email("email", true);
  const firstName = c.string("first_name", true);
  const lastName = c.string("last_name", true);
  const emailVerified = c.boolean("email_verified");
  const externalId = c.string("external_id", true);
  const metadata = c.metadata(false) as Record<string, string> | undefined;
  const password = c.password();
  return c.result({
    email: email ?? "",
    firstName: stringOrNull(firstName),
    lastName: stringOrNull(lastName),
    emailVerified: emailVerified ?? false,
    externalId: externalId || null,
    metadata: metadata ?? null,
    hasPassword: password.given,
    passwordHashType: password.hashType,
    credential: password.credential,
  });
}

/** PUT /user_management/users/:id */
export function parseUpdateUser(body: Body): UserPatch | ApiError {
  const c = new Checker(body);
  const patch: UserPatch = {};
  const email = c.email("email", false);
  if (email !== undefined) patch.email = email;
  const firstName = c.string("first_name", true);
  if (firstName !== undefined) patch.firstName = firstName;
  const lastName = c.string("last_name", true);
  if (lastName !== undefined) patch.lastName = lastName;
  const emailVerified = c.boolean("email_verified");
  if (emailVerified !== undefined) patch.emailVerified = emailVerified;
  const externalId = c.string("external_id", true);
  if (externalId !== undefined) patch.externalId = externalId || null;
  // Update takes a locale; create does not (reference/authkit/user/update).
  const locale = c.string("locale", true);
  if (locale !== undefined) patch.locale = locale || null;
  const metadata = c.metadata(true);
  if (metadata !== undefined) patch.metadata = metadata;
  const password = c.password();
  if (password.given) {
    patch.passwordHashType = password.hashType;
    patch.credential = password.credential;
  }
  return c.result(patch);
}

/** POST /organizations */
export function parseCreateOrganization(body: Body): OrganizationInput | ApiError {
  const c = new Checker(body);
  const rawName = body.name;
  const missing = rawName === undefined || rawName === null || rawName === "";
  if (missing) c.fail("name", "name_required", "name is required");
  const name = missing ? undefined : c.string("name", false);
  const externalId = c.string("external_id", true);
  const metadata = c.metadata(false) as Record<string, string> | undefined;
  return c.result({
    name: name ?? "",
    externalId: externalId || null,
    metadata: metadata ?? null,
  });
}

/** PUT /organizations/:id */
export function parseUpdateOrganization(body: Body): OrganizationPatch | ApiError {
  const c = new Checker(body);
  const patch: OrganizationPatch = {};
  const name = c.string("name", false);
  if (name === "") c.fail("name", "name_required", "name cannot be empty");
  else if (name) patch.name = name;
  const externalId = c.string("external_id", true);
  if (externalId !== undefined) patch.externalId = externalId || null;
  const metadata = c.metadata(true);
  if (metadata !== undefined) patch.metadata = metadata;
  return c.result(patch);
}

/** POST /user_management/organization_memberships */
export function parseCreateMembership(body: Body): MembershipInput | ApiError {
  const c = new Checker(body);
  const userId = c.string("user_id", false);
  const organizationId = c.string("organization_id", false);
  if (!userId) c.fail("user_id", "user_id_required", "user_id is required");
  if (!organizationId) {
    c.fail("organization_id", "organization_id_required", "organization_id is required");
  }
  const roleSlugs = roleSlugsOf(c);
  return c.result({
    userId: userId ?? "",
    organizationId: organizationId ?? "",
    roleSlugs: roleSlugs ?? null,
  });
}

/** `role_slug` or `role_slugs` (mutually exclusive, as the docs say), as a list. */
function roleSlugsOf(c: Checker): string[] | undefined {
  const roleSlug = c.string("role_slug", true) || undefined;
  const list = c.body.role_slugs;
  if (list === undefined || list === null) return roleSlug === undefined ? undefined : [roleSlug];
  if (roleSlug !== undefined) {
    c.fail(
      "role_slugs",
      "role_slug_and_role_slugs",
      "role_slug and role_slugs are mutually exclusive",
    );
    return undefined;
  }
  if (
    !Array.isArray(list) || list.length === 0 ||
    list.some((slug) => typeof slug !== "string" || slug === "")
  ) {
    c.fail("role_slugs", "role_slugs_invalid", "role_slugs must be a non-empty list of role slugs");
    return undefined;
  }
  return [...new Set(list as string[])];
}

/** PUT /user_management/organization_memberships/:id */
export function parseUpdateMembership(body: Body): { roleSlugs: string[] } | ApiError {
  const c = new Checker(body);
  const roleSlugs = roleSlugsOf(c);
  if (!roleSlugs && c.errors.length === 0) {
    c.fail("role_slug", "role_slug_required", "role_slug is required");
  }
  return c.result({ roleSlugs: roleSlugs ?? [] });
}

/** POST /user_management/invitations */
export function parseSendInvitation(body: Body): InvitationInput | ApiError {
  const c = new Checker(body);
  const email = c.email("email", true);
  const organizationId = c.string("organization_id", true);
  const roleSlug = c.string("role_slug", true);
  const inviterUserId = c.string("inviter_user_id", true);
  const locale = c.string("locale", true);
  let expiresInDays = 7;
  const days = body.expires_in_days;
  if (days !== undefined && days !== null) {
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 30) {
      c.fail(
        "expires_in_days",
        "expires_in_days_invalid",
        "expires_in_days must be an integer from 1 to 30",
      );
    } else {
      expiresInDays = days;
    }
  }
  if (roleSlug && !organizationId) {
    c.fail(
      "role_slug",
      "role_slug_requires_organization",
      "role_slug can only be given with organization_id",
    );
  }
  return c.result({
    email: email ?? "",
    organizationId: organizationId || null,
    expiresInDays,
    roleSlug: roleSlug || null,
    inviterUserId: inviterUserId || null,
    locale: locale || null,
  });
}

/** 400 for a body that is not a JSON object. */
export function invalidBody(): ApiError {
  return new ApiError(400, {
    message: "Request body must be a JSON object",
    code: "invalid_request_body",
  });
}
