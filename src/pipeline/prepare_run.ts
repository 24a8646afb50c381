/**
 * The one way a run is prepared, whatever runs next (an import, a dry run,
 * a tenant plan or `validate`): check the organization flags, open the
 * input, decide the organization mode, warn about what the input holds that
 * the run ignores, settle `onExisting`, and build the WorkOS client.
 *
 * @module
 */

import type { InputFormat, SourceRecord } from "../types.ts";
import { type InputSource, openInput, type ResumePoint } from "../input/open_input.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import type { WorkOSClient } from "../workos/client.ts";
import { type ConnectOptions, connectWorkOS } from "../workos/connect.ts";
import {
  detectOrganizationMode,
  type OrganizationFlags,
  type OrganizationMode,
} from "./organization_mode.ts";
import type { OnExisting } from "./row_processor.ts";
import type { ValidatedBatch } from "./_validated_codec.ts";
import { openValidatedInWorker, wantsValidateWorker } from "./_validate_worker_client.ts";

/**
 * Where rows come from: a path (or `-` for stdin), a byte stream of CSV or
 * NDJSON, or row objects keyed by the CSV column names.
 *
 * @example Each kind of source
 * ```ts
 * import { importUsers, type ImportSource } from "@workos-importer/cli";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "email\nada@example.com\n");
 * const sources: ImportSource[] = [
 *   path,
 *   new Blob(['{"email":"ada@example.com"}\n']).stream(),
 *   [{ email: "ada@example.com", first_name: "Ada" }],
 * ];
 * for (const source of sources) {
 *   const summary = await importUsers(source, { dryRun: true });
 *   assert.equal(summary.successes, 1);
 * }
 * await Deno.remove(path);
 * ```
 */
export type ImportSource =
  | string
  | ReadableStream<Uint8Array>
  | AsyncIterable<Record<string, unknown>>
  | Iterable<Record<string, unknown>>;

/** A finding about the input as a whole, told before the first row. */
export interface RunWarning {
  /**
   * `input`: something the reader found (a provider's unmatched hashes);
   * `organization_columns`: the flags name the organization, so the input's
   * organization columns are ignored; `unknown_columns`: columns the
   * importer does not know, which are ignored.
   */
  kind: "input" | "organization_columns" | "unknown_columns";
  /** The warning, in one line. */
  message: string;
  /** The columns concerned (`unknown_columns`). */
  columns?: readonly string[];
}

/** Options for {@linkcode prepareRun}: the input, organization and policy flags of any command. */
export interface PrepareRunOptions extends OrganizationFlags {
  /** The command, for messages (`"Cannot plan: …"`); `import` by default. */
  verb?: string;
  /** Input format; by default from the file extension or first byte. */
  format?: InputFormat;
  /** CSV column separator (`","` by default). */
  delimiter?: string;
  /** Read another provider's export (`--from`). */
  provider?: ProviderSpec;
  /** Input columns renamed to importer columns before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
  /** Existing users: adopt (`skip`), `update`, or fail the row (`error`). */
  onExisting?: OnExisting;
  /** Continue after a record an earlier session read. */
  resumeFrom?: ResumePoint;
  /** Read only the first `limit` records. */
  limit?: number;
  /** Aborting errors the record stream and releases the input. */
  signal?: AbortSignal;
  /**
   * The run only validates and counts (a dry run, `validate`): a large file
   * may then be read and validated in a worker on the second core, whose
   * results come as {@linkcode PreparedRun.validated}.
   */
  validateInWorker?: boolean;
  /** Told about the input as a whole, in the order found. */
  onWarning?(warning: RunWarning): void;
  /**
   * Build the WorkOS client too (after the input opened). A missing key is
   * refused here.
   */
  client?: Omit<ConnectOptions, "apiKey"> & { apiKey?: string };
}

/** A run ready to go: its input open, its mode and policy settled, its client built. */
export interface PreparedRun {
  /** The input's format, given or detected. */
  format: InputFormat;
  /** The input's columns (CSV header; empty for NDJSON and row objects). */
  columns: string[];
  /** Columns the importer ignores. */
  unknownColumns: string[];
  /** Whether the NDJSON input asked for `{"_mode":"upsert"}`. */
  upsert: boolean;
  /** The records, in input order, in batches (none when `validated` has them). */
  records: ReadableStream<SourceRecord[]>;
  /**
   * With `validateInWorker`, for a large file: every record, validated in
   * the worker, in input order; `records` is then empty.
   */
  validated?: ReadableStream<ValidatedBatch>;
  /** Where memberships go. */
  mode: OrganizationMode;
  /** The policy for users that exist: the flag, else `update` for an upsert input, else `skip`. */
  onExisting: OnExisting;
  /** The WorkOS client, when `client` was given. */
  client?: WorkOSClient;
}

/**
 * Prepares a run of `source`.
 *
 * @param source A path (`-` for stdin), a byte stream, or row objects.
 * @param options The input, organization and policy flags, and the client's.
 * @returns The prepared run.
 * @throws {TypeError} When the organization flags contradict each other, or the key is missing.
 *
 * @example Prepare a dry run of a multi-organization file
 * ```ts
 * import { prepareRun } from "./prepare_run.ts";
 * import assert from "node:assert/strict";
 *
 * const csv = "email,org_external_id,team\nada@example.com,acme,x\n";
 * const warnings: string[] = [];
 * const run = await prepareRun(new Blob([csv]).stream(), {
 *   onWarning: (warning) => warnings.push(warning.message),
 * });
 * assert.equal(run.mode.kind, "multi");
 * assert.equal(run.onExisting, "skip");
 * assert.deepEqual(warnings, ['Ignoring unknown columns: "team"']);
 * await run.records.cancel();
 * ```
 */
export async function prepareRun(
  source: ImportSource,
  options: PrepareRunOptions = {},
): Promise<PreparedRun> {
  const verb = options.verb ?? "import";
  checkOrganizationFlags(options, verb);
  const warn = options.onWarning ?? (() => {});
  const input = await openSource(source, options, (message) => warn({ kind: "input", message }));
  const records = options.limit === undefined
    ? input.records
    : firstRecords(input.records, options.limit);
  const { mode, columnsIgnored } = detectOrganizationMode(input, options);
  if (columnsIgnored) {
    warn({
      kind: "organization_columns",
      message: "CSV contains org columns but CLI flags provided",
    });
  }
  if (input.unknownColumns.length > 0) {
    warn({
      kind: "unknown_columns",
      message: `Ignoring unknown columns: ${input.unknownColumns.map((c) => `"${c}"`).join(", ")}`,
      columns: input.unknownColumns,
    });
  }
  let client: WorkOSClient | undefined;
  if (options.client) {
    const { apiKey } = options.client;
    if (!apiKey) {
      await records.cancel().catch(() => {});
      await input.validated?.cancel().catch(() => {});
      throw new TypeError(
        `Cannot ${verb}: WORKOS_SECRET_KEY is missing: set it or use a dry run`,
      );
    }
    client = connectWorkOS({ ...options.client, apiKey });
  }
  return {
    format: input.format,
    columns: input.columns,
    unknownColumns: input.unknownColumns,
    upsert: input.upsert,
    records,
    ...(input.validated === undefined ? {} : { validated: input.validated }),
    mode,
    onExisting: options.onExisting ?? (input.upsert ? "update" : "skip"),
    client,
  };
}

function checkOrganizationFlags(flags: OrganizationFlags, verb: string): void {
  if (flags.organizationId !== undefined && flags.organizationExternalId !== undefined) {
    throw new TypeError(
      `Cannot ${verb}: --org-id and --org-external-id name two organizations: give one`,
    );
  }
  if (flags.createOrganizationIfMissing) {
    if (flags.organizationExternalId === undefined) {
      throw new TypeError(
        `Cannot ${verb}: --create-org-if-missing needs --org-external-id: add the external id`,
      );
    }
    if (!flags.organizationName) {
      throw new TypeError(
        `Cannot ${verb}: --create-org-if-missing needs --org-name: add --org-name "<name>"`,
      );
    }
  }
}

async function openSource(
  source: ImportSource,
  options: PrepareRunOptions,
  onWarning: (message: string) => void,
): Promise<{
  format: InputFormat;
  columns: string[];
  unknownColumns: string[];
  upsert: boolean;
  namesOrganizations?: boolean;
  records: ReadableStream<SourceRecord[]>;
  validated?: ReadableStream<ValidatedBatch>;
}> {
  if (typeof source === "string" || source instanceof ReadableStream) {
    const inputOptions = {
      format: options.format,
      resumeFrom: options.resumeFrom,
      delimiter: options.delimiter,
      provider: options.provider,
      columnMap: options.columnMap,
      signal: options.signal,
      onWarning,
    };
    if (
      options.validateInWorker && options.limit === undefined &&
      typeof source === "string" && wantsValidateWorker(source, inputOptions)
    ) {
      const opened = await openValidatedInWorker(source, inputOptions);
      if (opened !== undefined) return { ...opened, records: ReadableStream.from([]) };
    }
    return await openInput(source as InputSource, inputOptions);
  }
  return {
    format: "ndjson",
    columns: [],
    unknownColumns: [],
    upsert: false,
    records: objectRecords(source, options.resumeFrom?.recordNumber ?? 0),
  };
}

/** The batches of `records` up to record number `limit`; the rest of the input is not read. */
function firstRecords(
  records: ReadableStream<SourceRecord[]>,
  limit: number,
): ReadableStream<SourceRecord[]> {
  async function* batches(): AsyncGenerator<SourceRecord[]> {
    for await (const batch of records) {
      const kept = batch.filter((record) => record.recordNumber <= limit);
      if (kept.length > 0) yield kept;
      // Leaving the loop cancels the reader, which closes the file.
      if (kept.length < batch.length || batch[batch.length - 1]?.recordNumber >= limit) return;
    }
  }
  return ReadableStream.from(batches());
}

function objectRecords(
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  skipCount: number,
): ReadableStream<SourceRecord[]> {
  async function* batches(): AsyncGenerator<SourceRecord[]> {
    let batch: SourceRecord[] = [];
    let recordNumber = 0;
    for await (const fields of rows) {
      recordNumber++;
      if (recordNumber <= skipCount) continue;
      const normalized: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields)) {
        normalized[key.trim().toLowerCase()] = value;
      }
      batch.push({ recordNumber, fields: normalized, byteEnd: 0 });
      if (batch.length >= 256) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  return ReadableStream.from(batches());
}
