/**
 * The migration package's contract (the layout the official WorkOS migration
 * tool's exporters write: `manifest.json`, `users.csv` and its sidecar files)
 * and the check a package passes before anything is imported: the manifest's
 * required fields, canonical file paths, files it names, exact CSV headers,
 * JSONL that parses, and counts that match the files.
 *
 * @module
 */

import { InputError } from "../../errors.ts";
import { openCsvFile } from "./_csv_file.ts";

/** The schema version of the package contract this importer reads and writes. */
export const PACKAGE_SCHEMA_VERSION = 1;

/**
 * Every file of a package by its manifest key, at its canonical path.
 *
 * @example The users file
 * ```ts
 * import { PACKAGE_FILES } from "./layout.ts";
 * console.log(PACKAGE_FILES.users); // users.csv
 * ```
 */
export const PACKAGE_FILES = Object.freeze(
  {
    manifest: "manifest.json",
    users: "users.csv",
    organizations: "organizations.csv",
    memberships: "organization_memberships.csv",
    roleDefinitions: "role_definitions.csv",
    userRoleAssignments: "user_role_assignments.csv",
    totpSecrets: "totp_secrets.csv",
    warnings: "warnings.jsonl",
    skippedUsers: "skipped_users.jsonl",
    samlConnections: "sso/saml_connections.csv",
    oidcConnections: "sso/oidc_connections.csv",
    customAttributeMappings: "sso/custom_attribute_mappings.csv",
    proxyRoutes: "sso/proxy_routes.csv",
    handoffNotes: "sso/handoff_notes.md",
    uploadUsers: "workos_upload/users.csv",
    uploadOrganizations: "workos_upload/organizations.csv",
    uploadMemberships: "workos_upload/organization_memberships.csv",
  } as const,
);

/** A manifest key of {@linkcode PACKAGE_FILES}. */
export type PackageFileKey = keyof typeof PACKAGE_FILES;

/**
 * The exact header of each CSV file of a package.
 *
 * @example The organizations header
 * ```ts
 * import { PACKAGE_HEADERS } from "./layout.ts";
 * console.log(PACKAGE_HEADERS.organizations.join(",")); // org_id,org_external_id,org_name,domains,metadata
 * ```
 */
export const PACKAGE_HEADERS = Object.freeze(
  {
    users: [
      "email",
      "password",
      "password_hash",
      "password_hash_type",
      "first_name",
      "last_name",
      "email_verified",
      "external_id",
      "metadata",
      "org_id",
      "org_external_id",
      "org_name",
      "role_slugs",
    ],
    organizations: ["org_id", "org_external_id", "org_name", "domains", "metadata"],
    memberships: [
      "email",
      "external_id",
      "user_id",
      "org_id",
      "org_external_id",
      "org_name",
      "role_slugs",
      "metadata",
    ],
    roleDefinitions: [
      "role_slug",
      "role_name",
      "role_type",
      "permissions",
      "org_id",
      "org_external_id",
    ],
    userRoleAssignments: [
      "email",
      "user_id",
      "external_id",
      "role_slug",
      "org_id",
      "org_external_id",
    ],
    totpSecrets: ["email", "totp_secret", "totp_issuer", "totp_user"],
    samlConnections: [
      "name",
      "organizationName",
      "organizationId",
      "organizationExternalId",
      "domains",
      "idpEntityId",
      "idpUrl",
      "x509Cert",
      "idpMetadataUrl",
      "customEntityId",
      "customAcsUrl",
      "idpIdAttribute",
      "emailAttribute",
      "firstNameAttribute",
      "lastNameAttribute",
      "nameAttribute",
      "idpInitiatedEnabled",
      "requestSigningKey",
      "assertionEncryptionKey",
      "nameIdEncryptionKey",
      "externalId",
    ],
    oidcConnections: [
      "name",
      "organizationName",
      "organizationId",
      "organizationExternalId",
      "domains",
      "clientId",
      "clientSecret",
      "discoveryEndpoint",
      "customRedirectUri",
      "externalId",
    ],
    customAttributeMappings: [
      "externalId",
      "organizationExternalId",
      "providerType",
      "userPoolAttribute",
      "idpClaim",
    ],
    proxyRoutes: [
      "externalId",
      "organizationExternalId",
      "provider",
      "protocol",
      "sourceAcsUrl",
      "sourceEntityId",
      "sourceRedirectUri",
      "customAcsUrl",
      "customEntityId",
      "customRedirectUri",
      "workosConnectionId",
      "workosAcsUrl",
      "cutoverState",
      "notes",
    ],
    uploadUsers: ["user_id", "email", "email_verified", "first_name", "last_name", "password_hash"],
    uploadOrganizations: ["organization_id", "name"],
    uploadMemberships: ["organization_id", "user_id"],
  } as const satisfies Partial<Record<PackageFileKey, readonly string[]>>,
);

/** A CSV file of a package, by manifest key. */
export type PackageCsvKey = keyof typeof PACKAGE_HEADERS;

/**
 * The SSO headers as the published contract (docs/migration-package.md)
 * writes them, where the official tool's exporters write another order
 * (`name` first, `nameAttribute`, no `customAttributes`): SSO files are
 * hand-off only, so either is taken.
 */
const CONTRACT_SSO_HEADERS: Partial<Record<PackageCsvKey, readonly string[]>> = {
  samlConnections: [
    "organizationName",
    "organizationId",
    "organizationExternalId",
    "domains",
    "idpEntityId",
    "idpUrl",
    "x509Cert",
    "idpMetadataUrl",
    "customEntityId",
    "customAcsUrl",
    "idpIdAttribute",
    "emailAttribute",
    "firstNameAttribute",
    "lastNameAttribute",
    "name",
    "customAttributes",
    "idpInitiatedEnabled",
    "requestSigningKey",
    "assertionEncryptionKey",
    "nameIdEncryptionKey",
    "externalId",
  ],
  oidcConnections: [
    "organizationName",
    "organizationId",
    "organizationExternalId",
    "domains",
    "clientId",
    "clientSecret",
    "discoveryEndpoint",
    "customRedirectUri",
    "name",
    "customAttributes",
    "externalId",
  ],
};

/** `manifest.entitiesExported` keys counted against their file. */
const COUNTED: ReadonlyArray<[string, PackageCsvKey | "warnings" | "skippedUsers"]> = [
  ["users", "users"],
  ["organizations", "organizations"],
  ["memberships", "memberships"],
  ["roleDefinitions", "roleDefinitions"],
  ["userRoleAssignments", "userRoleAssignments"],
  ["totpSecrets", "totpSecrets"],
  ["samlConnections", "samlConnections"],
  ["oidcConnections", "oidcConnections"],
  ["customAttributeMappings", "customAttributeMappings"],
  ["proxyRoutes", "proxyRoutes"],
  ["uploadUsers", "uploadUsers"],
  ["uploadOrganizations", "uploadOrganizations"],
  ["uploadMemberships", "uploadMemberships"],
  ["warnings", "warnings"],
  ["skippedUsers", "skippedUsers"],
];

/** The SSO files a package may carry: never imported, handed off. */
export const SSO_FILES: readonly PackageFileKey[] = Object.freeze([
  "samlConnections",
  "oidcConnections",
  "customAttributeMappings",
  "proxyRoutes",
  "handoffNotes",
]);

/** A package's `manifest.json`, as far as the importer reads it. */
export interface PackageManifest {
  schemaVersion: number;
  provider: string;
  sourceTenant?: string;
  generatedAt: string;
  entitiesRequested: string[];
  entitiesExported: Record<string, number>;
  files: Partial<Record<PackageFileKey, string>>;
  importability: Record<string, string>;
  secretsRedacted: boolean;
  warnings: unknown[];
  [key: string]: unknown;
}

/** What a checked package holds. */
export interface PackageFacts {
  /** The package directory. */
  dir: string;
  manifest: PackageManifest;
  /** Records in each file the manifest names and the package has, by manifest key. */
  counts: Partial<Record<PackageFileKey, number>>;
  /** Absolute path of each file the manifest names and the package has. */
  paths: Partial<Record<PackageFileKey, string>>;
}

/**
 * Checks a package directory against the contract and counts its records.
 *
 * @param dir The package directory.
 * @returns The manifest, counts and paths.
 * @throws {InputError} One line naming the first problem, how to fix it, and
 *   how many more there are.
 *
 * @example Check a package
 * ```ts ignore
 * const facts = await checkPackage("migration-auth0-2026");
 * console.log(facts.counts.users);
 * ```
 */
export async function checkPackage(dir: string): Promise<PackageFacts> {
  const problems: string[] = [];
  const manifest = await readManifest(dir);
  problems.push(...manifestProblems(manifest));
  const files = isRecord(manifest.files) ? manifest.files : {};
  const counts: PackageFacts["counts"] = {};
  const paths: PackageFacts["paths"] = {};
  if (isRecord(manifest.files) && typeof files.users !== "string") {
    problems.push(`"files.users" is missing: add "users": "users.csv"`);
  }
  for (const [key, value] of Object.entries(files)) {
    if (!(key in PACKAGE_FILES)) continue;
    const canonical = PACKAGE_FILES[key as PackageFileKey];
    if (value !== canonical) {
      problems.push(
        `"files.${key}" is ${JSON.stringify(value)}, not "${canonical}": use the canonical path`,
      );
      continue;
    }
    const path = `${dir}/${canonical}`;
    const counted = await countFile(key as PackageFileKey, path, canonical, problems);
    if (counted === null) continue;
    paths[key as PackageFileKey] = path;
    if (counted !== undefined) counts[key as PackageFileKey] = counted;
  }
  const exported = isRecord(manifest.entitiesExported) ? manifest.entitiesExported : {};
  for (const [entity, key] of COUNTED) {
    const expected = exported[entity];
    const actual = counts[key];
    if (expected === undefined || actual === undefined || expected === actual) continue;
    problems.push(
      `"entitiesExported.${entity}" is ${expected}, but ${
        PACKAGE_FILES[key]
      } has ${actual}: correct the count or the file`,
    );
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new InputError(
      `Cannot import package "${dir}": manifest.json: ${problems[0]}${more}`,
    );
  }
  return { dir, manifest, counts, paths };
}

async function readManifest(dir: string): Promise<PackageManifest> {
  const path = `${dir}/manifest.json`;
  let text: string;
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new InputError(
        `Cannot import package "${dir}": it is a file, not a directory: give the package directory (the one with manifest.json)`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InputError(
        `Cannot import package "${dir}": ${
          await exists(dir) ? "it has no manifest.json" : "no such directory"
        }: give the directory an exporter wrote (it holds manifest.json and users.csv)`,
      );
    }
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `Cannot import package "${dir}": manifest.json is not JSON (${
        (error as Error).message
      }): fix or regenerate it`,
    );
  }
  if (!isRecord(value)) {
    throw new InputError(
      `Cannot import package "${dir}": manifest.json is not a JSON object: fix or regenerate it`,
    );
  }
  return value as PackageManifest;
}

function manifestProblems(manifest: PackageManifest): string[] {
  const problems: string[] = [];
  if (manifest.schemaVersion !== PACKAGE_SCHEMA_VERSION) {
    problems.push(
      `"schemaVersion" is ${
        JSON.stringify(manifest.schemaVersion) ?? "missing"
      }, not ${PACKAGE_SCHEMA_VERSION}: export the package again with a tool that writes version ${PACKAGE_SCHEMA_VERSION}`,
    );
  }
  if (typeof manifest.provider !== "string" || manifest.provider.trim() === "") {
    problems.push(`"provider" is missing: add the source's name, e.g. "provider": "auth0"`);
  }
  if (typeof manifest.generatedAt !== "string" || Number.isNaN(Date.parse(manifest.generatedAt))) {
    problems.push(`"generatedAt" is not an ISO timestamp: add e.g. "2026-04-29T00:00:00.000Z"`);
  }
  if (!Array.isArray(manifest.entitiesRequested)) {
    problems.push(`"entitiesRequested" is not a list: add e.g. ["users"]`);
  }
  if (!isRecord(manifest.entitiesExported)) {
    problems.push(`"entitiesExported" is not an object of counts: add e.g. {"users": 12}`);
  } else {
    for (const [entity, count] of Object.entries(manifest.entitiesExported)) {
      if (!Number.isInteger(count) || (count as number) < 0) {
        problems.push(
          `"entitiesExported.${entity}" is ${
            JSON.stringify(count)
          }: give a whole number, 0 or more`,
        );
      }
    }
  }
  if (!isRecord(manifest.files)) {
    problems.push(`"files" is not an object: add e.g. {"users": "users.csv"}`);
  }
  if (!isRecord(manifest.importability)) {
    problems.push(`"importability" is not an object: add e.g. {"users": "automatic"}`);
  }
  if (typeof manifest.secretsRedacted !== "boolean") {
    problems.push(`"secretsRedacted" is not true or false: add it`);
  }
  if (!Array.isArray(manifest.warnings)) {
    problems.push(`"warnings" is not a list: add "warnings": []`);
  }
  return problems;
}

/**
 * Checks a file the manifest names and counts its records: `null` when it
 * is missing or unusable (a problem is added), `undefined` when it is not
 * counted (the handoff notes).
 */
async function countFile(
  key: PackageFileKey,
  path: string,
  name: string,
  problems: string[],
): Promise<number | null | undefined> {
  if (!await exists(path)) {
    problems.push(
      `it names "${name}", which is not in the package: add the file or remove the key`,
    );
    return null;
  }
  if (key === "warnings" || key === "skippedUsers") {
    const lines = (await Deno.readTextFile(path)).split(/\r?\n/);
    let count = 0;
    for (const [index, line] of lines.entries()) {
      if (line.trim() === "") continue;
      count++;
      try {
        JSON.parse(line);
      } catch {
        problems.push(`${name} line ${index + 1} is not JSON: fix or remove the line`);
        return null;
      }
    }
    return count;
  }
  if (!(key in PACKAGE_HEADERS)) return undefined;
  const expected: readonly string[] = PACKAGE_HEADERS[key as PackageCsvKey];
  const file = await openCsvFile(path);
  // Headers are compared as the importer reads them: trimmed, in lower case.
  const accepted = [expected, CONTRACT_SSO_HEADERS[key as PackageCsvKey] ?? expected].map((
    header,
  ) => header.map((column) => column.toLowerCase()).join(","));
  if (!accepted.includes(file.columns.join(","))) {
    file.close();
    problems.push(
      `${name} has the header "${file.columns.join(",")}", not "${
        expected.join(",")
      }": write the contract's header`,
    );
    return null;
  }
  let count = 0;
  for await (const row of file.rows()) {
    if (row.parseError !== undefined) {
      problems.push(`${name} row ${row.recordNumber}: ${row.parseError}: fix the row`);
      return null;
    }
    count++;
  }
  return count;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
