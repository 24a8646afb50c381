/**
 * One import, start to end: open the input, decide the organization mode,
 * set up the WorkOS client, run the pipeline, and total the result. The CLI
 * and the library API both call {@linkcode importUsers}.
 *
 * @module
 */

import type { ImportSummary, InputFormat, OrganizationRef } from "../types.ts";
import type { ResumePoint } from "../input/open_input.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import {
  type CachedOrganization,
  OrganizationResolutionError,
  OrganizationResolver,
  type OrganizationResolverOptions,
} from "../organizations/organization_resolver.ts";
import { openErrorWriter } from "../report/error_writer.ts";
import { importStatus } from "../report/summary.ts";
import {
  currentTrace,
  DEFAULT_MAX_OUTAGE_MS,
  type OutageEvent,
  traceRequests,
} from "../workos/client.ts";
import { findOrganizationById } from "../workos/organizations.ts";
import { localIoStop, type RunStopError } from "../limits/run_stop.ts";
import { type AuditEntry, type AuditLog, openAuditLog } from "../report/audit_log.ts";
import type { WorkOSOrganization } from "../workos/organizations.ts";
import type { WorkOSMembership } from "../workos/memberships.ts";
import { auditEntriesOf, organizationAuditEntry } from "./audit_entries.ts";
import { InvitationProcessor } from "./invitation_processor.ts";
import type { WorkOSUser } from "../workos/users.ts";
import type { PlanReport } from "./dry_run_plan.ts";
import {
  emptyTally,
  type ImportTally,
  type RowOutcome,
  type UserOutcome,
  type Watermark,
} from "../outcome/mod.ts";
import { type OnExisting, type OrganizationMode, RowProcessor, RowTrace } from "./row_processor.ts";
import { type RowRunner, runImport, type RunImportResult } from "./run_import.ts";

export type { ImportSource } from "./prepare_run.ts";
import { type ImportSource, prepareRun } from "./prepare_run.ts";

/**
 * Progress numbers handed to {@linkcode ImportUsersOptions.onProgress} after
 * each batch of rows.
 *
 * @example Follow an import
 * ```ts
 * import { type ImportProgress, importUsers } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * let last: ImportProgress | undefined;
 * await importUsers([{ email: "ada@example.com" }, { email: "bob@example.com" }], {
 *   dryRun: true,
 *   onProgress: (progress) => last = progress,
 * });
 * assert.equal(last?.rowsDone, 2);
 * assert.equal(last?.requests, 0);
 * ```
 */
export interface ImportProgress {
  /** Rows finished in the whole job (earlier sessions included). */
  rowsDone: number;
  /** Users created, adopted or updated in the whole job. */
  usersDone: number;
  /** Requests sent in this session. */
  requests: number;
  /** Write requests sent in this session. */
  writes: number;
  /** Retried requests in this session. */
  retries: number;
  /** 429 answers in this session. */
  rateLimited: number;
}

/**
 * A stretch of an earlier session of a job that a crash (or an abandoned
 * stop) cut off: creates may have landed in it that no commit recorded.
 * What WorkOS made between `fromMs` and `toMs` (local clock, widened by the
 * measured skew) and that a row after `afterRecord` up to `throughRecord`
 * finds counts as that row's, marked uncertain.
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
 * A checkpoint journal the import reports to (see `src/journal`). The import
 * works without one; with one, it resumes where the journal says and commits
 * every outcome to it.
 */
export interface ImportJournal {
  /** When the job first started (ms since epoch). */
  readonly startedAt: number;
  /** Stretches of earlier sessions a crash cut off, whose rows may run again. */
  readonly cutOffs?: readonly CutOff[];
  /** Where to seek in the input; absent for a new job. */
  readonly resumeFrom?: ResumePoint;
  /** Counts of earlier sessions. */
  readonly tallyAtStart: ImportTally;
  /** Organization cache entries saved by earlier sessions. */
  readonly organizationCache: Array<[string, CachedOrganization]>;
  /** Organizations created by earlier sessions. */
  readonly organizationsCreatedAtStart: number;
  /**
   * Bytes of the audit log that belong to committed rows: entries past them
   * were written for rows that run again, and are not written twice.
   */
  readonly auditCommittedBytes?: number;
  /** Rows above the watermark that are already final. */
  isFinal(recordNumber: number): boolean;
  /** Rows that may have been cut off mid-flight by a crash. */
  isUncertain(recordNumber: number): boolean;
  /**
   * How a committed row of the job already counted this user: `"repeat"`
   * when another row did, the row's own outcome when this row did (before a
   * crash), `undefined` when none did.
   */
  priorUserOutcome?(user: WorkOSUser, recordNumber: number): Promise<UserOutcome | undefined>;
  /**
   * Whether a membership the job may have made (a ghost success, or made
   * while a session was cut off) was made by this row rather than by
   * another row of the job that counted it already.
   */
  classifyOwnMembership?(membership: WorkOSMembership, recordNumber: number): Promise<boolean>;
  /**
   * An organization found by lookup that was made while a session of the
   * job was cut off: `true` when the job has not counted it yet.
   */
  claimOrganization?(organization: WorkOSOrganization): boolean;
  /** An organization this session created. */
  noteOrganizationCreated?(organization: WorkOSOrganization): void;
  /** Commits a batch of outcomes and the new watermark. */
  commit(
    outcomes: RowOutcome[],
    watermark: Watermark | undefined,
    state: JournalCommitState,
  ): Promise<void>;
  /** Job-wide numbers of the committed rows, all sessions summed. */
  totals?(): JournalTotals;
}

/** What {@linkcode ImportJournal.commit} gets besides the outcomes. */
export interface JournalCommitState {
  /** The organizations resolved so far, by key, for a resume to start from. */
  organizationCache: Array<[string, CachedOrganization]>;
  /** Organizations the job created, all sessions. */
  organizationsCreated: number;
  /** Warnings of rows, by record number (rows not in the batch are ignored). */
  rowWarnings?: ReadonlyMap<number, number>;
  /** Requests were abandoned (a second Ctrl+C): failed rows may have been cut off. */
  abandoned?: boolean;
  /** This session's counters so far. */
  session?: { retries: number; rateLimited: number; cacheHits: number; cacheMisses: number };
  /**
   * When the oldest row started that is not in this or an earlier commit
   * (ms since epoch): a crash after this commit cannot leave anything made
   * before it unrecorded.
   */
  inFlightSince?: number;
}

/** Job-wide numbers a journal keeps. */
export interface JournalTotals extends ImportTally {
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

/**
 * Options for {@linkcode importUsers}; they mirror the CLI's flags.
 *
 * @example Single-organization mode against a fake WorkOS
 * ```ts
 * import { importUsers, type ImportUsersOptions } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const options: ImportUsersOptions = {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 *   organizationExternalId: "acme",
 *   createOrganizationIfMissing: true,
 *   organizationName: "Acme Inc.",
 *   concurrency: 4,
 * };
 * const summary = await importUsers([{ email: "ada@example.com" }], options);
 * assert.equal(summary.membershipsCreated, 1);
 * assert.equal(fake.state.findOrganizationByExternalId("acme")?.name, "Acme Inc.");
 * ```
 */
export interface ImportUsersOptions {
  /** WorkOS secret key; required unless `dryRun`. */
  apiKey?: string;
  /** WorkOS API location (`https://api.workos.com`). */
  apiUrl?: string;
  /** Input format; by default from the file extension or first byte. */
  format?: InputFormat;
  /** CSV column separator (`","` by default). */
  delimiter?: string;
  /** Read another provider's export (`--from`) instead of the importer's CSV or NDJSON. */
  provider?: ProviderSpec;
  /** Input columns renamed to importer columns before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
  /** Every user joins this organization (by WorkOS id). */
  organizationId?: string;
  /** Every user joins the organization with this external id. */
  organizationExternalId?: string;
  /** Create the `organizationExternalId` organization when missing (needs `organizationName`). */
  createOrganizationIfMissing?: boolean;
  /** Name for the organization to create. */
  organizationName?: string;
  /** Delete a user this run created when its membership fails. */
  requireMembership?: boolean;
  /** Existing users: adopt (`skip`), `update`, or fail the row (`error`). */
  onExisting?: OnExisting;
  /** Validate and plan only: no API call. */
  dryRun?: boolean;
  /**
   * Import only the input's first `limit` records (e.g. the canary accounts
   * that `verify-login` then signs in with); the rest are not read.
   */
  limit?: number;
  /** Rows in flight at once (10). */
  concurrency?: number;
  /** Outcomes committed to the journal (and the error file) together (500). */
  chunkSize?: number;
  /** User-management writes per second (50). */
  rateLimit?: number;
  /** Retries of a transient failure (5). */
  maxRetries?: number;
  /** Request timeout in ms (30,000). */
  requestTimeoutMs?: number;
  /**
   * How long to wait for WorkOS once it stops answering (15 minutes): rows
   * wait meanwhile, none fails for it; past it the run stops with
   * {@linkcode ImportResult.stopped} set.
   */
  maxOutageMs?: number;
  /** Told when WorkOS goes down, before each probe, and when it answers again. */
  onOutage?(event: OutageEvent): void;
  /**
   * Prove the API location and key with one read before the first write
   * (`true`): a refused key or an API that does not answer within about 6 s
   * throws a `RunStopError` before anything is written.
   */
  preflight?: boolean;
  /** Write failed rows here (`.csv`, `.json` or `.jsonl`). */
  errorsOut?: string;
  /** Stop taking rows when aborted; rows in flight finish. */
  stop?: AbortSignal;
  /** Abort requests in flight (a second Ctrl+C). */
  abort?: AbortSignal;
  /** A checkpoint journal to resume from and commit to. */
  journal?: ImportJournal;
  /**
   * Where every write is recorded (`undo` reads it): a path, opened for
   * appending and closed at the end, or an open log the caller closes.
   * Entries reach the log before the journal commits the rows that caused
   * them.
   */
  auditLog?: string | AuditLog;
  /** Send WorkOS invitations instead of creating users. */
  invite?: boolean;
  /** Days until an invitation expires (7). */
  inviteExpiresDays?: number;
  /** Invitations sent per second at most (10). */
  inviteRate?: number;
  /** The issuer of TOTP factors whose row has no `totp_issuer` (WorkOS: the team name). */
  totpIssuer?: string;
  /** Called once per finished row, in completion order. */
  onRow?(outcome: RowOutcome): void;
  /** Called for each warning (file-level and row-level). */
  onWarning?(message: string): void;
  /** Called with job-wide numbers after each batch. */
  onProgress?(progress: ImportProgress): void;
  /** Called once the input is open, with what was detected. */
  onStart?(info: ImportStartInfo): void;
}

/**
 * What the import detected before the first row, handed to
 * {@linkcode ImportUsersOptions.onStart}.
 *
 * @example The mode follows the columns
 * ```ts
 * import { importUsers, type ImportStartInfo } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * let info: ImportStartInfo | undefined;
 * const csv = "email,org_external_id\nada@example.com,acme\n";
 * await importUsers(new Blob([csv]).stream(), { dryRun: true, onStart: (i) => info = i });
 * assert.equal(info?.format, "csv");
 * assert.equal(info?.mode, "multi");
 * assert.deepEqual(info?.columns, ["email", "org_external_id"]);
 * ```
 */
export interface ImportStartInfo {
  /** The input's format, given or detected. */
  format: InputFormat;
  /** The input's columns (CSV header or NDJSON keys of the first record). */
  columns: string[];
  /** `none` (users only), `single` (flags) or `multi` (per-row columns). */
  mode: OrganizationMode["kind"];
  /** The single organization's id, once resolved. */
  organizationId?: string;
  /** Whether existing users are updated (`--on-existing update`). */
  upsert: boolean;
}

/**
 * What {@linkcode importUsers} returns: the summary, and for a dry run the
 * plan.
 *
 * @example A dry run's plan
 * ```ts
 * import { importUsers, type ImportResult } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const result: ImportResult = await importUsers(
 *   [{ email: "ada@example.com" }, { email: "ADA@example.com" }, { email: "not-an-email" }],
 *   { dryRun: true },
 * );
 * assert.equal(result.status, "completed_with_errors");
 * assert.equal(result.plan?.distinctUsers, 1);
 * assert.equal(result.plan?.invalidRows, 1);
 * assert.equal(result.interrupted, false);
 * ```
 */
export interface ImportResult extends ImportSummary {
  /** The plan of a dry run. */
  plan?: PlanReport;
  /** `true` when the stop signal ended the run early. */
  interrupted: boolean;
  /** The last row of the finished prefix, for resuming. */
  watermark?: Watermark;
  /** Failed rows written to `errorsOut`. */
  errorsWritten: number;
  /**
   * The run condition that stopped the import (`interrupted` is then
   * `true`): WorkOS down for longer than `maxOutageMs`, the key refused, or
   * a local file that could not be written. No row failed for it; the rows
   * it cut off are not in the summary, and a resumed job (or a re-run, which
   * adopts what exists) runs them again.
   */
  stopped?: RunStopError;
}

/**
 * Imports users into WorkOS: creates each person once (rows with one email,
 * any case, are one person), adopts users that already exist, and ensures
 * the memberships the rows or options ask for. Row problems end up in the
 * summary and in {@linkcode ImportUsersOptions.onRow} outcomes, never as
 * exceptions.
 *
 * @param source A path (`-` for stdin), a byte stream, or row objects with the CSV column names.
 * @param options Key, organization mode, limits, callbacks.
 * @returns The summary of the run.
 * @throws {TypeError} When the options contradict each other or the key is missing.
 *
 * @example Import a CSV into a fake WorkOS
 * ```ts
 * import { importUsers } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const csv = "email,first_name,org_external_id,org_name\n" +
 *   "ada@example.com,Ada,acme,Acme Inc.\n" +
 *   "grace@example.com,Grace,acme,Acme Inc.\n";
 * const summary = await importUsers(new Blob([csv]).stream(), {
 *   apiKey: fake.apiKey,
 *   apiUrl: fake.url,
 * });
 * assert.equal(summary.status, "success");
 * assert.equal(fake.state.userCount(), 2);
 * assert.equal(fake.state.membershipCount(), 2);
 * ```
 *
 * @example Check a file without calling any API
 * ```ts
 * import { importUsers } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const summary = await importUsers([{ email: "ada@example.com" }], { dryRun: true });
 * assert.equal(summary.plan?.validRows, 1);
 * ```
 */
export async function importUsers(
  source: ImportSource,
  options: ImportUsersOptions = {},
): Promise<ImportResult> {
  const startedAt = Date.now();
  const journal = options.journal;
  const warn = options.onWarning ?? (() => {});
  const input = await prepareRun(source, {
    ...options,
    resumeFrom: journal?.resumeFrom,
    onWarning: (warning) => warn(warning.message),
    client: options.dryRun ? undefined : {
      ...options,
      maxOutageMs: options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS,
    },
  });
  let mode = input.mode;
  const onExisting = input.onExisting;

  const tally = journal ? { ...journal.tallyAtStart } : emptyTally();
  // A path is opened with the error file, once the import is sure to start;
  // an organization created before that (single-org mode) waits in memory.
  let auditLog = typeof options.auditLog === "string" ? undefined : options.auditLog;
  const organizationEntriesBefore: AuditEntry[] = [];
  // Organizations are created mid-row, outside the outcome batches: their
  // entries are queued at once and flushed before the next journal commit.
  const onOrganizationCreated = options.auditLog !== undefined && !options.dryRun
    ? (organization: WorkOSOrganization) => {
      const trace = currentTrace();
      const entry = organizationAuditEntry(organization, {
        row: trace instanceof RowTrace ? trace.recordNumber : undefined,
        requestId: trace?.lastRequestId,
      });
      if (!auditLog) organizationEntriesBefore.push(entry);
      else {
        const log = auditLog;
        // No write may start once the audit log is known to be incomplete.
        log.write([entry]).catch((error) => client?.halt(localIoStop(log.path, error)));
      }
    }
    : undefined;

  const client = input.client;
  const cutOffs = journal?.cutOffs ?? [];
  // Made while an earlier session was cut off, by a row that may have been in flight then?
  const madeWhileCutOff = (createdAtMs: number, recordNumber?: number): boolean =>
    cutOffs.some((cut) =>
      (recordNumber === undefined ||
        (recordNumber > cut.afterRecord && recordNumber <= cut.throughRecord)) &&
      (client?.madeWithin(createdAtMs, cut.fromMs, cut.toMs) ?? false)
    );
  const resolverOptions: OrganizationResolverOptions = {
    onCreated: journal?.noteOrganizationCreated
      ? (organization) => {
        journal.noteOrganizationCreated?.(organization);
        onOrganizationCreated?.(organization);
      }
      : onOrganizationCreated,
    isOwn: journal?.claimOrganization && cutOffs.length > 0
      ? (organization) =>
        madeWhileCutOff(organization.createdAtMs) &&
        (journal.claimOrganization?.(organization) ?? false)
      : undefined,
  };
  let resolver: OrganizationResolver;
  let processor: RowRunner | undefined;
  let singleOrganizationId: string | undefined;
  let organizationsCreatedBefore = 0;
  resolver = new OrganizationResolver(client, resolverOptions);
  if (journal) resolver.restore(journal.organizationCache);
  if (client) {
    // Before the first write: a wrong key or URL stops here, not row by row.
    if (options.preflight !== false) await client.preflight();
    if (mode.kind === "single" && mode.organization.kind === "id") {
      const id = mode.organization.id;
      if (!(await findOrganizationById(client, id))) {
        throw new OrganizationResolutionError(
          `Organization not found: "${id}": check --org-id (no user was created)`,
          { httpStatus: 404 },
        );
      }
    }
    if (mode.kind === "single") {
      const single = mode.organization;
      const first = resolver;
      singleOrganizationId = await traceRequests(
        {},
        () => resolveSingleOrganization(first, single),
      );
      mode = { kind: "single", organization: { kind: "id", id: singleOrganizationId } };
      // Rows now resolve through the id: a fresh resolver keeps the stats about rows.
      organizationsCreatedBefore = resolver.created;
      resolver = new OrganizationResolver(client, resolverOptions);
    }
  }
  if (client && options.invite) {
    processor = new InvitationProcessor(client, resolver, {
      mode,
      expiresInDays: options.inviteExpiresDays,
      invitesPerSecond: options.inviteRate,
      signal: options.abort,
    });
  } else if (client) {
    processor = new RowProcessor(client, resolver, {
      mode,
      requireMembership: options.requireMembership,
      onExisting,
      startedAt: journal?.startedAt ?? startedAt,
      lookupFirst: journal ? (n) => journal.isUncertain(n) : undefined,
      madeWhileCutOff: cutOffs.length > 0
        ? (createdAtMs, row) => madeWhileCutOff(createdAtMs, row.recordNumber)
        : undefined,
      priorOutcome: journal?.priorUserOutcome
        ? async (user, row) => await journal.priorUserOutcome?.(user, row.recordNumber)
        : undefined,
      classifyOwnMembership: journal?.classifyOwnMembership
        ? async (membership, row) =>
          await journal.classifyOwnMembership?.(membership, row.recordNumber) ?? false
        : undefined,
      onRowWarning: (recordNumber, message) => warn(`Row ${recordNumber}: ${message}`),
      onRunNotice: warn,
      totpIssuer: options.totpIssuer,
    });
  }
  options.onStart?.({
    format: input.format,
    columns: input.columns,
    mode: mode.kind,
    organizationId: singleOrganizationId,
    upsert: input.upsert,
  });

  const createdAtStart = (journal?.organizationsCreatedAtStart ?? 0) + organizationsCreatedBefore;
  let rowsDone = tally.totalRows;
  let usersDone = tally.usersCreated + tally.usersExisting + tally.usersUpdated;
  // Opened last, so that a failure before the first row leaves no half-written file.
  const errorWriter = options.errorsOut
    ? await openErrorWriter(options.errorsOut, { columns: input.columns })
    : undefined;
  const ownAuditLog = typeof options.auditLog === "string" && !options.dryRun;
  // A journal counts a row's warnings when it commits the row, so that a
  // row that runs again after a crash is not counted twice.
  const rowWarnings = new Map<number, number>();
  let result: RunImportResult | undefined;
  try {
    if (ownAuditLog) {
      auditLog = await openAuditLog(options.auditLog as string, {
        writtenAfter: journal?.auditCommittedBytes,
      });
      await auditLog.write(organizationEntriesBefore);
    }
    // When each row not yet committed started (insertion order: oldest
    // first): a crash after a commit can leave unrecorded only what rows
    // started since the oldest of these made.
    const uncommitted = new Map<number, number>();
    const inner = processor;
    const tracked: RowRunner | undefined = inner && journal
      ? {
        process(row) {
          uncommitted.set(row.recordNumber, Date.now());
          return inner.process(row);
        },
      }
      : inner;
    result = await runImport(input.records, {
      concurrency: options.concurrency,
      dryRun: options.dryRun,
      processor: tracked,
      mode,
      stop: options.stop,
      skip: journal ? (n) => journal.isFinal(n) : undefined,
      batchSize: options.chunkSize,
      onWarning: (recordNumber, message) => {
        if (journal) rowWarnings.set(recordNumber, (rowWarnings.get(recordNumber) ?? 0) + 1);
        warn(`Row ${recordNumber}: ${message}`);
      },
      onRunStop: (stop) => client?.halt(stop),
      onOutcomes: async (outcomes, watermark) => {
        if (options.onRow) { for (const outcome of outcomes) options.onRow(outcome); }
        const errors = outcomes.flatMap((outcome) => outcome.error ? [outcome.error] : []);
        if (errorWriter && errors.length > 0) {
          await writing(options.errorsOut as string, () => errorWriter.write(errors));
        }
        if (auditLog) {
          const log = auditLog;
          const timestamp = new Date().toISOString();
          await writing(
            log.path,
            () => log.write(outcomes.flatMap((outcome) => auditEntriesOf(outcome, timestamp))),
          );
        }
        if (journal) {
          const cache = resolver.cacheStats;
          for (const outcome of outcomes) uncommitted.delete(outcome.recordNumber);
          await journal.commit(outcomes, watermark, {
            organizationCache: resolver.entries(),
            organizationsCreated: createdAtStart + resolver.created,
            rowWarnings,
            abandoned: options.abort?.aborted ?? false,
            inFlightSince: uncommitted.values().next().value,
            session: {
              retries: client?.stats.retries ?? 0,
              rateLimited: client?.stats.rateLimited ?? 0,
              cacheHits: cache.hits,
              cacheMisses: cache.misses,
            },
          });
          for (const outcome of outcomes) rowWarnings.delete(outcome.recordNumber);
        }
        rowsDone += outcomes.length;
        for (const outcome of outcomes) {
          if (outcome.user && outcome.user !== "repeat" && !outcome.deletedUserId) usersDone++;
        }
        if (options.onProgress) {
          options.onProgress({
            rowsDone,
            usersDone,
            requests: client?.stats.requests ?? 0,
            writes: client?.budget.stats.writes ?? 0,
            retries: client?.stats.retries ?? 0,
            rateLimited: client?.stats.rateLimited ?? 0,
          });
        }
      },
    });
    if (auditLog && !result.stopped) {
      const log = auditLog;
      const ran = result;
      await writing(log.path, () => log.flush()).catch((stop) => ran.stopped = stop);
    }
  } finally {
    const closing: Array<[string, Promise<void> | undefined]> = [
      [options.errorsOut ?? "", errorWriter?.close()],
      [auditLog?.path ?? "", ownAuditLog ? auditLog?.close() : undefined],
    ];
    for (const [path, closed] of closing) {
      try {
        await closed;
      } catch (error) {
        // A file that cannot be written is a run condition once rows ran;
        // when the pipeline itself threw, that error is the one to report.
        if (result) result.stopped ??= localIoStop(path, error);
      }
    }
  }
  if (!result) throw new Error("Cannot import: the pipeline ended without a result");
  if (result.stopped) result.interrupted = true;

  const session = result.tally;
  for (const key of Object.keys(tally) as Array<keyof ImportTally>) tally[key] += session[key];
  const cache = resolver.cacheStats;
  // With a journal the summary covers the whole job: what every session committed.
  const job = journal?.totals?.();
  return {
    status: importStatus(job?.successes ?? tally.successes, job?.failures ?? tally.failures),
    ...tally,
    organizationsCreated: createdAtStart + resolver.created,
    cacheHits: cache.hits,
    cacheMisses: cache.misses,
    retries: client?.stats.retries ?? 0,
    rateLimited: client?.stats.rateLimited ?? 0,
    durationMs: Date.now() - startedAt,
    ...job,
    dryRun: options.dryRun ?? false,
    plan: result.plan,
    interrupted: result.interrupted,
    watermark: result.watermark,
    errorsWritten: errorWriter?.count ?? 0,
    stopped: result.stopped,
  };
}

/** Runs a write to a local file; what it throws becomes a run condition naming the file. */
async function writing(path: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw localIoStop(path, error);
  }
}

async function resolveSingleOrganization(
  resolver: OrganizationResolver,
  organization: OrganizationRef,
): Promise<string> {
  try {
    return await resolver.resolve(organization);
  } catch (error) {
    if (error instanceof OrganizationResolutionError && organization.kind === "external_id") {
      throw new OrganizationResolutionError(
        error.httpStatus === 404
          ? `Organization not found: "${organization.externalId}": add --create-org-if-missing --org-name "<name>" to create it`
          : error.message,
        error,
      );
    }
    throw error;
  }
}
