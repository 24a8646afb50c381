/**
 * What the journal is to an import: a checkpoint store (commit a batch of
 * outcomes with its watermark; answer "is this record final") and an
 * ownership ledger (which row claimed a user, a membership, an
 * organization). It keeps what it is given: the pipeline decides what the
 * claims mean and counts the totals it commits.
 *
 * @module
 */

import type { ResumePoint } from "../input/input_options.ts";
import type { RowOutcome, UserOutcome, Watermark } from "../outcome/mod.ts";
import type { CachedOrganization } from "../organizations/organization_resolver.ts";
import type { JobTotals } from "./_records.ts";

/**
 * A stretch of an earlier session of a job that a crash (or an abandoned
 * stop) cut off: creates may have landed in it that no commit recorded.
 * What WorkOS made between `fromMs` and `toMs` (local clock, widened by the
 * measured skew) and that a row after `afterRecord` up to `throughRecord`
 * finds counts as that row's, marked uncertain.
 *
 * @example Usage
 * ```ts
 * import type { CutOff } from "@workos-importer/cli";
 * const cut: CutOff = { fromMs: 1_000, toMs: 5_000, afterRecord: 40, throughRecord: 10_040 };
 * console.log(cut.throughRecord - cut.afterRecord); // 10000
 * ```
 */
export interface CutOff {
  /** When the oldest row not yet committed started (ms since epoch). */
  fromMs: number;
  /** When the job was resumed (ms since epoch). */
  toMs: number;
  /** The watermark then: rows up to it were final. */
  afterRecord: number;
  /** The highest row the cut-off session can have started. */
  throughRecord: number;
}

/**
 * What a committed row claimed of a user: that it established the person,
 * or created a membership of theirs.
 *
 * @example Usage
 * ```ts
 * import type { OwnershipClaim } from "@workos-importer/cli";
 * const claim: OwnershipClaim = {
 *   recordNumber: 4,
 *   user: "created",
 *   organizationId: "org_1",
 *   membershipCreated: true,
 * };
 * console.log(claim.user); // created
 * ```
 */
export interface OwnershipClaim {
  /** The row that claimed it. */
  recordNumber: number;
  /** How the row counted the user; absent when it only created a membership (a repeat row). */
  user?: Exclude<UserOutcome, "repeat">;
  /** The organization of the row's membership; absent when the row had none. */
  organizationId?: string;
  /** Whether the row created that membership. */
  membershipCreated: boolean;
}

/**
 * Job-wide numbers a journal keeps: the tally of the committed rows and
 * the session counters, all sessions summed (the same as `JobTotals`).
 *
 * @example Usage
 * ```ts
 * import type { JournalTotals } from "@workos-importer/cli";
 * function usersDone(totals: JournalTotals): number {
 *   return totals.usersCreated + totals.usersExisting + totals.usersUpdated;
 * }
 * console.log(typeof usersDone); // function
 * ```
 */
export type JournalTotals = JobTotals;

/**
 * What {@linkcode ImportJournal.commit} stores besides the outcomes.
 *
 * @example Usage
 * ```ts
 * import type { CheckpointState } from "@workos-importer/cli";
 * const state: CheckpointState = {
 *   totals: {
 *     totalRows: 1, successes: 1, failures: 0, usersCreated: 1, usersExisting: 0,
 *     usersUpdated: 0, membershipsCreated: 0, membershipsExisting: 0, invitationsSent: 0,
 *     warnings: 0, organizationsCreated: 0, retries: 0, rateLimited: 0, cacheHits: 0,
 *     cacheMisses: 0,
 *   },
 *   organizationCache: [],
 * };
 * console.log(state.totals.totalRows); // 1
 * ```
 */
export interface CheckpointState {
  /** The job-wide numbers with this batch counted (the journal adds the duration). */
  totals: Omit<JournalTotals, "durationMs">;
  /** The organizations resolved so far, by key, for a resume to start from. */
  organizationCache: Array<[string, CachedOrganization]>;
  /** Bytes of the job's error file that belong to committed rows, this batch's included. */
  errorsBytes?: number;
  /**
   * When the oldest row started that is not in this or an earlier commit
   * (ms since epoch): a crash after this commit cannot leave anything made
   * before it unrecorded.
   */
  inFlightSince?: number;
  /**
   * Requests were abandoned (a second Ctrl+C): from now on the oldest
   * moment one of them could have started stays recorded, as writes may
   * land after they were given up.
   */
  abandoned?: boolean;
}

/**
 * A checkpoint journal the import reports to (`createJob`, `resumeJob`).
 * The import works without one; with one, it resumes where the journal says
 * and commits every batch to it.
 *
 * @example An import with a journal
 * ```ts
 * import { createJob, describeInput, type ImportJournal, importUsers } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 * const job = await createJob("tenant-7", {
 *   checkpointDir: `${dir}/checkpoints`,
 *   input: await describeInput(path),
 *   options: {},
 * });
 * const journal: ImportJournal = job;
 * await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url, journal });
 * await job.finish("completed");
 * assert.equal(job.progress.watermark?.recordNumber, 1);
 * assert.equal(journal.totals().usersCreated, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface ImportJournal {
  /** When the job first started (ms since epoch). */
  readonly startedAt: number;
  /** Stretches of earlier sessions a crash cut off, whose rows may run again. */
  readonly cutOffs: readonly CutOff[];
  /** Where to seek in the input; absent for a new job. */
  readonly resumeFrom?: ResumePoint;
  /** Job-wide numbers earlier sessions committed. */
  readonly totalsAtStart: JournalTotals;
  /** Organization cache entries saved by earlier sessions. */
  readonly organizationCache: Array<[string, CachedOrganization]>;
  /** The job's error file, and how many of its bytes belong to committed rows. */
  readonly errorFile: { path: string; committedBytes: number };
  /**
   * Bytes of the audit log that belong to committed rows: entries past them
   * were written for rows that run again, and are not written twice.
   */
  readonly auditCommittedBytes?: number;
  /** Rows above the watermark that are already final. */
  isFinal(recordNumber: number): boolean;
  /** Rows that may have been cut off mid-flight by a crash. */
  isUncertain(recordNumber: number): boolean;
  /** The claims committed rows made of a user, in commit order. */
  claimsOf(userId: string): Promise<OwnershipClaim[]>;
  /**
   * Records that the job counts an organization as its own, committed with
   * the next batch.
   *
   * @returns `false` when the ledger had it already.
   */
  addOrganizationClaim(organizationId: string): boolean;
  /** Commits a batch of final outcomes, the new watermark, and the numbers. */
  commit(
    outcomes: readonly RowOutcome[],
    watermark: Watermark | undefined,
    state: CheckpointState,
  ): Promise<void>;
  /** Job-wide numbers of the committed rows, all sessions summed. */
  totals(): JournalTotals;
}
