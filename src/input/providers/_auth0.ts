// Auth0: the bulk user export job's NDJSON (or a JSON list of the same
// users), plus the password hash NDJSON Auth0 support sends on request.

import type { SourceRecord } from "../../types.ts";
import {
  booleanOf,
  isObject,
  mapped,
  type MappedFields,
  metadataOf,
  type ProviderMapper,
  rowError,
  splitDisplayName,
  textOf,
  USER_COLUMNS,
  verifiedText,
  whoOf,
} from "./_mapping.ts";

const BCRYPT = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** One line of the password hash file, and whether a user took it. */
interface HashEntry {
  hash: string;
  used: boolean;
}

/** The password hashes of an Auth0 support export, by user id and by email. */
export class Auth0PasswordHashes {
  readonly #byId = new Map<string, HashEntry>();
  readonly #byEmail = new Map<string, HashEntry>();
  readonly #entries: HashEntry[] = [];
  /** Lines that are not JSON objects with a hash: counted, never quoted. */
  unreadable = 0;

  /**
   * Reads the file line by line (one JSON object per line:
   * `{"_id":{"$oid":…},"email":…,"passwordHash":"$2b$…",…}`).
   */
  static async read(path: string): Promise<Auth0PasswordHashes> {
    const hashes = new Auth0PasswordHashes();
    using file = await Deno.open(path, { read: true });
    let pending = "";
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(256 * 1024);
    for (;;) {
      const count = await file.read(buffer);
      if (count === null) break;
      pending += decoder.decode(buffer.subarray(0, count), { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) hashes.#add(line);
    }
    pending += decoder.decode();
    hashes.#add(pending);
    return hashes;
  }

  #add(line: string): void {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.unreadable++;
      return;
    }
    if (!isObject(value)) {
      this.unreadable++;
      return;
    }
    const hash = textOf(value.passwordHash);
    const id = isObject(value._id) ? textOf(value._id.$oid) : textOf(value._id);
    const email = textOf(value.email)?.toLowerCase();
    if (hash === undefined || (id === undefined && email === undefined)) {
      this.unreadable++;
      return;
    }
    const entry = { hash, used: false };
    this.#entries.push(entry);
    if (id !== undefined) this.#byId.set(id, entry);
    if (email !== undefined && !this.#byEmail.has(email)) this.#byEmail.set(email, entry);
  }

  /** The hash of a user: by the id after `auth0|`, then by email. */
  take(userId: string | undefined, email: string | undefined): string | undefined {
    const id = userId?.startsWith("auth0|") ? userId.slice("auth0|".length) : undefined;
    const entry = (id !== undefined ? this.#byId.get(id) : undefined) ??
      (email !== undefined ? this.#byEmail.get(email.toLowerCase()) : undefined);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.hash;
  }

  /** Lines no user took. */
  get unmatched(): number {
    let count = 0;
    for (const entry of this.#entries) if (!entry.used) count++;
    return count;
  }

  /** Lines read with a hash. */
  get size(): number {
    return this.#entries.length;
  }
}

/** Options for {@linkcode auth0Mapper}. */
export interface Auth0MapperOptions {
  hashes?: Auth0PasswordHashes;
  /** Whether reading started at the first user (so unmatched hash lines can be counted). */
  fromStart: boolean;
  onWarning?(message: string): void;
}

/** Maps Auth0 export users to the importer's columns. */
export function auth0Mapper(options: Auth0MapperOptions): ProviderMapper {
  const { hashes } = options;
  return {
    columns: [
      ...USER_COLUMNS,
      "org_external_id",
      "org_name",
    ],
    keepsPlain: true,
    tidy: true,
    // The password hashes are taken (and their leftovers told) in one place.
    independent: hashes === undefined,
    map(record: SourceRecord): SourceRecord {
      const user = record.fields;
      const userId = textOf(user.user_id) ?? textOf(user.id);
      const email = textOf(user.email);
      if (email === undefined) {
        const signsIn = textOf(user.phone_number) !== undefined
          ? "a phone number"
          : textOf(user.username) !== undefined
          ? "a username"
          : undefined;
        return rowError(
          record,
          `${whoOf(userId)} has no email${
            signsIn ? ` (signs in with ${signsIn})` : ""
          }: a WorkOS user needs one: add it in Auth0 and export again, or leave the user out`,
        );
      }
      // Made for the few users that warn.
      let warnings: string[] | undefined;
      const fields: MappedFields = { email };
      if (userId !== undefined) fields.external_id = userId;
      let first = textOf(user.given_name);
      let last = textOf(user.family_name);
      if (first === undefined && last === undefined) {
        [first, last] = splitDisplayName(textOf(user.name));
      }
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const verified = booleanOf(user.email_verified);
      if (verified !== undefined) fields.email_verified = verifiedText(verified);

      // Most users have user_metadata alone, and it fits as it is.
      const kept = metadataOf(
        isObject(user.user_metadata) ? user.user_metadata : undefined,
        isObject(user.app_metadata) ? user.app_metadata : undefined,
        record.plain === true,
      );
      if (kept.text !== undefined) fields.metadata = kept.text;
      if (kept.warning !== undefined) (warnings ??= []).push(kept.warning);

      if (user.blocked === true) {
        (warnings ??= []).push(
          `${whoOf(userId)} is blocked in Auth0: WorkOS has no blocked users: imported as active`,
        );
      }
      const hash = hashes?.take(userId, email);
      if (hash !== undefined) {
        if (!BCRYPT.test(hash)) {
          return rowError(
            record,
            `the password hash of ${
              whoOf(userId)
            } is not bcrypt: WorkOS takes Auth0's bcrypt hashes only: ask Auth0 support for them, or import the user with --invite`,
            email,
          );
        }
        fields.password_hash = hash;
        fields.password_hash_type = "bcrypt";
      }
      return mapped(record, fields, warnings, kept.metadata);
    },
    finish(): void {
      if (hashes === undefined) return;
      if (hashes.unreadable > 0) {
        options.onWarning?.(
          `${hashes.unreadable} lines of the password hash file have no "passwordHash" with an "_id" or "email": they were skipped`,
        );
      }
      if (!options.fromStart) return;
      const unmatched = hashes.unmatched;
      if (unmatched > 0) {
        options.onWarning?.(
          `${unmatched} of ${hashes.size} password hashes match no user of the export (by "auth0|" id or email): those passwords were not imported`,
        );
      }
    },
  };
}
