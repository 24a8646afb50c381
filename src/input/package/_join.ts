// Reads a migration package as the one pipeline's records: users.csv is
// streamed, and each user's memberships, role assignments and TOTP secret
// are joined in from the sidecar files, which are indexed by user before the
// first row. A user in several organizations becomes one row per membership,
// as in the importer's own CSV; the rows are numbered in order, so a resumed
// job reads from the start and skips the rows done.

import type { SourceRecord } from "../../types.ts";
import type { ProviderMapper } from "../providers/_mapping.ts";
import { cell, openCsvFile } from "./_csv_file.ts";
import { PACKAGE_FILES, PACKAGE_HEADERS, type PackageFileKey } from "./layout.ts";

/** The importer's columns a package row fills. */
export const PACKAGE_ROW_COLUMNS: readonly string[] = Object.freeze([
  ...PACKAGE_HEADERS.users.filter((column) => column !== "role_slugs"),
  "role_slugs",
  "totp_secret",
  "totp_issuer",
  "totp_user",
]);

const USER_COLUMNS = PACKAGE_HEADERS.users.filter((column) =>
  !["org_id", "org_external_id", "org_name", "role_slugs"].includes(column)
);

/** An organization as organizations.csv describes it. */
interface Organization {
  id?: string;
  externalId?: string;
  name?: string;
}

/** A membership of organization_memberships.csv, or one a role assignment implies. */
interface Membership {
  org: OrgRef;
  roles: string[];
  taken: boolean;
}

interface Assignment {
  org?: OrgRef;
  role: string;
  taken: boolean;
}

interface Totp {
  secret: string;
  issuer?: string;
  user?: string;
}

/** An organization as a row names it, with the key that makes two names of it equal. */
interface OrgRef {
  key: string;
  id?: string;
  externalId?: string;
  name?: string;
}

/** Options for {@linkcode packageMapper}. */
export interface PackageMapperOptions {
  /** Told about rows of the sidecar files that join no user. */
  onWarning?(message: string): void;
}

/**
 * Indexes the package's organizations, memberships, role assignments and
 * TOTP secrets, and returns the mapper that joins them to users.csv rows.
 *
 * Memory: the sidecar files are held by user (a few hundred bytes per
 * membership, assignment or secret); users.csv itself is streamed. Entries
 * are dropped as their user is read.
 */
export async function packageMapper(
  dir: string,
  options: PackageMapperOptions = {},
): Promise<ProviderMapper> {
  const path = (key: PackageFileKey) => `${dir}/${PACKAGE_FILES[key]}`;
  const organizations = new Map<string, Organization>();
  for await (const row of rowsOf(path("organizations"))) {
    const org: Organization = {
      id: cell(row, "org_id"),
      externalId: cell(row, "org_external_id"),
      name: cell(row, "org_name"),
    };
    if (org.id) organizations.set(`i:${org.id}`, org);
    if (org.externalId) organizations.set(`x:${org.externalId}`, org);
  }
  function orgOf(id?: string, externalId?: string, name?: string): OrgRef | undefined {
    const known = (externalId && organizations.get(`x:${externalId}`)) ||
      (id && organizations.get(`i:${id}`)) || undefined;
    const ref = {
      id: id ?? known?.id,
      externalId: externalId ?? known?.externalId,
      name: name ?? known?.name,
    };
    if (ref.externalId) return { ...ref, key: `x:${ref.externalId}` };
    if (ref.id) return { ...ref, key: `i:${ref.id}` };
    return undefined;
  }

  const memberships = new Index<Membership>();
  let unnamed = 0;
  for await (const row of rowsOf(path("memberships"))) {
    const org = orgOf(cell(row, "org_id"), cell(row, "org_external_id"), cell(row, "org_name"));
    if (org === undefined) {
      unnamed++;
      continue;
    }
    memberships.add(userKeysOf(row), {
      org,
      roles: slugsOf(cell(row, "role_slugs")),
      taken: false,
    });
  }
  const assignments = new Index<Assignment>();
  for await (const row of rowsOf(path("userRoleAssignments"))) {
    const role = cell(row, "role_slug");
    if (role === undefined) continue;
    const org = orgOf(cell(row, "org_id"), cell(row, "org_external_id"));
    assignments.add(userKeysOf(row), { org, role, taken: false });
  }
  const secrets = new Map<string, Totp>();
  for await (const row of rowsOf(path("totpSecrets"))) {
    const email = cell(row, "email")?.toLowerCase();
    const secret = cell(row, "totp_secret");
    if (email === undefined || secret === undefined) continue;
    secrets.set(email, { secret, issuer: cell(row, "totp_issuer"), user: cell(row, "totp_user") });
  }
  let environmentRoles = 0;

  return {
    columns: PACKAGE_ROW_COLUMNS,
    expands: true,
    namesOrganizations: true,
    map(record: SourceRecord): SourceRecord[] {
      const keys = userKeysOf(record);
      const user: Record<string, unknown> = {};
      for (const column of USER_COLUMNS) {
        const value = record.fields[column];
        if (typeof value === "string" && value !== "") user[column] = value;
      }
      const orgs: Membership[] = [];
      const join = (org: OrgRef, roles: readonly string[]) => {
        let membership = orgs.find((known) => known.org.key === org.key);
        if (membership === undefined) {
          membership = { org, roles: [], taken: true };
          orgs.push(membership);
        }
        for (const role of roles) if (!membership.roles.includes(role)) membership.roles.push(role);
      };
      const own = orgOf(
        cell(record, "org_id"),
        cell(record, "org_external_id"),
        cell(record, "org_name"),
      );
      if (own) join(own, slugsOf(cell(record, "role_slugs")));
      for (const membership of memberships.take(keys)) join(membership.org, membership.roles);
      for (const assignment of assignments.take(keys)) {
        if (assignment.org) join(assignment.org, [assignment.role]);
        else environmentRoles++;
      }
      const email = cell(record, "email")?.toLowerCase();
      const totp = email === undefined ? undefined : secrets.get(email);
      if (email !== undefined) secrets.delete(email);
      const base = (): Record<string, unknown> => {
        const fields = { ...user };
        // Roles without an organization are the validator's to refuse, as for a CSV.
        const roles = cell(record, "role_slugs");
        if (orgs.length === 0 && roles !== undefined) fields.role_slugs = roles;
        return fields;
      };
      const rows: SourceRecord[] = [];
      for (const membership of orgs.length > 0 ? orgs : [undefined]) {
        const fields = base();
        if (membership !== undefined) {
          const { org, roles } = membership;
          if (org.id !== undefined) fields.org_id = org.id;
          else {
            fields.org_external_id = org.externalId;
            if (org.name !== undefined) fields.org_name = org.name;
          }
          if (roles.length > 0) fields.role_slugs = roles.join(",");
        }
        // The factor is enrolled once per user: on the user's first row.
        if (totp !== undefined && rows.length === 0) {
          fields.totp_secret = totp.secret;
          if (totp.issuer !== undefined) fields.totp_issuer = totp.issuer;
          if (totp.user !== undefined) fields.totp_user = totp.user;
        }
        const row: SourceRecord = {
          recordNumber: record.recordNumber,
          byteEnd: record.byteEnd,
          fields,
        };
        if (record.warnings) row.warnings = [...record.warnings];
        rows.push(row);
      }
      return rows;
    },
    finish() {
      const warn = options.onWarning;
      if (warn === undefined) return;
      const left = memberships.untaken();
      if (left > 0) {
        warn(
          `${left} row(s) of ${PACKAGE_FILES.memberships} name no user of ${PACKAGE_FILES.users}: not imported`,
        );
      }
      if (unnamed > 0) {
        warn(
          `${unnamed} row(s) of ${PACKAGE_FILES.memberships} name no organization: not imported`,
        );
      }
      const roles = assignments.untaken();
      if (roles > 0) {
        warn(
          `${roles} row(s) of ${PACKAGE_FILES.userRoleAssignments} name no user of ${PACKAGE_FILES.users}: not imported`,
        );
      }
      if (environmentRoles > 0) {
        warn(
          `${environmentRoles} role assignment(s) name no organization: WorkOS assigns roles on memberships: not imported`,
        );
      }
      if (secrets.size > 0) {
        warn(
          `${secrets.size} TOTP secret(s) of ${PACKAGE_FILES.totpSecrets} name no user of ${PACKAGE_FILES.users}: not enrolled`,
        );
      }
    },
  };
}

/** The keys a row names its user by: external id, email, WorkOS user id. */
function userKeysOf(record: SourceRecord): string[] {
  const keys: string[] = [];
  const externalId = cell(record, "external_id");
  const email = cell(record, "email")?.toLowerCase();
  const userId = cell(record, "user_id");
  if (externalId !== undefined) keys.push(`x:${externalId}`);
  if (email !== undefined) keys.push(`e:${email}`);
  if (userId !== undefined) keys.push(`u:${userId}`);
  return keys;
}

/** Role slugs from a comma-separated list or a JSON array. */
function slugsOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  if (text.startsWith("[")) {
    try {
      const list = JSON.parse(text);
      if (Array.isArray(list)) return list.filter((slug) => typeof slug === "string" && slug);
    } catch {
      // Not JSON: read as a list below, and let validation say what is wrong.
    }
  }
  return text.split(",").map((slug) => slug.trim()).filter((slug) => slug !== "");
}

/** Rows of a sidecar file; none when the package leaves it out. */
async function* rowsOf(path: string): AsyncGenerator<SourceRecord> {
  let file;
  try {
    file = await openCsvFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for await (const row of file.rows()) if (row.parseError === undefined) yield row;
}

/** Entries by every key of their user; each is taken once, by the first user it matches. */
class Index<T extends { taken: boolean }> {
  readonly #byKey = new Map<string, T[]>();
  #count = 0;
  #takenCount = 0;

  add(keys: readonly string[], entry: T): void {
    if (keys.length === 0) return;
    this.#count++;
    for (const key of keys) {
      const list = this.#byKey.get(key);
      if (list) list.push(entry);
      else this.#byKey.set(key, [entry]);
    }
  }

  take(keys: readonly string[]): T[] {
    const taken: T[] = [];
    for (const key of keys) {
      const list = this.#byKey.get(key);
      if (list === undefined) continue;
      this.#byKey.delete(key);
      for (const entry of list) {
        if (entry.taken) continue;
        entry.taken = true;
        this.#takenCount++;
        taken.push(entry);
      }
    }
    return taken;
  }

  untaken(): number {
    return this.#count - this.#takenCount;
  }
}
