// The main thread's side of the validate worker: a large CSV or NDJSON file
// of a dry run or of `validate` is read AND validated in a worker on the
// second core (_validate_worker.ts runs the very reader and the very
// validateRecord the run runs in-thread), and the main thread takes only
// what it reads of each result (see _validated_codec.ts) to plan, count
// duplicates and report. Reading is about a third of a CSV row's cost and
// validation most of the rest, so a worker that only read would move too
// little, and decoding whole records again here would cost about what
// reading them does. Batches cross a few to a message, at most
// VALIDATED_READ_AHEAD messages ahead of the batch being taken, so memory
// stays flat. The worker shares the provider read worker's setting
// (`WORKOS_IMPORTER_READ_WORKER`) and its error crossing; unlike that one it
// runs only when the setting is `on`, for the memory it costs (see
// VALIDATE_WORKER_MIN_BYTES).

import { ExitCode, UserError } from "../errors.ts";
import type { InputFormat } from "../types.ts";
import type { OpenInputOptions } from "../input/input_options.ts";
import {
  type ErrorDescription,
  isReaderError,
  READ_WORKER_VARIABLE,
  reviveError,
} from "../input/providers/_worker_client.ts";
import { decodeValidated, type EncodedValidated, type ValidatedBatch } from "./_validated_codec.ts";

/**
 * The size from which a file is validated in a worker without
 * `WORKOS_IMPORTER_READ_WORKER=on`: none, for memory. A worker is a second
 * isolate: its runtime alone is about 17-20 MiB of resident memory, its
 * heap (where the records are read and validated) about what the main
 * thread's was, while the main thread's heap hardly shrinks; a dry run of a
 * 1M-row CSV peaked 28-35 MiB higher with it (BENCHMARKS.md, "Offline speed
 * on two cores"), against issue 16's 100 MB. Were it on by default, 32 MiB
 * (about 200,000 rows, 0.5 s of reading and validation) would pay for its
 * start (the reader's and the validator's modules loaded again, about 0.1 s
 * of CPU).
 */
export const VALIDATE_WORKER_MIN_BYTES = Infinity;

/**
 * The size from which a file is validated in a worker, as tests set it
 * (0: every file; `Infinity`: none unless the variable says `on`), and the
 * worker's module (tests start one that fails).
 */
export const validateWorkerSettings: { minBytes: number; module: URL } = {
  minBytes: VALIDATE_WORKER_MIN_BYTES,
  module: new URL("./_validate_worker.ts", import.meta.url),
};

/**
 * How many files this process has validated in a worker, and how many
 * workers are running now (tests read them).
 */
export const validateWorkerStats: { opened: number; running: number } = { opened: 0, running: 0 };

/**
 * Reader batches (32 KiB of a file each) the worker sends in one message:
 * a message costs both threads a fixed price, and the main thread still
 * takes the batches one by one, so the stages see the batches they see
 * in-thread.
 */
export const VALIDATED_BATCHES_PER_MESSAGE = 8;

/** Messages of batches the worker may have sent ahead of the batch being taken. */
export const VALIDATED_READ_AHEAD = 3;

/** What the main thread tells the worker. */
export type ToValidateWorker =
  | { type: "open"; path: string; options: ValidateWorkerOptions }
  | { type: "pull"; messages: number };

/** What the worker tells the main thread. */
export type FromValidateWorker =
  | {
    type: "opened";
    format: InputFormat;
    columns: string[];
    unknownColumns: string[];
    upsert: boolean;
    namesOrganizations?: boolean;
  }
  | { type: "batch"; batch: EncodedValidated; sizes: number[] }
  | { type: "warning"; message: string }
  | { type: "end" }
  | { type: "error"; error: ErrorDescription };

/** The options of `openInput` the worker takes (what a plain file's reader reads). */
export type ValidateWorkerOptions = Pick<OpenInputOptions, "format" | "delimiter" | "columnMap">;

/**
 * Whether to validate a file in a worker: a CSV or NDJSON file (not
 * standard input, not a provider's export, which has a read worker of its
 * own) read from its start, with `WORKOS_IMPORTER_READ_WORKER=on` or of at
 * least `validateWorkerSettings.minBytes` on a machine of two cores or
 * more, in a run that may read any file. A worker loads its modules from disk with the run's own
 * permissions, so a run that may read only some files validates in-thread.
 *
 * @param source The input as `openInput` takes it.
 * @param options The input's options.
 * @returns Whether {@linkcode openValidatedInWorker} should be tried.
 *
 * @example Standard input is validated in-thread
 * ```ts
 * import { wantsValidateWorker } from "./_validate_worker_client.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(wantsValidateWorker("-", {}), false);
 * ```
 */
export function wantsValidateWorker(source: unknown, options: OpenInputOptions): boolean {
  if (typeof source !== "string" || source === "-") return false;
  if (options.provider !== undefined || options.resumeFrom !== undefined) return false;
  if (options.firstRecordsOnly) return false;
  if (typeof Worker !== "function") return false;
  const setting = workerSetting();
  if (setting === "off") return false;
  if (Deno.permissions.querySync({ name: "read" }).state !== "granted") return false;
  if (setting === "on") return true;
  const { minBytes } = validateWorkerSettings;
  if (minBytes === Infinity) return false;
  // One core has no second one to validate on (tests that set 0 use a worker anyway).
  if (minBytes > 0 && navigator.hardwareConcurrency < 2) return false;
  try {
    const info = Deno.statSync(source);
    return info.isFile && info.size >= minBytes;
  } catch {
    return false;
  }
}

function workerSetting(): string | undefined {
  const permission = Deno.permissions.querySync({ name: "env", variable: READ_WORKER_VARIABLE });
  if (permission.state !== "granted") return undefined;
  return Deno.env.get(READ_WORKER_VARIABLE)?.trim().toLowerCase();
}

/** A file opened in a validate worker, up to its first record. */
export interface ValidatedOpened {
  format: InputFormat;
  columns: string[];
  unknownColumns: string[];
  upsert: boolean;
  namesOrganizations?: boolean;
  /** The validated records in input order; cancelling it ends the worker. */
  validated: ReadableStream<ValidatedBatch>;
}

/**
 * Opens a file in a validate worker.
 *
 * @param path The file.
 * @param options The input's options (its format, delimiter, `--map`, signal, warnings).
 * @returns The opened file, or `undefined` when the worker could not start
 *   (the caller then reads and validates in-thread).
 * @throws What opening the file in-thread would throw, with its message.
 *
 * @example Validate a large CSV in a worker
 * ```ts ignore
 * const opened = await openValidatedInWorker("users.csv", {});
 * for await (const batch of opened?.validated ?? []) console.log(batch.results.length);
 * ```
 */
export async function openValidatedInWorker(
  path: string,
  options: OpenInputOptions,
): Promise<ValidatedOpened | undefined> {
  const worker = new Worker(validateWorkerSettings.module.href, {
    type: "module",
    name: "workos-importer validator",
  });
  const channel = new WorkerChannel(worker, path);
  const workerOptions: ValidateWorkerOptions = {};
  if (options.format !== undefined) workerOptions.format = options.format;
  if (options.delimiter !== undefined) workerOptions.delimiter = options.delimiter;
  if (options.columnMap !== undefined) workerOptions.columnMap = options.columnMap;
  worker.postMessage({ type: "open", path, options: workerOptions } satisfies ToValidateWorker);
  let first: FromValidateWorker | undefined;
  for (;;) {
    first = await channel.take();
    if (first?.type !== "warning") break;
    options.onWarning?.(first.message);
  }
  if (first === undefined) {
    channel.close();
    return undefined;
  }
  if (first.type === "error") {
    channel.close();
    throw channel.revive(first.error);
  }
  if (first.type !== "opened") {
    channel.close();
    throw channel.stopped(`it answered ${first.type} before opening the file`);
  }
  channel.opened = true;
  validateWorkerStats.opened++;
  const { type: _type, ...facts } = first;
  return { ...facts, validated: validatedStream(channel, options) };
}

/** The worker's batches as a stream, one reader batch a chunk. */
function validatedStream(
  channel: WorkerChannel,
  options: OpenInputOptions,
): ReadableStream<ValidatedBatch> {
  const { signal, onWarning } = options;
  const ready: ValidatedBatch[] = [];
  let pulling = false;
  let onAbort: (() => void) | undefined;
  const release = () => {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    channel.close();
  };
  const next = async (): Promise<ValidatedBatch | null> => {
    const taken = ready.shift();
    if (taken !== undefined) return taken;
    if (!pulling) {
      pulling = true;
      channel.post({ type: "pull", messages: VALIDATED_READ_AHEAD });
    }
    for (;;) {
      const message = await channel.take();
      if (message === undefined) throw channel.stopped("it was closed before the end of the file");
      switch (message.type) {
        case "batch": {
          channel.post({ type: "pull", messages: 1 });
          ready.push(...split(decodeValidated(message.batch), message.sizes));
          return ready.shift() ?? null;
        }
        case "warning":
          onWarning?.(message.message);
          continue;
        case "end":
          return null;
        case "error":
          throw channel.revive(message.error);
        default:
          continue;
      }
    }
  };
  return new ReadableStream<ValidatedBatch>({
    start(controller) {
      if (signal === undefined) return;
      onAbort = () => {
        release();
        controller.error(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const batch = await next();
        if (signal?.aborted) return;
        if (batch === null) {
          release();
          controller.close();
        } else {
          controller.enqueue(batch);
        }
      } catch (error) {
        release();
        if (!signal?.aborted) controller.error(error);
      }
    },
    cancel() {
      release();
    },
  }, { highWaterMark: 1 });
}

/** A decoded message's records, cut back into the reader's batches. */
function split(batch: ValidatedBatch, sizes: readonly number[]): ValidatedBatch[] {
  if (sizes.length === 1) return [batch];
  const batches: ValidatedBatch[] = [];
  let at = 0;
  for (const size of sizes) {
    batches.push({
      positions: batch.positions.subarray(at * 2, (at + size) * 2),
      results: batch.results.slice(at, at + size),
    });
    at += size;
  }
  return batches;
}

/** The messages of a worker, taken one at a time in order. */
class WorkerChannel {
  readonly #worker: Worker;
  readonly #label: string;
  readonly #queue: FromValidateWorker[] = [];
  #waiting: ((message: FromValidateWorker | undefined) => void) | undefined;
  #closed = false;
  /** Whether the worker opened the file (a failure before that falls back to in-thread). */
  opened = false;

  constructor(worker: Worker, path: string) {
    this.#worker = worker;
    this.#label = JSON.stringify(path);
    validateWorkerStats.running++;
    worker.onmessage = (event: MessageEvent<FromValidateWorker>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Told to the run, not to the process: the run ends with its one line.
      event.preventDefault();
      this.#crashed(event.message);
    };
    worker.onmessageerror = () => this.#crashed("a batch could not be read");
  }

  post(message: ToValidateWorker): void {
    if (!this.#closed) this.#worker.postMessage(message);
  }

  take(): Promise<FromValidateWorker | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting = resolve);
  }

  /** Ends the worker. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    validateWorkerStats.running--;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(undefined);
  }

  /** The error a worker that stopped mid-file ends the run with: one line, what to do. */
  stopped(why: string): UserError {
    return new UserError(
      `Cannot validate ${this.#label}: the validate worker stopped (${oneLine(why)}): ` +
        `run again with ${READ_WORKER_VARIABLE}=off to validate in one thread`,
      { exitCode: ExitCode.Failure },
    );
  }

  /**
   * The error the worker told, thrown here: what the reader throws in-thread
   * (the importer's own errors, `Deno.errors`) as it is; anything else is a
   * defect in the worker, whose stack stayed there: one line.
   */
  revive(description: ErrorDescription): Error {
    if (isReaderError(description)) return reviveError(description);
    return this.stopped(description.message);
  }

  #receive(message: FromValidateWorker): void {
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#queue.push(message);
    } else {
      this.#waiting = undefined;
      waiting(message);
    }
  }

  #crashed(what: string): void {
    if (!this.opened) {
      // Before it opened the file: the caller validates in-thread instead.
      this.close();
      return;
    }
    this.#receive({ type: "error", error: { kind: "Error", name: "Error", message: what } });
  }
}

function oneLine(text: string): string {
  return text.split("\n")[0].trim() || "no reason given";
}
