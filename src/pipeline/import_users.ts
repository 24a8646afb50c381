/**
 * One import, start to end: open the input, decide the organization mode,
 * set up the WorkOS client, run the pipeline, and total the result. The CLI
 * and the library API both call {@linkcode importUsers}.
 *
 * @module
 */

import type { ImportSummary, InputFormat, OrganizationRef } from "../types.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import {
  OrganizationResolutionError,
  OrganizationResolver,
  type OrganizationResolverOptions,
} from "../organizations/organization_resolver.ts";
import { importStatus } from "../report/summary.ts";
import {
  currentTrace,
  DEFAULT_MAX_OUTAGE_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type OutageEvent,
  traceRequests,
} from "../workos/client.ts";
import { findOrganizationById } from "../workos/organizations.ts";
import { isRunStop, localIoStop, type RunStopError } from "../limits/run_stop.ts";
import type { AuditLog } from "../report/audit_log.ts";
import { organizationAuditEntry } from "../report/audit_entries.ts";
import { AuditSink } from "../report/audit_sink.ts";
import type { ProgressFigures } from "../report/progress_sink.ts";
import type { WorkOSOrganization } from "../workos/organizations.ts";
import type { ImportJournal } from "../journal/store.ts";
import { InvitationProcessor } from "./invitation_processor.ts";
import { claimOrganization, classifyOwnMembership, priorUserOutcome } from "./job_ownership.ts";
import { openImportSinks } from "./import_sinks.ts";
import type { PlanReport } from "./dry_run_plan.ts";
import { emptyTally, type ImportTally, type RowOutcome, type Watermark } from "../outcome/mod.ts";
import { type OnExisting, type OrganizationMode, RowProcessor, RowTrace } from "./row_processor.ts";
import { type RowRunner, runImport, type RunImportResult } from "./run_import.ts";

export type { ImportSource } from "./prepare_run.ts";
import { type ImportSource, prepareRun } from "./prepare_run.ts";
import { inputFileSize } from "./_input_sizing.ts";

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
export type ImportProgress = ProgressFigures;

export type { CutOff, ImportJournal, JournalTotals } from "../journal/store.ts";

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
  /**
   * Estimated bytes the people remembered to recognize a person's later rows
   * may take (8 MiB, about 44,000 people of one membership each): past it,
   * a later row of a forgotten person finds its user through the journal's
   * claims or a lookup.
   */
  personCacheBytes?: number;
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
    // A dry run without a job only validates and plans: a large file may be
    // validated on the second core (see _validate_worker_client.ts).
    validateInWorker: options.dryRun === true && journal === undefined,
    onWarning: (warning) => warn(warning.message),
    client: options.dryRun ? undefined : {
      ...options,
      maxOutageMs: options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS,
    },
  });
  let mode = input.mode;
  const onExisting = input.onExisting;

  const tally = journal ? tallyOf(journal.totalsAtStart) : emptyTally();
  // A path is opened with the error file, once the import is sure to start;
  // an organization created before that (single-org mode) waits in memory.
  const audit = options.auditLog === undefined ||
      (typeof options.auditLog === "string" && options.dryRun)
    ? undefined
    : new AuditSink(options.auditLog, {
      writtenAfter: journal?.auditCommittedBytes,
      onStop: (stop) => client?.halt(stop),
    });
  // Organizations are created mid-row, outside the outcome batches: their
  // entries are queued at once and flushed before the next journal commit.
  const onOrganizationCreated = audit && !options.dryRun
    ? (organization: WorkOSOrganization) => {
      const trace = currentTrace();
      audit.writeNow(organizationAuditEntry(organization, {
        row: trace instanceof RowTrace ? trace.recordNumber : undefined,
        requestId: trace?.lastRequestId,
      }));
    }
    : undefined;

  const client = input.client;
  const cutOffs = journal?.cutOffs ?? [];
  // A request the cut-off session sent before it ended can still be applied
  // after this session began: WorkOS finishes what it received although the
  // client gave up on it (a resume started at once beat such a membership
  // by a few milliseconds and counted it as someone else's). The client
  // gives up after its timeout, so that long past the resume is the window.
  const lateLandingMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Made while an earlier session was cut off, by a row that may have been in flight then?
  const madeWhileCutOff = (createdAtMs: number, recordNumber?: number): boolean =>
    cutOffs.some((cut) =>
      (recordNumber === undefined ||
        (recordNumber > cut.afterRecord && recordNumber <= cut.throughRecord)) &&
      (client?.madeWithin(createdAtMs, cut.fromMs, cut.toMs + lateLandingMs) ?? false)
    );
  const resolverOptions: OrganizationResolverOptions = {
    onCreated: journal
      ? (organization) => {
        // Created by this session: a later lookup of it never counts it again.
        claimOrganization(journal, organization);
        onOrganizationCreated?.(organization);
      }
      : onOrganizationCreated,
    isOwn: journal && cutOffs.length > 0
      ? (organization) =>
        madeWhileCutOff(organization.createdAtMs) && claimOrganization(journal, organization)
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
      priorOutcome: journal
        ? (user, row) => priorUserOutcome(journal, user, row.recordNumber)
        : undefined,
      classifyOwnMembership: journal
        ? (membership, row) => classifyOwnMembership(journal, membership, row.recordNumber)
        : undefined,
      onRowWarning: (recordNumber, message) => warn(`Row ${recordNumber}: ${message}`),
      onRunNotice: warn,
      totpIssuer: options.totpIssuer,
      personCacheBytes: options.personCacheBytes,
      // Only the audit log and onRow's caller read a row's request ids.
      requestIds: audit !== undefined || options.onRow !== undefined,
    });
  }
  options.onStart?.({
    format: input.format,
    columns: input.columns,
    mode: mode.kind,
    organizationId: singleOrganizationId,
    upsert: input.upsert,
  });

  const createdAtStart = (journal?.totalsAtStart.organizationsCreated ?? 0) +
    organizationsCreatedBefore;
  let result: RunImportResult | undefined;
  // Opened last, so that a failure before the first row leaves no half-written file.
  let sinks: Awaited<ReturnType<typeof openImportSinks>>;
  try {
    sinks = await openImportSinks({
      onRow: options.onRow,
      errorsOut: options.errorsOut
        ? { path: options.errorsOut, columns: input.columns }
        : undefined,
      audit,
      journal: journal && {
        journal,
        state: () => {
          const cache = resolver.cacheStats;
          return {
            organizationCache: resolver.entries(),
            organizationsCreated: createdAtStart + resolver.created,
            abandoned: options.abort?.aborted ?? false,
            session: {
              retries: client?.stats.retries ?? 0,
              rateLimited: client?.stats.rateLimited ?? 0,
              cacheHits: cache.hits,
              cacheMisses: cache.misses,
            },
          };
        },
      },
      progress: options.onProgress && {
        onProgress: options.onProgress,
        start: tally,
        counters: () => ({
          requests: client?.stats.requests ?? 0,
          writes: client?.budget.stats.writes ?? 0,
          retries: client?.stats.retries ?? 0,
          rateLimited: client?.stats.rateLimited ?? 0,
        }),
      },
      onWarning: warn,
    });
  } catch (error) {
    // The run never starts: a validate worker must not outlive it.
    await input.validated?.cancel().catch(() => {});
    throw error;
  }
  try {
    const inner = processor;
    const committing = sinks.journal;
    const tracked: RowRunner | undefined = inner && committing
      ? {
        process(row) {
          committing.started(row.recordNumber);
          return inner.process(row);
        },
      }
      : inner;
    result = await runImport(input.validated ? { validated: input.validated } : input.records, {
      concurrency: options.concurrency,
      dryRun: options.dryRun,
      inputBytes: options.dryRun ? await inputFileSize(source) : undefined,
      processor: tracked,
      mode,
      stop: options.stop,
      skip: journal ? (n) => journal.isFinal(n) : undefined,
      batchSize: options.chunkSize,
      onWarning: (recordNumber, message) => {
        committing?.warned(recordNumber);
        warn(`Row ${recordNumber}: ${message}`);
      },
      onRunStop: (stop) => client?.halt(stop),
      onOutcomes: (outcomes, watermark) => sinks.all.write(outcomes, watermark),
    });
  } finally {
    for (const failure of await sinks.all.closeAll()) {
      // A file that cannot be written is a run condition once rows ran;
      // when the pipeline itself threw, that error is the one to report.
      if (result) result.stopped ??= isRunStop(failure) ? failure : localIoStop("", failure);
    }
  }
  if (!result) throw new Error("Cannot import: the pipeline ended without a result");
  if (result.stopped) result.interrupted = true;

  const session = result.tally;
  for (const key of Object.keys(tally) as Array<keyof ImportTally>) tally[key] += session[key];
  const cache = resolver.cacheStats;
  // With a journal the summary covers the whole job: what every session committed.
  const job = journal?.totals();
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
    errorsWritten: sinks.errorsOut?.count ?? 0,
    stopped: result.stopped,
  };
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

/** The tally part of a job's totals. */
function tallyOf(totals: ImportTally): ImportTally {
  const tally = emptyTally();
  for (const key of Object.keys(tally) as Array<keyof ImportTally>) tally[key] = totals[key] ?? 0;
  return tally;
}
