/**
 * Checkpointed jobs: a Deno KV journal that lets an import resume after any
 * stop and end exactly as one clean run would, and the jobs of a checkpoint
 * directory.
 *
 * @example Start a job, stop it, resume it
 * ```ts ignore
 * import { createJob, describeInput, resumeJob } from "./mod.ts";
 * import { importUsers } from "../pipeline/import_users.ts";
 *
 * const journal = await createJob("tenant-42", {
 *   input: await describeInput("users.csv"),
 *   options: { concurrency: 10 },
 * });
 * const first = await importUsers("users.csv", { apiKey, journal, stop: AbortSignal.timeout(5_000) });
 * await journal.finish(first.interrupted ? "interrupted" : "completed");
 *
 * const again = await resumeJob("tenant-42");
 * const result = await importUsers(again.job.input.path, { apiKey, journal: again });
 * await again.finish("completed");
 * console.log(result.usersCreated); // the whole job's
 * ```
 *
 * @module
 */

export {
  createJob,
  type CreateJobOptions,
  describeInput,
  type DescribeInputOptions,
  type FinishOptions,
  JobError,
  type JobInput,
  type JobOptions,
  type JobProgress,
  type JobRecord,
  type JobStatus,
  type JobTotals,
  Journal,
  resumeJob,
  type ResumeJobOptions,
} from "./journal.ts";
export {
  type JobInfo,
  type JobsOptions,
  latestResumableJob,
  listJobs,
  readJob,
  removeJob,
} from "./jobs.ts";
export { checkJobId, DEFAULT_CHECKPOINT_DIR, type JobPaths, jobPaths } from "./job_files.ts";
export { DamagedJobError } from "./_damage.ts";
export type {
  CheckpointState,
  CutOff,
  ImportJournal,
  JournalTotals,
  OwnershipClaim,
} from "./store.ts";
