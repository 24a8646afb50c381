/**
 * The checkpoint journal of a job, in Deno KV: {@linkcode createJob} starts
 * one, {@linkcode resumeJob} continues one after any stop (Ctrl+C, SIGKILL,
 * reboot). The {@linkcode Journal} is handed to `importUsers` as its
 * `journal`: a store that says where to seek, which rows are final or were
 * in flight, what earlier rows claimed, and keeps every batch it is given.
 * It decides nothing about what a claim means and counts nothing: the
 * pipeline does both (`src/pipeline/job_ownership.ts`, `journal_sink.ts`).
 *
 * Exactly once, however the process ends:
 *
 * - The import writes a batch's failed rows to `errors.jsonl` (synced)
 *   first; a commit then writes the batch's entries in as many atomics as
 *   Deno KV's limits need, each tagged with the commit's sequence number,
 *   then `["progress"]` (watermark, totals, the error file's committed
 *   length) with that number. A crash before the progress leaves the
 *   batch's rows not final; entries with a newer number are ignored, and
 *   the next session cuts the error file back to its committed length.
 * - Rows above the watermark that finished are kept in `["done", seq, part]`
 *   so a resume skips them; the watermark's byte offset is where it seeks.
 * - Each row that established a person or created a membership leaves a
 *   claim, so that a resumed row that finds a user or membership made since
 *   the job started can tell whether it made it itself before the crash
 *   (counted as created) or another row did (counted once, by that row).
 *   Claims are packed by user-id bucket (see `_records.ts`); a resume moves
 *   the sequence number past a cut-off commit's so its claims, which record
 *   real writes of rows that run again, are never overwritten.
 *
 * @example Start a job, import, finish
 * ```ts ignore
 * import { createJob } from "./journal.ts";
 * import { importUsers } from "../pipeline/import_users.ts";
 *
 * const journal = await createJob("tenant-42", {
 *   input: await describeInput("users.csv"),
 *   options: { concurrency: 10 },
 * });
 * const result = await importUsers("users.csv", { apiKey, journal });
 * await journal.finish(result.interrupted ? "interrupted" : "completed");
 * ```
 *
 * @module
 */

import { ExitCode, UserError } from "../errors.ts";
import type { InputFormat } from "../types.ts";
import type { ResumePoint } from "../input/input_options.ts";
import { countRecords, hashFile } from "../input/file_facts.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import { emptyTally, type ImportTally, type RowOutcome, type Watermark } from "../outcome/mod.ts";
import type { CachedOrganization } from "../organizations/organization_resolver.ts";
import type {
  CheckpointState,
  CutOff,
  ImportJournal,
  JournalTotals,
  OwnershipClaim,
} from "./store.ts";
import { commitInOrder, type Mutation } from "./_atomic.ts";
import { localIoStop } from "../limits/run_stop.ts";
import { checkJobFiles, checkpointDirProblem, journalDamage } from "./_damage.ts";
import {
  DONE,
  JOB_KEY,
  type JobInput,
  type JobOptions,
  type JobProgress,
  type JobRecord,
  type JobStatus,
  type JobTotals,
  JOURNAL_VERSION,
  nextOrganizationNumber,
  ORGANIZATION,
  ORGANIZATION_CACHE,
  ORGANIZATION_NUMBER,
  organizationNumbered,
  OrganizationNumbers,
  packClaims,
  packDone,
  PROGRESS_KEY,
  READABLE_VERSIONS,
  readClaims,
  readHeader,
  RESERVED_KEY,
  ROWS,
  totalsOf,
  userOutcomeOf,
} from "./_records.ts";
import {
  createJobDir,
  DEFAULT_CHECKPOINT_DIR,
  jobAuditPath,
  JobLock,
  type JobPaths,
  jobPaths,
  restrictFiles,
} from "./job_files.ts";
import { withoutCredentials } from "../workos/client.ts";

export type { JobInput, JobOptions, JobProgress, JobRecord, JobStatus, JobTotals };

/**
 * A job cannot be started or resumed; the message says why and what to do.
 *
 * @example Tell a job problem from other failures
 * ```ts
 * import { JobError, resumeJob } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const checkpointDir = await Deno.makeTempDir();
 * await assert.rejects(
 *   resumeJob("01J00000000000000000000000", { checkpointDir }),
 *   (error) => error instanceof JobError && error.exitCode === 2,
 * );
 * await Deno.remove(checkpointDir, { recursive: true });
 * ```
 */
export class JobError extends UserError {
  /** `"JobError"`. */
  override name = "JobError";

  /**
   * Creates the error, with exit code 2.
   *
   * @param message One line: what is wrong and how to fix it.
   *
   * @example Usage
   * ```ts
   * import { JobError } from "./journal.ts";
   * const error = new JobError('Cannot resume job "x": no such job');
   * console.log(error.message);
   * ```
   */
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/** Options for {@linkcode createJob}. */
export interface CreateJobOptions {
  /** Where jobs live (`.workos-checkpoints`). */
  checkpointDir?: string;
  /** The input file, as {@linkcode describeInput} describes it. */
  input: JobInput;
  /**
   * The import options every session of the job runs with. Only plain
   * values are kept, and never `apiKey`.
   */
  options: Record<string, unknown>;
  /** The job's start, in ms since epoch (now). */
  startedAt?: number;
}

/** Options for {@linkcode resumeJob}. */
export interface ResumeJobOptions {
  /** Where jobs live (`.workos-checkpoints`). */
  checkpointDir?: string;
  /** Where the input is now, when it moved; by default where it was. */
  inputPath?: string;
  /** Continue although the input's SHA-256 changed. */
  allowChangedInput?: boolean;
  /** Told about anything surprising that does not stop the resume. */
  onWarning?(message: string): void;
  /** Vetoes the resume by throwing, before anything is written (e.g. flags that differ). */
  check?(job: JobRecord): void;
}

/** Options for {@linkcode describeInput}. */
export interface DescribeInputOptions {
  /** The format, when not detected from the name or first byte. */
  format?: InputFormat;
  /** The CSV column separator (`","` by default). */
  delimiter?: string;
  /** The provider whose export the file is (`--from`), for counting its users. */
  provider?: ProviderSpec;
}

/**
 * What a job records about its input file: absolute path, SHA-256, size,
 * and record count.
 *
 * @param path The input file.
 * @param options The format.
 * @returns The description.
 *
 * @example Usage
 * ```ts
 * import { describeInput } from "./journal.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 * const input = await describeInput(path);
 * console.log(input.totalRows, input.sha256.length); // 1 64
 * await Deno.remove(path);
 * ```
 */
export async function describeInput(
  path: string,
  options: DescribeInputOptions = {},
): Promise<JobInput> {
  const absolute = await Deno.realPath(path);
  const [sha256, stat, totalRows] = await Promise.all([
    hashFile(absolute),
    Deno.stat(absolute),
    countRecords(absolute, {
      format: options.format,
      delimiter: options.delimiter,
      provider: options.provider,
    }).catch(() => undefined),
  ]);
  const input: JobInput = { path: absolute, sha256, bytes: stat.size };
  if (options.format) input.format = options.format;
  if (totalRows !== undefined) input.totalRows = totalRows;
  return input;
}

/**
 * Starts a new job: creates its directory (owner-only), journal and error
 * file, and takes its lock.
 *
 * @param jobId The job's id.
 * @param options Checkpoint directory, input and options.
 * @returns The journal, ready for `importUsers`.
 * @throws {JobError} When the job exists already or another process holds it.
 *
 * @example Start a job, import, finish
 * ```ts
 * import { createJob, describeInput, importUsers } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const dir = await Deno.makeTempDir();
 * const checkpointDir = `${dir}/checkpoints`;
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 *
 * const journal = await createJob("tenant-42", {
 *   checkpointDir,
 *   input: await describeInput(path),
 *   options: {},
 * });
 * const result = await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url, journal });
 * await journal.finish(result.interrupted ? "interrupted" : "completed");
 * assert.equal(journal.progress.totals.usersCreated, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createJob(jobId: string, options: CreateJobOptions): Promise<Journal> {
  const checkpointDir = options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR;
  const given = jobPaths(checkpointDir, jobId);
  const dirProblem = await checkpointDirProblem(checkpointDir);
  if (dirProblem) throw new JobError(dirProblem);
  const paths = await withAuditOf(given);
  // A journal gone with its write-ahead log left behind is refused before
  // anything is written: a new journal beside that log would throw its data away.
  const hasJournal = await checkJobFiles(jobId, paths);
  await createJobDir(paths);
  const lock = await JobLock.acquire(paths);
  if (!lock) {
    throw new JobError(`Cannot start job "${jobId}": another process is running it`);
  }
  let kv: Deno.Kv | undefined;
  try {
    if (hasJournal) {
      let header;
      try {
        kv = await Deno.openKv(paths.journal);
        header = await readHeader(kv);
      } catch (error) {
        throw journalDamage(jobId, paths, error);
      }
      kv.close();
      kv = undefined;
      if (header) {
        throw new JobError(
          `Cannot start job "${jobId}": it exists already in "${
            parentOf(paths.dir)
          }": resume it with --resume ${jobId}, or delete it with "workos-importer clean ${jobId}"`,
        );
      }
      // A start that died before its first write left an empty journal.
      for (const suffix of ["", "-wal", "-shm"]) await removeIfPresent(paths.journal + suffix);
    }
    kv = await Deno.openKv(paths.journal);
    const startedAt = options.startedAt ?? Date.now();
    const job: JobRecord = {
      version: JOURNAL_VERSION,
      id: jobId,
      createdAt: new Date(startedAt).toISOString(),
      startedAt,
      input: options.input,
      options: plainOptions(options.options),
    };
    const progress: JobProgress = {
      status: "running",
      updatedAt: startedAt,
      committedAt: startedAt,
      seq: 0,
      horizon: 0,
      totals: totalsOf(),
      errorsBytes: 0,
      sessions: 1,
    };
    const result = await kv.atomic()
      .check({ key: JOB_KEY, versionstamp: null })
      .set(JOB_KEY, job)
      .set(PROGRESS_KEY, progress)
      .set(RESERVED_KEY, ROWS_RESERVED)
      .commit();
    if (!result.ok) throw new JobError(`Cannot start job "${jobId}": it exists already`);
    await restrictFiles(kvFiles(paths));
    // The job's files, owner-only from the start; the import writes the errors.
    await Deno.writeFile(paths.errors, new Uint8Array(0), { mode: 0o600 });
    return new Journal({ kv, lock, paths, job, progress, state: emptyState() });
  } catch (error) {
    kv?.close();
    lock.release();
    throw error;
  }
}

/**
 * Continues a job where it stopped: checks the input's SHA-256, and loads
 * the rows that are final above the watermark and the organization cache.
 * (The import cuts the job's error file back to what was committed.)
 *
 * @param jobId The job's id.
 * @param options Checkpoint directory, moved input, changed-input policy.
 * @returns The journal, ready for `importUsers`.
 * @throws {JobError} When the job is missing, complete, held by another
 *   process, or its input changed.
 *
 * @example Resume a job that was stopped
 * ```ts
 * import { createJob, describeInput, importUsers, resumeJob } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const dir = await Deno.makeTempDir();
 * const checkpointDir = `${dir}/checkpoints`;
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 *
 * const input = await describeInput(path);
 * await (await createJob("tenant-42", { checkpointDir, input, options: {} })).finish("interrupted");
 *
 * const journal = await resumeJob("tenant-42", { checkpointDir });
 * const result = await importUsers(journal.job.input.path, {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 *   journal,
 * });
 * await journal.finish(result.interrupted ? "interrupted" : "completed");
 * assert.equal(fake.state.userCount(), 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resumeJob(jobId: string, options: ResumeJobOptions = {}): Promise<Journal> {
  const checkpointDir = options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR;
  const given = jobPaths(checkpointDir, jobId);
  const dirProblem = await checkpointDirProblem(checkpointDir);
  if (dirProblem) throw new JobError(dirProblem);
  const paths = await withAuditOf(given);
  if (!(await checkJobFiles(jobId, paths))) {
    throw new JobError(
      `Cannot resume job "${jobId}": there is no such job in "${checkpointDir}": run "workos-importer jobs" to list them`,
    );
  }
  const lock = await JobLock.acquire(paths);
  if (!lock) {
    throw new JobError(
      `Cannot resume job "${jobId}": another process is running it: wait for it to end or stop it`,
    );
  }
  let kv: Deno.Kv | undefined;
  try {
    let header;
    try {
      kv = await Deno.openKv(paths.journal);
      header = await readHeader(kv);
    } catch (error) {
      throw journalDamage(jobId, paths, error);
    }
    if (!header) {
      throw new JobError(
        `Cannot resume job "${jobId}": it stopped before its first checkpoint: start it again with --job-id ${jobId}`,
      );
    }
    const { job, progress } = header;
    if (!READABLE_VERSIONS.includes(job.version)) {
      throw new JobError(
        `Cannot resume job "${jobId}": its journal has version ${job.version}, this build reads ${JOURNAL_VERSION}: finish it with the release that started it, or run "workos-importer clean ${jobId}" and start it again`,
      );
    }
    options.check?.(job);
    if (progress.status === "undone") {
      throw new JobError(
        `Cannot resume job "${jobId}": it was undone: start a new job with --job-id <id> to import its file again`,
      );
    }
    if (progress.status === "completed") {
      throw new JobError(
        `Cannot resume job "${jobId}": it completed already: run "workos-importer status ${jobId}" to see it`,
      );
    }
    const [input, state] = await Promise.all([
      checkInput(job, progress, options),
      loadState(kv, progress),
    ]);
    job.input = input;
    // From now on it holds this version's entries, which an older build cannot read.
    job.version = JOURNAL_VERSION;
    const now = Date.now();
    const reserved = (await kv.get<number>(RESERVED_KEY)).value;
    const resumed: JobProgress = {
      ...progress,
      status: "running",
      updatedAt: now,
      committedAt: now,
      sessions: progress.sessions + 1,
      cutOffs: cutOffsAfter(progress, reserved, now),
    };
    delete resumed.inFlightSince;
    // The next commit must not reuse the number of one a crash cut off.
    resumed.seq = progress.seq + 1;
    delete resumed.lastError;
    const floor = progress.watermark?.recordNumber ?? 0;
    await commitInOrder(kv, [
      ...state.stale,
      { type: "set", key: JOB_KEY, value: job },
      { type: "set", key: PROGRESS_KEY, value: resumed },
      { type: "set", key: RESERVED_KEY, value: floor + ROWS_RESERVED },
    ]);
    await restrictFiles(kvFiles(paths));
    return new Journal({ kv, lock, paths, job, progress: resumed, state });
  } catch (error) {
    kv?.close();
    lock.release();
    throw error;
  }
}

/**
 * Rows a session may read past the last one it recorded as reachable: it
 * records a new bound once it reads halfway there, so the bound is on disk
 * long before any row past it can start.
 */
const ROWS_RESERVED = 10_000;

/**
 * The cut-off stretches a resume must remember: the earlier ones whose rows
 * may still run, plus the last session's when it did not end cleanly (a
 * crash leaves it `running`; a failure or an abandoned stop may have left
 * creates in flight).
 */
function cutOffsAfter(progress: JobProgress, reserved: number | null, now: number): CutOff[] {
  const floor = progress.watermark?.recordNumber ?? 0;
  const cutOffs = (progress.cutOffs ?? []).filter((cut) => cut.throughRecord > floor);
  const clean = progress.status !== "running" && progress.status !== "failed" &&
    progress.inFlightSince === undefined;
  if (clean) return cutOffs;
  const committedAt = progress.committedAt ?? progress.updatedAt;
  cutOffs.push({
    fromMs: Math.min(progress.inFlightSince ?? committedAt, committedAt),
    toMs: now,
    afterRecord: floor,
    // A journal from before reservations: any row may have been reached.
    throughRecord: reserved === null
      ? Number.MAX_SAFE_INTEGER
      : Math.max(reserved, progress.horizon),
  });
  return cutOffs;
}

/** Options for {@linkcode lockJobForUndo}. */
export interface UndoLockOptions {
  /** Where jobs live (`.workos-checkpoints`). */
  checkpointDir?: string;
}

/** A job held for `undo`: no import or other undo can run it meanwhile. */
export interface UndoLock {
  /**
   * Records that the job was undone (`jobs` and `status` say `undone`, and
   * it cannot be resumed), then releases the lock. Best effort: a journal
   * that cannot be read (undo works from the audit log alone) is left as is.
   *
   * @returns `true` when the journal recorded it.
   */
  markUndone(): Promise<boolean>;
  /** Releases the lock. Safe to call twice. */
  release(): void;
}

/**
 * Takes a job's lock for `undo`, so that a second undo, or an import of the
 * same job, cannot run at the same time.
 *
 * @param jobId The job's id.
 * @param options The checkpoint directory.
 * @returns The lock.
 * @throws {JobError} When another process holds the job.
 *
 * @example Usage
 * ```ts ignore
 * const lock = await lockJobForUndo("tenant-42");
 * try {
 *   await undoAuditLog(".workos-checkpoints/tenant-42/audit.jsonl.gz", { apiKey });
 *   await lock.markUndone();
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export async function lockJobForUndo(
  jobId: string,
  options: UndoLockOptions = {},
): Promise<UndoLock> {
  const paths = jobPaths(options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR, jobId);
  const lock = await JobLock.acquire(paths);
  if (!lock) {
    throw new JobError(
      `Cannot undo job "${jobId}": another process is running it (an import or an undo): wait for it to end, then run undo again`,
    );
  }
  return {
    async markUndone(): Promise<boolean> {
      try {
        if (!(await checkJobFiles(jobId, paths))) return false;
        const kv = await Deno.openKv(paths.journal);
        try {
          const entry = await kv.get<JobProgress>(PROGRESS_KEY);
          if (!entry.value) return false;
          const progress: JobProgress = { ...entry.value, status: "undone", updatedAt: Date.now() };
          const result = await kv.atomic().check(entry).set(PROGRESS_KEY, progress).commit();
          return result.ok;
        } finally {
          kv.close();
        }
      } catch {
        return false;
      } finally {
        lock.release();
      }
    },
    release: () => lock.release(),
  };
}

interface LoadedState {
  /** Rows above the watermark that are final. */
  done: Set<number>;
  /** The done entries that hold them, with the highest row of each. */
  doneEntries: DoneEntry[];
  organizationClaims: Set<string>;
  organizationCache: Map<string, string>;
  /** Entries of a commit a crash cut off: removed on resume. */
  stale: Mutation[];
  /** The lowest organization number the job has not used. */
  nextOrganizationNumber: number;
}

function emptyState(): LoadedState {
  return {
    done: new Set(),
    doneEntries: [],
    organizationClaims: new Set(),
    organizationCache: new Map(),
    stale: [],
    nextOrganizationNumber: 0,
  };
}

async function loadState(kv: Deno.Kv, progress: JobProgress): Promise<LoadedState> {
  const state = emptyState();
  const floor = progress.watermark?.recordNumber ?? 0;
  const [done, rows, claims, cache, nextNumber] = await Promise.all([
    collect(kv.list<number[]>({ prefix: [DONE] })),
    collect(kv.list({ start: [ROWS, progress.seq + 1], end: [ROWS, Infinity] })),
    collect(kv.list<number>({ prefix: [ORGANIZATION] })),
    collect(kv.list<string>({ prefix: [ORGANIZATION_CACHE] })),
    nextOrganizationNumber(kv),
  ]);
  state.nextOrganizationNumber = nextNumber;
  for (const entry of done) {
    const above = (entry.key[1] as number) <= progress.seq
      ? entry.value.filter((recordNumber) => recordNumber > floor)
      : [];
    if (above.length === 0) {
      state.stale.push({ type: "delete", key: entry.key });
      continue;
    }
    for (const recordNumber of above) state.done.add(recordNumber);
    state.doneEntries.push({ key: entry.key, highest: Math.max(...above) });
  }
  for (const entry of rows) state.stale.push({ type: "delete", key: entry.key });
  for (const entry of claims) {
    if (entry.value <= progress.seq) state.organizationClaims.add(entry.key[1] as string);
    // Once the sequence number moves past it, it would pass for a real one.
    else state.stale.push({ type: "delete", key: entry.key });
  }
  for (const entry of cache) state.organizationCache.set(entry.key[1] as string, entry.value);
  return state;
}

async function checkInput(
  job: JobRecord,
  progress: JobProgress,
  options: ResumeJobOptions,
): Promise<JobInput> {
  const path = options.inputPath ?? job.input.path;
  let sha256: string;
  let absolute: string;
  try {
    absolute = await Deno.realPath(path);
    sha256 = await hashFile(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new JobError(
        `Cannot resume job "${job.id}": its input "${path}" is missing: pass --csv <path> to say where it is now`,
      );
    }
    throw error;
  }
  if (sha256 === job.input.sha256) return { ...job.input, path: absolute };
  if (!options.allowChangedInput) {
    throw new JobError(
      `Cannot resume job "${job.id}": the input file changed: pass --allow-changed-input to continue anyway`,
    );
  }
  const row = progress.watermark?.recordNumber ?? 0;
  options.onWarning?.(
    `The input "${absolute}" changed since job "${job.id}" started: continuing after row ${row} (byte ${
      progress.watermark?.byteEnd ?? 0
    }) as --allow-changed-input asks`,
  );
  return await describeInput(absolute, { format: job.input.format });
}

interface DoneEntry {
  key: Deno.KvKey;
  /** Once the watermark reaches it, the entry is needless. */
  highest: number;
}

interface JournalParts {
  kv: Deno.Kv;
  lock: JobLock;
  paths: JobPaths;
  job: JobRecord;
  progress: JobProgress;
  state: LoadedState;
}

/** What {@linkcode Journal.finish} records besides the status. */
export interface FinishOptions {
  /** Why the session failed, for `status`. */
  error?: string;
}

/**
 * An open job: the `journal` of `importUsers`, plus what the CLI shows
 * about the job. Close it with {@linkcode Journal.finish}.
 *
 * @example Import with a journal and read its progress
 * ```ts
 * import { createJob, describeInput, importUsers } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const dir = await Deno.makeTempDir();
 * const checkpointDir = `${dir}/checkpoints`;
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 *
 * const input = await describeInput(path);
 * const journal = await createJob("tenant-42", { checkpointDir, input, options: {} });
 * const result = await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url, journal });
 * await journal.finish(result.interrupted ? "interrupted" : "completed");
 * assert.equal(journal.progress.status, "completed");
 * assert.equal(journal.progress.totals.successes, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Journal implements ImportJournal {
  /** The job's settings. */
  readonly job: JobRecord;
  /** The job's files. */
  readonly paths: JobPaths;
  readonly #kv: Deno.Kv;
  readonly #lock: JobLock;
  #progress: JobProgress;
  readonly #atStart: JobProgress;
  readonly #done: Set<number>;
  // Done entries in KV, deleted once the watermark passes every row of one.
  #doneEntries: DoneEntry[];
  readonly #organizationClaims: Set<string>;
  #pendingOrganizationClaims: string[] = [];
  readonly #savedCache: Map<string, string>;
  readonly #organizationNumbers: OrganizationNumbers;
  // Organization numbers already resolved by a claim lookup.
  readonly #numberedOrganizations = new Map<number, string>();
  readonly #sessionStart = Date.now();
  #maxSeen = 0;
  #reserved: number;
  #reserving: Promise<unknown> = Promise.resolve();
  #frozen = false;
  #closed = false;
  #atomics = 0;

  /**
   * Wraps the opened pieces of a job; use {@linkcode createJob} or
   * {@linkcode resumeJob} to get a journal.
   *
   * @param parts The opened pieces.
   */
  constructor(parts: JournalParts) {
    this.#kv = parts.kv;
    this.#lock = parts.lock;
    this.paths = parts.paths;
    this.job = parts.job;
    this.#progress = parts.progress;
    this.#atStart = parts.progress;
    this.#done = parts.state.done;
    this.#doneEntries = parts.state.doneEntries;
    this.#organizationClaims = parts.state.organizationClaims;
    this.#savedCache = parts.state.organizationCache;
    this.#organizationNumbers = new OrganizationNumbers(parts.state.nextOrganizationNumber);
    this.#reserved = (parts.progress.watermark?.recordNumber ?? 0) + ROWS_RESERVED;
  }

  /** The job's id. */
  get id(): string {
    return this.job.id;
  }

  /** The progress as last committed. */
  get progress(): JobProgress {
    return this.#progress;
  }

  /** Atomics committed by this session (a batch may need several). */
  get atomicsCommitted(): number {
    return this.#atomics;
  }

  /** When the job first started. */
  get startedAt(): number {
    return this.job.startedAt;
  }

  /** Stretches of earlier sessions a crash cut off whose rows may run again. */
  get cutOffs(): readonly CutOff[] {
    return this.#atStart.cutOffs ?? [];
  }

  /** Where the input is read from: just past the watermark. */
  get resumeFrom(): ResumePoint | undefined {
    const watermark = this.#atStart.watermark;
    return watermark
      ? { byteOffset: watermark.byteEnd, recordNumber: watermark.recordNumber }
      : undefined;
  }

  /** Job-wide numbers earlier sessions committed. */
  get totalsAtStart(): JournalTotals {
    return { ...this.#atStart.totals };
  }

  /** The tally of the rows earlier sessions committed (the counts of {@linkcode totalsAtStart}). */
  get tallyAtStart(): ImportTally {
    const tally = emptyTally();
    for (const key of Object.keys(tally) as Array<keyof ImportTally>) {
      tally[key] = this.#atStart.totals[key] ?? 0;
    }
    return tally;
  }

  /** The job's error file, and how many of its bytes belong to committed rows. */
  get errorFile(): { path: string; committedBytes: number } {
    return { path: this.paths.errors, committedBytes: this.#progress.errorsBytes };
  }

  /** The organization cache earlier sessions saved. */
  get organizationCache(): Array<[string, CachedOrganization]> {
    return [...this.#savedCache].map(([key, id]) => [key, { id }]);
  }

  /**
   * Bytes of the audit log that belong to committed rows (at the start of
   * this session): entries past them were written for rows that run again.
   */
  get auditCommittedBytes(): number | undefined {
    return this.#atStart.auditBytes;
  }

  /** Organizations earlier sessions counted as created. */
  get organizationsCreatedAtStart(): number {
    return this.#atStart.totals.organizationsCreated;
  }

  /**
   * Whether a row above the watermark finished in an earlier session. Every
   * record passes here in order, so it also tracks how far reading got.
   *
   * @param recordNumber The row.
   * @returns `true` when the row must not run again.
   */
  isFinal(recordNumber: number): boolean {
    if (recordNumber > this.#maxSeen) {
      this.#maxSeen = recordNumber;
      if (recordNumber > this.#reserved - ROWS_RESERVED / 2 && !this.#closed) {
        // Half a reservation ahead: on disk long before a row past it starts.
        const reserved = this.#reserved = recordNumber + ROWS_RESERVED;
        this.#reserving = this.#reserving.then(() => this.#kv.set(RESERVED_KEY, reserved))
          .catch(() => {/* a lower bound stays: the next resume claims less */});
      }
    }
    return this.#done.has(recordNumber);
  }

  /**
   * Whether a row may have been in flight when the last session died: above
   * the watermark, not final, and read before the last commit.
   *
   * @param recordNumber The row.
   * @returns `true` when the row should look its user up before creating it.
   */
  isUncertain(recordNumber: number): boolean {
    const floor = this.#atStart.watermark?.recordNumber ?? 0;
    return recordNumber > floor && recordNumber <= this.#atStart.horizon &&
      !this.#done.has(recordNumber);
  }

  /**
   * The claims committed rows made of a user: which row established the
   * person, which rows created a membership of theirs.
   *
   * @param userId The user's id.
   * @returns The claims, in commit order.
   */
  async claimsOf(userId: string): Promise<OwnershipClaim[]> {
    const organizationOf = async (number: number): Promise<string> => {
      let id = this.#numberedOrganizations.get(number);
      if (id === undefined) {
        id = await organizationNumbered(this.#kv, number);
        this.#numberedOrganizations.set(number, id);
      }
      return id;
    };
    return (await readClaims(this.#kv, userId, organizationOf)).map((claim) => {
      const found: OwnershipClaim = {
        recordNumber: claim.recordNumber,
        membershipCreated: claim.membershipCreated === 1,
      };
      if (claim.userCode !== 0) {
        found.user = userOutcomeOf(claim.userCode) as OwnershipClaim["user"];
      }
      if (claim.organizationId !== "") found.organizationId = claim.organizationId;
      return found;
    });
  }

  /**
   * Records that the job counts an organization as its own (it created it,
   * or counted one a cut-off session made), committed with the next batch.
   *
   * @param organizationId The organization's id.
   * @returns `false` when the ledger had it already.
   */
  addOrganizationClaim(organizationId: string): boolean {
    if (this.#organizationClaims.has(organizationId)) return false;
    this.#organizationClaims.add(organizationId);
    this.#pendingOrganizationClaims.push(organizationId);
    return true;
  }

  /**
   * Commits a batch: the rows, their claims and the new watermark, in as
   * many atomics as Deno KV's limits need, the progress (with the totals it
   * is given) last. The batch's errors must be in the job's error file
   * already.
   *
   * @param outcomes Final rows, in completion order.
   * @param watermark Every row up to it is final; `undefined` keeps the last one.
   * @param state The totals, the organization cache, the error file's length.
   */
  async commit(
    outcomes: readonly RowOutcome[],
    watermark: Watermark | undefined,
    state: CheckpointState,
  ): Promise<void> {
    this.#checkOpen();
    if (state.abandoned) this.#frozen = true;
    const previous = this.#progress;
    const seq = previous.seq + 1;
    const errorsBytes = state.errorsBytes ?? previous.errorsBytes;
    const totals: JobTotals = { ...state.totals, durationMs: this.#durationMs() };
    const next = watermark ?? previous.watermark;
    const floor = next?.recordNumber ?? 0;

    const body: Mutation[] = [];
    const above: number[] = [];
    for (const outcome of outcomes) {
      if (outcome.recordNumber > floor) above.push(outcome.recordNumber);
    }
    for (const { key, value, highest } of packDone(above, seq)) {
      body.push({ type: "set", key, value });
      this.#doneEntries.push({ key, highest });
    }
    const claims = packClaims(outcomes, seq, this.#organizationNumbers);
    // Before the claims that name them: a crash leaves a prefix of a commit.
    const numbered = this.#organizationNumbers.takeAdded();
    for (const [number, id] of numbered) {
      body.push({ type: "set", key: [ORGANIZATION_NUMBER, number], value: id });
    }
    for (const { key, value } of claims) body.push({ type: "set", key, value });
    const organizationClaims = this.#pendingOrganizationClaims;
    for (const id of organizationClaims) {
      body.push({ type: "set", key: [ORGANIZATION, id], value: seq });
    }
    const now = Date.now();
    const progress: JobProgress = {
      ...previous,
      updatedAt: now,
      committedAt: now,
      seq,
      horizon: Math.max(previous.horizon, this.#maxSeen),
      totals,
      errorsBytes,
    };
    // The batch's audit entries are in the file before its commit.
    const auditBytes = await fileSize(this.paths.audit);
    if (auditBytes !== undefined) progress.auditBytes = auditBytes;
    if (next) progress.watermark = next;
    // Abandoned requests may have landed after they were given up: once
    // frozen, the oldest moment one could have started stays recorded.
    const inFlightSince = this.#frozen
      ? Math.min(
        previous.inFlightSince ?? Infinity,
        previous.committedAt ?? previous.updatedAt,
        state.inFlightSince ?? Infinity,
      )
      : state.inFlightSince;
    if (inFlightSince === undefined) delete progress.inFlightSince;
    else progress.inFlightSince = inFlightSince;
    if (progress.cutOffs) {
      const cutOffs = progress.cutOffs.filter((cut) => cut.throughRecord > floor);
      if (cutOffs.length > 0) progress.cutOffs = cutOffs;
      else delete progress.cutOffs;
    }
    // After the progress: a cache entry must not let a resume skip the
    // lookup that counts an organization a cut-off commit created, and a
    // done key must outlive the watermark that makes it needless.
    const tail: Mutation[] = [];
    for (const [key, value] of state.organizationCache) {
      if (value && this.#savedCache.get(key) !== value.id) {
        tail.push({ type: "set", key: [ORGANIZATION_CACHE, key], value: value.id });
        this.#savedCache.set(key, value.id);
      }
    }
    const needed: DoneEntry[] = [];
    for (const entry of this.#doneEntries) {
      if (entry.highest <= floor) tail.push({ type: "delete", key: entry.key });
      else needed.push(entry);
    }
    this.#doneEntries = needed;
    this.#pendingOrganizationClaims = [];
    try {
      this.#atomics += await commitInOrder(this.#kv, [
        ...body,
        { type: "set", key: PROGRESS_KEY, value: progress },
        ...tail,
      ]);
    } catch (error) {
      this.#organizationNumbers.putBack(numbered);
      throw localIoStop(this.paths.journal, error);
    }
    this.#progress = progress;
  }

  /**
   * Job-wide numbers: what every session committed, durations summed.
   *
   * @returns The totals.
   */
  totals(): JournalTotals {
    return { ...this.#progress.totals, durationMs: this.#durationMs() };
  }

  /**
   * Records the session's end (status, summed duration) and closes the
   * journal, the error file and the lock. Safe to call twice.
   *
   * @param status `completed` (input done), `interrupted` or `failed`.
   * @param options Why it failed.
   */
  async finish(status: JobStatus, options: FinishOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      const progress: JobProgress = {
        ...this.#progress,
        status,
        updatedAt: Date.now(),
        totals: { ...this.#progress.totals, durationMs: this.#durationMs() },
      };
      if (options.error) progress.lastError = options.error.slice(0, 1000);
      await this.#kv.set(PROGRESS_KEY, progress);
      this.#progress = progress;
    } finally {
      await this.#reserving;
      this.#kv.close();
      this.#lock.release();
    }
  }

  /** Same as `finish("interrupted")` unless finished, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.finish("interrupted");
  }

  #durationMs(): number {
    return this.#atStart.totals.durationMs + (Date.now() - this.#sessionStart);
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new Error(`Cannot commit to job "${this.job.id}": the journal is closed`);
    }
  }
}

/**
 * The options a job keeps: plain values only, never a key or a callback.
 *
 * @param options Import options.
 * @returns The plain subset.
 */
function plainOptions(options: Record<string, unknown>): JobOptions {
  const plain: JobOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === "apiKey" || value === undefined) continue;
    if (key === "apiUrl" && typeof value === "string") {
      plain[key] = withoutCredentials(value);
    } else if (
      typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ) {
      plain[key] = value;
    }
  }
  return plain;
}

/** The paths with the audit log the job has (a job an earlier build started: `audit.jsonl`). */
async function withAuditOf(paths: JobPaths): Promise<JobPaths> {
  return { ...paths, audit: await jobAuditPath(paths) };
}

function kvFiles(paths: JobPaths): string[] {
  return [paths.journal, `${paths.journal}-wal`, `${paths.journal}-shm`];
}

function parentOf(dir: string): string {
  return dir.slice(0, dir.lastIndexOf("/"));
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw localIoStop(path, error);
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function collect<T>(iterator: Deno.KvListIterator<T>): Promise<Deno.KvEntry<T>[]> {
  const entries: Deno.KvEntry<T>[] = [];
  for await (const entry of iterator) entries.push(entry);
  return entries;
}
