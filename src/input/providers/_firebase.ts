// Firebase Authentication: `firebase auth:export users.json` (`{"users":[…]}`)
// or `--format=csv` (no header, columns in a fixed order).

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

/**
 * The columns of `firebase auth:export --format=csv`, which writes no header,
 * named like the JSON export's fields (as it writes them: the JSON reader
 * keeps each user's keys, with no lower-cased copy) so that one mapper reads
 * both.
 */
export const FIREBASE_CSV_COLUMNS: readonly string[] = Object.freeze([
  "localId",
  "email",
  "emailVerified",
  "passwordHash",
  "salt",
  "displayName",
  "photoUrl",
  "google_id",
  "google_email",
  "google_displayname",
  "google_photourl",
  "facebook_id",
  "facebook_email",
  "facebook_displayname",
  "facebook_photourl",
  "twitter_id",
  "twitter_email",
  "twitter_displayname",
  "twitter_photourl",
  "github_id",
  "github_email",
  "github_displayname",
  "github_photourl",
  "createdAt",
  "lastSignedInAt",
  "phoneNumber",
]);

/**
 * Turns a user's Firebase scrypt hash and salt into the PHC string WorkOS
 * takes, or says why it cannot (the values are not base64, say).
 */
export type FirebaseHashConverter = (
  hash: string,
  salt: string,
) => { hash: string } | { problem: string };

/** Options for {@linkcode firebaseMapper}. */
export interface FirebaseMapperOptions {
  /** From `--hash-config`; without it, hashes are left out (said once). */
  convert?: FirebaseHashConverter;
  onWarning?(message: string): void;
}

/** Maps Firebase export users to the importer's columns. */
export function firebaseMapper(options: FirebaseMapperOptions): ProviderMapper {
  let hashesLeftOut = 0;
  return {
    columns: USER_COLUMNS,
    keepsPlain: true,
    tidy: true,
    map(record: SourceRecord): SourceRecord {
      const user = record.fields;
      const uid = textOf(user.localId);
      const email = textOf(user.email);
      if (email === undefined) {
        const phone = textOf(user.phoneNumber) !== undefined;
        return rowError(
          record,
          phone
            ? `${
              whoOf(uid)
            } has a phone number and no email: WorkOS users sign in with an email: add an email in Firebase, or leave the user out`
            : `${
              whoOf(uid)
            } has no email (an anonymous user?): a WorkOS user needs one: leave the user out`,
        );
      }
      const warnings: string[] = [];
      const fields: MappedFields = { email };
      if (uid !== undefined) fields.external_id = uid;
      const [first, last] = splitDisplayName(textOf(user.displayName));
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const verified = booleanOf(user.emailVerified);
      if (verified !== undefined) fields.email_verified = verifiedText(verified);

      const custom = parseCustomAttributes(user.customAttributes);
      // The object the metadata text was written from, for validation.
      let metadata: Record<string, string> | undefined;
      if (custom === "invalid") {
        warnings.push(`"customAttributes" of ${whoOf(uid)} is not a JSON object: left out`);
      } else if (custom !== undefined) {
        // A plain user's strings are ASCII; what customAttributes' text parses
        // to is too unless the text holds an escape (`\u00e9`).
        const ascii = record.plain === true &&
          !(typeof user.customAttributes === "string" && user.customAttributes.includes("\\"));
        const kept = metadataOf(custom, undefined, ascii);
        if (kept.text !== undefined) fields.metadata = kept.text;
        if (kept.warning !== undefined) warnings.push(kept.warning);
        metadata = kept.metadata;
      }
      if (booleanOf(user.disabled) === true) {
        warnings.push(
          `${whoOf(uid)} is disabled in Firebase: WorkOS has no disabled users: imported as active`,
        );
      }

      const hash = textOf(user.passwordHash);
      const salt = textOf(user.salt);
      if (hash !== undefined) {
        if (salt === undefined) {
          return rowError(
            record,
            `${
              whoOf(uid)
            } has a "passwordHash" but no "salt": export again with "firebase auth:export", or import the user with --invite`,
            email,
          );
        }
        if (options.convert === undefined) {
          hashesLeftOut++;
        } else {
          const converted = options.convert(hash, salt);
          if ("problem" in converted) {
            return rowError(record, `the password of ${whoOf(uid)}: ${converted.problem}`, email);
          }
          fields.password_hash = converted.hash;
          fields.password_hash_type = "firebase-scrypt";
        }
      }
      return mapped(record, fields, warnings, metadata);
    },
    finish(): void {
      if (hashesLeftOut > 0) {
        options.onWarning?.(
          `${hashesLeftOut} users have a Firebase password hash, left out without --hash-config: add --hash-config <file> with the project's hash parameters (Firebase console → Authentication → Users → ⋮ → Password hash parameters) to import them`,
        );
      }
    },
  };
}

function parseCustomAttributes(value: unknown): Record<string, unknown> | "invalid" | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (isObject(value)) return value;
  if (typeof value !== "string") return "invalid";
  try {
    const parsed = JSON.parse(value);
    return isObject(parsed) ? parsed : "invalid";
  } catch {
    return "invalid";
  }
}
