// SuperTokens: the bulk-import JSON (`{"users":[{externalUserId,
// userMetadata, userRoles, totpDevices, loginMethods:[…]}]}`). One user with
// several tenants becomes one row per tenant (a membership each); the rows
// share the user's email, so the pipeline makes one WorkOS user.

import type { SourceRecord } from "../../types.ts";
import {
  booleanOf,
  fitMetadata,
  isObject,
  leftOutWarning,
  type MappedFields,
  type ProviderMapper,
  rowError,
  splitDisplayName,
  textOf,
  USER_COLUMNS,
  whoOf,
} from "./_mapping.ts";

/** SuperTokens' `hashingAlgorithm` values WorkOS takes as they are, by WorkOS type. */
const ALGORITHMS: Record<string, string> = {
  bcrypt: "bcrypt",
  argon2: "argon2",
};

/** The tenant SuperTokens puts every user in unless told otherwise. */
export const DEFAULT_TENANT = "public";

/** Options for {@linkcode supertokensMapper}. */
export interface SupertokensMapperOptions {
  /**
   * The importer column a tenant id goes to (`--map tenant=…`): `org_external_id`
   * (the default, without the `public` tenant) or `org_id`.
   */
  tenantColumn?: string;
  /** Whether `--map tenant=…` was given (then `public` is an organization too). */
  tenantMapped: boolean;
}

const NAME_KEYS = new Set([
  "first_name",
  "last_name",
  "given_name",
  "family_name",
  "name",
  "full_name",
]);

/** Maps SuperTokens bulk-import users to rows: one per tenant. */
export function supertokensMapper(options: SupertokensMapperOptions): ProviderMapper {
  const tenantColumn = options.tenantColumn ?? "org_external_id";
  return {
    columns: [
      ...USER_COLUMNS,
      tenantColumn,
      ...(tenantColumn === "org_external_id" ? ["org_name"] : []),
      "role_slugs",
    ],
    expands: true,
    namesOrganizations: true,
    map(record: SourceRecord): SourceRecord[] {
      const user = record.fields;
      const id = textOf(user.externaluserid);
      const who = whoOf(id);
      const methods = (Array.isArray(user.loginmethods) ? user.loginmethods : []).filter(isObject);
      const withEmail = methods.filter((method) => textOf(method.email) !== undefined);
      const primary = withEmail.find((method) => method.isPrimary === true) ??
        withEmail.find((method) => method.recipeId === "emailpassword") ?? withEmail[0];
      if (primary === undefined) {
        const phone = methods.some((method) => textOf(method.phoneNumber) !== undefined);
        return [rowError(
          record,
          `${who} has no login method with an email${
            phone ? " (signs in with a phone number)" : ""
          }: a WorkOS user needs one: leave the user out`,
        )];
      }
      const email = textOf(primary.email) as string;
      const warnings: string[] = [];
      const fields: MappedFields = { email };
      if (id !== undefined) fields.external_id = id;
      const verified = booleanOf(primary.isVerified);
      if (verified !== undefined) fields.email_verified = verified;

      const meta = isObject(user.usermetadata) ? user.usermetadata : {};
      let first = textOf(meta.first_name) ?? textOf(meta.given_name);
      let last = textOf(meta.last_name) ?? textOf(meta.family_name);
      if (first === undefined && last === undefined) {
        [first, last] = splitDisplayName(textOf(meta.name) ?? textOf(meta.full_name));
      }
      if (first !== undefined) fields.first_name = first;
      if (last !== undefined) fields.last_name = last;
      const fitted = fitMetadata(Object.entries(meta).filter(([key]) => !NAME_KEYS.has(key)));
      if (fitted.metadata !== undefined) fields.metadata = fitted.metadata;
      if (fitted.leftOut.size > 0) warnings.push(leftOutWarning(fitted.leftOut));

      const password = methods.find((method) => textOf(method.passwordHash) !== undefined);
      if (password !== undefined) {
        const algorithm = textOf(password.hashingAlgorithm)?.toLowerCase();
        const type = algorithm === undefined ? undefined : ALGORITHMS[algorithm];
        if (type === undefined) {
          return [rowError(
            record,
            `the password of ${who} is hashed with ${
              algorithm === undefined ? "an unnamed algorithm" : JSON.stringify(algorithm)
            }, which this reader cannot send to WorkOS: import the user with --invite, or leave the user out`,
            email,
          )];
        }
        fields.password_hash = textOf(password.passwordHash);
        fields.password_hash_type = type;
      }
      if (textOf(primary.plainTextPassword) !== undefined && password === undefined) {
        fields.password = primary.plainTextPassword;
      }

      const roles: string[] = [];
      for (const role of Array.isArray(user.userroles) ? user.userroles : []) {
        const name = isObject(role) ? textOf(role.role) : textOf(role);
        if (name !== undefined && !roles.includes(name)) roles.push(name);
      }
      if (roles.length > 0) fields.role_slugs = roles;
      const devices = (Array.isArray(user.totpdevices) ? user.totpdevices : []).filter(isObject);
      const device = devices.find((item) => textOf(item.secretKey) !== undefined);
      let totp: MappedFields = {};
      if (device !== undefined) {
        totp = { totp_secret: textOf(device.secretKey) };
        if (devices.length > 1) {
          warnings.push(`${who} has ${devices.length} TOTP devices: WorkOS gets the first one`);
        }
      }

      const tenants: string[] = [];
      for (const method of methods) {
        for (const tenant of Array.isArray(method.tenantIds) ? method.tenantIds : []) {
          const name = textOf(tenant);
          if (name === undefined || tenants.includes(name)) continue;
          if (name === DEFAULT_TENANT && !options.tenantMapped) continue;
          tenants.push(name);
        }
      }
      if (tenants.length === 0) {
        return [withWarnings(record, { ...fields, ...totp }, warnings)];
      }
      // The factor goes with the user's first row only: one user, one factor.
      return tenants.map((tenant, index) => {
        const row: MappedFields = {
          ...fields,
          ...(index === 0 ? totp : {}),
          [tenantColumn]: tenant,
        };
        if (tenantColumn === "org_external_id") row.org_name = tenant;
        return withWarnings(record, row, index === 0 ? warnings : []);
      });
    },
  };
}

function withWarnings(
  record: SourceRecord,
  fields: MappedFields,
  warnings: string[],
): SourceRecord {
  const out: SourceRecord = { recordNumber: record.recordNumber, byteEnd: record.byteEnd, fields };
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}
