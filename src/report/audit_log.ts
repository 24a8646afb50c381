/**
 * The audit log of a job: every write the job made to WorkOS (user created
 * or updated, organization created, membership created, invitation sent,
 * user deleted, roles of a membership changed, factor enrolled, role or
 * permission created), appended as the job goes, in an owner-only file.
 * `undo` reads it back, newest first, to take the job back.
 *
 * The file is JSON lines in the compact format (docs/audit-log.md): one
 * line per row holds every write of that row, `{"t", "r", "e", "u", "w"}`,
 * with what the row's writes share (time, row, email, user) said once and
 * each write in `w` under short keys; a file written by an earlier build
 * (one entry a line, long keys) reads the same, and the two may mix.
 *
 * A log whose path ends in `.gz` (a job's own `audit.jsonl.gz`) holds the
 * same lines gzip-compressed, one gzip member per write (a committed batch):
 * a quarter of the size, and still one gzip file for `zcat` and `zgrep`.
 * Whether a log is compressed is read from its first bytes, so a file keeps
 * the form it was started in.
 *
 * Entries never hold a password or a password hash: they are built field by
 * field from a fixed list, whatever the caller passes.
 *
 * @example Write entries, then read them newest first
 * ```ts
 * import { openAuditLog, readAuditLogBackward } from "./audit_log.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const log = await openAuditLog(path);
 * await log.write([
 *   { timestamp: "2024-01-01T00:00:00.000Z", action: "user_created", id: "user_1", email: "a@b.co", row: 1 },
 *   { timestamp: "2024-01-01T00:00:01.000Z", action: "membership_created", id: "om_1", userId: "user_1", organizationId: "org_1", row: 1 },
 * ]);
 * await log.close();
 * const ids = [];
 * for await (const entry of readAuditLogBackward(path)) ids.push(entry.id);
 * deepEqual(ids, ["om_1", "user_1"]);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */

import { OrderedFileWriter, writeAll } from "./_ordered_file_writer.ts";
import {
  decompressedMembers,
  gunzipMember,
  gzipMember,
  isGzip,
  MEMBER_HEADER_BYTES,
  memberHeader,
  readAt,
  scanMembers,
} from "./_gzip_members.ts";

/** The writes an audit log records. */
export type AuditAction =
  | "user_created"
  | "user_updated"
  | "organization_created"
  | "membership_created"
  | "invitation_sent"
  | "user_deleted"
  | "membership_roles_updated"
  | "totp_factor_enrolled"
  | "role_created"
  | "permission_created";

const ACTIONS: ReadonlySet<string> = new Set([
  "user_created",
  "user_updated",
  "organization_created",
  "membership_created",
  "invitation_sent",
  "user_deleted",
  "membership_roles_updated",
  "totp_factor_enrolled",
  "role_created",
  "permission_created",
]);

/** Profile values of a user, as an update found or left them (`null`: empty). */
export interface AuditUserValues {
  /** First name. */
  firstName?: string | null;
  /** Last name. */
  lastName?: string | null;
  /** Whether the email counts as verified. */
  emailVerified?: boolean;
  /** Your identifier of the user. */
  externalId?: string | null;
  /** The user's preferred locale. */
  locale?: string | null;
  /** Metadata keys (`null`: the key was absent). */
  metadata?: Record<string, string | null>;
}

/** One write a job made. */
export interface AuditEntry {
  /** ISO 8601 time the write was recorded. */
  timestamp: string;
  /** What was written. */
  action: AuditAction;
  /**
   * The WorkOS id of what was written (user, organization, membership,
   * invitation, factor, role); a permission's slug for `permission_created`.
   */
  id: string;
  /** The user's (or invitee's) email. */
  email?: string;
  /** The organization (of a membership or invitation; the organization itself when created). */
  organizationId?: string;
  /** The organization's external id, when known. */
  organizationExternalId?: string;
  /** The member, for `membership_created`; the user, for `totp_factor_enrolled`. */
  userId?: string;
  /** For `membership_roles_updated`: the roles before the update (undo puts them back). */
  previousRoleSlugs?: string[];
  /** For `membership_roles_updated`: the roles the update set. */
  roleSlugs?: string[];
  /** The role, for memberships, invitations and `role_created`. */
  roleSlug?: string;
  /** The input row that caused the write. */
  row?: number;
  /** `X-Request-ID` of the request that made the write. */
  requestId?: string;
  /** For `user_updated`: the values before the update (`null`: the field was empty). */
  previous?: AuditUserValues;
  /** For `user_updated`: the values the update set. */
  changes?: AuditUserValues;
  /**
   * Counted as made by the job only because WorkOS made it while a crash had
   * cut a session of the job off (no request of its own to compare with):
   * someone else may have made it then. `undo` lists it and leaves it alone
   * unless given `--include-uncertain`.
   */
  uncertain?: boolean;
}

const USER_VALUE_FIELDS = [
  "firstName",
  "lastName",
  "emailVerified",
  "externalId",
  "locale",
] as const;

function cleanValues(values: AuditUserValues | undefined): AuditUserValues | undefined {
  if (values === undefined || values === null || typeof values !== "object") return undefined;
  const clean: AuditUserValues = {};
  for (const field of USER_VALUE_FIELDS) {
    const value = values[field];
    if (value === undefined) continue;
    (clean as Record<string, unknown>)[field] = value;
  }
  if (values.metadata !== undefined && values.metadata !== null) {
    const metadata: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(values.metadata)) {
      if (typeof value === "string" || value === null) metadata[key] = value;
    }
    clean.metadata = metadata;
  }
  return clean;
}

/**
 * An entry with only the known fields, in a fixed order: whatever else the
 * caller's object holds (a password, a row) never reaches the file.
 *
 * @param entry The entry to write.
 * @returns A plain object for `JSON.stringify`.
 *
 * @example Unknown fields are dropped
 * ```ts
 * import { auditRecord } from "./audit_log.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const entry = {
 *   timestamp: "2024-01-01T00:00:00.000Z",
 *   action: "user_created" as const,
 *   id: "user_1",
 *   password: "hunter2",
 * };
 * deepEqual(auditRecord(entry), {
 *   timestamp: "2024-01-01T00:00:00.000Z",
 *   action: "user_created",
 *   id: "user_1",
 * });
 * ```
 */
export function auditRecord(entry: AuditEntry): Record<string, unknown> {
  const record: Record<string, unknown> = {
    timestamp: entry.timestamp,
    action: entry.action,
    id: entry.id,
  };
  if (entry.email !== undefined) record.email = entry.email;
  if (entry.organizationId !== undefined) record.organizationId = entry.organizationId;
  if (entry.organizationExternalId !== undefined) {
    record.organizationExternalId = entry.organizationExternalId;
  }
  if (entry.userId !== undefined) record.userId = entry.userId;
  if (entry.roleSlug !== undefined) record.roleSlug = entry.roleSlug;
  if (entry.previousRoleSlugs !== undefined) {
    record.previousRoleSlugs = slugList(entry.previousRoleSlugs);
  }
  if (entry.roleSlugs !== undefined) record.roleSlugs = slugList(entry.roleSlugs);
  if (entry.row !== undefined) record.row = entry.row;
  if (entry.requestId !== undefined) record.requestId = entry.requestId;
  const previous = cleanValues(entry.previous);
  if (previous) record.previous = previous;
  const changes = cleanValues(entry.changes);
  if (changes) record.changes = changes;
  if (entry.uncertain === true) record.uncertain = true;
  return record;
}

/** The short code of each action in the compact format. */
const CODES: Readonly<Record<AuditAction, string>> = {
  user_created: "uc",
  user_updated: "uu",
  user_deleted: "ud",
  organization_created: "oc",
  membership_created: "mc",
  membership_roles_updated: "mr",
  totp_factor_enrolled: "fe",
  invitation_sent: "is",
  role_created: "rc",
  permission_created: "pc",
};
const ACTION_OF_CODE: ReadonlyMap<string, AuditAction> = new Map(
  Object.entries(CODES).map(([action, code]) => [code, action as AuditAction]),
);
/** Actions whose id is a user's: left out when it is the line's user. */
const USER_ACTIONS: ReadonlySet<string> = new Set(["user_created", "user_updated", "user_deleted"]);
/** Actions that name their user in `userId`: left out when it is the line's user. */
const MEMBER_ACTIONS: ReadonlySet<string> = new Set([
  "membership_created",
  "membership_roles_updated",
  "totp_factor_enrolled",
]);

function userOfEntry(entry: AuditEntry): string | undefined {
  return USER_ACTIONS.has(entry.action) ? entry.id : entry.userId;
}

function sameContext(a: AuditEntry, b: AuditEntry): boolean {
  return a.timestamp === b.timestamp && a.row === b.row && a.email === b.email;
}

function slugList(list: unknown): string[] | undefined {
  return Array.isArray(list) ? list.filter((slug) => typeof slug === "string") : undefined;
}

/**
 * One write of a compact line, taken straight from its entry field by field
 * (what {@linkcode auditRecord} keeps, under short keys): no record is built
 * in between, since a job writes a line for every row it imports.
 */
function compactWrite(entry: AuditEntry, user: string | undefined): Record<string, unknown> {
  const action = entry.action;
  const write: Record<string, unknown> = { a: CODES[action] };
  if (!(USER_ACTIONS.has(action) && entry.id === user)) write.i = entry.id;
  const organizationId = entry.organizationId;
  if (action === "organization_created") {
    // An organization is its own organization: said only when it is not.
    if (organizationId !== entry.id) write.o = organizationId ?? null;
  } else if (organizationId !== undefined) write.o = organizationId;
  if (entry.organizationExternalId !== undefined) write.x = entry.organizationExternalId;
  if (MEMBER_ACTIONS.has(action)) {
    if (entry.userId !== user) write.u = entry.userId ?? null;
  } else if (entry.userId !== undefined) write.u = entry.userId;
  if (entry.roleSlug !== undefined) write.s = entry.roleSlug;
  if (entry.previousRoleSlugs !== undefined) write.ps = slugList(entry.previousRoleSlugs);
  if (entry.roleSlugs !== undefined) write.rs = slugList(entry.roleSlugs);
  if (entry.requestId !== undefined) write.q = entry.requestId;
  if (entry.previous !== undefined) {
    const previous = cleanValues(entry.previous);
    if (previous) write.p = previous;
  }
  if (entry.changes !== undefined) {
    const changes = cleanValues(entry.changes);
    if (changes) write.c = changes;
  }
  if (entry.uncertain === true) write.n = 1;
  return write;
}

/**
 * One line of the compact format for entries `start` to `end` (not
 * included), which share their time, row and email (a row's writes): those,
 * and the user they are about, are said once; each write keeps only what is
 * its own.
 */
function compactLine(
  entries: readonly AuditEntry[],
  start: number,
  end: number,
): Record<string, unknown> {
  const first = entries[start];
  const line: Record<string, unknown> = { t: first.timestamp };
  if (first.row !== undefined) line.r = first.row;
  if (first.email !== undefined) line.e = first.email;
  let user: string | undefined;
  for (let i = start; i < end && user === undefined; i++) user = userOfEntry(entries[i]);
  if (user !== undefined) line.u = user;
  const writes: Array<Record<string, unknown>> = [];
  for (let i = start; i < end; i++) writes.push(compactWrite(entries[i], user));
  line.w = writes;
  return line;
}

/**
 * Entries as the lines of an audit file (the compact format): consecutive
 * entries of the same time, row and email share a line.
 *
 * @param entries The entries, in the order they happened.
 * @returns The lines, each ending in a line break.
 *
 * @example A row's two writes take one line
 * ```ts
 * import { formatAuditLines } from "./audit_log.ts";
 * const text = formatAuditLines([
 *   { timestamp: "2024-01-01T00:00:00.000Z", action: "user_created", id: "user_1", email: "a@b.co", row: 1 },
 *   { timestamp: "2024-01-01T00:00:00.000Z", action: "membership_created", id: "om_1", email: "a@b.co", userId: "user_1", organizationId: "org_1", row: 1 },
 * ]);
 * console.log(text.trimEnd());
 * // {"t":"2024-01-01T00:00:00.000Z","r":1,"e":"a@b.co","u":"user_1","w":[{"a":"uc"},{"a":"mc","i":"om_1","o":"org_1"}]}
 * ```
 */
export function formatAuditLines(entries: readonly AuditEntry[]): string {
  let text = "";
  for (let start = 0; start < entries.length;) {
    let end = start + 1;
    while (end < entries.length && sameContext(entries[start], entries[end])) end++;
    text += JSON.stringify(compactLine(entries, start, end)) + "\n";
    start = end;
  }
  return text;
}

function isSlugList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((slug) => typeof slug === "string");
}

function isValues(value: unknown): value is AuditUserValues {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The entries of a compact line; `undefined` when it is not one. */
function entriesOfCompactLine(line: Record<string, unknown>): AuditEntry[] | undefined {
  const { t: timestamp, r: row, e: email, u: user, w: writes } = line;
  if (typeof timestamp !== "string" || !Array.isArray(writes) || writes.length === 0) {
    return undefined;
  }
  if (row !== undefined && typeof row !== "number") return undefined;
  if (email !== undefined && typeof email !== "string") return undefined;
  if (user !== undefined && typeof user !== "string") return undefined;
  const entries: AuditEntry[] = [];
  for (const write of writes) {
    if (typeof write !== "object" || write === null || Array.isArray(write)) return undefined;
    const fields = write as Record<string, unknown>;
    const action = ACTION_OF_CODE.get(fields.a as string);
    if (action === undefined) return undefined;
    const id = fields.i ?? (USER_ACTIONS.has(action) ? user : undefined);
    if (typeof id !== "string") return undefined;
    const entry: AuditEntry = { timestamp, action, id };
    if (email !== undefined) entry.email = email;
    const organizationId = action === "organization_created" && !("o" in fields) ? id : fields.o;
    if (typeof organizationId === "string") entry.organizationId = organizationId;
    if (typeof fields.x === "string") entry.organizationExternalId = fields.x;
    const userId = MEMBER_ACTIONS.has(action) && !("u" in fields) ? user : fields.u;
    if (typeof userId === "string") entry.userId = userId;
    if (typeof fields.s === "string") entry.roleSlug = fields.s;
    if (isSlugList(fields.ps)) entry.previousRoleSlugs = fields.ps;
    if (isSlugList(fields.rs)) entry.roleSlugs = fields.rs;
    if (row !== undefined) entry.row = row;
    if (typeof fields.q === "string") entry.requestId = fields.q;
    if (isValues(fields.p)) entry.previous = fields.p;
    if (isValues(fields.c)) entry.changes = fields.c;
    if (fields.n === 1) entry.uncertain = true;
    entries.push(entry);
  }
  return entries;
}

/** Appends entries to an audit file. */
export interface AuditLog {
  /**
   * Appends entries. Calls are written in call order even when they overlap;
   * await the promise to know they are in the file.
   */
  write(entries: readonly AuditEntry[]): Promise<void>;
  /** Waits until every entry written so far is in the file. */
  flush(): Promise<void>;
  /** Flushes and closes the file. Safe to call twice. */
  close(): Promise<void>;
  /** The file's path. */
  readonly path: string;
  /** Entries written through this log (not counting the file's earlier content). */
  readonly count: number;
  /** Same as {@linkcode AuditLog.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

class FileAuditLog implements AuditLog {
  readonly path: string;
  readonly #out: OrderedFileWriter;
  readonly #encoder = new TextEncoder();
  /** Entries in the file already that rows running again would write twice. */
  readonly #already: Set<string>;
  /** A compressed log: the length of its last member (0: none yet); plain: `undefined`. */
  #lastMember: Promise<number> | undefined;
  /** Settles once the last write (its compression, then its bytes) has ended. */
  #tail: Promise<void> = Promise.resolve();
  #count = 0;
  #closed = false;

  constructor(
    path: string,
    file: Deno.FsFile,
    already: Set<string>,
    lastMember: number | undefined,
  ) {
    this.path = path;
    this.#out = new OrderedFileWriter(file);
    this.#already = already;
    this.#lastMember = lastMember === undefined ? undefined : Promise.resolve(lastMember);
  }

  get count(): number {
    return this.#count;
  }

  write(entries: readonly AuditEntry[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(`Cannot write to audit log "${this.path}": the file is closed`),
      );
    }
    if (this.#already.size > 0) {
      entries = entries.filter((entry) => !this.#already.delete(entryKey(entry)));
    }
    if (entries.length === 0) return this.flush();
    // Serialized now, so that overlapping calls keep their order in the file.
    const bytes = this.#encoder.encode(formatAuditLines(entries));
    this.#count += entries.length;
    if (this.#lastMember === undefined) return this.#out.write(bytes);
    // One member a call, compressed after the one before it (whose length its
    // header names) and so handed to the writer in call order; whole on disk
    // once the call's promise resolves.
    const member = this.#lastMember.then((previous) => gzipMember(bytes, previous));
    this.#lastMember = member.then((written) => written.length);
    const done = member.then((written) => this.#out.write(written));
    this.#tail = done.catch(() => {});
    return done;
  }

  async flush(): Promise<void> {
    await this.#tail;
    await this.#out.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.#out.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function entryKey(entry: AuditEntry): string {
  return `${entry.action}\u0000${entry.id}`;
}

/** Options for {@linkcode openAuditLog}. */
export interface OpenAuditLogOptions {
  /**
   * Where the entries of rows that run again begin (a resumed job's last
   * committed length): an entry found past it is not written a second time.
   */
  writtenAfter?: number;
}

/**
 * Opens an audit log for appending, creating it owner-only (0o600) when
 * missing. An audit log is never truncated: a resumed job, or a second run
 * with the same `--audit-out`, adds to it. A new file whose path ends in
 * `.gz` is written compressed (gzip members); a file that exists keeps its
 * form, whatever its name.
 *
 * @param path The file.
 * @param options Where entries that must not be written twice begin.
 * @returns The open log; close it when done.
 *
 * @example Usage
 * ```ts
 * import { openAuditLog } from "./audit_log.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * {
 *   await using log = await openAuditLog(path);
 *   await log.write([{ timestamp: new Date().toISOString(), action: "user_created", id: "user_1" }]);
 *   console.log(log.count); // 1
 * }
 * await Deno.remove(path);
 * ```
 */
export async function openAuditLog(
  path: string,
  options: OpenAuditLogOptions = {},
): Promise<AuditLog> {
  const file = await Deno.open(path, { read: true, create: true, append: true, mode: 0o600 });
  const already = new Set<string>();
  let lastMember: number | undefined;
  try {
    const size = (await file.stat()).size;
    const from = options.writtenAfter;
    const compressed = size === 0 ? path.endsWith(".gz") : isGzip(await readAt(file, 0, 2));
    if (compressed) {
      // A member torn by a crash is cut off (it holds no whole entry, and
      // `zcat` would stop at it); the rows it held run again.
      const tail: Array<[number, number]> = [];
      const scan = await scanMembers(file, size, (start, length) => {
        if (from !== undefined && from >= 0 && start + length > from) tail.push([start, length]);
      });
      if (scan.end < size) await file.truncate(scan.end);
      lastMember = scan.lastLength;
      for (const [start, length] of tail) {
        for (const entry of entriesOfText(await gunzipMember(await readAt(file, start, length)))) {
          already.add(entryKey(entry));
        }
      }
    } else {
      // A torn last line (a crash mid-write) must not glue onto the next entry.
      if (size > 0) {
        const last = await readAt(file, size - 1, 1);
        if (last[0] !== 0x0a) await writeAll(file, new Uint8Array([0x0a]));
      }
      if (from !== undefined && from >= 0 && size > from) {
        // Only the rows in flight when a session stopped: a batch or two.
        for (const entry of entriesOfText(await readAt(file, from, size - from))) {
          already.add(entryKey(entry));
        }
      }
    }
  } catch (error) {
    file.close();
    throw error;
  }
  return new FileAuditLog(path, file, already, lastMember);
}

function entriesOfText(bytes: Uint8Array): AuditEntry[] {
  return new TextDecoder().decode(bytes).split("\n").flatMap((line) => parseAuditLine(line) ?? []);
}

/**
 * Reads one line of an audit file: a compact line (one row's writes), or a
 * line of the format before it (one entry, long keys).
 *
 * @param line The line, without its line break.
 * @returns The entries, in the order they happened, or `undefined` when the
 *   line is blank or not an audit line.
 *
 * @example Usage
 * ```ts
 * import { parseAuditLine } from "./audit_log.ts";
 * const row = parseAuditLine('{"t":"2024-01-01T00:00:00Z","r":3,"e":"a@b.co","u":"user_1","w":[{"a":"uc"}]}');
 * console.log(row?.[0].action, row?.[0].id, row?.[0].row); // user_created user_1 3
 * const old = parseAuditLine('{"timestamp":"2024-01-01T00:00:00Z","action":"user_created","id":"user_1"}');
 * console.log(old?.[0].id); // user_1
 * console.log(parseAuditLine("{torn")); // undefined
 * ```
 */
export function parseAuditLine(line: string): AuditEntry[] | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const entry = value as Record<string, unknown>;
  if ("w" in entry) return entriesOfCompactLine(entry);
  if (typeof entry.action !== "string" || !ACTIONS.has(entry.action)) return undefined;
  if (typeof entry.id !== "string" || typeof entry.timestamp !== "string") return undefined;
  return [entry as unknown as AuditEntry];
}

/**
 * Reads a whole audit file, plain or compressed, oldest entry first (lines
 * that are not entries, such as one torn by a crash, are skipped, and so is
 * a member torn by one). For a log of any size, read it newest first with
 * {@linkcode readAuditLogBackward}.
 *
 * @param path The audit file.
 * @returns The entries.
 *
 * @example Usage
 * ```ts
 * import { openAuditLog, readAuditLog } from "./audit_log.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl.gz" });
 * {
 *   await using log = await openAuditLog(path);
 *   await log.write([{ timestamp: new Date().toISOString(), action: "user_created", id: "user_1" }]);
 *   await log.flush();
 *   console.log((await readAuditLog(path)).map((entry) => entry.id)); // ["user_1"]
 * }
 * await Deno.remove(path);
 * ```
 */
export async function readAuditLog(path: string): Promise<AuditEntry[]> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  if (!isGzip(await readAt(file, 0, 2))) return entriesOfText(await readAt(file, 0, size));
  const entries: AuditEntry[] = [];
  for await (const text of decompressedMembers(file, size)) entries.push(...entriesOfText(text));
  return entries;
}

/**
 * The lines of an audit file, plain or compressed (a line holds a row's
 * writes): a cheap total for progress, without parsing a line.
 *
 * @param path The audit file.
 * @returns How many lines it has (a compressed log's torn member not counted).
 *
 * @example Usage
 * ```ts
 * import { countAuditLines, openAuditLog } from "./audit_log.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl.gz" });
 * {
 *   await using log = await openAuditLog(path);
 *   await log.write([{ timestamp: new Date().toISOString(), action: "user_created", id: "user_1" }]);
 *   await log.flush();
 *   console.log(await countAuditLines(path)); // 1
 * }
 * await Deno.remove(path);
 * ```
 */
export async function countAuditLines(path: string): Promise<number> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const count = (bytes: Uint8Array): number => {
    let lines = 0;
    for (const byte of bytes) if (byte === 0x0a) lines++;
    return lines;
  };
  if (!isGzip(await readAt(file, 0, 2))) {
    let lines = 0;
    for (let start = 0; start < size; start += 1 << 20) {
      lines += count(await readAt(file, start, Math.min(1 << 20, size - start)));
    }
    return lines;
  }
  let lines = 0;
  for await (const text of decompressedMembers(file, size)) lines += count(text);
  return lines;
}

/** Options for {@linkcode readAuditLogBackward}. */
export interface ReadAuditLogOptions {
  /** Bytes read at a time from a plain log (64 KiB); a compressed one is read a member at a time. */
  chunkSize?: number;
  /**
   * Called for each line that is not an entry (e.g. torn by a crash), and
   * for a compressed log's torn or damaged part (with a line describing it).
   */
  onInvalidLine?(line: string): void;
}

/**
 * Reads an audit file newest entry first, a chunk at a time from its end (a
 * compressed log: a member at a time, found from their headers), so that
 * memory stays flat however long the job was.
 *
 * @param path The audit file, plain or compressed.
 * @param options Chunk size and a callback for lines that are not entries.
 * @returns The entries, newest first.
 *
 * @example Usage
 * ```ts ignore
 * for await (const entry of readAuditLogBackward(".workos-checkpoints/job-1/audit.jsonl.gz")) {
 *   console.log(entry.action, entry.id);
 * }
 * ```
 */
export async function* readAuditLogBackward(
  path: string,
  options: ReadAuditLogOptions = {},
): AsyncGenerator<AuditEntry> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  if (isGzip(await readAt(file, 0, 2))) {
    yield* readMembersBackward(file, size, options);
    return;
  }
  const chunkSize = options.chunkSize ?? 65_536;
  const decoder = new TextDecoder();
  let position = size;
  // Bytes of the line that begins before the chunk just read.
  let carry = new Uint8Array(0);
  // A line's entries, newest first.
  const emit = (bytes: Uint8Array): AuditEntry[] => {
    const line = decoder.decode(bytes);
    const entries = parseAuditLine(line);
    if (entries === undefined && line.trim() !== "") options.onInvalidLine?.(line);
    return entries?.reverse() ?? [];
  };
  while (position > 0) {
    const start = Math.max(0, position - chunkSize);
    const chunk = new Uint8Array(position - start + carry.length);
    chunk.set(await readAt(file, start, position - start));
    chunk.set(carry, position - start);
    position = start;
    // Lines end at "\n" bytes, which never occur inside a UTF-8 character.
    let end = chunk.length;
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== 0x0a) continue;
      if (end > i + 1) yield* emit(chunk.subarray(i + 1, end));
      end = i;
    }
    carry = chunk.slice(0, end);
  }
  if (carry.length > 0) yield* emit(carry);
}

/**
 * A compressed log, newest first: a forward pass over the member headers
 * finds the last whole member, then each member's header names the length
 * of the one before it. One member (one batch) in memory at a time.
 */
async function* readMembersBackward(
  file: Deno.FsFile,
  size: number,
  options: ReadAuditLogOptions,
): AsyncGenerator<AuditEntry> {
  const scan = await scanMembers(file, size);
  if (scan.end < size) {
    options.onInvalidLine?.(
      `${size - scan.end} bytes at byte ${scan.end} are not a whole gzip member of this log`,
    );
  }
  let start = scan.lastStart;
  let length = scan.lastLength;
  while (length > 0) {
    const member = await readAt(file, start, length);
    let text: Uint8Array | undefined;
    try {
      text = await gunzipMember(member);
    } catch {
      options.onInvalidLine?.(`the gzip member at byte ${start} is damaged`);
    }
    if (text !== undefined) {
      const lines = new TextDecoder().decode(text).split("\n");
      for (let i = lines.length - 1; i >= 0; i--) {
        const entries = parseAuditLine(lines[i]);
        if (entries === undefined && lines[i].trim() !== "") options.onInvalidLine?.(lines[i]);
        if (entries !== undefined) yield* entries.reverse();
      }
    }
    const previous = memberHeader(member.subarray(0, MEMBER_HEADER_BYTES))?.previous ?? 0;
    start -= previous;
    length = previous;
  }
}
