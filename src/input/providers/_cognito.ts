// AWS Cognito: `aws cognito-idp list-users --user-pool-id <id>` output,
// `{"Users":[{"Username":…,"Attributes":[{"Name":…,"Value":…}],…}]}`, one page
// or several one after another. Cognito exports no password hashes.

import type { SourceRecord } from "../../types.ts";
import {
  booleanOf,
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
} from "./_mapping.ts";

/** Options for {@linkcode cognitoMapper}. */
export interface CognitoMapperOptions {
  onWarning?(message: string): void;
}

/** Maps Cognito users to the importer's columns. */
export function cognitoMapper(options: CognitoMapperOptions): ProviderMapper {
  let imported = 0;
  return {
    columns: USER_COLUMNS,
    map(record: SourceRecord): SourceRecord {
      const user = record.fields;
      const attributes = new Map<string, string>();
      if (Array.isArray(user.attributes)) {
        for (const attribute of user.attributes) {
          if (!isObject(attribute)) continue;
          const name = textOf(attribute.Name);
          const value = textOf(attribute.Value);
          if (name !== undefined && value !== undefined) attributes.set(name, value);
        }
      }
      const username = textOf(user.username);
      const sub = attributes.get("sub") ?? username;
      const who = `user ${JSON.stringify(username ?? sub ?? "")}`;
      const email = attributes.get("email");
      if (email === undefined) {
        return rowError(
          record,
          `${who} has no "email" attribute${
            attributes.has("phone_number") ? " (signs in with a phone number)" : ""
          }: a WorkOS user needs one: add it in Cognito, or leave the user out`,
        );
      }
      const warnings: string[] = [];
      const fields: MappedFields = { email };
      if (sub !== undefined) fields.external_id = sub;
      let first = attributes.get("given_name");
      let last = attributes.get("family_name");
      if (first === undefined && last === undefined) {
        [first, last] = splitDisplayName(attributes.get("name"));
      }
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const verified = booleanOf(attributes.get("email_verified"));
      if (verified !== undefined) fields.email_verified = verified;
      const custom: Array<[string, unknown]> = [];
      if (username !== undefined && username !== sub) custom.push(["cognito_username", username]);
      for (const [name, value] of attributes) {
        if (name.startsWith("custom:")) custom.push([name.slice("custom:".length), value]);
      }
      const fitted = fitMetadata(custom);
      if (fitted.metadata !== undefined) fields.metadata = fitted.metadata;
      if (fitted.leftOut.size > 0) warnings.push(leftOutWarning(fitted.leftOut));
      if (user.enabled === false) {
        warnings.push(
          `${who} is disabled in Cognito: WorkOS has no disabled users: imported as active`,
        );
      }
      imported++;
      return mapped(record, fields, warnings);
    },
    finish(): void {
      if (imported === 0) return;
      options.onWarning?.(
        `Cognito exports no password hashes: ${imported} users are imported without a password: send invitations with --invite, or run a password reset campaign once they are in WorkOS`,
      );
    },
  };
}
