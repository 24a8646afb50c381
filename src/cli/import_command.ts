/**
 * `workos-importer --csv users.csv …`: the import as the user runs it, with
 * per-row lines, live progress, the summary box, Ctrl+C handling and the
 * exit code.
 *
 * @module
 */

import { formatCount as count } from "../report/_format.ts";
import type { ImportSummary, InputFormat } from "../types.ts";
import { type CommandSpec, durationFlag, type Flags, integerFlag, numberFlag } from "./args.ts";
import { checkInputFile, checkOutputFile } from "./input_check.ts";
import { checkOutputPaths } from "./_output_paths.ts";
import { isRunStop, type RunStopError } from "../limits/run_stop.ts";
import { DEFAULT_MAX_OUTAGE_MS, type OutageEvent } from "../workos/client.ts";
import { shortDuration, timeOfDay } from "../workos/_outage.ts";
import { DEFAULT_CHECKPOINT_DIR } from "../journal/job_files.ts";
import { ExitCode, InputError, UsageError } from "./usage_error.ts";
import { importUsers, type ImportUsersOptions } from "../pipeline/import_users.ts";
import type { RowOutcome } from "../outcome/mod.ts";
import type { OnExisting } from "../pipeline/row_processor.ts";
import type { PlanReport } from "../pipeline/dry_run_plan.ts";
import { errorFileFormatWarning } from "../report/error_writer.ts";
import { formatDryRunSummary, formatSummary } from "../report/summary.ts";
import type { ProgressReporter } from "../report/progress.ts";
import { ProgressWiring } from "./_progress_wiring.ts";
import { colorsFor, paintStatus } from "./_colors.ts";
import { describeColumnMap, parseColumnMap } from "../input/column_map.ts";
import { isProviderName, PROVIDERS, type ProviderSpec } from "../input/providers/mod.ts";
import { resolve } from "node:path";
import { type Console, envFileHint, readSecretKey } from "./environment.ts";
import { InterruptHandler } from "./interrupt.ts";
import { isJobImport, type JobImport, openJobImport } from "./job_commands.ts";
import {
  checkPermissions,
  importNeedsOf,
  importPermissions,
  sourceFilesOf,
} from "./permissions.ts";
import { withoutCredentials } from "../workos/client.ts";
// What only an import against WorkOS, a tenant plan or a migration package
// uses (the live progress, the record count, the plan, a package's steps)
// loads where that run starts, not with the CLI: a dry run loads none of it
// (issue 16: its memory floor; tests/cli_module_graph_test.ts).
import type { PackageSource, PackageStepsResult } from "./_package_steps.ts";

/** `workos-importer [--csv <file>] …`: the default command. */
export const importCommand: CommandSpec = {
  name: "import",
  summary: "import users (the default command)",
  usage: [
    "--csv <path|-> [options]          import users",
    "--input <path|-> [options]        import users from CSV or NDJSON",
    "--resume [job-id]                 continue a checkpointed job",
  ],
  flags: [
    "csv",
    "input",
    "format",
    "delimiter",
    "from",
    "password-hashes",
    "hash-config",
    "map",
    "user-export",
    "org-id",
    "org-external-id",
    "create-org-if-missing",
    "org-name",
    "require-membership",
    "dry-run",
    "plan",
    "limit",
    "on-existing",
    "invite",
    "invite-expires-days",
    "invite-rate",
    "totp-issuer",
    "concurrency",
    "rate-limit",
    "max-retries",
    "request-timeout",
    "max-outage",
    "api-url",
    "job-id",
    "resume",
    "chunk-size",
    "checkpoint-dir",
    "allow-changed-input",
    "errors-out",
    "audit-out",
    "report",
    "quiet",
    "json",
  ],
  notes: [
    "(no organization flags, org_id/org_external_id columns: each row names its organization)",
    "",
    "Environment: WORKOS_SECRET_KEY (or a .env file), WORKOS_API_URL, NO_COLOR.",
    "Exit codes: 0 success, 1 some rows failed, 2 usage or input error, 75 temporary failure, 130 interrupted.",
  ],
  run({ flags, positionals, console }) {
    if (positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument "${positionals[0]}": give the input with --csv <path>`,
      );
    }
    return runImportCommand(flags, console);
  },
};

/** The input path the flags name, with the deprecated alias warned about once. */
export function inputPathOf(flags: Flags, console: Console): string | undefined {
  if (flags["user-export"] !== undefined) {
    console.warn('Warning: "--user-export" is deprecated: use "--csv" instead');
  }
  const given = [flags.csv, flags.input, flags["user-export"]].filter((path) => path !== undefined);
  if (given.length > 1) {
    throw new UsageError("Cannot import: give one input: --csv, --input or --user-export");
  }
  return given[0];
}

/** The flag the input path came after. */
function inputFlagOf(flags: Flags): string {
  if (flags.input !== undefined) return "--input";
  if (flags["user-export"] !== undefined) return "--user-export";
  return "--csv";
}

/**
 * The `--delimiter` value as a character: `tab` (or `\t`) for a tab.
 *
 * @param flags The parsed flags.
 * @returns The separator, or `undefined` for the default comma.
 * @throws {UsageError} When it is not one character other than a quote or line break.
 *
 * @example Usage
 * ```ts
 * import { delimiterOf } from "./import_command.ts";
 * console.log(JSON.stringify(delimiterOf({ delimiter: "tab" }))); // "\t"
 * ```
 */
export function delimiterOf(flags: Flags): string | undefined {
  const raw = flags.delimiter;
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase() === "tab" || raw === "\\t" ? "\t" : raw;
  if (value.length !== 1 || value === '"' || value === "\n" || value === "\r" || value === " ") {
    throw new UsageError(
      `Cannot use "--delimiter": "${raw}" is not one separator character: give , ; | or tab`,
    );
  }
  return value;
}

/**
 * The source flags (`--from`, `--password-hashes`, `--hash-config`, `--map`),
 * checked: what to read the input as.
 *
 * @param flags The parsed flags.
 * @returns The format, provider and column mapping to open the input with.
 * @throws {UsageError} For an unknown source or a flag the source does not take.
 */
export function sourceOptionsOf(
  flags: Flags,
): Pick<ImportUsersOptions, "format" | "provider" | "columnMap"> {
  let format = flags.format;
  if (format !== undefined && format !== "csv" && format !== "ndjson") {
    throw new UsageError(`Cannot use "--format": "${format}" is not csv or ndjson`);
  }
  const from = flags.from;
  let provider: ProviderSpec | undefined;
  if (from === "csv" || from === "ndjson") {
    if (format !== undefined && format !== from) {
      throw new UsageError(`Cannot use --from ${from} with --format ${format}: give one`);
    }
    format = from;
  } else if (from !== undefined) {
    if (!isProviderName(from)) {
      throw new UsageError(
        `Cannot use "--from": "${from}" is not a source the importer reads: use ${
          ["csv", "ndjson", ...PROVIDERS].join(", ")
        }`,
      );
    }
    if (format !== undefined) {
      throw new UsageError(`Cannot use --format with --from ${from}: the source sets the format`);
    }
    provider = { from };
  }
  const hashes = flags["password-hashes"];
  if (hashes !== undefined) {
    if (provider?.from !== "auth0") {
      throw new UsageError('Cannot use "--password-hashes" without --from auth0: add --from auth0');
    }
    provider.passwordHashes = resolve(hashes);
  }
  const hashConfig = flags["hash-config"];
  if (hashConfig !== undefined) {
    if (provider?.from !== "firebase") {
      throw new UsageError(
        'Cannot use "--hash-config" without --from firebase: add --from firebase',
      );
    }
    provider.hashConfig = resolve(hashConfig);
  }
  let columnMap: Record<string, string> | undefined;
  if (flags.map !== undefined && flags.map.length > 0) {
    // A mapping file is read here, before the import's own permission check.
    checkPermissions(importPermissions({ reads: sourceFilesOf({ map: flags.map }) }));
    try {
      columnMap = parseColumnMap(flags.map);
    } catch (error) {
      if (error instanceof SyntaxError) throw new UsageError(error.message);
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(
          `Cannot read mapping file: no such file: give --map source=target or the path of a mapping file`,
        );
      }
      throw error;
    }
  }
  return { format: format as InputFormat | undefined, provider, columnMap };
}

/** Import options from flags, checked. */
export function importOptionsOf(flags: Flags): ImportUsersOptions {
  const { format, provider, columnMap } = sourceOptionsOf(flags);
  const onExisting = flags["on-existing"];
  if (onExisting !== undefined && !["skip", "update", "error"].includes(onExisting)) {
    throw new UsageError(
      `Cannot use "--on-existing": "${onExisting}" is not skip, update or error`,
    );
  }
  // A dry run calls no API: it must not need env access to learn where the API is.
  const callsApi = flags.plan === true || flags["dry-run"] !== true;
  const givenUrl = flags["api-url"] ?? (callsApi ? Deno.env.get("WORKOS_API_URL") : undefined);
  // Credentials in the URL are never sent, kept in a job or printed.
  const apiUrl = givenUrl === undefined ? undefined : withoutCredentials(givenUrl);
  if (apiUrl !== undefined) {
    try {
      const url = new URL(apiUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError();
    } catch {
      throw new UsageError(`Cannot use API URL "${apiUrl}": it is not an http(s) URL`);
    }
  }
  if (flags["create-org-if-missing"] && flags["org-external-id"] === undefined) {
    throw new UsageError(
      "Cannot use --create-org-if-missing without --org-external-id: add the external id",
    );
  }
  if (flags["create-org-if-missing"] && !flags["org-name"]) {
    throw new UsageError(
      'Cannot use --create-org-if-missing without --org-name: add --org-name "<name>"',
    );
  }
  if (flags["org-id"] !== undefined && flags["org-external-id"] !== undefined) {
    throw new UsageError("Cannot use both --org-id and --org-external-id: give one");
  }
  return {
    format,
    delimiter: delimiterOf(flags),
    provider,
    columnMap,
    apiUrl,
    organizationId: flags["org-id"],
    organizationExternalId: flags["org-external-id"],
    createOrganizationIfMissing: flags["create-org-if-missing"],
    organizationName: flags["org-name"],
    requireMembership: flags["require-membership"],
    onExisting: onExisting as OnExisting | undefined,
    dryRun: flags["dry-run"],
    concurrency: integerFlag(flags, "concurrency", { fallback: 10, min: 1, max: 1000 }),
    rateLimit: numberFlag(flags, "rate-limit", 50),
    maxRetries: integerFlag(flags, "max-retries", { fallback: 5, min: 0, max: 20 }),
    requestTimeoutMs: numberFlag(flags, "request-timeout", 30) * 1000,
    maxOutageMs: durationFlag(flags, "max-outage", DEFAULT_MAX_OUTAGE_MS),
    errorsOut: flags["errors-out"],
    auditLog: flags["audit-out"],
    invite: flags.invite,
    inviteExpiresDays: integerFlag(flags, "invite-expires-days", { fallback: 7, min: 1, max: 30 }),
    inviteRate: numberFlag(flags, "invite-rate", 10),
    totpIssuer: flags["totp-issuer"],
    limit: flags.limit === undefined
      ? undefined
      : integerFlag(flags, "limit", { fallback: 0, min: 1 }),
  };
}

/** What a command that imports through this one sets besides the flags (`import-package`). */
export interface ImportSource {
  /** The source to read the input as, instead of what `--from` says. */
  provider?: ProviderSpec;
  /** Lines added to the summary box. */
  summaryLines?: Array<[string, string]>;
  /**
   * A migration package: its organizations and role definitions run before
   * the rows, in the same job. (A resumed package job finds it by itself.)
   */
  package?: PackageSource;
}

/**
 * Runs an import from parsed flags.
 *
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @param source A source set by another command, and its summary lines.
 * @returns The exit code.
 */
export async function runImportCommand(
  flags: Flags,
  console: Console,
  source: ImportSource = {},
): Promise<number> {
  let path = inputPathOf(flags, console);
  // A resumed job knows its input.
  if (path === undefined && (flags.resume === undefined || flags.plan)) {
    throw new UsageError(
      'Cannot import: no input given: add --csv <path> (or "-" for standard input)',
    );
  }
  let options = importOptionsOf(flags);
  if (options.limit !== undefined && isJobImport(flags)) {
    throw new UsageError(
      "Cannot use --limit with --job-id or --resume: import the canary rows without a job",
    );
  }
  if (source.provider !== undefined) options.provider = source.provider;
  checkPermissions(importPermissions(importNeedsOf(path as string, flags, options.apiUrl)));
  if (path !== undefined) {
    await checkInputFile(path, {
      flag: inputFlagOf(flags),
      format: options.format,
      delimiter: options.delimiter,
      provider: options.provider,
      columnMap: options.columnMap,
    });
  }
  for (const flag of ["errors-out", "audit-out", "report"] as const) {
    const target = flags[flag];
    if (target !== undefined) await checkOutputFile(target, `--${flag}`);
  }
  // Before anything is written anywhere: each output is opened (and the
  // checkpoint directory proved writable) now, and a bad one names its flag.
  await checkOutputPaths(flags, {
    checkpointDir: isJobImport(flags)
      ? flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR
      : undefined,
  });
  if (flags.plan) {
    const apiKey = readSecretKey();
    // Without a key, the tenant plan says what is missing.
    if (source.package && apiKey && !options.dryRun) {
      await source.package.prepare({
        options: { ...options, apiKey },
        plan: true,
        quiet: flags.quiet,
        say: flags.json ? console.error : console.log,
      });
    }
    const { runPlanCommand } = await import("./plan_command.ts");
    return await runPlanCommand(path as string, options, flags, console);
  }
  if (options.errorsOut) {
    const warning = errorFileFormatWarning(options.errorsOut);
    if (warning) console.warn(`Warning: ${warning}`);
  }
  if (!options.dryRun) {
    options.apiKey = readSecretKey();
    if (!options.apiKey) {
      throw new UsageError(
        "WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file, or use --dry-run" +
          envFileHint(),
      );
    }
  }
  const quiet = flags.quiet ?? false;
  const json = flags.json ?? false;
  // With --json, stdout carries only the JSON summary.
  const say = json ? console.error : console.log;

  const interrupt = new InterruptHandler(console);
  let progress: ProgressReporter | undefined;
  let wiring: ProgressWiring | undefined;
  let totalRows: number | undefined;
  let writesLimit = options.rateLimit ?? 50;
  let job: JobImport | undefined;
  let packageSteps = source.package;
  let prepared: PackageStepsResult | undefined;
  try {
    if (isJobImport(flags)) {
      job = await openJobImport(flags, options, path, console);
      options = job.options;
      path = job.inputPath;
      totalRows = job.totalRows;
      const { packageDirOf, packageSource, sayIntro } = await import("./_package_steps.ts");
      const packageDir = packageSteps ? undefined : packageDirOf(options);
      if (packageDir !== undefined) {
        packageSteps = await packageSource(packageDir);
        sayIntro(packageSteps, console, json);
      }
    } else if (!options.dryRun && path !== "-") {
      const { countRecords } = await import("../input/file_facts.ts");
      totalRows = await countRecords(path as string, {
        format: options.format,
        provider: options.provider,
      }).catch(() => undefined);
      if (totalRows !== undefined && options.limit !== undefined) {
        totalRows = Math.min(totalRows, options.limit);
      }
    }
    // A resumed job's progress is job-wide; its rates count this session only.
    if (!options.dryRun) {
      const { ProgressReporter, stderrProgressOptions } = await import("../report/progress.ts");
      progress = new ProgressReporter(stderrProgressOptions(job?.progressStart));
    }
    writesLimit = options.rateLimit ?? 50;
    wiring = new ProgressWiring(progress, {
      warn: (line) => console.warn(line),
      say,
      rowsShareTerminal: json || Deno.stdout.isTerminal(),
      live: Deno.stderr.isTerminal() && !Deno.noColor,
    });
    const output = wiring;
    // Rows go to stdout (stderr with --json; above a live bar only when both are the terminal).
    const colorRows = colorsFor(json ? Deno.stderr : Deno.stdout);
    const colorWarnings = colorsFor(Deno.stderr);
    // A package's organizations and role definitions come before its users.
    prepared = await packageSteps?.prepare({
      options,
      jobDir: job?.journal.paths.dir,
      journal: job?.journal,
      auditPath: job ? job.options.auditLog as string : options.auditLog as string | undefined,
      quiet,
      say: (line) => output.row(paintStatus(line, colorRows)),
    });
    const summary = await importUsers(path === "-" ? Deno.stdin.readable : path as string, {
      ...options,
      journal: job?.journal,
      stop: interrupt.stop,
      abort: interrupt.abort,
      onWarning: (message) => output.warn(paintStatus(`Warning: ${message}`, colorWarnings)),
      onStart: (info) => {
        job?.setColumns(info.columns);
        if (options.dryRun) say("Dry run: no WorkOS API call will be made");
        if (options.provider) say(`Reading the export as ${options.provider.from}`);
        if (options.columnMap) say(describeColumnMap(options.columnMap));
        say(modeLine(info.mode, info.organizationId ?? options.organizationId, info.format));
      },
      onRow: quiet
        ? undefined
        : (outcome) =>
          output.row(paintStatus(rowLine(outcome, options.organizationExternalId), colorRows)),
      onOutage: (event) => {
        const line = outageLine(event);
        output.notice(event.state === "down" ? line : undefined);
        output.warn(line);
      },
      onProgress: (numbers) =>
        output.update({
          rowsDone: numbers.rowsDone,
          totalRows,
          usersDone: numbers.usersDone,
          writes: numbers.writes,
          writesPerSecondLimit: writesLimit,
          rateLimited: numbers.rateLimited,
          retries: numbers.retries,
        }),
    });
    wiring.close();
    progress?.finish();
    progress = undefined;
    if (job) summary.errorsWritten = await job.complete(summary);
    if (summary.totalRows === 0 && path === "-" && !summary.interrupted) {
      throw new InputError(
        "Cannot import standard input: it has no rows: give a CSV header and a row per user",
      );
    }
    if (summary.plan) say(planLines(summary.plan));
    // An interrupted run counts against the whole input, not the rows it reached.
    const interrupted = summary.interrupted
      ? { fileRows: totalRows ?? await recordsIn(path, options) }
      : undefined;
    if (prepared) summary.organizationsCreated += prepared.organizationsCreated;
    const boxLines = [
      ...extraLines(summary, job?.errorsFile ?? options.errorsOut),
      ...prepared?.lines ?? [],
      ...source.summaryLines ?? packageSteps?.summaryLines ?? [],
    ];
    say(
      summary.plan
        ? formatDryRunSummary(summary, summary.plan, { extraLines: boxLines, interrupted })
        : formatSummary(summary, {
          extraLines: boxLines,
          interrupted,
          title: summary.stopped ? "SUMMARY (stopped before the end)" : undefined,
        }),
    );
    if (json) {
      const fields = {
        ...summaryJson(summary),
        ...(prepared ? { package: prepared.json } : {}),
      };
      console.log(JSON.stringify(job ? { ...fields, jobId: job.id } : fields));
    }
    if (summary.stopped) {
      const stop = summary.stopped;
      const watermark = summary.watermark?.recordNumber ??
        job?.journal.progress.watermark?.recordNumber ?? 0;
      console.error(`Error: ${stopLine(stop, watermark)}`);
      if (job) say(`Resume with: ${job.resumeCommand}`);
      else {
        say(
          "Run the same command again to import the rest: it adopts the users and memberships that already exist",
        );
      }
      return stop.exitCode;
    }
    if (summary.interrupted) {
      say(
        interrupt.abort.aborted
          ? "Interrupted: requests in flight were abandoned; their rows run again on resume"
          : "Interrupted: rows in flight were finished; the rest were not started",
      );
      if (job) say(`Resume with: ${job.resumeCommand}`);
      return ExitCode.Interrupted;
    }
    if (job?.errorFileProblem) {
      console.error(`Error: ${job.errorFileProblem}`);
      return ExitCode.Usage;
    }
    if (job) {
      say(`Job "${job.id}" completed: "workos-importer clean ${job.id}" deletes its checkpoint`);
    }
    return summary.status === "success" && !prepared?.failures
      ? ExitCode.Success
      : ExitCode.Failure;
  } catch (error) {
    if (job) {
      progress?.finish();
      progress = undefined;
      // A local file that cannot be written may be the journal itself.
      if (isRunStop(error)) await job.fail(error).catch(() => {});
      else await job.fail(error);
      console.error(
        `Job "${job.id}" stopped on the error below: fix its cause, then run: ${job.resumeCommand}`,
      );
    }
    throw error;
  } finally {
    wiring?.close();
    progress?.finish();
    interrupt.dispose();
  }
}

/** Records in the input file, or `undefined` for standard input or an unreadable file. */
async function recordsIn(
  path: string | undefined,
  options: ImportUsersOptions,
): Promise<number | undefined> {
  if (path === undefined || path === "-") return undefined;
  const { countRecords } = await import("../input/file_facts.ts");
  return await countRecords(path, { format: options.format, delimiter: options.delimiter })
    .catch(() => undefined);
}

function outageLine(event: OutageEvent): string {
  if (event.state === "up") {
    return `WorkOS answers again after ${shortDuration(event.downForMs ?? 0)} (down since ${
      timeOfDay(event.since)
    }): carrying on`;
  }
  const seconds = Math.max(0, Math.round((event.retryInMs ?? 0) / 1000));
  return `WorkOS unreachable since ${
    timeOfDay(event.since)
  } (${event.reason}): retrying in ${seconds} s`;
}

function stopLine(stop: RunStopError, watermark: number): string {
  if (stop.kind === "refused_key") {
    return `${stop.message}; rows after ${count(watermark)} were not attempted`;
  }
  if (stop.kind === "local_io") {
    return `${stop.message}: the run stopped before its next write to WorkOS; free space or fix the file, then resume`;
  }
  return stop.message;
}

function modeLine(mode: string, organizationId: string | undefined, format: string): string {
  if (mode === "multi" && format === "ndjson") {
    return "Per-row mode: rows that name an organization join it; the others create users only";
  }
  if (mode === "multi") return "Multi-org mode: Organizations will be resolved per-row from CSV";
  if (mode === "single") {
    return `Single-org mode: every user joins organization "${organizationId ?? "(from flags)"}"`;
  }
  return "User-only mode: no memberships will be created";
}

function rowLine(outcome: RowOutcome, organizationExternalId: string | undefined): string {
  const where = `Row ${outcome.recordNumber} ${outcome.email || "(no email)"}`;
  if (outcome.error) {
    return `✗ ${where}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`;
  }
  if (!outcome.user) return `✓ ${where}: valid`;
  const user = outcome.user === "repeat" ? "same user as an earlier row" : `user ${outcome.user}`;
  // The organization as the user wrote it: its external id where they gave one.
  const externalId = outcome.membership?.organizationExternalId ?? organizationExternalId;
  const organization = externalId === undefined
    ? outcome.membership?.organizationId
    : `organization "${externalId}"`;
  const membership = outcome.membership
    ? `; membership ${
      outcome.membership.created ? "created" : "already existed"
    } in ${organization}${
      outcome.membership.roles
        ? ` (roles ${outcome.membership.roles.previous.join(",")} → ${
          outcome.membership.roles.roles.join(",")
        })`
        : ""
    }`
    : "";
  const factor = outcome.factor
    ? `; TOTP factor ${outcome.factor.created ? "enrolled" : "already there"}`
    : "";
  return `✓ ${where}: ${user}${membership}${factor}`;
}

function planLines(plan: PlanReport): string {
  const n = count;
  return [
    "Plan:",
    `  Rows valid: ${n(plan.validRows)}`,
    `  Rows invalid: ${n(plan.invalidRows)}`,
    `  Distinct users: ${n(plan.distinctUsers)}`,
    `  Duplicate rows (same email and organization as an earlier row): ${n(plan.duplicateRows)}`,
    `  Organizations referenced: ${n(plan.distinctOrganizations)}`,
    `  Memberships that would be created: ${n(plan.membershipsPlanned)}`,
  ].join("\n");
}

function extraLines(
  summary: ImportSummary & { errorsWritten: number },
  errorsOut: string | undefined,
): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  const n = count;
  if (summary.invitationsSent > 0) lines.push(["Invitations sent", n(summary.invitationsSent)]);
  if (summary.retries > 0) lines.push(["Retries", n(summary.retries)]);
  if (summary.rateLimited > 0) lines.push(["Rate limited (429)", n(summary.rateLimited)]);
  if (errorsOut && summary.errorsWritten > 0) lines.push(["Error file", errorsOut]);
  return lines;
}

/**
 * The `--json` summary: stable field names, documented in the README.
 *
 * @param summary The import's result.
 * @returns A plain object for `JSON.stringify`.
 */
export function summaryJson(
  summary: ImportSummary & { interrupted: boolean; plan?: PlanReport; errorsWritten: number },
): Record<string, unknown> {
  return {
    status: summary.interrupted ? "interrupted" : summary.status,
    totalRows: summary.totalRows,
    successes: summary.successes,
    failures: summary.failures,
    usersCreated: summary.usersCreated,
    usersExisting: summary.usersExisting,
    usersUpdated: summary.usersUpdated,
    membershipsCreated: summary.membershipsCreated,
    membershipsExisting: summary.membershipsExisting,
    organizationsCreated: summary.organizationsCreated,
    invitationsSent: summary.invitationsSent,
    warnings: summary.warnings,
    cacheHits: summary.cacheHits,
    cacheMisses: summary.cacheMisses,
    retries: summary.retries,
    rateLimited: summary.rateLimited,
    durationMs: summary.durationMs,
    dryRun: summary.dryRun,
    errorsWritten: summary.errorsWritten,
    ...(summary.plan ? { plan: summary.plan } : {}),
  };
}
