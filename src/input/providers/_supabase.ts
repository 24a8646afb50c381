// Supabase: the `auth.users` table, exported as CSV (`\copy auth.users to
// 'users.csv' csv header`) or JSON (one `to_json(u)` per line, or a list).

import type { SourceRecord } from "../../types.ts";
import {
  fitMetadata,
  isObject,
  leftOutWarning,
  mapped,
  type MappedFields,
  type ProviderMapper,
  rowError,
  splitDisplayName,
  textOf,
  USER_COLUMNS,
  whoOf,
} from "./_mapping.ts";

const BCRYPT = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;
/** Keys of `raw_user_meta_data` that are names, not metadata. */
const NAME_KEYS = new Set([
  "first_name",
  "last_name",
  "given_name",
  "family_name",
  "full_name",
  "name",
]);
/** Keys Supabase's own providers write that say nothing about the person. */
const NOISE_KEYS = new Set(["email", "email_verified", "phone_verified", "sub", "iss"]);

/** A JSON object from a JSON value or JSON text (CSV cells), else `undefined`. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Maps `auth.users` rows to the importer's columns. */
export function supabaseMapper(): ProviderMapper {
  return {
    columns: USER_COLUMNS,
    map(record: SourceRecord): SourceRecord {
      const user = record.fields;
      const id = textOf(user.id);
      const who = whoOf(id);
      const email = textOf(user.email);
      if (textOf(user.deleted_at) !== undefined) {
        return rowError(
          record,
          `${who} was deleted in Supabase ("deleted_at" is set): leave the user out`,
        );
      }
      if (email === undefined) {
        const anonymous = user.is_anonymous === true || user.is_anonymous === "true" ||
          user.is_anonymous === "t";
        return rowError(
          record,
          anonymous
            ? `${who} is an anonymous Supabase user (no email): leave the user out`
            : `${who} has no email${
              textOf(user.phone) !== undefined ? " (signs in with a phone number)" : ""
            }: a WorkOS user needs one: add an email in Supabase, or leave the user out`,
        );
      }
      const warnings: string[] = [];
      const fields: MappedFields = { email };
      if (id !== undefined) fields.external_id = id;
      fields.email_verified = textOf(user.email_confirmed_at) !== undefined ||
        textOf(user.confirmed_at) !== undefined;

      const meta = objectOf(user.raw_user_meta_data) ?? {};
      let first = textOf(meta.first_name) ?? textOf(meta.given_name);
      let last = textOf(meta.last_name) ?? textOf(meta.family_name);
      if (first === undefined && last === undefined) {
        [first, last] = splitDisplayName(textOf(meta.full_name) ?? textOf(meta.name));
      }
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const entries = Object.entries(meta).filter(([key]) =>
        !NAME_KEYS.has(key) && !NOISE_KEYS.has(key)
      );
      const fitted = fitMetadata(entries);
      if (fitted.metadata !== undefined) fields.metadata = fitted.metadata;
      if (fitted.leftOut.size > 0) warnings.push(leftOutWarning(fitted.leftOut));

      const hash = textOf(user.encrypted_password);
      if (hash !== undefined) {
        if (!BCRYPT.test(hash)) {
          return rowError(
            record,
            `the "encrypted_password" of ${who} is not a bcrypt hash: WorkOS takes Supabase's bcrypt hashes: import the user with --invite, or leave the user out`,
            email,
          );
        }
        fields.password_hash = hash;
        fields.password_hash_type = "bcrypt";
      }
      if (textOf(user.banned_until) !== undefined) {
        warnings.push(
          `${who} is banned in Supabase: WorkOS has no banned users: imported as active`,
        );
      }
      return mapped(record, fields, warnings);
    },
  };
}
