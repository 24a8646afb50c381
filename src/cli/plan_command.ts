/**
 * `workos-importer --csv users.csv --plan [--report plan.json]`: predicts,
 * reading only, what the import would do to the live tenant, prints the
 * counts and writes the per-row predictions to the report.
 *
 * @module
 */

import { formatCount } from "../report/_format.ts";
import type { Flags } from "./args.ts";
import { type Console, readSecretKey } from "./environment.ts";
import { InterruptHandler } from "./interrupt.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import type { ImportUsersOptions } from "../pipeline/import_users.ts";
import { planTenant, type RowPrediction, type TenantPlan } from "../pipeline/tenant_plan.ts";
import { drawBox } from "../report/summary.ts";

/** Organizations printed before pointing at the report for the rest. */
const PRINTED_ORGANIZATIONS = 20;

/** Streams the report: rows as they are decided, the totals at the end. */
class PlanReportWriter {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #buffer = "";
  #first = true;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  static async open(path: string, fileName: string): Promise<PlanReportWriter> {
    // The report lists emails: owner-only, like error files.
    const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
    const writer = new PlanReportWriter(file);
    writer.#buffer = `{"file_name":${JSON.stringify(fileName)},"rows":[`;
    return writer;
  }

  async row(prediction: RowPrediction): Promise<void> {
    this.#buffer += (this.#first ? "\n" : ",\n") + JSON.stringify(prediction);
    this.#first = false;
    if (this.#buffer.length >= 65_536) await this.#flush();
  }

  async finish(plan: TenantPlan): Promise<void> {
    const { organizations, ...totals } = plan;
    this.#buffer += `\n],\n"organizations":${JSON.stringify(organizations)},\n"summary":${
      JSON.stringify(totals)
    }}\n`;
    try {
      await this.#flush();
    } finally {
      this.#file.close();
    }
  }

  close(): void {
    try {
      this.#file.close();
    } catch {
      // Already closed by finish.
    }
  }

  async #flush(): Promise<void> {
    const bytes = this.#encoder.encode(this.#buffer);
    this.#buffer = "";
    let offset = 0;
    while (offset < bytes.length) offset += await this.#file.write(bytes.subarray(offset));
  }
}

/**
 * Runs `--plan` from parsed flags.
 *
 * @param path The input path (`-` for stdin).
 * @param options The import options the flags give (organization, policy, limits).
 * @param flags The parsed flags (`--report`, `--json`).
 * @param console Where lines go.
 * @returns 0 when every row is predicted to succeed, 1 when some will fail, 130 when interrupted.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runPlanCommand("users.csv", importOptionsOf(flags), flags, systemConsole);
 * ```
 */
export async function runPlanCommand(
  path: string,
  options: ImportUsersOptions,
  flags: Flags,
  console: Console,
): Promise<number> {
  if (options.dryRun) {
    throw new UsageError(
      "Cannot use --plan with --dry-run: --plan reads the tenant, --dry-run makes no call: pick one",
    );
  }
  if (options.invite) {
    throw new UsageError(
      "Cannot use --plan with --invite: plans cover user imports: drop --invite to plan the import",
    );
  }
  const apiKey = readSecretKey();
  if (!apiKey) {
    throw new UsageError(
      "WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file (--plan reads the tenant)",
    );
  }
  const json = flags.json ?? false;
  const say = json ? console.error : console.log;
  const report = flags.report === undefined
    ? undefined
    : await PlanReportWriter.open(flags.report, path);
  const interrupt = new InterruptHandler(console);
  let plan: TenantPlan;
  try {
    say("Plan: reading the tenant only; nothing is written to WorkOS");
    plan = await planTenant(path === "-" ? Deno.stdin.readable : path, {
      apiKey,
      apiUrl: options.apiUrl,
      format: options.format,
      provider: options.provider,
      columnMap: options.columnMap,
      organizationId: options.organizationId,
      organizationExternalId: options.organizationExternalId,
      createOrganizationIfMissing: options.createOrganizationIfMissing,
      organizationName: options.organizationName,
      onExisting: options.onExisting,
      concurrency: options.concurrency,
      rateLimit: options.rateLimit,
      maxRetries: options.maxRetries,
      requestTimeoutMs: options.requestTimeoutMs,
      stop: interrupt.stop,
      abort: interrupt.abort,
      onWarning: (message) => console.warn(`Warning: ${message}`),
      onRow: report ? (prediction) => report.row(prediction) : undefined,
    });
    await report?.finish(plan);
  } finally {
    report?.close();
    interrupt.dispose();
  }
  for (const line of organizationLines(plan, flags.report)) say(line);
  say(planBox(plan));
  if (flags.report !== undefined) say(`Per-row predictions written to "${flags.report}"`);
  if (json) {
    const { organizations: _, ...totals } = plan;
    console.log(JSON.stringify(totals));
  }
  if (plan.interrupted) {
    say("Interrupted: the plan covers the rows read so far");
    return ExitCode.Interrupted;
  }
  return plan.failingRows === 0 ? ExitCode.Success : ExitCode.Failure;
}

const STATUS_TEXT = {
  exists: "exists",
  create: "will be created",
  missing: "missing: its rows will fail",
} as const;

function organizationLines(plan: TenantPlan, reportPath: string | undefined): string[] {
  const lines = plan.organizations.slice(0, PRINTED_ORGANIZATIONS).map((organization) =>
    `Organization "${organization.ref}": ${STATUS_TEXT[organization.status]}`
  );
  const total = plan.organizationsExisting + plan.organizationsToCreate +
    plan.organizationsMissing;
  if (total > lines.length) {
    lines.push(
      `… and ${formatCount(total - lines.length)} more organizations${
        reportPath ? `: see "${reportPath}"` : ""
      }`,
    );
  }
  return lines;
}

function planBox(plan: TenantPlan): string {
  const n = formatCount;
  return drawBox([
    "PLAN (read-only)",
    `Rows: ${n(plan.totalRows)}`,
    `Users to create: ${n(plan.usersToCreate)}`,
    `Users existing: ${n(plan.usersExisting)}`,
    `Users to update: ${n(plan.usersToUpdate)}`,
    `Organizations to create: ${n(plan.organizationsToCreate)}`,
    `Organizations existing: ${n(plan.organizationsExisting)}`,
    `Organizations missing: ${n(plan.organizationsMissing)}`,
    `Memberships to create: ${n(plan.membershipsToCreate)}`,
    `Memberships existing: ${n(plan.membershipsExisting)}`,
    `Rows that will fail: ${n(plan.failingRows)} (invalid: ${n(plan.invalidRows)}, conflicts: ${
      n(plan.conflicts)
    })`,
    `Reads spent: ${n(plan.requests)}`,
  ]);
}
