// What a job's Deno KV journal holds, and how rows are packed into it.
//
// Keys (each job has its own KV file):
//   ["job"]                          JobRecord: settings, fixed at start
//   ["progress"]                     JobProgress: status, watermark, totals (last of every commit)
//   ["rows", seq, part]              the outcomes of commit `seq`, packed as UTF-8 JSON lines
//   ["done", seq, part]              record numbers above the watermark that commit `seq` made final
//   ["claims", bucket, seq, part]    which rows of commit `seq` established a person or created a
//                                    membership, for users whose id falls in `bucket`, packed as
//                                    UTF-8 JSON lines [userId, orgId, recordNumber, userCode,
//                                    membershipCreated]
//   ["org", organizationId]          seq: an organization counted as created by the job
//   ["orgcache", cacheKey]           organization id: the resolver's cache
//
// A commit writes its entries tagged with its `seq`, then ["progress"] with
// that `seq`; entries with a larger `seq` belong to a commit a crash cut off
// and are ignored (their rows are not final). A resume moves `seq` past the
// cut-off commit's, so that no later commit writes over its claims.
//
// Everything a commit writes per row is packed into a few values: one KV
// mutation costs about as much as the rest of a row's journal work, so a
// key per row would make checkpointing several percent of a limits-off run.

import type { InputFormat } from "../types.ts";
import {
  emptyTally,
  type ImportTally,
  type RowOutcome,
  type UserOutcome,
  type Watermark,
} from "../outcome/mod.ts";
import { utf8Length } from "./_atomic.ts";

/** Format version of the journal. */
export const JOURNAL_VERSION = 2;

export const JOB_KEY: Deno.KvKey = ["job"];
export const PROGRESS_KEY: Deno.KvKey = ["progress"];
export const ROWS = "rows";
export const DONE = "done";
export const CLAIM = "claims";
export const ORGANIZATION = "org";
export const ORGANIZATION_CACHE = "orgcache";
/** The highest row a session may start before it writes a higher value here. */
export const RESERVED_KEY: Deno.KvKey = ["reserved"];

/** Where a job is. */
/** `undone`: `undo` took the job back (its audit log says what it deleted). */
export type JobStatus = "running" | "interrupted" | "completed" | "failed" | "undone";

/** The input a job reads. */
export interface JobInput {
  /** Absolute path. */
  path: string;
  /** The input's format, when given or detected. */
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
  /** The journal format's version. */
  version: number;
  /** The job's id (a ULID). */
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** Ms since epoch: users, memberships and organizations created since may be the job's own. */
  startedAt: number;
  /** The input file the job reads. */
  input: JobInput;
  /** The options every session runs with (never the API key). */
  options: JobOptions;
}

/** Job-wide numbers. */
export interface JobTotals extends ImportTally {
  /** Organizations the job created. */
  organizationsCreated: number;
  /** Retried requests, any cause. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
  /** Organization lookups the cache answered. */
  cacheHits: number;
  /** Organization lookups that went to WorkOS. */
  cacheMisses: number;
  /** Sessions' durations summed, in ms. */
  durationMs: number;
}

/** The job's progress, rewritten by every commit. */
export interface JobProgress {
  /** Where the job is. */
  status: JobStatus;
  /** Ms since epoch. */
  updatedAt: number;
  /** The last complete commit. */
  seq: number;
  /** Every record up to here is final. */
  watermark?: Watermark;
  /** The highest record read by the time of the last commit: rows above the watermark up to here may have been in flight. */
  horizon: number;
  /** Job-wide numbers of the committed rows. */
  totals: JobTotals;
  /** Bytes of `errors.jsonl` that belong to committed rows. */
  errorsBytes: number;
  /**
   * Bytes of `audit.jsonl` at the last commit: entries past it belong to
   * rows a stop or crash cut off, and are not written again when those
   * rows run again.
   */
  auditBytes?: number;
  /** Sessions that ran the job. */
  sessions: number;
  /** Why the last session failed. */
  lastError?: string;
  /** When the last commit (or the session's start) was written, ms since epoch. */
  committedAt?: number;
  /** At the last commit: when the oldest row not yet committed started. */
  inFlightSince?: number;
  /**
   * Stretches of earlier sessions a crash cut off, while their rows may
   * still run (`CutOff` in `store.ts`).
   */
  cutOffs?: Array<{ fromMs: number; toMs: number; afterRecord: number; throughRecord: number }>;
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

// Deno KV values are at most 64 KiB; parts stay well below.
const PART_BYTES = 60_000;
// Record numbers a done value holds: V8 writes each in at most 9 bytes.
const DONE_PART = 4_000;
const MESSAGE_CHARS = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The claim a row makes: it established its person, or created a membership. */
export interface Claim {
  userId: string;
  /** `""` when the row has no membership. */
  organizationId: string;
  recordNumber: number;
  /** How the row counted the user: 0 repeat, 1 created, 2 existing, 3 updated. */
  userCode: number;
  /** 1 when the row created the membership. */
  membershipCreated: number;
}

/** The claim of an outcome, if it makes one. */
export function claimOf(outcome: RowOutcome): Claim | undefined {
  if (!outcome.userId) return undefined;
  const userCode = outcome.user ? USER_CODES[outcome.user] : 0;
  const membershipCreated = outcome.membership?.created ? 1 : 0;
  if (userCode === 0 && membershipCreated === 0) return undefined;
  return {
    userId: outcome.userId,
    organizationId: outcome.membership?.organizationId ?? "",
    recordNumber: outcome.recordNumber,
    userCode,
    membershipCreated,
  };
}

/** The user outcome a claim records. */
export function userOutcomeOf(code: number): UserOutcome {
  return USER_OUTCOMES[code] ?? "repeat";
}

// A WorkOS id ends in a ULID, whose first ten characters are its creation
// time in ms: the first eight name a 1.024 s window.
const ULID_SUFFIX = /_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * The bucket a user's claims are filed under: users created within the same
 * second share one, so a commit's claims take a few values instead of one
 * each. Any other id is its own bucket; a lookup reads one bucket.
 *
 * @param userId The user's id.
 * @returns The bucket.
 */
export function claimBucket(userId: string): string {
  return ULID_SUFFIX.test(userId) ? userId.slice(0, -18) : userId;
}

/**
 * Packs a commit's claims by bucket, each bucket into values of at most
 * 60,000 bytes.
 *
 * @param outcomes The commit's rows.
 * @param seq The commit's sequence number.
 * @returns The KV entries to set.
 */
export function packClaims(
  outcomes: readonly RowOutcome[],
  seq: number,
): Array<{ key: Deno.KvKey; value: Uint8Array }> {
  const lines = new Map<string, string[]>();
  for (const outcome of outcomes) {
    const claim = claimOf(outcome);
    if (!claim) continue;
    const bucket = claimBucket(claim.userId);
    let list = lines.get(bucket);
    if (!list) lines.set(bucket, list = []);
    list.push(
      JSON.stringify([
        claim.userId,
        claim.organizationId,
        claim.recordNumber,
        claim.userCode,
        claim.membershipCreated,
      ]),
    );
  }
  const entries: Array<{ key: Deno.KvKey; value: Uint8Array }> = [];
  for (const [bucket, list] of lines) {
    packLines(list).forEach((value, part) => {
      entries.push({ key: [CLAIM, bucket, seq, part], value });
    });
  }
  return entries;
}

/**
 * The claims committed for a user, in commit order.
 *
 * @param kv The journal.
 * @param userId The user.
 * @returns The claims.
 */
export async function readClaims(kv: Deno.Kv, userId: string): Promise<Claim[]> {
  const claims: Claim[] = [];
  // Most lines of a bucket are other users': parse only the ones that start
  // with this user's id. JSON escapes the quotes of any string, so this text
  // can only be the start of a line.
  const lineStart = `[${JSON.stringify(userId)},`;
  for await (const entry of kv.list<Uint8Array>({ prefix: [CLAIM, claimBucket(userId)] })) {
    const text = decoder.decode(entry.value);
    for (let at = text.indexOf(lineStart); at !== -1; at = text.indexOf(lineStart, at + 1)) {
      const end = text.indexOf("\n", at);
      const [, organizationId, recordNumber, userCode, membershipCreated] = JSON.parse(
        text.slice(at, end === -1 ? undefined : end),
      ) as [string, string, number, number, number];
      claims.push({ userId, organizationId, recordNumber, userCode, membershipCreated });
    }
  }
  return claims;
}

/**
 * Packs the record numbers a commit made final above the watermark into
 * values of at most 4,000 numbers.
 *
 * @param recordNumbers The rows.
 * @param seq The commit's sequence number.
 * @returns The KV entries to set, with the highest row of each.
 */
export function packDone(
  recordNumbers: readonly number[],
  seq: number,
): Array<{ key: Deno.KvKey; value: number[]; highest: number }> {
  const entries: Array<{ key: Deno.KvKey; value: number[]; highest: number }> = [];
  for (let start = 0, part = 0; start < recordNumbers.length; start += DONE_PART, part++) {
    const value = recordNumbers.slice(start, start + DONE_PART);
    entries.push({ key: [DONE, seq, part], value, highest: Math.max(...value) });
  }
  return entries;
}

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
  return packLines(outcomes.map((outcome) => JSON.stringify(packedRowOf(outcome))));
}

/** Joins lines into values of at most 60,000 bytes, UTF-8, each line ending in a newline. */
function packLines(lines: readonly string[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let text = "";
  let bytes = 0;
  for (const line of lines) {
    const size = utf8Length(line) + 1;
    if (bytes + size > PART_BYTES && text !== "") {
      parts.push(encoder.encode(text));
      text = "";
      bytes = 0;
    }
    text += line + "\n";
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
