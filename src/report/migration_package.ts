/**
 * Writes a migration package: the provider-neutral directory the official
 * WorkOS migration tool's `import-package` reads (manifest.json, users.csv,
 * organizations.csv, organization_memberships.csv, totp_secrets.csv,
 * warnings.jsonl, skipped_users.jsonl), one validated row at a time.
 *
 * The package holds password hashes and TOTP secrets by design (it is the
 * handoff to the import): every file is written owner-only.
 *
 * @module
 */

import { type CsvStringify, loadCsvStringify } from "./_csv_stringify.ts";
import type { OrganizationRef, UserRow } from "../types.ts";
// The reader's contract is the writer's: one list of paths and headers, so the two cannot drift.
import { PACKAGE_FILES, PACKAGE_HEADERS, PACKAGE_SCHEMA_VERSION } from "../input/package/layout.ts";
import { KeyIndex } from "./_key_index.ts";

/** Counts of what a package holds, as its manifest lists them. */
export interface PackageCounts {
  users: number;
  organizations: number;
  memberships: number;
  totpSecrets: number;
  warnings: number;
  skippedUsers: number;
}

const encoder = new TextEncoder();

/** One file of the package, appended to in order. */
class PackageFile {
  readonly #file: Deno.FsFile;
  #pending = "";

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  static async create(path: string, header?: readonly string[]): Promise<PackageFile> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
    const out = new PackageFile(file);
    if (header) out.write(header.join(",") + "\n");
    return out;
  }

  write(text: string): void {
    this.#pending += text;
  }

  async flush(): Promise<void> {
    if (this.#pending === "") return;
    const bytes = encoder.encode(this.#pending);
    this.#pending = "";
    let written = 0;
    while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
  }

  async close(): Promise<void> {
    await this.flush();
    this.#file.close();
  }
}

/** Set by `MigrationPackageWriter.create`, before any line is written. */
let stringify: CsvStringify | undefined;

function csvLine(values: Array<string | undefined>): string {
  return (stringify as CsvStringify)([values.map((value) => value ?? "")]);
}

function organizationColumns(ref: OrganizationRef | undefined): [string?, string?, string?] {
  if (ref === undefined) return [];
  return ref.kind === "id" ? [ref.id] : [undefined, ref.externalId, ref.name];
}

/**
 * A migration package being written: {@linkcode add} each valid row,
 * {@linkcode skip} each row that cannot be imported, then
 * {@linkcode close} with the manifest's details.
 *
 * @example Write a package of one user
 * ```ts
 * import { MigrationPackageWriter } from "./migration_package.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const writer = await MigrationPackageWriter.create(dir);
 * writer.add({
 *   recordNumber: 1, byteEnd: 10, email: "ada@example.com", emailKey: "ada@example.com",
 *   organization: { kind: "external_id", externalId: "acme", name: "Acme" }, original: {},
 * });
 * const counts = await writer.close({ provider: "auth0" });
 * equal(counts.users, 1);
 * equal(counts.memberships, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class MigrationPackageWriter {
  readonly #dir: string;
  readonly #users: PackageFile;
  readonly #organizations: PackageFile;
  readonly #memberships: PackageFile;
  readonly #totp: PackageFile;
  readonly #warnings: PackageFile;
  readonly #skipped: PackageFile;
  /**
   * Emails written, so that a person is one user, by number: kept for the
   * whole file, so as bytes in a {@linkcode KeyIndex} (about 60 bytes an
   * email), not in a `Set` (about 130 a key at its peak, and one `Set` of
   * emails and another of email and organization pairs grew with every row).
   */
  readonly #usersSeen = new KeyIndex();
  /** Organizations are few: a `Map` (whose string keys V8 copies, so they keep no run text alive). */
  readonly #organizationNumbers = new Map<string, number>();
  /** Memberships written, by user number: the first organization's number (-1: none yet). */
  #firstOrganization = new Int32Array(1024).fill(-1);
  /** A user's further organizations, for people in more than one. */
  readonly #moreOrganizations = new Map<number, Set<number>>();
  readonly counts: PackageCounts = {
    users: 0,
    organizations: 0,
    memberships: 0,
    totpSecrets: 0,
    warnings: 0,
    skippedUsers: 0,
  };

  private constructor(dir: string, files: PackageFile[]) {
    this.#dir = dir;
    [
      this.#users,
      this.#organizations,
      this.#memberships,
      this.#totp,
      this.#warnings,
      this.#skipped,
    ] = files;
  }

  /**
   * Creates the package's directory (it must not hold a package already) and files.
   *
   * @param dir The directory.
   * @returns The writer.
   */
  static async create(dir: string): Promise<MigrationPackageWriter> {
    stringify = await loadCsvStringify();
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const files = await Promise.all([
      PackageFile.create(`${dir}/${PACKAGE_FILES.users}`, PACKAGE_HEADERS.users),
      PackageFile.create(`${dir}/${PACKAGE_FILES.organizations}`, PACKAGE_HEADERS.organizations),
      PackageFile.create(`${dir}/${PACKAGE_FILES.memberships}`, PACKAGE_HEADERS.memberships),
      PackageFile.create(`${dir}/${PACKAGE_FILES.totpSecrets}`, PACKAGE_HEADERS.totpSecrets),
      PackageFile.create(`${dir}/${PACKAGE_FILES.warnings}`),
      PackageFile.create(`${dir}/${PACKAGE_FILES.skippedUsers}`),
    ]);
    return new MigrationPackageWriter(dir, files);
  }

  /**
   * Adds a valid row: its user (the first row of an email), its organization
   * and membership, its TOTP secret.
   *
   * @param row The validated row.
   */
  add(row: UserRow): void {
    const roles = row.roleSlugs ?? (row.roleSlug === undefined ? [] : [row.roleSlug]);
    const user = this.#usersSeen.indexOf(row.emailKey);
    if (this.#usersSeen.isNew) {
      this.counts.users++;
      this.#users.write(csvLine([
        row.email,
        row.passwordHash === undefined ? row.password : undefined,
        row.passwordHash,
        row.passwordHashType,
        row.firstName,
        row.lastName,
        row.emailVerified === undefined ? undefined : String(row.emailVerified),
        row.externalId,
        row.metadata === undefined ? undefined : JSON.stringify(row.metadata),
        undefined,
        undefined,
        undefined,
        undefined,
      ]));
      if (row.totp !== undefined) {
        this.counts.totpSecrets++;
        this.#totp.write(csvLine([row.email, row.totp.secret, row.totp.issuer, row.totp.user]));
      }
    }
    const organization = row.organization;
    if (organization === undefined) return;
    const [orgId, orgExternalId, orgName] = organizationColumns(organization);
    const orgKey = orgId !== undefined ? `id:${orgId}` : `ext:${orgExternalId}`;
    let organizationNumber = this.#organizationNumbers.get(orgKey);
    if (organizationNumber === undefined) {
      organizationNumber = this.#organizationNumbers.size;
      this.#organizationNumbers.set(orgKey, organizationNumber);
      this.counts.organizations++;
      this.#organizations.write(csvLine([orgId, orgExternalId, orgName, undefined, undefined]));
    }
    if (!this.#isNewMembership(user, organizationNumber)) return;
    this.counts.memberships++;
    this.#memberships.write(csvLine([
      row.email,
      row.externalId,
      undefined,
      orgId,
      orgExternalId,
      orgName,
      roles.length > 0 ? roles.join(",") : undefined,
      undefined,
    ]));
  }

  /** Notes user `user`'s membership of organization `organization`; `false` when noted before. */
  #isNewMembership(user: number, organization: number): boolean {
    if (user >= this.#firstOrganization.length) {
      const grown = new Int32Array(Math.max(user + 1, this.#firstOrganization.length * 2)).fill(-1);
      grown.set(this.#firstOrganization);
      this.#firstOrganization = grown;
    }
    const first = this.#firstOrganization[user];
    if (first === -1) {
      this.#firstOrganization[user] = organization;
      return true;
    }
    if (first === organization) return false;
    const more = this.#moreOrganizations.get(user);
    if (more === undefined) {
      this.#moreOrganizations.set(user, new Set([organization]));
      return true;
    }
    if (more.has(organization)) return false;
    more.add(organization);
    return true;
  }

  /**
   * Records a row that cannot be imported (`skipped_users.jsonl`).
   *
   * @param recordNumber The row.
   * @param email The email as far as it could be read.
   * @param reasons Why, one message each.
   */
  skip(recordNumber: number, email: string, reasons: readonly string[]): void {
    this.counts.skippedUsers++;
    this.#skipped.write(JSON.stringify({ recordNumber, email, reasons }) + "\n");
  }

  /**
   * Records a warning (`warnings.jsonl`).
   *
   * @param recordNumber The row, or `null` for the whole file.
   * @param message What.
   */
  warn(recordNumber: number | null, message: string): void {
    this.counts.warnings++;
    this.#warnings.write(JSON.stringify({ recordNumber, message }) + "\n");
  }

  /** Writes what was added so far. */
  async flush(): Promise<void> {
    await Promise.all(
      [
        this.#users,
        this.#organizations,
        this.#memberships,
        this.#totp,
        this.#warnings,
        this.#skipped,
      ]
        .map((file) => file.flush()),
    );
  }

  /**
   * Closes the files and writes `manifest.json`.
   *
   * @param details The provider and where the users came from.
   * @returns What the package holds.
   */
  async close(details: { provider: string; sourceFile?: string }): Promise<PackageCounts> {
    await Promise.all(
      [
        this.#users,
        this.#organizations,
        this.#memberships,
        this.#totp,
        this.#warnings,
        this.#skipped,
      ]
        .map((file) => file.close()),
    );
    const manifest = {
      schemaVersion: PACKAGE_SCHEMA_VERSION,
      provider: details.provider,
      sourceTenant: details.sourceFile ?? null,
      generatedAt: new Date().toISOString(),
      entitiesRequested: ["users", "organizations", "memberships", "totp"],
      entitiesExported: {
        users: this.counts.users,
        organizations: this.counts.organizations,
        memberships: this.counts.memberships,
        roleDefinitions: 0,
        userRoleAssignments: 0,
        totpSecrets: this.counts.totpSecrets,
        uploadUsers: 0,
        uploadOrganizations: 0,
        uploadMemberships: 0,
        warnings: this.counts.warnings,
        skippedUsers: this.counts.skippedUsers,
      },
      files: {
        manifest: PACKAGE_FILES.manifest,
        users: PACKAGE_FILES.users,
        organizations: PACKAGE_FILES.organizations,
        memberships: PACKAGE_FILES.memberships,
        totpSecrets: PACKAGE_FILES.totpSecrets,
        warnings: PACKAGE_FILES.warnings,
        skippedUsers: PACKAGE_FILES.skippedUsers,
      },
      importability: {
        users: "automatic",
        organizations: "automatic",
        memberships: "automatic",
        totpSecrets: "automatic",
      },
      // The package is the hand-off to the import, so hashes and TOTP secrets stay in it.
      secretsRedacted: false,
      warnings: [],
    };
    await Deno.writeTextFile(
      `${this.#dir}/manifest.json`,
      JSON.stringify(manifest, null, 2) + "\n",
      {
        mode: 0o600,
      },
    );
    return { ...this.counts };
  }
}
