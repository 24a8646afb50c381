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
// The worker's protocol, its host and this side's channel are the ones the
// validate worker uses too (../_worker_protocol.ts, ../_worker_host_kit.ts,
// ../_worker_channel.ts); what is the read worker's own is here and in
// _worker_host.ts.

import type { SourceRecord } from "../../types.ts";
import type { ByteSource } from "../_byte_source.ts";
import { WorkerChannel } from "../_worker_channel.ts";
import {
  type OpenedFacts,
  type PullMessage,
  type WorkerTells,
  workerVariable,
  workerWanted,
} from "../_worker_protocol.ts";
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
 * Batches (of one 32 KiB chunk's users each) the worker sends in one
 * message, encoded as one: each message costs both threads a fixed price
 * (about as much as encoding a few dozen users), and the main thread takes
 * a message's batches as one.
 */
export const BATCHES_PER_MESSAGE = 4;

/** Messages of batches the worker may have sent ahead of the batch the reader takes. */
export const READ_AHEAD_MESSAGES = 3;

/** What the main thread tells the worker. */
export type ToWorker =
  | { type: "open"; path: string; options: WorkerOpenOptions; handOver: HandOver }
  | PullMessage
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
  | WorkerTells
  | { type: "batch"; batches: Array<EncodedBatch | HandedOverLines> }
  | { type: "counted"; count: number };

/** What the read worker tells besides what every worker does. */
type OwnAnswer = Extract<FromWorker, { type: "batch" | "counted" }>;

/** The options of `openReader` that can cross to a worker (no callback, no signal). */
export type WorkerOpenOptions = Omit<OpenInputOptions, "signal" | "onWarning">;

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
  return workerWanted(path, readWorkerSettings.minBytes);
}

/**
 * `WORKOS_IMPORTER_HAND_OVER`: `never` keeps every line of an export in the
 * worker, `when-idle` (the default) hands lines to an idle main thread; see
 * {@linkcode HandOver}.
 */
export const HAND_OVER_VARIABLE = "WORKOS_IMPORTER_HAND_OVER";

function handOverSetting(): HandOver {
  const value = workerVariable(HAND_OVER_VARIABLE);
  return value === "never" || value === "when-idle" || value === "every-other"
    ? value
    : readWorkerSettings.handOver;
}

/** An export opened in a worker, up to its first record. */
export interface WorkerOpened extends OpenedFacts {
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
  const channel: WorkerChannel<ToWorker, OwnAnswer> = new WorkerChannel({
    module: readWorkerSettings.module,
    name: "workos-importer export reader",
    path,
    stop: { doing: "read", worker: "the export reader", instead: "read it in one thread" },
    closedEarly: () => new Error("The export reader was closed before the end of the export"),
    readAhead: READ_AHEAD_MESSAGES,
    idle: { type: "idle" },
  });
  const facts = await channel.open(
    { type: "open", path, options: rest, handOver: handOverSetting() },
    onWarning,
  );
  if (facts === undefined) return undefined;
  readWorkerStats.opened++;
  const spec = options.provider === undefined
    ? undefined
    : { ...options.provider, map: options.provider.map ?? options.columnMap };
  const reader = new WorkerRecordReader(channel, { onWarning, spec });
  return { ...facts, reader, bytes: new WorkerBytes(reader) };
}

/** The records a worker reads, taken batch by batch in order. */
class WorkerRecordReader {
  readonly #channel: WorkerChannel<ToWorker, OwnAnswer>;
  readonly #onWarning: ((message: string) => void) | undefined;
  /**
   * The batches of the last message not taken yet, decoded (or read) as
   * they are taken: consecutive encoded batches as one.
   */
  #ready: Array<EncodedBatch | HandedOverLines> = [];
  /** The spec the export was opened with, for lines handed over. */
  readonly #spec: ProviderSpec | undefined;
  #readLines:
    | Promise<(lines: Uint8Array, base: number, lastLineNumber: number) => Promise<SourceRecord[]>>
    | undefined;

  constructor(
    channel: WorkerChannel<ToWorker, OwnAnswer>,
    { onWarning, spec }: {
      onWarning: ((message: string) => void) | undefined;
      spec: ProviderSpec | undefined;
    },
  ) {
    this.#channel = channel;
    this.#onWarning = onWarning;
    this.#spec = spec;
  }

  async next(): Promise<SourceRecord[] | null> {
    for (;;) {
      const ready = this.#ready.shift();
      if (ready === undefined) break;
      let records: SourceRecord[];
      if ("lines" in ready) {
        records = await this.#read(ready);
      } else {
        // The message's encoded batches up to any lines handed over go on
        // as one batch: every stage after the reader pays per batch (the
        // plan waits for its sink to take each one), and the worker's
        // batches are of one 32 KiB chunk, about 70 users of an export
        // against about 500 rows of a CSV.
        records = decodeBatch(ready);
        while (this.#ready.length > 0 && !("lines" in this.#ready[0])) {
          decodeBatch(this.#ready.shift() as EncodedBatch, records);
        }
      }
      // Lines that were all blank give none.
      if (records.length > 0) return records;
    }
    const message = await this.#channel.nextBatch(this.#onWarning);
    if (message === null) return null;
    for (const batch of message.batches) this.#ready.push(batch);
    return await this.next();
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
    const channel = this.#channel;
    channel.post({ type: "count" });
    for (;;) {
      const message = await channel.take();
      if (message === undefined) throw channel.closedEarly();
      if (message.type === "counted") return message.count;
      if (message.type === "error") throw channel.revive(message.error);
    }
  }

  /** Ends the worker. Safe to call more than once. */
  close(): void {
    this.#channel.close();
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
