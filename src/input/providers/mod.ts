/**
 * Readers for other identity providers' exports — Auth0, Firebase, Clerk,
 * Supabase, Cognito and SuperTokens — that turn each exported user into a
 * record of the importer's own columns. They feed the one import pipeline,
 * so streaming, resume, dry run, validate and undo work the same for them.
 * Every record keeps the exact byte offset just past its user in the export
 * (its line, its CSV row or its element of the JSON list), so that a resumed
 * job seeks to it.
 *
 * @module
 */

import { InputError } from "../../errors.ts";
import type { InputFormat, SourceRecord } from "../../types.ts";
import type { ByteSource } from "../_byte_source.ts";
import { concatBytes, emptyBytes, stripBom } from "../_bytes.ts";
import { CsvRecordReader, readCsvHeader } from "../_csv_reader.ts";
import { JsonListRecordReader, type JsonListShape } from "../_json_array_reader.ts";
import { type HandOverLines, NdjsonRecordReader } from "../_ndjson_reader.ts";
import { auth0Mapper, Auth0PasswordHashes } from "./_auth0.ts";
import { FIREBASE_CSV_COLUMNS, type FirebaseHashConverter, firebaseMapper } from "./_firebase.ts";
import { clerkMapper } from "./_clerk.ts";
import { cognitoMapper } from "./_cognito.ts";
import { supabaseMapper } from "./_supabase.ts";
import { supertokensMapper } from "./_supertokens.ts";
import type { ProviderMapper } from "./_mapping.ts";
import { describeLooks, type Looks, sniff } from "./_sniff.ts";
import { packageMapper } from "../package/_join.ts";
import {
  type FirebaseHashConfig,
  FirebaseHashConfigError,
  firebaseScryptHash,
  parseFirebaseHashConfig,
} from "../../passwords/mod.ts";

const COMMA = 0x2c;

/**
 * The providers whose exports `--from` reads.
 *
 * @example Check a name
 * ```ts
 * import { PROVIDERS } from "./mod.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(PROVIDERS.includes("auth0"));
 * ```
 */
export const PROVIDERS: readonly ProviderName[] = Object.freeze([
  "auth0",
  "firebase",
  "clerk",
  "supabase",
  "cognito",
  "supertokens",
]);

/** A provider `--from` names (one of {@linkcode PROVIDERS}). */
export type ProviderName =
  | "auth0"
  | "firebase"
  | "clerk"
  | "supabase"
  | "cognito"
  | "supertokens";

/**
 * Whether a name is one of {@linkcode PROVIDERS}.
 *
 * @example Check a flag value
 * ```ts
 * import { isProviderName } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(isProviderName("firebase"), true);
 * equal(isProviderName("okta"), false);
 * ```
 */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDERS as readonly string[]).includes(name);
}

/** How to read a provider's export (`--from` and the flags that go with it). */
export interface ProviderSpec {
  /**
   * The provider the file comes from, or `package`: the users.csv of a
   * migration package (`import-package`), joined with its sidecar files.
   */
  from: ProviderName | "package";
  /** package: the package directory (absolute). */
  packageDir?: string;
  /** Auth0: the password hash NDJSON from Auth0 support. */
  passwordHashes?: string;
  /** Firebase: the project's password hash parameters (`--hash-config`). */
  hashConfig?: string;
  /**
   * Fields of the export to read into importer columns, overriding the
   * provider's mapping: export field (dotted path, lower-case top-level
   * key) → importer column.
   */
  map?: Readonly<Record<string, string>>;
}

/** What {@linkcode openProviderReader} needs besides the spec. */
export interface ProviderReadOptions {
  /** Names the input in messages (`"users.json"` or `the input`). */
  label: string;
  /** Continue after this record (exact offset just past it). */
  resumeFrom?: { byteOffset: number; recordNumber: number };
  /** Told about file-level findings (hash lines that match no user, say). */
  onWarning?(message: string): void;
  /**
   * Offered the whole lines of each chunk of an NDJSON export whose mapper
   * is {@linkcode ProviderMapper.independent}, before they are parsed: what
   * it takes is read by {@linkcode readHandedOverLines} instead.
   */
  handOverLines?: HandOverLines;
}

/** A provider's export opened up to its first record. */
export interface OpenedProviderReader {
  format: InputFormat;
  /** The importer's columns the records use. */
  columns: string[];
  /**
   * Whether a record may name an organization (`org_id` or
   * `org_external_id`): the mapping fills one, or `--map` does.
   */
  namesOrganizations: boolean;
  reader: { next(): Promise<SourceRecord[] | null>; count(): Promise<number> };
}

const NAMES: Record<ProviderSpec["from"], string> = {
  package: "the users.csv of a migration package",
  auth0: "an Auth0 user export",
  firebase: 'a Firebase "auth:export" file',
  clerk: "a Clerk user export",
  supabase: 'a Supabase "auth.users" export',
  cognito: 'an "aws cognito-idp list-users" file',
  supertokens: "a SuperTokens bulk-import file",
};

/** How many leading bytes the format check reads. */
const HEAD_BYTES = 64 * 1024;

/**
 * Opens a provider's export on a byte source positioned at its start, checks
 * that it looks like what `spec.from` names, and positions a record reader
 * at the first user to read.
 *
 * @param bytes The input, at offset 0.
 * @param spec The provider and its options.
 * @param options Label, resume point, warnings.
 * @returns The reader of mapped records.
 * @throws {InputError} The file is not the format `spec.from` names.
 *
 * @example Read an Auth0 export
 * ```ts ignore
 * const opened = await openProviderReader(bytes, { from: "auth0" }, { label: "the input" });
 * const batch = await opened.reader.next();
 * ```
 */
export async function openProviderReader(
  bytes: ByteSource,
  spec: ProviderSpec,
  options: ProviderReadOptions,
): Promise<OpenedProviderReader> {
  const head = await peekHead(bytes);
  const bom = stripBom(head);
  const text = new TextDecoder().decode(head.subarray(bom));
  const looks = sniff(text);
  const name = NAMES[spec.from];
  const refuse = (what: string) =>
    new InputError(`Cannot read ${options.label} as ${name}: it looks like ${what}`);
  const expected = spec.from === "package" ? "importer-csv" : spec.from;
  if (looks.kind !== expected && !isGeneric(looks)) throw refuse(describeLooks(looks));
  if (looks.kind === "empty") throw refuse(describeLooks(looks));
  const layout = layoutOf(spec.from, text, looks);
  if (typeof layout === "string") throw refuse(layout);

  const { resumeFrom } = options;
  const mapper = await mapperOf(spec, {
    fromStart: resumeFrom === undefined || resumeFrom.recordNumber === 0,
    onWarning: options.onWarning,
  });
  // A reader whose records may become several rows cannot seek into a
  // record: it reads from the start and skips the rows done.
  const resuming = resumeFrom !== undefined && resumeFrom.byteOffset > 0 && !mapper.expands;
  let lastNumber = 0;
  let columns: string[] = [];
  let start = bom;
  if (layout.kind === "csv-header") {
    const header = await readCsvHeader(bytes);
    columns = header?.columns ?? [];
    start = header?.end ?? bytes.position;
  } else if (!resuming) {
    await bytes.skipTo(bom);
  }
  if (resuming) {
    if (resumeFrom.byteOffset < start) {
      throw new RangeError(
        `Cannot resume at byte ${resumeFrom.byteOffset}: the records of ${options.label} start at byte ${start}`,
      );
    }
    await bytes.skipTo(resumeFrom.byteOffset);
    lastNumber = resumeFrom.recordNumber;
  }
  let inner: OpenedProviderReader["reader"];
  let format: InputFormat = "ndjson";
  switch (layout.kind) {
    case "ndjson":
      inner = new NdjsonRecordReader(bytes, lastNumber, {
        markPlain: mapper.keepsPlain,
        handOver: mapper.independent === true && mapper.expands !== true
          ? options.handOverLines
          : undefined,
      });
      break;
    case "json-list":
      inner = new JsonListRecordReader(
        bytes,
        { ...layout.shape, label: name },
        lastNumber,
        resuming ? { wrapped: layout.wrapped } : undefined,
      );
      break;
    case "csv-header":
      format = "csv";
      inner = new CsvRecordReader(bytes, columns, lastNumber, COMMA, true);
      break;
    case "csv-fixed":
      format = "csv";
      inner = new CsvRecordReader(bytes, layout.columns, lastNumber, COMMA, true);
      break;
  }
  const skipThrough = mapper.expands ? resumeFrom?.recordNumber ?? 0 : 0;
  const map = spec.from === "package" ? spec.map : withMembershipColumns(columns, spec.map);
  return {
    format,
    columns: [...mapper.columns],
    namesOrganizations: mapper.namesOrganizations === true ||
      Object.values(map ?? {}).some((column) => ORGANIZATION_COLUMNS.includes(column)),
    reader: new MappedReader(inner, mapper, map, skipThrough),
  };
}

/**
 * Reads lines of an NDJSON export that its reader handed over (see
 * {@linkcode ProviderReadOptions.handOverLines}) into the records that
 * reader would have given: the same reader on those bytes alone, and
 * another mapper of the same spec (an independent one).
 *
 * @param spec The provider and its options, as the export was opened with.
 * @returns A reader of handed-over lines: their bytes, the offset they
 *   start at in the export, the number of the line before them.
 *
 * @example Read lines handed over from the start of an export
 * ```ts
 * import { readHandedOverLines } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const read = await readHandedOverLines({ from: "auth0" });
 * const lines = new TextEncoder().encode('{"user_id":"auth0|1","email":"ada@example.com"}\n');
 * const [record] = await read(lines, 0, 0);
 * equal(record.fields.email, "ada@example.com");
 * equal(record.byteEnd, lines.length);
 * ```
 */
export async function readHandedOverLines(
  spec: ProviderSpec,
): Promise<(lines: Uint8Array, base: number, lastLineNumber: number) => Promise<SourceRecord[]>> {
  const mapper = await mapperOf(spec, { fromStart: false });
  const map = spec.from === "package" ? spec.map : withMembershipColumns([], spec.map);
  return async (lines, base, lastLineNumber) => {
    const inner = new NdjsonRecordReader(new BytesAt(lines, base), lastLineNumber, {
      markPlain: mapper.keepsPlain,
    });
    const reader = new MappedReader(inner, mapper, map, 0);
    const records: SourceRecord[] = [];
    for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
      for (const record of batch) records.push(record);
    }
    return records;
  };
}

/** Bytes that stood at `base` in an input, as a source. */
class BytesAt implements ByteSource {
  #bytes: Uint8Array | null;
  #position: number;

  constructor(bytes: Uint8Array, base: number) {
    this.#bytes = bytes.length === 0 ? null : bytes;
    this.#position = base;
  }

  get position(): number {
    return this.#position;
  }

  read(): Promise<Uint8Array | null> {
    const bytes = this.#bytes;
    this.#bytes = null;
    if (bytes !== null) this.#position += bytes.length;
    return Promise.resolve(bytes);
  }

  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#bytes = this.#bytes === null ? bytes : concatBytes(bytes, this.#bytes);
    this.#position -= bytes.length;
  }

  skipTo(): Promise<void> {
    return Promise.reject(new TypeError("Handed-over lines are read from their start"));
  }

  close(): void {
    this.#bytes = null;
  }
}

/** The importer columns that name a row's organization. */
const ORGANIZATION_COLUMNS: readonly string[] = ["org_id", "org_external_id"];

/** The importer's membership columns, read as they are from a CSV export that was given them. */
const MEMBERSHIP_COLUMNS: readonly string[] = [
  ...ORGANIZATION_COLUMNS,
  "org_name",
  "role_slug",
  "role_slugs",
];

/**
 * `--map` and the membership columns a CSV export's header has (the
 * source pages suggest adding them to a Clerk or Supabase export): each is
 * read into itself, unless `--map` fills that column from another.
 */
function withMembershipColumns(
  header: readonly string[],
  map: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  const targets = new Set(Object.values(map ?? {}));
  const added = header.filter((column) =>
    MEMBERSHIP_COLUMNS.includes(column) && !targets.has(column) && !Object.hasOwn(map ?? {}, column)
  );
  if (added.length === 0) return map;
  return { ...Object.fromEntries(added.map((column) => [column, column])), ...map };
}

function isGeneric(looks: Looks): boolean {
  return looks.kind === "json" || looks.kind === "csv" || looks.kind === "empty";
}

type Layout =
  | { kind: "ndjson" }
  | { kind: "json-list"; shape: Omit<JsonListShape, "label">; wrapped: boolean }
  | { kind: "csv-header" }
  | { kind: "csv-fixed"; columns: readonly string[] };

/** How the file is laid out, or what it looks like when it is not one this source writes. */
function layoutOf(from: ProviderSpec["from"], text: string, looks: Looks): Layout | string {
  const first = text.trimStart()[0];
  const json = first === "{" || first === "[";
  switch (from) {
    case "package":
      if (json) return describeLooks(looks);
      return { kind: "csv-header" };
    case "auth0":
      if (!json) return describeLooks(looks);
      if (isNdjson(text, ["users"])) return { kind: "ndjson" };
      return {
        kind: "json-list",
        shape: { keys: ["users"], topLevelList: true },
        wrapped: first === "{",
      };
    case "firebase":
      if (!json) return { kind: "csv-fixed", columns: FIREBASE_CSV_COLUMNS };
      if (first === "[" || isNdjson(text, ["users"])) {
        return 'JSON that is not {"users":[…]}: export with "firebase auth:export users.json"';
      }
      return {
        kind: "json-list",
        // The mapper reads Firebase's camelCase keys as the export writes them.
        shape: { keys: ["users"], topLevelList: false, keepKeys: true },
        wrapped: true,
      };
    case "clerk":
      if (json) return "JSON: export the users as CSV from the Clerk dashboard";
      return { kind: "csv-header" };
    case "supabase":
      if (!json) return { kind: "csv-header" };
      if (isNdjson(text, ["users"])) return { kind: "ndjson" };
      return {
        kind: "json-list",
        shape: { keys: ["users"], topLevelList: true },
        wrapped: first === "{",
      };
    case "cognito":
      if (!json || first === "[" || isNdjson(text, ["Users"])) {
        return `${
          describeLooks(looks)
        }, not {"Users":[…]}: save the output of "aws cognito-idp list-users"`;
      }
      return {
        kind: "json-list",
        shape: { keys: ["Users"], topLevelList: false },
        wrapped: true,
      };
    case "supertokens":
      if (!json || isNdjson(text, ["users"])) {
        return `${describeLooks(looks)}, not {"users":[…]}: save the bulk-import body`;
      }
      return {
        kind: "json-list",
        shape: { keys: ["users"], topLevelList: true },
        wrapped: first === "{",
      };
  }
}

/**
 * Whether a file that starts with `{` holds one object per line: its first
 * line parses as an object that does not hold the user list.
 */
function isNdjson(text: string, listKeys: readonly string[]): boolean {
  const trimmed = text.trimStart();
  if (trimmed[0] !== "{") return false;
  const newline = trimmed.indexOf("\n");
  if (newline === -1) return false;
  let value: unknown;
  try {
    value = JSON.parse(trimmed.slice(0, newline));
  } catch {
    return false;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return !listKeys.some((key) => Array.isArray((value as Record<string, unknown>)[key]));
}

async function mapperOf(
  spec: ProviderSpec,
  options: { fromStart: boolean; onWarning?(message: string): void },
): Promise<ProviderMapper> {
  switch (spec.from) {
    case "package":
      if (spec.packageDir === undefined) throw new TypeError("A package source needs packageDir");
      return await packageMapper(spec.packageDir, { onWarning: options.onWarning });
    case "auth0": {
      const hashes = spec.passwordHashes === undefined
        ? undefined
        : await Auth0PasswordHashes.read(spec.passwordHashes);
      return auth0Mapper({ hashes, ...options });
    }
    case "firebase":
      return firebaseMapper({
        convert: spec.hashConfig === undefined
          ? undefined
          : await firebaseConverter(spec.hashConfig),
        onWarning: options.onWarning,
      });
    case "clerk":
      return clerkMapper();
    case "supabase":
      return supabaseMapper();
    case "cognito":
      return cognitoMapper({ onWarning: options.onWarning });
    case "supertokens": {
      const tenant = spec.map?.tenant;
      return supertokensMapper({
        tenantColumn: tenant,
        tenantMapped: tenant !== undefined,
      });
    }
  }
}

/** Reads `--hash-config` and returns the conversion of each user's hash and salt. */
async function firebaseConverter(path: string): Promise<FirebaseHashConverter> {
  let config: FirebaseHashConfig;
  try {
    config = parseFirebaseHashConfig(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof FirebaseHashConfigError) {
      throw new InputError(`${error.message} (in --hash-config "${path}")`);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new InputError(
        `Cannot read --hash-config "${path}": there is no such file: check the path`,
      );
    }
    throw error;
  }
  return (passwordHash, salt) => {
    const result = firebaseScryptHash({ passwordHash, salt }, config);
    return result.ok ? { hash: result.value.hash } : { problem: result.problem.reason };
  };
}

/** Reads up to {@linkcode HEAD_BYTES} and gives them back. */
async function peekHead(bytes: ByteSource): Promise<Uint8Array> {
  let head = emptyBytes();
  while (head.length < HEAD_BYTES) {
    const chunk = await bytes.read();
    if (chunk === null) break;
    head = concatBytes(head, chunk);
  }
  bytes.unread(head);
  return head;
}

/** Maps the records of an inner reader, batch by batch. */
class MappedReader {
  readonly #inner: OpenedProviderReader["reader"];
  readonly #mapper: ProviderMapper;
  readonly #map: Array<[string[], string]>;
  readonly #skipThrough: number;
  /** Rows numbered so far, when the mapper expands records. */
  #rows = 0;
  #finished = false;

  constructor(
    inner: OpenedProviderReader["reader"],
    mapper: ProviderMapper,
    map: Readonly<Record<string, string>> | undefined,
    skipThrough: number,
  ) {
    this.#inner = inner;
    this.#mapper = mapper;
    // `tenant` says where SuperTokens tenants go; it names no field.
    this.#map = Object.entries(map ?? {}).filter(([from]) => !(mapper.expands && from === "tenant"))
      .map(([from, to]) => [from.split("."), to]);
    this.#skipThrough = skipThrough;
  }

  async next(): Promise<SourceRecord[] | null> {
    for (;;) {
      const batch = await this.#inner.next();
      if (batch === null) {
        if (!this.#finished) {
          this.#finished = true;
          this.#mapper.finish?.();
        }
        return null;
      }
      const rows: SourceRecord[] = [];
      for (const record of batch) this.#mapOne(record, rows);
      if (rows.length > 0) return rows;
    }
  }

  async count(): Promise<number> {
    if (!this.#mapper.expands) return await this.#inner.count();
    let count = 0;
    for (;;) {
      const rows = await this.next();
      if (rows === null) return count;
      count += rows.length;
    }
  }

  #mapOne(record: SourceRecord, rows: SourceRecord[]): void {
    if (this.#mapper.expands) {
      // Rows are numbered in order, so messages name the row, not the user.
      const number = this.#rows + 1;
      const parseError = record.parseError?.replace(
        /^Cannot parse row \d+:/,
        `Cannot parse row ${number}:`,
      );
      record = { ...record, recordNumber: number, ...(parseError ? { parseError } : {}) };
    }
    const mapped = record.parseError !== undefined ? record : this.#mapper.map(record);
    if (!Array.isArray(mapped) && !this.#mapper.expands) {
      // One record, one row: the common case, without a list per record.
      if (mapped.parseError === undefined) {
        // `--map` may write over the metadata text: validation then parses it.
        if (this.#map.length > 0) delete mapped.checkedMetadata;
        this.#applyMap(record, mapped);
        if (record.plain === true && this.#mapper.keepsPlain === true) mapped.plain = true;
        if (this.#mapper.tidy === true && this.#map.length === 0) mapped.tidy = true;
      }
      rows.push(mapped);
      return;
    }
    const list = Array.isArray(mapped) ? mapped : [mapped];
    for (const [index, out] of list.entries()) {
      if (out.parseError === undefined) {
        if (this.#map.length > 0) delete out.checkedMetadata;
        this.#applyMap(record, out);
      }
      if (this.#mapper.expands) {
        // Rows are numbered in order; all but a record's last end inside it.
        out.recordNumber = ++this.#rows;
        if (index < list.length - 1) out.byteEnd = record.byteEnd - 1;
        if (out.recordNumber <= this.#skipThrough) continue;
      }
      rows.push(out);
    }
  }

  /** Copies the `--map` fields of the export's record onto a mapped row. */
  #applyMap(record: SourceRecord, out: SourceRecord): void {
    for (const [path, column] of this.#map) {
      const value = valueAt(record.fields, path);
      if (value !== undefined && value !== null && value !== "") out.fields[column] = value;
    }
  }
}

/**
 * The value at a dotted path, keys compared in any case (`--map` lower-cases
 * them; a Firebase user keeps its camelCase keys).
 */
function valueAt(fields: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = fields;
  for (let i = 0; i < path.length; i++) {
    if (typeof value !== "object" || value === null) return undefined;
    const object = value as Record<string, unknown>;
    if (i === 0 && Object.hasOwn(object, path[0])) {
      value = object[path[0]];
      continue;
    }
    const key = Object.keys(object).find((name) => name.toLowerCase() === path[i]);
    value = key === undefined ? undefined : object[key];
  }
  return value;
}
