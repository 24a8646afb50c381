// Clerk: the dashboard's (or the backend API's) user export CSV:
// id, first_name, last_name, username, primary_email_address,
// primary_phone_number, verified_email_addresses, unverified_email_addresses,
// verified_phone_numbers, unverified_phone_numbers, totp_secret,
// password_digest, password_hasher.

import type { SourceRecord } from "../../types.ts";
import { firebaseScryptHash } from "../../passwords/mod.ts";
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

/** A Clerk digest made ready for WorkOS, or why it cannot be. */
type Conversion = { hash: string; type: string } | { problem: string };

/**
 * Clerk's documented `password_hasher` values whose digests WorkOS can take,
 * as they are or rewritten into WorkOS's format. Any other hasher (`md5`,
 * `sha256`, `pbkdf2_sha1`, `phpass`, `bcrypt_sha256_django`, …) makes
 * something WorkOS cannot verify. The pipeline checks every parameter of
 * the result (iterations, memory) as it does for a CSV row.
 */
const HASHERS: Record<string, (digest: string) => Conversion> = {
  bcrypt: (digest) => ({ hash: digest, type: "bcrypt" }),
  argon2i: (digest) => ({ hash: digest, type: "argon2" }),
  argon2id: (digest) => ({ hash: digest, type: "argon2" }),
  // Django's own format: the passwords module rewrites it.
  pbkdf2_sha256_django: (digest) => ({ hash: digest, type: "pbkdf2" }),
  pbkdf2_sha256: clerkPbkdf2,
  scrypt_firebase: clerkFirebaseScrypt,
};

const BASE64 = /^[A-Za-z0-9+/_-]+=*$/;

/** PHC's base64: the standard alphabet, no padding; `undefined` for text that is not base64. */
function phcBase64(text: string): string | undefined {
  if (!BASE64.test(text)) return undefined;
  try {
    return btoa(atob(text.replace(/-/g, "+").replace(/_/g, "/"))).replace(/=+$/, "");
  } catch {
    return undefined;
  }
}

// `pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash>` (the salt encoded,
// unlike Django's) becomes `$pbkdf2$i=<iterations>,d=sha256$<salt>$<hash>`.
function clerkPbkdf2(digest: string): Conversion {
  const parts = digest.split("$");
  const salt = phcBase64(parts[2] ?? "");
  const hash = phcBase64(parts[3] ?? "");
  if (parts.length !== 4 || parts[0] !== "pbkdf2_sha256" || !/^\d+$/.test(parts[1])) {
    return { problem: "is not pbkdf2_sha256$<iterations>$<salt>$<hash>" };
  }
  if (salt === undefined || hash === undefined) {
    return { problem: "has a salt or hash that is not base64" };
  }
  return { hash: `$pbkdf2$i=${parts[1]},d=sha256$${salt}$${hash}`, type: "pbkdf2" };
}

// `<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>`: the
// user's Firebase hash and salt, then the project's hash parameters.
function clerkFirebaseScrypt(digest: string): Conversion {
  const parts = digest.split("$");
  const [passwordHash, salt, signerKey, saltSeparator, rounds, memCost] = parts;
  if (parts.length !== 6 || !/^\d+$/.test(rounds) || !/^\d+$/.test(memCost)) {
    return {
      problem: "is not <hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>",
    };
  }
  const result = firebaseScryptHash(
    { passwordHash, salt },
    { signerKey, saltSeparator, rounds: Number(rounds), memCost: Number(memCost) },
  );
  if (!result.ok) return { problem: "has a hash or salt that is not base64" };
  return { hash: result.value.hash, type: "firebase-scrypt" };
}

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
        const convert = hasher === undefined ? undefined : HASHERS[hasher];
        if (convert === undefined) {
          return rowError(
            record,
            `the password of ${who} is hashed with ${
              hasher === undefined ? "an unnamed hasher" : JSON.stringify(hasher)
            }, which WorkOS does not take: import the user without it with --invite, or leave the user out`,
            email,
          );
        }
        const converted = convert(digest);
        if ("problem" in converted) {
          return rowError(
            record,
            `the "password_digest" of ${who} (${hasher}) ${converted.problem}: export it again, or import the user with --invite`,
            email,
          );
        }
        fields.password_hash = converted.hash;
        fields.password_hash_type = converted.type;
      }
      const totp = textOf(user.totp_secret);
      if (totp !== undefined) fields.totp_secret = totp;
      return mapped(record, fields, warnings);
    },
  };
}
