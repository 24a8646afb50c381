// What a job's Deno KV journal holds (format version 4).
//
// Keys (each job has its own KV file):
//   ["job"]                          JobRecord: settings, fixed at start
//   ["progress"]                     JobProgress: status, watermark, totals (last of every commit)
//   ["done", seq, part]              record numbers above the watermark that commit `seq` made final
//   ["claims", bucket, seq, part]    which rows of commit `seq` established a person or created a
//                                    membership, for users whose id falls in `bucket` (see
//                                    `packClaims` for the packing)
//   ["org", organizationId]          seq: an organization counted as created by the job
//   ["orgcache", cacheKey]           organization id: the resolver's cache
//   ["orgno", n]                     organization id: the organization claims call `n`
//   ["reserved"]                     the highest row a session may start
//
// The journal keeps only what a resume needs and cannot derive: the
// watermark, the rows final above it, the claims, the organizations. A row's
// outcome is not kept: its failure is in errors.jsonl, its writes are in
// the audit log (what undo reads), its numbers are in the totals. Version 2
// also wrote every row under ["rows", seq, part] and its claims as JSON
// lines; this build reads its claims, and removes rows of a cut-off commit.
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

/** Format version of the journal this build writes. */
export const JOURNAL_VERSION = 4;

/**
 * Versions this build resumes: a version 2 job (rows kept, claims as JSON
 * lines) or 3 (claims naming organizations in a table per value) continues
 * in version 4, its old claims still read.
 */
export const READABLE_VERSIONS: readonly number[] = [2, 3, 4];

export const JOB_KEY: Deno.KvKey = ["job"];
export const PROGRESS_KEY: Deno.KvKey = ["progress"];
/** Version 2 only: every row's outcome (nothing reads them). */
export const ROWS = "rows";
export const DONE = "done";
export const CLAIM = "claims";
export const ORGANIZATION = "org";
export const ORGANIZATION_CACHE = "orgcache";
/** Version 4: the job-wide number of an organization its claims name. */
export const ORGANIZATION_NUMBER = "orgno";
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
   * Bytes of the audit log (`audit.jsonl.gz`) at the last commit: entries past it belong to
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

// A claims value: a header line, then one line a claim:
// `<id suffix>,<organization>,<record number>,<code>`, where the suffix is
// what the user's id has past its bucket (nothing when the id is its own
// bucket), the organization is nothing when the row had none, and the code
// is `userCode * 2 + membershipCreated`. Version 4 (header `4`): the
// organization is its job-wide number (`["orgno", n]`), written before any
// claim that uses it. Version 3 (header `3` and the JSON array of the
// organization ids the value uses): its index in that array. A version 2
// value is JSON lines (it starts with "[").
const CLAIMS_V3 = "3";
const CLAIMS_V4 = "4";

/**
 * Numbers the organizations a job's claims name, for a session: an
 * organization keeps its number (an organization seen again in a later
 * session gets a new one; both resolve to it).
 */
export class OrganizationNumbers {
  readonly #numbers = new Map<string, number>();
  #next: number;
  /** Numbers given since the last {@linkcode OrganizationNumbers.takeAdded}. */
  #added: Array<[number, string]> = [];

  /** @param next The lowest number no earlier session used. */
  constructor(next: number) {
    this.#next = next;
  }

  /** The organization's number, a new one the first time. */
  numberOf(organizationId: string): number {
    let number = this.#numbers.get(organizationId);
    if (number === undefined) {
      number = this.#next++;
      this.#numbers.set(organizationId, number);
      this.#added.push([number, organizationId]);
    }
    return number;
  }

  /** The numbers given since the last call, to write before the claims that use them. */
  takeAdded(): Array<[number, string]> {
    const added = this.#added;
    this.#added = [];
    return added;
  }

  /** Gives back numbers taken whose commit failed: the next commit writes them. */
  putBack(added: ReadonlyArray<[number, string]>): void {
    this.#added = [...added, ...this.#added];
  }
}

/**
 * Packs a commit's claims by bucket, each bucket into values of at most
 * 60,000 bytes (about 30 bytes a claim), naming organizations by their
 * numbers: write the numbers `organizations` gave (`takeAdded`) before these.
 *
 * @param outcomes The commit's rows.
 * @param seq The commit's sequence number.
 * @param organizations The job's organization numbers.
 * @returns The KV entries to set.
 */
export function packClaims(
  outcomes: readonly RowOutcome[],
  seq: number,
  organizations: OrganizationNumbers,
): Array<{ key: Deno.KvKey; value: Uint8Array }> {
  const buckets = new Map<string, Claim[]>();
  for (const outcome of outcomes) {
    const claim = claimOf(outcome);
    if (!claim) continue;
    const bucket = claimBucket(claim.userId);
    let list = buckets.get(bucket);
    if (!list) buckets.set(bucket, list = []);
    list.push(claim);
  }
  const entries: Array<{ key: Deno.KvKey; value: Uint8Array }> = [];
  for (const [bucket, claims] of buckets) {
    let part = 0;
    let lines = "";
    let bytes = 0;
    const flush = () => {
      entries.push({
        key: [CLAIM, bucket, seq, part++],
        value: encoder.encode(CLAIMS_V4 + "\n" + lines),
      });
      lines = "";
      bytes = 0;
    };
    for (const claim of claims) {
      const suffix = claim.userId.slice(bucket.length);
      const organization = claim.organizationId === ""
        ? ""
        : organizations.numberOf(claim.organizationId);
      const line = `${suffix},${organization},${claim.recordNumber},${
        claim.userCode * 2 + claim.membershipCreated
      }\n`;
      const size = utf8Length(line);
      if (bytes + size > PART_BYTES && lines !== "") flush();
      lines += line;
      bytes += size;
    }
    if (lines !== "") flush();
  }
  return entries;
}

/**
 * The claims committed for a user, in commit order (version 4, 3 and 2
 * values alike).
 *
 * @param kv The journal.
 * @param userId The user.
 * @returns The claims.
 */
export async function readClaims(
  kv: Deno.Kv,
  userId: string,
  organizationOf: (number: number) => Promise<string> = (number) =>
    organizationNumbered(kv, number),
): Promise<Claim[]> {
  const claims: Claim[] = [];
  const bucket = claimBucket(userId);
  // Most lines of a bucket are other users': parse only the ones that start
  // with this user's id (v2: JSON escapes the quotes of any string, so this
  // text can only be the start of a line; v3: a suffix holds no comma).
  const jsonLineStart = `[${JSON.stringify(userId)},`;
  const lineStart = `\n${userId.slice(bucket.length)},`;
  for await (const entry of kv.list<Uint8Array>({ prefix: [CLAIM, bucket] })) {
    const text = decoder.decode(entry.value);
    if (!text.startsWith(CLAIMS_V3) && !text.startsWith(CLAIMS_V4)) {
      for (
        let at = text.indexOf(jsonLineStart);
        at !== -1;
        at = text.indexOf(jsonLineStart, at + 1)
      ) {
        const end = text.indexOf("\n", at);
        const [, organizationId, recordNumber, userCode, membershipCreated] = JSON.parse(
          text.slice(at, end === -1 ? undefined : end),
        ) as [string, string, number, number, number];
        claims.push({ userId, organizationId, recordNumber, userCode, membershipCreated });
      }
      continue;
    }
    const headerEnd = text.indexOf("\n");
    const numbered = text.startsWith(CLAIMS_V4);
    let organizations: string[] | undefined;
    for (
      let at = text.indexOf(lineStart, headerEnd);
      at !== -1;
      at = text.indexOf(lineStart, at + 1)
    ) {
      const end = text.indexOf("\n", at + 1);
      const [, organization, recordNumber, code] = text.slice(at + 1, end).split(",");
      let organizationId = "";
      if (organization !== "" && numbered) {
        organizationId = await organizationOf(Number(organization));
      } else if (organization !== "") {
        organizations ??= JSON.parse(text.slice(CLAIMS_V3.length, headerEnd)) as string[];
        organizationId = organizations[Number(organization)];
      }
      const codeNumber = Number(code);
      claims.push({
        userId,
        organizationId,
        recordNumber: Number(recordNumber),
        userCode: codeNumber >> 1,
        membershipCreated: codeNumber & 1,
      });
    }
  }
  return claims;
}

/**
 * The organization a claim calls `number`.
 *
 * @param kv The journal.
 * @param number The organization's number.
 * @returns Its id.
 * @throws {Error} When the journal has no such number (it is damaged).
 */
export async function organizationNumbered(kv: Deno.Kv, number: number): Promise<string> {
  const entry = await kv.get<string>([ORGANIZATION_NUMBER, number]);
  if (typeof entry.value !== "string") {
    throw new Error(
      `Cannot read the journal: its claims name organization ${number}, which it lacks`,
    );
  }
  return entry.value;
}

/**
 * The lowest organization number no session of the job used (a cut-off
 * commit's included: its claims are kept).
 *
 * @param kv The journal.
 * @returns The number.
 */
export async function nextOrganizationNumber(kv: Deno.Kv): Promise<number> {
  for await (
    const entry of kv.list({ prefix: [ORGANIZATION_NUMBER] }, { reverse: true, limit: 1 })
  ) {
    return (entry.key[1] as number) + 1;
  }
  return 0;
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
