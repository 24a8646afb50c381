/**
 * Checkpointed jobs on the command line: `--job-id` / `--resume` around an
 * import ({@linkcode openJobImport}), and the `jobs`, `status <job-id>` and
 * `clean <job-id>` commands.
 *
 * @module
 */

import { formatCount as count } from "../report/_format.ts";
import { type CommandSpec, type Flags, integerFlag, RESUME_LATEST } from "./args.ts";
import type { Console } from "./environment.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import type { ImportResult, ImportUsersOptions } from "../pipeline/import_users.ts";
import { drawBox, formatDuration } from "../report/summary.ts";
import type { ErrorRecord } from "../types.ts";
import { DEFAULT_CHECKPOINT_DIR, jobAuditPath, jobPaths } from "../journal/job_files.ts";
// The journal (Deno KV), the job listing and the audit log reader load when
// a job command or a job import runs, not with the CLI: a dry run and
// `validate` load none of them (issue 16: their memory floor).
import type { JobRecord, Journal } from "../journal/journal.ts";
import type { JobInfo } from "../journal/jobs.ts";

/** Flags that decide what a job does: fixed at its start. */
const FIXED_FLAGS: ReadonlyArray<[keyof Flags, keyof ImportUsersOptions]> = [
  ["format", "format"],
  ["from", "provider"],
  ["password-hashes", "provider"],
  ["hash-config", "provider"],
  ["map", "columnMap"],
  ["delimiter", "delimiter"],
  ["org-id", "organizationId"],
  ["org-external-id", "organizationExternalId"],
  ["create-org-if-missing", "createOrganizationIfMissing"],
  ["org-name", "organizationName"],
  ["on-existing", "onExisting"],
  ["require-membership", "requireMembership"],
  ["invite", "invite"],
  ["totp-issuer", "totpIssuer"],
];

/** Flags a resumed session may change: pace and output, not outcome. */
const TUNING_FLAGS: ReadonlyArray<[keyof Flags, keyof ImportUsersOptions]> = [
  ["concurrency", "concurrency"],
  ["rate-limit", "rateLimit"],
  ["max-retries", "maxRetries"],
  ["request-timeout", "requestTimeoutMs"],
  ["max-outage", "maxOutageMs"],
  ["chunk-size", "chunkSize"],
  ["invite-rate", "inviteRate"],
  ["invite-expires-days", "inviteExpiresDays"],
  ["errors-out", "errorsOut"],
  ["api-url", "apiUrl"],
];

/** Options that are objects, kept in the job as JSON text. */
const OBJECT_OPTIONS = ["provider", "columnMap"] as const;

/** Options that belong to one session, never to the job. */
const SESSION_ONLY = new Set(["apiKey", "dryRun", "auditLog", "journal", "stop", "abort"]);

/**
 * Whether the flags ask for a checkpointed job.
 *
 * @param flags The parsed flags.
 * @returns `true` with `--job-id` or `--resume`.
 *
 * @example Usage
 * ```ts
 * import { isJobImport } from "./job_commands.ts";
 * console.log(isJobImport({ "job-id": "j1" })); // true
 * ```
 */
export function isJobImport(flags: Flags): boolean {
  return flags["job-id"] !== undefined || flags.resume !== undefined;
}

/**
 * A checkpointed import session, opened by {@linkcode openJobImport}.
 *
 * @example Usage
 * ```ts ignore
 * const job = await openJobImport(flags, options, path, console);
 * const result = await importUsers(job.inputPath, { ...job.options, journal: job.journal });
 * await job.complete(result);
 * ```
 */
export class JobImport {
  /** The open journal, for `importUsers`. */
  readonly journal: Journal;
  /** The options to import with: the job's, with this session's tuning. */
  readonly options: ImportUsersOptions;
  /** Whether this continues an earlier session. */
  readonly resumed: boolean;
  readonly #checkpointDir: string;
  readonly #errorsOut?: string;
  #columns: string[] = [];

  /**
   * @param journal The open journal.
   * @param options The merged options.
   * @param details Resumed or new, checkpoint directory.
   */
  constructor(
    journal: Journal,
    options: ImportUsersOptions,
    details: { resumed: boolean; checkpointDir: string },
  ) {
    this.journal = journal;
    this.resumed = details.resumed;
    this.#checkpointDir = details.checkpointDir;
    this.#errorsOut = options.errorsOut;
    // The job writes its own error file and audit log; --errors-out gets a
    // copy of the whole job's errors at the end of every session.
    this.options = { ...options, errorsOut: undefined, auditLog: journal.paths.audit };
  }

  /** The job's id. */
  get id(): string {
    return this.journal.id;
  }

  /** The input file. */
  get inputPath(): string {
    return this.journal.job.input.path;
  }

  /** Records in the input, when counted. */
  get totalRows(): number | undefined {
    return this.journal.job.input.totalRows;
  }

  /** The job's error file. */
  get errorsFile(): string {
    return this.journal.paths.errors;
  }

  /** Job-wide counts at the start of this session, for progress rates. */
  get progressStart(): { rowsDoneAtStart: number; usersDoneAtStart: number } {
    const tally = this.journal.tallyAtStart;
    return {
      rowsDoneAtStart: tally.totalRows,
      usersDoneAtStart: tally.usersCreated + tally.usersExisting + tally.usersUpdated,
    };
  }

  /** The command that continues this job. */
  get resumeCommand(): string {
    const dir = this.#checkpointDir === DEFAULT_CHECKPOINT_DIR
      ? ""
      : ` --checkpoint-dir ${shellQuote(this.#checkpointDir)}`;
    return `workos-importer --resume ${shellQuote(this.id)}${dir}`;
  }

  /**
   * Remembers the input's columns, for a CSV copy of the errors.
   *
   * @param columns The input's header.
   */
  setColumns(columns: string[]): void {
    this.#columns = columns;
  }

  /**
   * Ends the session after `importUsers` returned: records the status and
   * copies the job's errors to `--errors-out`.
   *
   * @param result What the import returned (job-wide numbers).
   * @returns Error records in the job's error file.
   */
  async complete(result: ImportResult): Promise<number> {
    const stop = result.stopped;
    if (!stop) {
      await this.journal.finish(result.interrupted ? "interrupted" : "completed");
      return await this.#copyErrors();
    }
    // A run condition never completes a job. When the journal's own disk is
    // what failed, it keeps the status of its last commit ("running"),
    // which a resume takes as well.
    try {
      await this.journal.finish("interrupted", { error: stop.message });
      return await this.#copyErrors();
    } catch {
      return this.journal.progress.totals.failures;
    }
  }

  /**
   * Ends the session after the import threw: the job is `failed` and can be
   * resumed once the cause is fixed.
   *
   * @param error What was thrown.
   */
  async fail(error: unknown): Promise<void> {
    await this.journal.finish("failed", {
      error: error instanceof Error ? error.message : String(error),
    });
  }

  /**
   * Set when copying the job's errors met lines that are not error records:
   * one line saying which, for the CLI to show (exit 2).
   */
  errorFileProblem?: string;

  async #copyErrors(): Promise<number> {
    if (!this.#errorsOut) return this.journal.progress.totals.failures;
    const { openErrorWriter } = await import("../report/error_writer.ts");
    const out = await openErrorWriter(this.#errorsOut, { columns: this.#columns });
    const damaged: number[] = [];
    try {
      let batch: ErrorRecord[] = [];
      for await (const record of readErrorLines(this.errorsFile, damaged)) {
        batch.push(record);
        if (batch.length >= 1000) {
          await out.write(batch);
          batch = [];
        }
      }
      await out.write(batch);
    } finally {
      await out.close();
    }
    if (damaged.length > 0) {
      const which = damaged.length === 1
        ? `line ${damaged[0]} is`
        : `lines ${damaged.slice(0, 5).join(", ")}${damaged.length > 5 ? ", …" : ""} are`;
      this.errorFileProblem =
        `The job's error file "${this.errorsFile}" is damaged: ${which} not an error record: every other record was copied to "${this.#errorsOut}"; the damaged ${
          damaged.length === 1 ? "line was" : "lines were"
        } left out, and the job's file was left as it is`;
    }
    return out.count;
  }
}

/**
 * The records of a job's error file; a line that is not one (garbage, a
 * hand edit) is skipped and its line number added to `damaged`, so the
 * caller can say so: never dropped silently.
 */
async function* readErrorLines(path: string, damaged: number[]): AsyncGenerator<ErrorRecord> {
  using file = await Deno.open(path, { read: true });
  let pending = "";
  let lineNumber = 0;
  const parse = (line: string): ErrorRecord | undefined => {
    lineNumber++;
    if (line.trim() === "") return undefined;
    try {
      const record = JSON.parse(line);
      if (
        typeof record === "object" && record !== null && typeof record.recordNumber === "number"
      ) {
        return record as ErrorRecord;
      }
    } catch {
      // Reported below.
    }
    damaged.push(lineNumber);
    return undefined;
  };
  for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const record = parse(line);
      if (record) yield record;
    }
  }
  const last = parse(pending);
  if (last) yield last;
}

/**
 * Starts (`--job-id`) or continues (`--resume [id]`) a job for an import:
 * checks the flags against the job, creates or opens its journal, and
 * returns the options to import with.
 *
 * @param flags The parsed flags.
 * @param options Import options from the flags (with the API key).
 * @param path The input path from the flags, if any.
 * @param console Where warnings go.
 * @returns The session.
 * @throws {UsageError} For a job that cannot start or resume.
 *
 * @example Usage
 * ```ts ignore
 * const job = await openJobImport({ resume: "tenant-42" }, importOptionsOf(flags), undefined, console);
 * console.log(job.inputPath, job.resumeCommand);
 * ```
 */
export async function openJobImport(
  flags: Flags,
  options: ImportUsersOptions,
  path: string | undefined,
  console: Console,
): Promise<JobImport> {
  const checkpointDir = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  const chunkSize = integerFlag(flags, "chunk-size", { fallback: 1000, min: 1, max: 100_000 });
  const { createJob, describeInput, resumeJob } = await import("../journal/journal.ts");
  if (options.dryRun) {
    throw new UsageError("Cannot checkpoint a dry run: drop --dry-run, or --job-id and --resume");
  }
  if (path === "-") {
    throw new UsageError(
      "Cannot checkpoint standard input: a job must seek and hash its input: give a file with --csv <path>",
    );
  }
  if (flags.resume === undefined) {
    const jobId = flags["job-id"] as string;
    if (path === undefined) {
      throw new UsageError(
        `Cannot start job "${jobId}": no input given: add --csv <path>, or --resume ${jobId} to continue it`,
      );
    }
    const input = await describeInput(path, {
      format: options.format,
      delimiter: options.delimiter,
      provider: options.provider,
    });
    const kept: Record<string, unknown> = { ...options, chunkSize };
    for (const key of SESSION_ONLY) delete kept[key];
    // A job keeps plain values: the source's settings as JSON text.
    for (const key of OBJECT_OPTIONS) {
      if (kept[key] !== undefined) kept[key] = JSON.stringify(kept[key]);
    }
    const journal = await createJob(jobId, { checkpointDir, input, options: kept });
    return new JobImport(journal, { ...options, chunkSize }, { resumed: false, checkpointDir });
  }
  const named = flags.resume !== RESUME_LATEST ? flags.resume : flags["job-id"];
  if (flags["job-id"] !== undefined && named !== flags["job-id"]) {
    throw new UsageError(
      `Cannot use --job-id "${flags["job-id"]}" with --resume "${flags.resume}": name one job`,
    );
  }
  const { latestResumableJob } = await import("../journal/jobs.ts");
  const jobId = named ?? await latestResumableJob({ checkpointDir });
  const journal = await resumeJob(jobId, {
    checkpointDir,
    inputPath: path,
    allowChangedInput: flags["allow-changed-input"],
    onWarning: (message) => console.warn(`Warning: ${message}`),
    check: (job) => checkFixedFlags(job, flags, options),
  });
  console.error(`Resuming job "${jobId}"${resumePoint(journal)}`);
  return new JobImport(journal, resumedOptions(journal, flags, options), {
    resumed: true,
    checkpointDir,
  });
}

function resumePoint(journal: Journal): string {
  const watermark = journal.progress.watermark;
  if (!watermark) return ": from the first row";
  const total = journal.job.input.totalRows;
  return `: after row ${count(watermark.recordNumber)}${total ? ` of ${count(total)}` : ""}`;
}

function checkFixedFlags(job: JobRecord, flags: Flags, options: ImportUsersOptions): void {
  const stored = storedOptions(job);
  for (const [flag, key] of FIXED_FLAGS) {
    if (flags[flag] === undefined) continue;
    const given = options[key];
    const kept = stored[key];
    if (given === kept) continue;
    if (typeof given === "object" && JSON.stringify(given) === JSON.stringify(kept)) continue;
    const was = kept === undefined
      ? "the job started without it"
      : `the job's is ${typeof kept === "object" ? JSON.stringify(kept) : `"${kept}"`}`;
    throw new UsageError(
      `Cannot resume job "${job.id}": --${flag}${
        typeof given === "boolean" ? "" : ` "${typeof given === "object" ? flags[flag] : given}"`
      } differs from how it started (${was}): drop the flag to keep the job's setting`,
    );
  }
}

function resumedOptions(
  journal: Journal,
  flags: Flags,
  options: ImportUsersOptions,
): ImportUsersOptions {
  const stored = storedOptions(journal.job);
  const merged: Record<string, unknown> = { ...stored, apiKey: options.apiKey };
  for (const [flag, key] of TUNING_FLAGS) {
    if (flags[flag] !== undefined) merged[key] = options[key];
  }
  // The API location may come from WORKOS_API_URL as well as --api-url.
  if (options.apiUrl !== undefined) merged.apiUrl = options.apiUrl;
  return merged as ImportUsersOptions;
}

/** A job's options, with the objects {@linkcode OBJECT_OPTIONS} names read back. */
function storedOptions(job: JobRecord): ImportUsersOptions {
  const options: Record<string, unknown> = { ...job.options };
  for (const key of OBJECT_OPTIONS) {
    if (typeof options[key] === "string") options[key] = JSON.parse(options[key] as string);
  }
  return options as ImportUsersOptions;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9._\/-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function time(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

function rowsOf(job: JobInfo): string {
  return job.totalRows === undefined
    ? count(job.rowsDone)
    : `${count(job.rowsDone)}/${count(job.totalRows)}`;
}

/** `workos-importer jobs`. */
export const jobsCommand: CommandSpec = {
  name: "jobs",
  summary: "list checkpointed jobs",
  usage: ["jobs [--checkpoint-dir <path>] [--json]"],
  flags: ["checkpoint-dir", "json"],
  run({ flags, positionals, console }) {
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${positionals[0]}": "jobs" takes none`);
    }
    return runJobsCommand(flags, console);
  },
};

/** `workos-importer status <job-id>`. */
export const statusCommand: CommandSpec = {
  name: "status",
  summary: "show one job",
  usage: ["status <job-id> [--checkpoint-dir <path>] [--json]"],
  flags: ["checkpoint-dir", "json"],
  run: ({ flags, positionals, console }) => runStatusCommand(flags, positionals, console),
};

/** `workos-importer clean <job-id>`. */
export const cleanCommand: CommandSpec = {
  name: "clean",
  summary: "delete a job's checkpoint (and with it, undo)",
  usage: ["clean <job-id> [--checkpoint-dir <path>]"],
  flags: ["checkpoint-dir"],
  notes: [
    'Deleting a job\'s directory deletes its audit log: "undo <job-id>" is impossible afterwards.',
  ],
  run: ({ flags, positionals, console }) => runCleanCommand(flags, positionals, console),
};

/**
 * `workos-importer jobs`: the jobs of the checkpoint directory, most recent
 * first (`--json`: an array).
 *
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * await runJobsCommand({ "checkpoint-dir": ".workos-checkpoints" }, systemConsole);
 * ```
 */
export async function runJobsCommand(flags: Flags, console: Console): Promise<number> {
  const checkpointDir = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  const { listJobs } = await import("../journal/jobs.ts");
  const jobs = await listJobs({ checkpointDir });
  if (flags.json) {
    console.log(JSON.stringify(jobs.map(jobJson)));
    return ExitCode.Success;
  }
  if (jobs.length === 0) {
    console.log(`No jobs in "${checkpointDir}": start one with --job-id <id>`);
    return ExitCode.Success;
  }
  const header = ["ID", "STATUS", "ROWS", "ERRORS", "STARTED", "UPDATED"];
  const rows = jobs.map((job) =>
    job.status === "damaged" ? [job.id, job.status, "-", "-", "-", "-"] : [
      job.id,
      job.status,
      rowsOf(job),
      count(job.errors),
      time(job.startedAt),
      time(job.updatedAt),
    ]
  );
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  for (const row of [header, ...rows]) {
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
  for (const job of jobs) if (job.damage) console.error(job.damage);
  return ExitCode.Success;
}

/**
 * `workos-importer status <job-id>`: one job in detail (`--json`: an object).
 *
 * @param flags The parsed flags.
 * @param positionals The arguments after the command.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * await runStatusCommand({ json: true }, ["tenant-42"], systemConsole);
 * ```
 */
export async function runStatusCommand(
  flags: Flags,
  positionals: string[],
  console: Console,
): Promise<number> {
  const jobId = jobIdOf("status", positionals);
  const checkpointDir = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  const job = await readJobOrThrow(jobId, checkpointDir, "show");
  if (flags.json) {
    console.log(JSON.stringify(jobJson(job)));
    return ExitCode.Success;
  }
  const totals = job.totals;
  const percent = job.totalRows ? ` (${(100 * job.rowsDone / job.totalRows).toFixed(1)}%)` : "";
  const lines = [
    `Job: ${job.id}`,
    `Status: ${job.status}${job.active ? " (a process is running it)" : ""}`,
    `Rows done: ${rowsOf(job)}${percent}`,
    `Resume point: ${
      job.resumeFrom
        ? `after row ${count(job.resumeFrom.recordNumber)} (byte ${count(job.resumeFrom.byteEnd)})`
        : "the first row"
    }`,
    `Successes: ${count(totals.successes)}`,
    `Errors: ${count(job.errors)}`,
    `Users created: ${count(totals.usersCreated)}`,
    `Already existed: ${count(totals.usersExisting)}`,
    `Users updated: ${count(totals.usersUpdated)}`,
    `Memberships created: ${count(totals.membershipsCreated)}`,
    `Memberships existing: ${count(totals.membershipsExisting)}`,
    `Organizations created: ${count(totals.organizationsCreated)}`,
    `Sessions: ${job.sessions}`,
    `Duration: ${formatDuration(totals.durationMs)}`,
    `Started: ${time(job.startedAt)}`,
    `Updated: ${time(job.updatedAt)}`,
  ];
  console.log(drawBox(lines));
  console.log(`Input: ${job.input.path}`);
  console.log(`Input SHA-256: ${job.input.sha256}`);
  console.log(`Error file: ${job.paths.errors}`);
  if (job.lastError) console.log(`Last error: ${job.lastError}`);
  if (job.status !== "completed" && job.status !== "undone" && !job.active) {
    const dir = checkpointDir === DEFAULT_CHECKPOINT_DIR
      ? ""
      : ` --checkpoint-dir ${shellQuote(checkpointDir)}`;
    console.log(`Resume with: workos-importer --resume ${shellQuote(job.id)}${dir}`);
  }
  return ExitCode.Success;
}

/**
 * `workos-importer clean <job-id>`: deletes a job's directory.
 *
 * @param flags The parsed flags.
 * @param positionals The arguments after the command.
 * @param console Where lines go.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * await runCleanCommand({}, ["tenant-42"], systemConsole);
 * ```
 */
export async function runCleanCommand(
  flags: Flags,
  positionals: string[],
  console: Console,
): Promise<number> {
  const jobId = jobIdOf("clean", positionals);
  const checkpointDir = flags["checkpoint-dir"] ?? DEFAULT_CHECKPOINT_DIR;
  const changes = await auditEntries(await jobAuditPath(jobPaths(checkpointDir, jobId)));
  const { removeJob } = await import("../journal/jobs.ts");
  const dir = await removeJob(jobId, { checkpointDir });
  console.log(`Removed job "${jobId}": its journal, error file and audit log in "${dir}"`);
  if (changes > 0) {
    console.warn(
      `Warning: the audit log of ${
        count(changes)
      } changes in WorkOS is gone: "workos-importer undo ${jobId}" can no longer take them back`,
    );
  }
  return ExitCode.Success;
}

/** Writes an audit log records (a line holds a row's), 0 when there is none. */
async function auditEntries(path: string): Promise<number> {
  let entries = 0;
  const { readAuditLogBackward } = await import("../report/audit_log.ts");
  try {
    for await (const _ of readAuditLogBackward(path)) entries++;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  return entries;
}

function jobIdOf(command: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `The "${command}" command takes one job id: workos-importer ${command} <job-id>`,
    );
  }
  return positionals[0];
}

async function readJobOrThrow(jobId: string, checkpointDir: string, verb: string) {
  const { readJob } = await import("../journal/jobs.ts");
  const job = await readJob(jobId, { checkpointDir });
  if (!job) {
    throw new UsageError(
      `Cannot ${verb} job "${jobId}": there is no such job in "${checkpointDir}": run "workos-importer jobs" to list them`,
    );
  }
  return job;
}

/**
 * A job as `--json` prints it: stable field names.
 *
 * @param job The job.
 * @returns A plain object for `JSON.stringify`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(JSON.stringify(jobJson(await readJob("tenant-42"))));
 * ```
 */
export function jobJson(job: JobInfo): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    active: job.active,
    rowsDone: job.rowsDone,
    totalRows: job.totalRows ?? null,
    errors: job.errors,
    startedAt: job.startedAt,
    updatedAt: job.updatedAt,
    sessions: job.sessions,
    resumeFrom: job.resumeFrom ?? null,
    input: job.input,
    options: job.options,
    totals: job.totals,
    errorsFile: job.paths.errors,
    lastError: job.lastError ?? null,
    ...(job.damage ? { damage: job.damage } : {}),
  };
}
