// What a job's Deno KV journal holds, and how rows are packed into it.
//
// Keys (each job has its own KV file):
//   ["job"]                          JobRecord: settings, fixed at start
//   ["progress"]                     JobProgress: status, watermark, totals (last of every commit)
//   ["rows", seq, part]              the outcomes of commit `seq`, packed as UTF-8 JSON lines
//   ["done", recordNumber]           seq: a row above the watermark that is final
//   ["u", userId, orgId, recordNumber]  [seq, userCode, membershipCreated]: which row
//                                    established a person / created a membership
//   ["org", organizationId]          seq: an organization counted as created by the job
//   ["orgcache", cacheKey]           organization id: the resolver's cache
//
// A commit writes its entries tagged with its `seq`, then ["progress"] with
// that `seq`; entries with a larger `seq` belong to a commit a crash cut off
// and are ignored (their rows are not final).

import type { InputFormat } from "../types.ts";
import type { ImportTally, Watermark } from "../pipeline/run_import.ts";
import { emptyTally } from "../pipeline/run_import.ts";
import { utf8Length } from "./_atomic.ts";
import type { RowOutcome, UserOutcome } from "../pipeline/row_processor.ts";

/** Format version of the journal. */
export const JOURNAL_VERSION = 1;

export const JOB_KEY: Deno.KvKey = ["job"];
export const PROGRESS_KEY: Deno.KvKey = ["progress"];
export const ROWS = "rows";
export const DONE = "done";
export const CLAIM = "u";
export const ORGANIZATION = "org";
export const ORGANIZATION_CACHE = "orgcache";

/** Where a job is. */
export type JobStatus = "running" | "interrupted" | "completed" | "failed";

/** The input a job reads. */
export interface JobInput {
  /** Absolute path. */
  path: string;
  format?: InputFormat;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** Records in the file, when counted. */
  totalRows?: number;
}

/**
 * The import options a job keeps so that every session runs with the same
 * ones: only plain values (strings, numbers, booleans), never the API key.
 */
export type JobOptions = Record<string, string | number | boolean>;

/** The job's settings, written once at start (the input may be re-pointed on resume). */
export interface JobRecord {
  version: number;
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** Ms since epoch: users, memberships and organizations created since may be the job's own. */
  startedAt: number;
  input: JobInput;
  options: JobOptions;
}

/** Job-wide numbers. */
export interface JobTotals extends ImportTally {
  organizationsCreated: number;
  retries: number;
  rateLimited: number;
  cacheHits: number;
  cacheMisses: number;
  /** Sessions' durations summed, in ms. */
  durationMs: number;
}

/** The job's progress, rewritten by every commit. */
export interface JobProgress {
  status: JobStatus;
  /** Ms since epoch. */
  updatedAt: number;
  /** The last complete commit. */
  seq: number;
  /** Every record up to here is final. */
  watermark?: Watermark;
  /** The highest record read by the time of the last commit: rows above the watermark up to here may have been in flight. */
  horizon: number;
  totals: JobTotals;
  /** Bytes of `errors.jsonl` that belong to committed rows. */
  errorsBytes: number;
  sessions: number;
  /** Why the last session failed. */
  lastError?: string;
}

/**
 * Totals with every count at zero, or filled from stored ones (a journal
 * written before a count existed lacks it).
 */
export function totalsOf(stored?: Partial<JobTotals>): JobTotals {
  return {
    ...emptyTally(),
    organizationsCreated: 0,
    retries: 0,
    rateLimited: 0,
    cacheHits: 0,
    cacheMisses: 0,
    durationMs: 0,
    ...stored,
  };
}

const USER_CODES: Record<UserOutcome, number> = { repeat: 0, created: 1, existing: 2, updated: 3 };
const USER_OUTCOMES: UserOutcome[] = ["repeat", "created", "existing", "updated"];

/** The claim a row makes: it established its person, or created a membership. */
export interface Claim {
  key: Deno.KvKey;
  value: [seq: number, userCode: number, membershipCreated: number];
}

/** The claim of an outcome, if it makes one. */
export function claimOf(outcome: RowOutcome, seq: number): Claim | undefined {
  if (!outcome.userId) return undefined;
  const userCode = outcome.user ? USER_CODES[outcome.user] : 0;
  const membershipCreated = outcome.membership?.created ? 1 : 0;
  if (userCode === 0 && membershipCreated === 0) return undefined;
  return {
    key: [CLAIM, outcome.userId, outcome.membership?.organizationId ?? "", outcome.recordNumber],
    value: [seq, userCode, membershipCreated],
  };
}

/** The user outcome a claim records. */
export function userOutcomeOf(code: number): UserOutcome {
  return USER_OUTCOMES[code] ?? "repeat";
}

// Deno KV values are at most 64 KiB; parts stay well below.
const PART_BYTES = 60_000;
const MESSAGE_CHARS = 300;
const encoder = new TextEncoder();

/** One row as the journal keeps it (short names: a million of them are stored). */
interface PackedRow {
  n: number;
  u?: string;
  o?: UserOutcome;
  m?: string;
  g?: string;
  c?: 1;
  d?: string;
  e?: { t: string; m: string; s?: number; k?: string; r?: string };
}

function packedRowOf(outcome: RowOutcome): PackedRow {
  const row: PackedRow = { n: outcome.recordNumber };
  if (outcome.userId) row.u = outcome.userId;
  if (outcome.user) row.o = outcome.user;
  if (outcome.membership) {
    row.m = outcome.membership.id;
    row.g = outcome.membership.organizationId;
    if (outcome.membership.created) row.c = 1;
  }
  if (outcome.deletedUserId) row.d = outcome.deletedUserId;
  const error = outcome.error;
  if (error) {
    // The full record (with the row's safe fields) is in errors.jsonl.
    row.e = { t: error.errorType, m: error.errorMessage.slice(0, MESSAGE_CHARS) };
    if (error.httpStatus !== undefined) row.e.s = error.httpStatus;
    if (error.workosCode !== undefined) row.e.k = error.workosCode;
    if (error.workosRequestId !== undefined) row.e.r = error.workosRequestId;
  }
  return row;
}

/** Packs outcomes into values of at most 60,000 bytes: JSON lines, UTF-8. */
export function packRows(outcomes: readonly RowOutcome[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let text = "";
  let bytes = 0;
  for (const outcome of outcomes) {
    const line = JSON.stringify(packedRowOf(outcome)) + "\n";
    const size = utf8Length(line);
    if (bytes + size > PART_BYTES && text !== "") {
      parts.push(encoder.encode(text));
      text = "";
      bytes = 0;
    }
    text += line;
    bytes += size;
  }
  if (text !== "") parts.push(encoder.encode(text));
  return parts;
}

/** Reads the job's settings and progress; `undefined` when the job record is missing. */
export async function readHeader(
  kv: Deno.Kv,
): Promise<{ job: JobRecord; progress: JobProgress } | undefined> {
  const [job, progress] = await kv.getMany<[JobRecord, JobProgress]>([JOB_KEY, PROGRESS_KEY]);
  if (job.value === null || progress.value === null) return undefined;
  return {
    job: job.value,
    progress: { ...progress.value, totals: totalsOf(progress.value.totals) },
  };
}
