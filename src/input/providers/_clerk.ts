// Clerk: the dashboard's (or the backend API's) user export CSV:
// id, first_name, last_name, username, primary_email_address,
// primary_phone_number, verified_email_addresses, unverified_email_addresses,
// verified_phone_numbers, unverified_phone_numbers, totp_secret,
// password_digest, password_hasher.

import type { SourceRecord } from "../../types.ts";
import {
  fitMetadata,
  leftOutWarning,
  mapped,
  type MappedFields,
  type ProviderMapper,
  rowError,
  textOf,
  USER_COLUMNS,
  whoOf,
} from "./_mapping.ts";

/** Clerk's `password_hasher` values WorkOS takes as they are, by WorkOS type. */
const HASHERS: Record<string, string> = {
  bcrypt: "bcrypt",
  argon2i: "argon2",
  argon2id: "argon2",
};

function addresses(value: unknown): string[] {
  const text = textOf(value);
  return text === undefined ? [] : text.split(/[|,;\s]+/).filter((item) => item !== "");
}

/** Maps Clerk export rows to the importer's columns. */
export function clerkMapper(): ProviderMapper {
  return {
    columns: [
      ...USER_COLUMNS,
      "totp_secret",
    ],
    map(record: SourceRecord): SourceRecord {
      const user = record.fields;
      const id = textOf(user.id);
      const who = whoOf(id);
      const verifiedList = addresses(user.verified_email_addresses);
      const email = textOf(user.primary_email_address) ?? verifiedList[0] ??
        addresses(user.unverified_email_addresses)[0];
      if (email === undefined) {
        const phone = textOf(user.primary_phone_number) !== undefined;
        return rowError(
          record,
          `${who} has no email${
            phone ? " (signs in with a phone number)" : ""
          }: a WorkOS user needs one: add an email in Clerk, or leave the user out`,
        );
      }
      const warnings: string[] = [];
      const fields: MappedFields = { email };
      if (id !== undefined) fields.external_id = id;
      const first = textOf(user.first_name);
      const last = textOf(user.last_name);
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const key = email.toLowerCase();
      if (verifiedList.some((item) => item.toLowerCase() === key)) fields.email_verified = true;
      else if (
        addresses(user.unverified_email_addresses).some((item) => item.toLowerCase() === key)
      ) {
        fields.email_verified = false;
      }
      const fitted = fitMetadata([
        ["username", textOf(user.username)],
        ["phone_number", textOf(user.primary_phone_number)],
      ]);
      if (fitted.metadata !== undefined) fields.metadata = fitted.metadata;
      if (fitted.leftOut.size > 0) warnings.push(leftOutWarning(fitted.leftOut));

      const digest = textOf(user.password_digest);
      const hasher = textOf(user.password_hasher)?.toLowerCase();
      if (digest !== undefined) {
        const type = hasher === undefined ? undefined : HASHERS[hasher];
        if (type === undefined) {
          return rowError(
            record,
            `the password of ${who} is hashed with ${
              hasher === undefined ? "an unnamed hasher" : JSON.stringify(hasher)
            }, which WorkOS does not take: import the user without it with --invite, or leave the user out`,
            email,
          );
        }
        fields.password_hash = digest;
        fields.password_hash_type = type;
      }
      const totp = textOf(user.totp_secret);
      if (totp !== undefined) fields.totp_secret = totp;
      return mapped(record, fields, warnings);
    },
  };
}
