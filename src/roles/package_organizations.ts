/**
 * The organizations of a migration package's `organizations.csv`, made to
 * exist before its role definitions (an organization role needs its
 * organization) and its users: each one with an `org_external_id` is looked
 * up and, when missing, created exactly once with its `org_name`. A plan
 * reads the tenant and writes nothing.
 *
 * @module
 */

import type { AuditEntry } from "../report/audit_log.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import {
  ensureOrganization,
  findOrganizationByExternalId,
  type WorkOSOrganization,
} from "../workos/organizations.ts";
import type { SetupRecorder } from "./setup_ledger.ts";

/** One row of `organizations.csv`. */
export interface PackageOrganization {
  /** Row of the file (1 = first data row). */
  row: number;
  /** `org_external_id`: the source's identifier, how the importer finds it. */
  externalId?: string;
  /** `org_id`: a WorkOS id the exporter already knew. */
  id?: string;
  /** `org_name`. */
  name?: string;
}

/** What happened to one organization. */
export interface OrganizationResult {
  organization: PackageOrganization;
  /** Created (or, in a plan, would be); already in WorkOS; skipped (named by `org_id`); failed. */
  action: "created" | "exists" | "skipped" | "failed";
  /** The WorkOS id, when known. */
  id?: string;
  /** What failed. */
  detail?: string;
}

/** Options for {@linkcode ensurePackageOrganizations}. */
export interface EnsureOrganizationsOptions {
  /** Read the tenant and report what would be done; write nothing. */
  plan?: boolean;
  /** Records each create (a job's setup ledger and audit log). */
  recorder?: SetupRecorder;
  /** Called once per organization, in file order. */
  onResult?(result: OrganizationResult): void;
}

/**
 * The key of an organization in a setup ledger.
 *
 * @param externalId The organization's external id.
 * @returns The key.
 *
 * @example Usage
 * ```ts
 * import { organizationKey } from "./package_organizations.ts";
 * console.log(organizationKey("acme")); // organization:acme
 * ```
 */
export function organizationKey(externalId: string): string {
  return `organization:${externalId}`;
}

/**
 * Reads `organizations.csv` (`org_id,org_external_id,org_name,domains,metadata`).
 *
 * @param path The file.
 * @returns Its rows, blank cells left out.
 *
 * @example Usage
 * ```ts
 * import { readPackageOrganizations } from "./package_organizations.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "org_id,org_external_id,org_name,domains,metadata\n,acme,Acme,,\n");
 * const [acme] = await readPackageOrganizations(path);
 * console.log(acme.externalId, acme.name); // acme Acme
 * await Deno.remove(path);
 * ```
 */
export async function readPackageOrganizations(path: string): Promise<PackageOrganization[]> {
  const text = (await Deno.readTextFile(path)).replace(/^\uFEFF/, "");
  // Loaded here, not with the module: an npm package costs the CLI's every run memory.
  const { parse } = await import("csv-parse/sync");
  const rows = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
  const columns = (rows[0] ?? []).map((column) => column.trim().toLowerCase());
  return rows.slice(1).map((values, index) => {
    const cell = (column: string) => {
      const value = values[columns.indexOf(column)]?.trim();
      return value ? value : undefined;
    };
    const organization: PackageOrganization = { row: index + 1 };
    const externalId = cell("org_external_id");
    const id = cell("org_id");
    const name = cell("org_name");
    if (externalId !== undefined) organization.externalId = externalId;
    if (id !== undefined) organization.id = id;
    if (name !== undefined) organization.name = name;
    return organization;
  });
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof WorkOSApiError && error.requestId
    ? `${message} (request ID ${error.requestId})`
    : message;
}

function auditEntry(organization: WorkOSOrganization, uncertain: boolean): AuditEntry {
  return {
    timestamp: new Date().toISOString(),
    action: "organization_created",
    id: organization.id,
    organizationId: organization.id,
    organizationExternalId: organization.externalId ?? undefined,
    ...(uncertain ? { uncertain: true } : {}),
  };
}

/**
 * Makes every organization of the package exist: created when missing,
 * adopted when there.
 *
 * @param client The WorkOS client (general budget, retries, request ids).
 * @param organizations The rows of `organizations.csv`.
 * @param options Plan only, a recorder, a callback per organization.
 * @returns One result per organization, in file order.
 *
 * @example Create the organizations of a package in a fake WorkOS
 * ```ts
 * import { ensurePackageOrganizations } from "./package_organizations.ts";
 * import { WorkOSClient } from "../workos/client.ts";
 * import { startFakeWorkOS } from "../fake_workos/server.ts";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const client = new WorkOSClient({ apiKey: fake.apiKey, apiUrl: fake.url });
 * const organizations = [{ row: 1, externalId: "acme", name: "Acme" }];
 * const [first] = await ensurePackageOrganizations(client, organizations);
 * assert.equal(first.action, "created");
 * const [again] = await ensurePackageOrganizations(client, organizations);
 * assert.equal(again.action, "exists");
 * ```
 */
export async function ensurePackageOrganizations(
  client: WorkOSClient,
  organizations: readonly PackageOrganization[],
  options: EnsureOrganizationsOptions = {},
): Promise<OrganizationResult[]> {
  const results: OrganizationResult[] = [];
  const report = (result: OrganizationResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  const recorder = options.recorder;
  const seen = new Set<string>();
  for (const organization of organizations) {
    const externalId = organization.externalId;
    if (externalId === undefined) {
      // Named by its WorkOS id: the rows that join it check that it exists.
      report({ organization, action: "skipped", id: organization.id });
      continue;
    }
    if (seen.has(externalId)) continue;
    seen.add(externalId);
    const key = organizationKey(externalId);
    try {
      const found = await findOrganizationByExternalId(client, externalId);
      if (found) {
        if (!options.plan && recorder?.isPending(key)) {
          // Made by an earlier session a crash cut off before it was recorded.
          await recorder.settle(key, auditEntry(found, true));
          report({ organization, action: "created", id: found.id });
        } else {
          report({ organization, action: "exists", id: found.id });
        }
        continue;
      }
      if (organization.name === undefined) {
        report({
          organization,
          action: "failed",
          detail:
            `organizations.csv row ${organization.row}: "org_name" is empty and no organization has the external id "${externalId}": add its name`,
        });
        continue;
      }
      if (options.plan) {
        report({ organization, action: "created" });
        continue;
      }
      await recorder?.intend(key);
      const { value, created } = await ensureOrganization(client, externalId, {
        name: organization.name,
      });
      await recorder?.settle(key, created ? auditEntry(value, false) : undefined);
      report({ organization, action: created ? "created" : "exists", id: value.id });
    } catch (error) {
      report({ organization, action: "failed", detail: describeError(error) });
    }
  }
  return results;
}
