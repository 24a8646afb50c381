// The main thread's side of the read worker: a large provider export is
// read, parsed and mapped in a worker on the second core (_read_worker.ts
// runs the very reader `openReader` runs in-thread), and the main thread
// takes its batches of mapped records, so that it only validates, plans and
// writes. What comes out is what the in-thread reader gives: the same
// records, row numbers, byte offsets, row errors and warnings, in order.
// Batches cross in the compact form of _batch_codec.ts, a few to a message,
// at most READ_AHEAD_MESSAGES ahead of the batch being taken, so memory
// stays flat. When the main thread finds no batch to take, it says so, and
// the worker hands it the whole lines of its next chunk of an NDJSON export
// as they are, to parse and map here (HandOver): parsing is most of an
// export's cost, and a main thread that would only wait parses instead.

import { ExitCode, InputError, UsageError, UserError } from "../../errors.ts";
import type { InputFormat, SourceRecord } from "../../types.ts";
import type { ByteSource } from "../_byte_source.ts";
import type { OpenInputOptions } from "../input_options.ts";
import type { ProviderSpec } from "./mod.ts";
import { decodeBatch, type EncodedBatch } from "./_batch_codec.ts";
import { readHandedOverLines } from "./mod.ts";

/**
 * Exports smaller than this are read in-thread: a worker costs its start
 * and the reader's modules loaded again in it (about 0.1 s of CPU), and
 * about 30 MiB of memory for its heap, while a third of 32 MiB's parsing
 * (75,000 users, 0.3 s) is about what moving it off the main thread saves.
 * (20,000 users, 8.6 MB: 0.9 s in a worker, 0.5 s in-thread, under load.)
 */
export const WORKER_MIN_BYTES = 32 * 1024 * 1024;

/**
 * When the worker hands a chunk's lines to the main thread to read itself
 * (an NDJSON export whose mapper is independent, such as Auth0's without a
 * password hash file): `when-idle`, the next chunk after the main thread
 * found no batch ready (it would only wait: parsing is most of an export's
 * cost, and the two threads' shares of it differ from run to run and with
 * the machine's load); `every-other` chunk (tests); `never`.
 */
export type HandOver = "when-idle" | "every-other" | "never";

/**
 * The size from which an export is read in a worker, as tests set it:
 * 0 reads every export file in one, `Infinity` none; and when lines are
 * handed back to the main thread.
 */
export const readWorkerSettings: { minBytes: number; handOver: HandOver; module: URL } = {
  minBytes: WORKER_MIN_BYTES,
  handOver: "when-idle",
  module: new URL("./_read_worker.ts", import.meta.url),
};

/**
 * How many exports this process has opened in a worker, and how many times
 * it read lines the worker handed over (tests read them).
 */
export const readWorkerStats: { opened: number; handedOver: number } = {
  opened: 0,
  handedOver: 0,
};

/**
 * Batches (of one 128 KiB chunk's users each) the worker sends in one
 * message: each message costs both threads a fixed price (about as much as
 * encoding a few dozen users), and the main thread still takes them one
 * batch at a time.
 */
export const BATCHES_PER_MESSAGE = 4;

/** Messages of batches the worker may have sent ahead of the batch the reader takes. */
export const READ_AHEAD_MESSAGES = 3;

/**
 * `WORKOS_IMPORTER_READ_WORKER`: `off` reads every export in-thread, `on`
 * reads every export file in a worker whatever its size (tests use it).
 */
export const READ_WORKER_VARIABLE = "WORKOS_IMPORTER_READ_WORKER";

/** What the main thread tells the worker. */
export type ToWorker =
  | { type: "open"; path: string; options: WorkerOpenOptions; handOver: HandOver }
  | { type: "pull"; messages: number }
  /** The main thread has no batch to take: the worker hands it the next lines. */
  | { type: "idle" }
  | { type: "count" };

/** Lines of an NDJSON export the worker handed to the main thread to read. */
export interface HandedOverLines {
  /** Their bytes, whole lines (moved, not copied). */
  lines: Uint8Array<ArrayBuffer>;
  /** Where they start in the export. */
  base: number;
  /** The number of the line before them. */
  lastLineNumber: number;
}

/** What the worker tells the main thread. */
export type FromWorker =
  | { type: "opened"; format: InputFormat; columns: string[]; namesOrganizations?: boolean }
  | { type: "batch"; batches: Array<EncodedBatch | HandedOverLines> }
  | { type: "warning"; message: string }
  | { type: "end" }
  | { type: "counted"; count: number }
  | { type: "error"; error: ErrorDescription };

/** The options of `openReader` that can cross to a worker (no callback, no signal). */
export type WorkerOpenOptions = Omit<OpenInputOptions, "signal" | "onWarning">;

/** An error thrown in the worker, as it crosses to the main thread. */
export interface ErrorDescription {
  /** The class to throw it again as. */
  kind: "InputError" | "UsageError" | "UserError" | "RangeError" | "TypeError" | "Deno" | "Error";
  /** The error's name (for `Deno`, the name of its class in `Deno.errors`). */
  name: string;
  message: string;
  exitCode?: number;
}

/**
 * Whether to read an export in a worker: a provider's (not a migration
 * package's) file of at least {@linkcode WORKER_MIN_BYTES}, in a run that may
 * read any file, on a machine of two cores or more. A worker loads its
 * modules from disk with the run's own permissions, so a run that may read
 * only some files reads in-thread, and so does a run without read
 * permission for the file, which then gets the in-thread reader's one line
 * about it.
 *
 * @example A CSV is never read in a worker
 * ```ts
 * import { wantsReadWorker } from "./_worker_client.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(wantsReadWorker("users.csv", { format: "csv" }), false);
 * ```
 */
export function wantsReadWorker(path: string, options: OpenInputOptions): boolean {
  const provider = options.provider;
  if (provider === undefined || provider.from === "package" || options.firstRecordsOnly) {
    return false;
  }
  if (typeof Worker !== "function") return false;
  const setting = workerSetting();
  if (setting === "off") return false;
  if (Deno.permissions.querySync({ name: "read" }).state !== "granted") return false;
  if (setting === "on") return true;
  if (readWorkerSettings.minBytes === Infinity) return false;
  // One core has no second one to parse on (tests that set 0 read in a worker anyway).
  if (readWorkerSettings.minBytes > 0 && navigator.hardwareConcurrency < 2) return false;
  try {
    return Deno.statSync(path).size >= readWorkerSettings.minBytes;
  } catch {
    return false;
  }
}

function workerSetting(): string | undefined {
  return variable(READ_WORKER_VARIABLE);
}

/**
 * `WORKOS_IMPORTER_HAND_OVER`: `never` keeps every line of an export in the
 * worker, `when-idle` (the default) hands lines to an idle main thread; see
 * {@linkcode HandOver}.
 */
export const HAND_OVER_VARIABLE = "WORKOS_IMPORTER_HAND_OVER";

function handOverSetting(): HandOver {
  const value = variable(HAND_OVER_VARIABLE);
  return value === "never" || value === "when-idle" || value === "every-other"
    ? value
    : readWorkerSettings.handOver;
}

function variable(name: string): string | undefined {
  const permission = Deno.permissions.querySync({ name: "env", variable: name });
  if (permission.state !== "granted") return undefined;
  return Deno.env.get(name)?.trim().toLowerCase();
}

/** An export opened in a worker, up to its first record. */
export interface WorkerOpened {
  format: InputFormat;
  columns: string[];
  namesOrganizations?: boolean;
  reader: { next(): Promise<SourceRecord[] | null>; count(): Promise<number> };
  /** Stands for the file: closing it ends the worker. */
  bytes: ByteSource;
}

/**
 * Opens a provider's export in a read worker.
 *
 * @returns The opened export, or `undefined` when the worker could not
 *   start (the caller then reads in-thread).
 * @throws What opening the export in-thread would throw, with its message.
 *
 * @example Read a large Firebase export
 * ```ts ignore
 * const opened = await openInWorker("users.json", { provider: { from: "firebase" } });
 * const batch = await opened?.reader.next();
 * opened?.bytes.close(); // ends the worker
 * ```
 */
export async function openInWorker(
  path: string,
  options: OpenInputOptions,
): Promise<WorkerOpened | undefined> {
  const { signal: _signal, onWarning, ...rest } = options;
  const worker = new Worker(readWorkerSettings.module.href, {
    type: "module",
    name: "workos-importer export reader",
  });
  const spec = options.provider === undefined
    ? undefined
    : { ...options.provider, map: options.provider.map ?? options.columnMap };
  const reader = new WorkerRecordReader(worker, { path, onWarning, spec });
  worker.postMessage(
    { type: "open", path, options: rest, handOver: handOverSetting() } satisfies ToWorker,
  );
  const first = await reader.opening();
  if (first === undefined) {
    reader.close();
    return undefined;
  }
  if (first.type === "error") {
    reader.close();
    throw reader.revive(first.error);
  }
  readWorkerStats.opened++;
  return {
    format: first.format,
    columns: first.columns,
    ...(first.namesOrganizations === undefined
      ? {}
      : { namesOrganizations: first.namesOrganizations }),
    reader,
    bytes: new WorkerBytes(reader),
  };
}

/** The records a worker reads, taken batch by batch in order. */
class WorkerRecordReader {
  readonly #worker: Worker;
  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #queue: FromWorker[] = [];
  /** The batches of the last message not taken yet, decoded (or read) one by one as they are. */
  #ready: Array<EncodedBatch | HandedOverLines> = [];
  /** The spec the export was opened with, for lines handed over. */
  readonly #spec: ProviderSpec | undefined;
  #readLines:
    | Promise<(lines: Uint8Array, base: number, lastLineNumber: number) => Promise<SourceRecord[]>>
    | undefined;
  /** "idle" was told and no batch has come since. */
  #toldIdle = false;
  #waiting: ((message: FromWorker | undefined) => void) | undefined;
  #opened = false;
  #pulling = false;
  #ended = false;
  #closed = false;

  /** The export's path, quoted, for the one line a crash ends the run with. */
  readonly #label: string;

  constructor(
    worker: Worker,
    { path, onWarning, spec }: {
      path: string;
      onWarning: ((message: string) => void) | undefined;
      spec: ProviderSpec | undefined;
    },
  ) {
    this.#worker = worker;
    this.#label = JSON.stringify(path);
    this.#onWarning = onWarning;
    this.#spec = spec;
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Told to the reader, not to the process: the run ends with its one line.
      event.preventDefault();
      this.#crashed(event.message);
    };
    worker.onmessageerror = () => this.#crashed("a batch could not be read");
  }

  /**
   * The worker's answer to "open" (warnings on the way are told), or
   * `undefined` when the worker failed before it could answer.
   */
  async opening(): Promise<Extract<FromWorker, { type: "opened" | "error" }> | undefined> {
    for (;;) {
      const message = await this.#take();
      if (message === undefined) return undefined;
      if (message.type === "warning") {
        this.#onWarning?.(message.message);
        continue;
      }
      if (message.type === "opened" || message.type === "error") {
        this.#opened = true;
        return message;
      }
    }
  }

  async next(): Promise<SourceRecord[] | null> {
    for (;;) {
      const ready = this.#ready.shift();
      if (ready === undefined) break;
      const records = "lines" in ready ? await this.#read(ready) : decodeBatch(ready);
      // Lines that were all blank give none.
      if (records.length > 0) return records;
    }
    if (this.#ended) return null;
    if (!this.#pulling) {
      this.#pulling = true;
      this.#post({ type: "pull", messages: READ_AHEAD_MESSAGES });
    }
    if (this.#queue.length === 0 && !this.#toldIdle) {
      // Nothing to take: the worker hands over the next lines to read here.
      this.#toldIdle = true;
      this.#post({ type: "idle" });
    }
    for (;;) {
      const message = await this.#take();
      if (message === undefined) throw this.#stopped();
      switch (message.type) {
        case "batch": {
          this.#toldIdle = false;
          this.#post({ type: "pull", messages: 1 });
          for (const batch of message.batches) this.#ready.push(batch);
          return await this.next();
        }
        case "warning":
          this.#onWarning?.(message.message);
          continue;
        case "end":
          this.#ended = true;
          return null;
        case "error":
          this.#ended = true;
          throw this.revive(message.error);
        default:
          continue;
      }
    }
  }

  /** The records of lines the worker handed over, read here as it would have. */
  async #read(handed: HandedOverLines): Promise<SourceRecord[]> {
    const spec = this.#spec;
    if (spec === undefined) throw new TypeError("Lines were handed over without a provider");
    this.#readLines ??= readHandedOverLines(spec);
    const read = await this.#readLines;
    readWorkerStats.handedOver++;
    return await read(handed.lines, handed.base, handed.lastLineNumber);
  }

  async count(): Promise<number> {
    this.#post({ type: "count" });
    for (;;) {
      const message = await this.#take();
      if (message === undefined) throw this.#stopped();
      if (message.type === "counted") return message.count;
      if (message.type === "error") throw this.revive(message.error);
    }
  }

  /** Ends the worker. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(undefined);
  }

  #post(message: ToWorker): void {
    if (!this.#closed) this.#worker.postMessage(message);
  }

  #receive(message: FromWorker): void {
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#queue.push(message);
    } else {
      this.#waiting = undefined;
      waiting(message);
    }
  }

  #take(): Promise<FromWorker | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting = resolve);
  }

  #crashed(what: string): void {
    if (!this.#opened) {
      // Before it opened the export: the caller reads in-thread instead.
      this.close();
      return;
    }
    this.#receive({ type: "error", error: { kind: "Error", name: "Error", message: what } });
  }

  /**
   * The error the worker told, thrown here: what the reader throws in-thread
   * (the importer's own errors, `Deno.errors`) as it is; anything else is a
   * defect or a crash of the worker, whose stack stayed there (the one on
   * this side says nothing), so one line and what to do.
   */
  revive(description: ErrorDescription): Error {
    if (isReaderError(description)) return reviveError(description);
    const why = description.message.split("\n")[0].trim() || "no reason given";
    return new UserError(
      `Cannot read ${this.#label}: the export reader stopped (${why}): ` +
        `run again with ${READ_WORKER_VARIABLE}=off to read it in one thread`,
      { exitCode: ExitCode.Failure },
    );
  }

  #stopped(): Error {
    return new Error("The export reader was closed before the end of the export");
  }
}

/** The byte source that stands for a file read in a worker: its only use is closing it. */
class WorkerBytes implements ByteSource {
  readonly #reader: WorkerRecordReader;

  constructor(reader: WorkerRecordReader) {
    this.#reader = reader;
  }

  get position(): number {
    return 0;
  }

  read(): Promise<Uint8Array | null> {
    return Promise.reject(new TypeError("An export read in a worker has no bytes to read here"));
  }

  unread(): void {
    throw new TypeError("An export read in a worker has no bytes to give back");
  }

  skipTo(): Promise<void> {
    return Promise.reject(new TypeError("An export read in a worker cannot move"));
  }

  close(): void {
    this.#reader.close();
  }
}

/**
 * An error as it crosses from the worker: its class (the importer's own,
 * the built-in ones, `Deno.errors`), its message and its exit code.
 *
 * @example Across and back
 * ```ts
 * import { describeError, reviveError } from "./_worker_client.ts";
 * import { InputError } from "../../errors.ts";
 * import { ok } from "node:assert/strict";
 *
 * const error = reviveError(structuredClone(describeError(new InputError("Cannot read it"))));
 * ok(error instanceof InputError && error.message === "Cannot read it");
 * ```
 */
export function describeError(error: unknown): ErrorDescription {
  if (!(error instanceof Error)) {
    return { kind: "Error", name: "Error", message: String(error) };
  }
  const { message } = error;
  if (error instanceof UserError) {
    const kind = error instanceof InputError
      ? "InputError"
      : error instanceof UsageError
      ? "UsageError"
      : "UserError";
    return { kind, name: error.name, message, exitCode: error.exitCode };
  }
  for (const [name, type] of Object.entries(Deno.errors)) {
    if (error instanceof type) return { kind: "Deno", name, message };
  }
  if (error instanceof RangeError) return { kind: "RangeError", name: error.name, message };
  if (error instanceof TypeError) return { kind: "TypeError", name: error.name, message };
  return { kind: "Error", name: error.name, message };
}

/**
 * Whether a described error is one the reader throws in-thread too (the
 * importer's own errors, `Deno.errors`), to be thrown as it is; anything else
 * is a defect or a crash of a worker, whose stack stayed there.
 *
 * @example
 * ```ts
 * import { isReaderError } from "./_worker_client.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isReaderError({ kind: "Deno", name: "NotFound", message: "No such file" }));
 * ok(!isReaderError({ kind: "TypeError", name: "TypeError", message: "x is not a function" }));
 * ```
 */
export function isReaderError(description: ErrorDescription): boolean {
  const { kind } = description;
  return kind === "InputError" || kind === "UsageError" || kind === "UserError" || kind === "Deno";
}

/**
 * Has a worker tell what nothing in it caught (errors, unhandled
 * rejections) through `fail`, which ends the run with one line; left alone,
 * the runtime would print its stack and end the worker without a word to
 * the run.
 *
 * @example A worker's host
 * ```ts ignore
 * tellUncaught(scope, (error) => post({ type: "error", error: describeError(error) }));
 * ```
 */
export function tellUncaught(
  scope: {
    addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
  },
  fail: (error: unknown) => void,
): void {
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    fail((event as ErrorEvent).error ?? new Error((event as ErrorEvent).message));
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail((event as PromiseRejectionEvent).reason);
  });
}

/**
 * The error a {@linkcode describeError} describes, thrown on this side.
 *
 * @example A file that is not there
 * ```ts
 * import { reviveError } from "./_worker_client.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(reviveError({ kind: "Deno", name: "NotFound", message: "No such file" }) instanceof Deno.errors.NotFound);
 * ```
 */
export function reviveError(description: ErrorDescription): Error {
  const { kind, name, message, exitCode } = description;
  switch (kind) {
    case "InputError":
      return new InputError(message, exitCode === undefined ? {} : { exitCode });
    case "UsageError":
      return new UsageError(message, exitCode === undefined ? {} : { exitCode });
    case "UserError":
      return new UserError(message, exitCode === undefined ? {} : { exitCode });
    case "RangeError":
      return new RangeError(message);
    case "TypeError":
      return new TypeError(message);
    case "Deno": {
      const type =
        (Deno.errors as unknown as Record<string, (new (message: string) => Error) | undefined>)[
          name
        ];
      if (type !== undefined) return new type(message);
      break;
    }
  }
  const error = new Error(message);
  error.name = name;
  return error;
}
