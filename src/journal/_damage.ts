/**
 * Damaged job files, told apart before anything is opened for writing: a
 * journal that is not a Deno KV database, a journal gone while its
 * write-ahead log still holds data, a directory or unreadable file where a
 * job file belongs, a checkpoint directory that is a file. Each gets one
 * line naming the file, what is wrong and what is safe to do next; none of
 * that advice deletes anything.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { JobPaths } from "./job_files.ts";

/**
 * A job's files are damaged: the message names the file, what is wrong and
 * what is safe to do next. The CLI shows it as one line and exits 2.
 */
export class DamagedJobError extends UserError {
  override name = "DamagedJobError";
  /** The job. */
  readonly jobId: string;
  /** The damaged file. */
  readonly file: string;
  /** What is wrong with it, without the advice (for `jobs`). */
  readonly problem: string;

  /**
   * @param jobId The job.
   * @param file The damaged file.
   * @param problem What is wrong with it.
   * @param advice What is safe to do next.
   *
   * @example Usage
   * ```ts
   * import { DamagedJobError } from "./_damage.ts";
   * const error = new DamagedJobError("j1", "j1/journal.kv", "it is a directory", "move it aside");
   * console.log(error.message);
   * // Job "j1" is damaged: "j1/journal.kv" it is a directory: move it aside
   * ```
   */
  constructor(jobId: string, file: string, problem: string, advice: string) {
    super(`Job "${jobId}" is damaged: "${file}" ${problem}: ${advice}`);
    this.jobId = jobId;
    this.file = file;
    this.problem = `"${file}" ${problem}`;
  }
}

const KEEP =
  "keep the job's directory as it is (do not clean it or start the job again) and restore the file from a backup";

async function statOf(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Checks that each job file that exists is a regular file this process can
 * read, and that a missing journal has left no write-ahead log behind.
 *
 * @param jobId The job.
 * @param paths Its files.
 * @returns `true` when the journal exists, `false` when the job has none.
 * @throws {DamagedJobError} When a file is damaged.
 *
 * @example Usage
 * ```ts ignore
 * if (!(await checkJobFiles("j1", jobPaths(".workos-checkpoints", "j1")))) console.log("no job");
 * ```
 */
export async function checkJobFiles(jobId: string, paths: JobPaths): Promise<boolean> {
  const journal = await statOf(paths.journal);
  if (!journal) {
    for (const suffix of ["-wal", "-shm"]) {
      if (await statOf(paths.journal + suffix)) {
        throw new DamagedJobError(
          jobId,
          paths.journal,
          `is missing, but its write-ahead log "journal.kv${suffix}" is still there and may hold the job's data`,
          `${KEEP}; a copy of the whole directory is the safe first step`,
        );
      }
    }
    return false;
  }
  for (const path of [paths.journal, paths.errors, paths.audit]) {
    const info = path === paths.journal ? journal : await statOf(path);
    if (!info) continue;
    if (!info.isFile) {
      throw new DamagedJobError(
        jobId,
        path,
        "is not a file (a directory or something else is in its place)",
        `move it aside and put the job's file back from a backup; nothing else in the directory was changed`,
      );
    }
    try {
      (await Deno.open(path, { read: true })).close();
    } catch (error) {
      if (
        !(error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable)
      ) {
        throw error;
      }
      throw new DamagedJobError(
        jobId,
        path,
        "cannot be read (permission denied)",
        "check its owner and mode with ls -l and make it readable by this user, then run the command again",
      );
    }
  }
  return true;
}

/**
 * Opens a job's journal, turning SQLite's complaints about a file that is
 * not a database into a {@linkcode DamagedJobError}.
 *
 * @param jobId The job.
 * @param paths Its files.
 * @param read What to do with the open journal.
 * @returns What `read` returned.
 * @throws {DamagedJobError} When the journal cannot be read as Deno KV.
 *
 * @example Usage
 * ```ts ignore
 * const header = await withJournal("j1", paths, readHeader);
 * ```
 */
export async function withJournal<T>(
  jobId: string,
  paths: JobPaths,
  read: (kv: Deno.Kv) => Promise<T>,
): Promise<T> {
  let kv: Deno.Kv;
  try {
    kv = await Deno.openKv(paths.journal);
  } catch (error) {
    throw journalDamage(jobId, paths, error);
  }
  try {
    return await read(kv);
  } catch (error) {
    throw journalDamage(jobId, paths, error);
  } finally {
    kv.close();
  }
}

/**
 * The damage an error reading a journal reveals, or the error itself when it
 * says nothing about the file (a bug, a full disk).
 *
 * @param jobId The job.
 * @param paths Its files.
 * @param error What opening or reading the journal threw.
 * @returns The error to throw.
 *
 * @example Usage
 * ```ts ignore
 * try { kv = await Deno.openKv(paths.journal); } catch (error) { throw journalDamage(id, paths, error); }
 * ```
 */
export function journalDamage(jobId: string, paths: JobPaths, error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (
    /not a database|malformed|corrupt|unable to open database|file is encrypted/i.test(message) ||
    error instanceof Deno.errors.InvalidData
  ) {
    const detail = message.replace(/:\s*\/.*$/, "").trim();
    return new DamagedJobError(
      jobId,
      paths.journal,
      `cannot be read as a Deno KV journal (${detail})`,
      `${KEEP}; its audit log "${paths.audit}" is separate and still lets "workos-importer undo ${jobId}" take the job back`,
    );
  }
  return error;
}

/**
 * Refuses a checkpoint directory that is not a directory, with the flag
 * that names it.
 *
 * @param checkpointDir The directory.
 * @returns The problem, or `undefined` when it is a directory or absent.
 *
 * @example Usage
 * ```ts ignore
 * const problem = await checkpointDirProblem(".workos-checkpoints");
 * ```
 */
export async function checkpointDirProblem(checkpointDir: string): Promise<string | undefined> {
  const info = await statOf(checkpointDir);
  if (!info || info.isDirectory) return undefined;
  return `Cannot use checkpoint directory "${checkpointDir}": it is a file, not a directory: pass --checkpoint-dir <directory> (the file was left as it is)`;
}
