/**
 * The jobs in a checkpoint directory, as `jobs`, `status` and `clean` show
 * and remove them. Reading a job never changes it and works while another
 * process runs it.
 *
 * @module
 */

import type { Watermark } from "../outcome/mod.ts";
import {
  type JobInput,
  type JobOptions,
  type JobStatus,
  type JobTotals,
  readHeader,
  totalsOf,
} from "./_records.ts";
import { checkJobFiles, checkpointDirProblem, DamagedJobError, withJournal } from "./_damage.ts";
import { DEFAULT_CHECKPOINT_DIR, isJobActive, type JobPaths, jobPaths } from "./job_files.ts";
import { JobError } from "./journal.ts";

/** Where to look for jobs. */
export interface JobsOptions {
  /** The checkpoint directory (`.workos-checkpoints`). */
  checkpointDir?: string;
}

/** What a job's journal says about it. */
export interface JobInfo {
  /** The job's id (a ULID). */
  id: string;
  /**
   * `running` only while a process runs it: a job whose process died
   * without saying so (SIGKILL, reboot) shows as `interrupted`. `damaged`
   * (only from {@linkcode listJobs}) when its files cannot be read: see
   * `damage`; its other fields are then empty.
   */
  status: JobStatus | "damaged";
  /** What is wrong with a damaged job's files, and what is safe to do. */
  damage?: string;
  /** Whether a process runs the job now. */
  active: boolean;
  /** The input file the job reads. */
  input: JobInput;
  /** The options every session runs with (never the API key). */
  options: JobOptions;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601 time of the last commit. */
  updatedAt: string;
  /** Rows finished, every session. */
  rowsDone: number;
  /** Rows in the input, when counted. */
  totalRows?: number;
  /** Failed rows (each once in `errors.jsonl`). */
  errors: number;
  /** Where a resume starts: every row up to here is final. */
  resumeFrom?: Watermark;
  /** Sessions that ran the job (the first run and each resume). */
  sessions: number;
  /** Job-wide numbers. */
  totals: JobTotals;
  /** Why the last session failed. */
  lastError?: string;
  /** The job's files. */
  paths: JobPaths;
}

/**
 * Reads one job.
 *
 * @param jobId The job's id.
 * @param options The checkpoint directory.
 * @returns The job, or `undefined` when there is none (or it never got past its start).
 *
 * @example Read a job after its import
 * ```ts
 * import { createJob, describeInput, importUsers, readJob } from "@workos-importer/cli";
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
 * await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url, journal });
 * await journal.finish("completed");
 * const job = await readJob("tenant-42", { checkpointDir });
 * assert.equal(job?.status, "completed");
 * assert.equal(job?.rowsDone, 1);
 * assert.equal(await readJob("no-such-job", { checkpointDir }), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readJob(
  jobId: string,
  options: JobsOptions = {},
): Promise<JobInfo | undefined> {
  const paths = jobPaths(options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR, jobId);
  if (!(await checkJobFiles(jobId, paths))) return undefined;
  const [header, active] = await Promise.all([
    withJournal(jobId, paths, readHeader),
    isJobActive(paths),
  ]);
  if (!header) return undefined;
  const { job, progress } = header;
  const info: JobInfo = {
    id: job.id,
    status: progress.status === "running" && !active ? "interrupted" : progress.status,
    active,
    input: job.input,
    options: job.options,
    startedAt: job.createdAt,
    updatedAt: new Date(progress.updatedAt).toISOString(),
    rowsDone: progress.totals.totalRows,
    errors: progress.totals.failures,
    sessions: progress.sessions,
    totals: progress.totals,
    paths,
  };
  if (job.input.totalRows !== undefined) info.totalRows = job.input.totalRows;
  if (progress.watermark) info.resumeFrom = progress.watermark;
  if (progress.lastError) info.lastError = progress.lastError;
  return info;
}

/**
 * Lists the jobs of a checkpoint directory, most recently updated first.
 *
 * @param options The checkpoint directory.
 * @returns The jobs; none when the directory does not exist.
 *
 * @example List jobs
 * ```ts
 * import { createJob, describeInput, listJobs } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const checkpointDir = `${dir}/checkpoints`;
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 * const input = await describeInput(path);
 * await (await createJob("nightly", { checkpointDir, input, options: {} })).finish("interrupted");
 * const jobs = await listJobs({ checkpointDir });
 * assert.deepEqual(jobs.map((job) => [job.id, job.status]), [["nightly", "interrupted"]]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listJobs(options: JobsOptions = {}): Promise<JobInfo[]> {
  const dir = options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR;
  const dirProblem = await checkpointDirProblem(dir);
  if (dirProblem) throw new JobError(dirProblem);
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(entry.name)) {
        ids.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const jobs: JobInfo[] = [];
  for (const id of ids) {
    try {
      const job = await readJob(id, options);
      if (job) jobs.push(job);
    } catch (error) {
      // One damaged job must not hide the others.
      if (!(error instanceof DamagedJobError)) throw error;
      jobs.push(damagedJob(id, jobPaths(dir, id), error));
    }
  }
  return jobs.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));
}

function damagedJob(id: string, paths: JobPaths, error: DamagedJobError): JobInfo {
  return {
    id,
    status: "damaged",
    damage: error.message,
    active: false,
    input: { path: "", sha256: "", bytes: 0 },
    options: {},
    startedAt: "",
    updatedAt: "",
    rowsDone: 0,
    errors: 0,
    sessions: 0,
    totals: totalsOf(),
    paths,
  };
}

/**
 * The job a bare `--resume` continues: the most recently updated one that
 * is not complete and not running.
 *
 * @param options The checkpoint directory.
 * @returns Its id.
 * @throws {JobError} When there is none.
 *
 * @example Usage
 * ```ts ignore
 * const journal = await resumeJob(await latestResumableJob());
 * ```
 */
export async function latestResumableJob(options: JobsOptions = {}): Promise<string> {
  const dir = options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR;
  const jobs = await listJobs(options);
  const job = jobs.find((job) =>
    job.status !== "completed" && job.status !== "damaged" && job.status !== "undone" &&
    !job.active
  );
  if (job) return job.id;
  throw new JobError(
    jobs.length === 0
      ? `Cannot resume: there are no jobs in "${dir}": start one with --job-id <id>`
      : `Cannot resume: every job in "${dir}" is complete or running: run "workos-importer jobs" to see them`,
  );
}

/**
 * Deletes a job's directory: journal, error file and audit log.
 *
 * @param jobId The job's id.
 * @param options The checkpoint directory.
 * @returns The directory that was removed.
 * @throws {JobError} When there is no such job, or a process runs it.
 *
 * @example Remove a job
 * ```ts
 * import { createJob, describeInput, listJobs, removeJob } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const checkpointDir = `${dir}/checkpoints`;
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 * const input = await describeInput(path);
 * await (await createJob("nightly", { checkpointDir, input, options: {} })).finish("completed");
 * await removeJob("nightly", { checkpointDir });
 * assert.deepEqual(await listJobs({ checkpointDir }), []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function removeJob(jobId: string, options: JobsOptions = {}): Promise<string> {
  const dir = options.checkpointDir ?? DEFAULT_CHECKPOINT_DIR;
  const paths = jobPaths(dir, jobId);
  try {
    if (!(await Deno.stat(paths.dir)).isDirectory) throw new Deno.errors.NotFound();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new JobError(
      `Cannot clean job "${jobId}": there is no such job in "${dir}": run "workos-importer jobs" to list them`,
    );
  }
  if (await isJobActive(paths)) {
    throw new JobError(
      `Cannot clean job "${jobId}": a process is running it: stop it first (Ctrl+C), then clean`,
    );
  }
  await Deno.remove(paths.dir, { recursive: true });
  return paths.dir;
}
