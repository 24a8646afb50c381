/**
 * Where a checkpointed job lives on disk and who may touch it: one directory
 * per job (`<checkpoint-dir>/<job-id>/`, owner-only) holding `journal.kv`
 * (Deno KV), `errors.jsonl`, `audit.jsonl.gz` and `job.lock`. The lock is an OS
 * file lock, so a job killed with SIGKILL frees it at once and a second
 * process can never run the same job.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** The checkpoint directory when `--checkpoint-dir` is not given. */
export const DEFAULT_CHECKPOINT_DIR = ".workos-checkpoints";

/** The files of one job. */
export interface JobPaths {
  /** The job's directory. */
  dir: string;
  /** The Deno KV journal. */
  journal: string;
  /** The job's failed rows, one JSON object a line. */
  errors: string;
  /**
   * Every write the job made, gzip-compressed (see `src/report/audit_log.ts`);
   * a job an earlier build started keeps its plain `audit.jsonl` instead
   * (see `jobAuditPath`).
   */
  audit: string;
  /** Held while a process runs the job. */
  lock: string;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Checks a job id: it names a directory, so only letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit, at most 64 characters.
 *
 * @param jobId The id to check.
 * @returns The id.
 * @throws {UsageError} When the id cannot be used.
 *
 * @example Usage
 * ```ts
 * import { checkJobId } from "./job_files.ts";
 * console.log(checkJobId("tenant-42_2025.01")); // tenant-42_2025.01
 * ```
 */
export function checkJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) {
    throw new UsageError(
      `Cannot use job id "${jobId}": use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`,
    );
  }
  return jobId;
}

/**
 * The files of a job.
 *
 * @param checkpointDir The checkpoint directory.
 * @param jobId The job's id (checked).
 * @returns The paths.
 *
 * @example Usage
 * ```ts
 * import { jobPaths } from "./job_files.ts";
 * console.log(jobPaths(".workos-checkpoints", "j1").journal); // .workos-checkpoints/j1/journal.kv
 * ```
 */
export function jobPaths(checkpointDir: string, jobId: string): JobPaths {
  const dir = `${checkpointDir.replace(/[\\/]+$/, "") || "."}/${checkJobId(jobId)}`;
  return {
    dir,
    journal: `${dir}/journal.kv`,
    errors: `${dir}/errors.jsonl`,
    audit: `${dir}/audit.jsonl.gz`,
    lock: `${dir}/job.lock`,
  };
}

/**
 * The audit log of a job's directory: `audit.jsonl.gz`, or the plain
 * `audit.jsonl` of a job an earlier build started (it goes on in that form,
 * so one file holds the whole job). Either may be missing still.
 *
 * @param paths The job's directory and its `audit.jsonl.gz`.
 * @returns The path of its audit log.
 *
 * @example Usage
 * ```ts
 * import { jobAuditPath, jobPaths } from "./job_files.ts";
 * const dir = await Deno.makeTempDir();
 * console.log(await jobAuditPath(jobPaths(dir, "j1")) === `${dir}/j1/audit.jsonl.gz`); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function jobAuditPath(paths: Pick<JobPaths, "dir" | "audit">): Promise<string> {
  const plain = `${paths.dir}/audit.jsonl`;
  for (const path of [paths.audit, plain]) {
    try {
      await Deno.lstat(path);
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return paths.audit;
}

const OWNER_ONLY = Deno.build.os !== "windows";

/**
 * Creates the job's directory (and the checkpoint directory) owner-only.
 *
 * @param paths The job's files.
 *
 * @example Usage
 * ```ts ignore
 * await createJobDir(jobPaths(".workos-checkpoints", "j1"));
 * ```
 */
export async function createJobDir(paths: JobPaths): Promise<void> {
  const parent = paths.dir.slice(0, paths.dir.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true, mode: 0o700 });
  await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (OWNER_ONLY) await Deno.chmod(paths.dir, 0o700);
}

/**
 * Narrows files that exist to owner-only (a KV file is created with the
 * umask's mode, and SQLite adds `-wal` and `-shm` files beside it).
 *
 * @param paths The files; missing ones are skipped.
 *
 * @example Usage
 * ```ts ignore
 * await restrictFiles(["journal.kv", "journal.kv-wal", "journal.kv-shm"]);
 * ```
 */
export async function restrictFiles(paths: readonly string[]): Promise<void> {
  if (!OWNER_ONLY) return;
  for (const path of paths) {
    try {
      await Deno.chmod(path, 0o600);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * The exclusive lock of a running job.
 *
 * @example Usage
 * ```ts ignore
 * const lock = await JobLock.acquire(paths);
 * if (!lock) throw new Error("another process runs the job");
 * lock.release();
 * ```
 */
export class JobLock {
  #file: Deno.FsFile | undefined;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Takes the job's lock without waiting.
   *
   * @param paths The job's files.
   * @returns The lock, or `undefined` when another process holds it.
   */
  static async acquire(paths: JobPaths): Promise<JobLock | undefined> {
    const file = await Deno.open(paths.lock, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      if (await file.tryLock(true)) return new JobLock(file);
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
    return undefined;
  }

  /** Frees the lock. Safe to call twice. */
  release(): void {
    const file = this.#file;
    this.#file = undefined;
    if (!file) return;
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  }
}

/**
 * Whether a process runs the job now (holds its lock).
 *
 * @param paths The job's files.
 * @returns `true` while a process holds the lock.
 *
 * @example Usage
 * ```ts ignore
 * if (await isJobActive(paths)) console.log("running");
 * ```
 */
export async function isJobActive(paths: JobPaths): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(paths.lock, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  try {
    if (!(await file.tryLock(true))) return true;
    await file.unlock();
    return false;
  } finally {
    file.close();
  }
}
