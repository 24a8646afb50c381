/**
 * Users: create exactly once, find by email, update, delete.
 *
 * @module
 */

import type { CreateUserOptions, UpdateUserOptions, User, WorkOS } from "@workos-inc/node";
import type { UserRow } from "../types.ts";
import { type Ensured, WorkOSApiError, type WorkOSClient } from "./client.ts";
import { isDuplicateEmail } from "./errors.ts";
import { timeMs } from "./_time.ts";

/**
 * A WorkOS user as the importer reads it back: the project's own type, so
 * that no SDK type reaches past `src/workos`.
 */
export interface WorkOSUser {
  /** The WorkOS user id (`user_...`). */
  id: string;
  /** The user's email, as WorkOS stores it. */
  email: string;
  /** First name, `null` when empty. */
  firstName: string | null;
  /** Last name, `null` when empty. */
  lastName: string | null;
  /** Whether the email counts as verified. */
  emailVerified: boolean;
  /** Your identifier of the user, `null` when unset. */
  externalId: string | null;
  /** The user's preferred locale; absent when unset. */
  locale?: string | null;
  /** Metadata key/value pairs. */
  metadata: Record<string, string>;
  /** When WorkOS created the user, in milliseconds since the epoch. */
  createdAtMs: number;
  /** When WorkOS last changed the user, in milliseconds since the epoch. */
  updatedAtMs?: number;
}

function toUser(user: User): WorkOSUser {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    emailVerified: user.emailVerified,
    externalId: user.externalId ?? null,
    ...(user.locale ? { locale: user.locale } : {}),
    metadata: user.metadata ?? {},
    createdAtMs: timeMs(user.createdAt),
    updatedAtMs: timeMs(user.updatedAt),
  };
}

// The SDK's type lags WorkOS's list (it lacks "pbkdf2"); validation owns the list.
type PasswordHashType = NonNullable<CreateUserOptions["passwordHashType"]>;

/**
 * Finds the user with this email (WorkOS matches emails case-insensitively).
 *
 * @param client The WorkOS client.
 * @param email The email to look up.
 * @returns The user, or `undefined` when none has this email.
 *
 * @example Usage
 * ```ts ignore
 * const user = await findUserByEmail(client, "ada@example.com");
 * ```
 */
export async function findUserByEmail(
  client: WorkOSClient,
  email: string,
): Promise<WorkOSUser | undefined> {
  const page = await client.read(
    "read",
    (sdk) => sdk.userManagement.listUsers({ email: email.toLowerCase(), limit: 1 }),
  );
  const user = page.data[0];
  return user && toUser(user);
}

/**
 * Creates the row's user, or adopts the existing user with its email.
 *
 * `created` is `false` when WorkOS answered that the email is taken (HTTP 400
 * `email_not_available`, or 409) and the existing user was adopted.
 *
 * @param client The WorkOS client.
 * @param row The validated row.
 * @returns The user and whether this call created it.
 *
 * @example Usage
 * ```ts ignore
 * const { value: user, created } = await ensureUser(client, row);
 * ```
 */
export function ensureUser(client: WorkOSClient, row: UserRow): Promise<Ensured<WorkOSUser>> {
  const options: CreateUserOptions = {
    email: row.email,
    firstName: row.firstName,
    lastName: row.lastName,
    emailVerified: row.emailVerified,
    externalId: row.externalId,
    metadata: row.metadata,
    ...(row.passwordHash
      ? {
        passwordHash: row.passwordHash,
        passwordHashType: row.passwordHashType as PasswordHashType,
      }
      : row.password
      ? { password: row.password }
      : {}),
  };
  return client.ensure<WorkOSUser>({
    kind: "write",
    lookupKind: "read",
    create: (sdk) =>
      row.passwordHash && row.passwordSaltPosition
        ? createWithSaltPosition(sdk, options, row.passwordSaltPosition)
        : sdk.userManagement.createUser(options).then(toUser),
    lookup: (sdk) =>
      sdk.userManagement.listUsers({ email: row.email.toLowerCase(), limit: 1 }).then((page) =>
        page.data[0] && toUser(page.data[0])
      ),
    exists: isDuplicateEmail,
    createdAtMs: (value) => value.createdAtMs,
  });
}

/**
 * The SDK's createUser drops `password_salt_position`: send the same body
 * through the SDK's own request method, with it.
 */
async function createWithSaltPosition(
  sdk: WorkOS,
  options: CreateUserOptions,
  saltPosition: string,
): Promise<WorkOSUser> {
  const body = {
    email: options.email,
    first_name: options.firstName,
    last_name: options.lastName,
    email_verified: options.emailVerified,
    external_id: options.externalId,
    metadata: options.metadata,
    password_hash: options.passwordHash,
    password_hash_type: options.passwordHashType,
    password_salt_position: saltPosition,
  };
  const { data } = await sdk.post<WireUser>("/user_management/users", body);
  return {
    id: data.id,
    email: data.email,
    firstName: data.first_name ?? null,
    lastName: data.last_name ?? null,
    emailVerified: data.email_verified ?? false,
    externalId: data.external_id ?? null,
    ...(data.locale ? { locale: data.locale } : {}),
    metadata: data.metadata ?? {},
    createdAtMs: timeMs(data.created_at),
    updatedAtMs: data.updated_at === undefined ? undefined : timeMs(data.updated_at),
  };
}

/** The user fields of WorkOS's JSON answer that {@linkcode WorkOSUser} holds. */
interface WireUser {
  id: string;
  email: string;
  first_name?: string | null;
  last_name?: string | null;
  email_verified?: boolean;
  external_id?: string | null;
  locale?: string | null;
  metadata?: Record<string, string>;
  created_at: string;
  updated_at?: string;
}

/**
 * The profile fields `--on-existing update` may change. `null` clears a
 * field (undo restores a field that was empty before); a metadata key set to
 * `null` is removed.
 */
export interface UserChanges {
  /** First name; `null` clears it. */
  firstName?: string | null;
  /** Last name; `null` clears it. */
  lastName?: string | null;
  /** Whether the email counts as verified. */
  emailVerified?: boolean;
  /** Your identifier of the user; `null` clears it. */
  externalId?: string | null;
  /** The user's preferred locale; `null` clears it. */
  locale?: string | null;
  /** Metadata keys to set; a key set to `null` is removed. */
  metadata?: Record<string, string | null>;
}

/**
 * Updates a user's profile fields (never its email).
 *
 * @param client The WorkOS client.
 * @param userId The user to change.
 * @param changes The new values.
 * @returns The updated user.
 *
 * @example Usage
 * ```ts ignore
 * await updateUser(client, "user_123", { firstName: "Ada" });
 * ```
 */
export function updateUser(
  client: WorkOSClient,
  userId: string,
  changes: UserChanges,
): Promise<WorkOSUser> {
  // The SDK's types omit null, but it sends the fields as given and WorkOS
  // clears a field set to null.
  const options = { userId, ...changes } as UpdateUserOptions;
  return client.write("write", (sdk) => sdk.userManagement.updateUser(options).then(toUser));
}

/**
 * Deletes a user; a user that is already gone counts as deleted, so that a
 * retried or resumed delete is harmless.
 *
 * @param client The WorkOS client.
 * @param userId The user to delete.
 *
 * @example Usage
 * ```ts ignore
 * await deleteUser(client, "user_123");
 * ```
 */
export async function deleteUser(client: WorkOSClient, userId: string): Promise<void> {
  try {
    await client.write("write", (sdk) => sdk.userManagement.deleteUser(userId));
  } catch (error) {
    if (error instanceof WorkOSApiError && error.failure.status === 404) return;
    throw error;
  }
}
