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
// stays flat. The worker is the provider read worker's kin: both are
// served by input/_worker_host_kit.ts and taken through
// input/_worker_channel.ts, with one setting (`WORKOS_IMPORTER_READ_WORKER`)
// and one error crossing; unlike that one it runs only when the setting is
// `on`, for the memory it costs (see VALIDATE_WORKER_MIN_BYTES).

import type { OpenInputOptions } from "../input/input_options.ts";
import { pulledStream } from "../input/_pulled_stream.ts";
import { WorkerChannel } from "../input/_worker_channel.ts";
import {
  type OpenedFacts,
  type PullMessage,
  type WorkerTells,
  workerWanted,
} from "../input/_worker_protocol.ts";
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
  | PullMessage;

/** What the worker tells the main thread. */
export type FromValidateWorker =
  | WorkerTells
  | { type: "batch"; batch: EncodedValidated; sizes: number[] };

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
  return workerWanted(source, validateWorkerSettings.minBytes);
}

/** A file opened in a validate worker, up to its first record. */
export interface ValidatedOpened extends OpenedFacts {
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
  const channel: ValidateChannel = new WorkerChannel({
    module: validateWorkerSettings.module,
    name: "workos-importer validator",
    path,
    stop: { doing: "validate", worker: "the validate worker", instead: "validate in one thread" },
    closedEarly: () => channel.stopped("it was closed before the end of the file"),
    readAhead: VALIDATED_READ_AHEAD,
    onClose: () => validateWorkerStats.running--,
  });
  validateWorkerStats.running++;
  const workerOptions: ValidateWorkerOptions = {};
  if (options.format !== undefined) workerOptions.format = options.format;
  if (options.delimiter !== undefined) workerOptions.delimiter = options.delimiter;
  if (options.columnMap !== undefined) workerOptions.columnMap = options.columnMap;
  const facts = await channel.open(
    { type: "open", path, options: workerOptions },
    options.onWarning,
  );
  if (facts === undefined) return undefined;
  validateWorkerStats.opened++;
  return { ...facts, validated: validatedStream(channel, options) };
}

type ValidateChannel = WorkerChannel<
  ToValidateWorker,
  Extract<FromValidateWorker, { type: "batch" }>
>;

/** The worker's batches as a stream, one reader batch a chunk. */
function validatedStream(
  channel: ValidateChannel,
  options: OpenInputOptions,
): ReadableStream<ValidatedBatch> {
  const { signal, onWarning } = options;
  const ready: ValidatedBatch[] = [];
  const next = async (): Promise<ValidatedBatch | null> => {
    const taken = ready.shift();
    if (taken !== undefined) return taken;
    const message = await channel.nextBatch(onWarning);
    if (message === null) return null;
    ready.push(...split(decodeValidated(message.batch), message.sizes));
    return ready.shift() ?? null;
  };
  return pulledStream(next, () => channel.close(), signal);
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
