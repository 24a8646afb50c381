// The main thread's side of every worker that reads input on the second
// core (see _worker_host_kit.ts): it starts the worker, asks it to open the
// input, takes its messages one at a time in order, keeps it a few messages
// of batches ahead ("pull"), tells its warnings, and turns its errors and
// crashes into what the in-thread reader would have thrown or one line of
// what to do. The providers' read worker (providers/_worker_client.ts) and
// the validate worker (pipeline/_validate_worker_client.ts) differ only in
// what they make of the batches.

import { ExitCode, UserError } from "../errors.ts";
import {
  type ErrorDescription,
  isReaderError,
  type OpenedFacts,
  type PullMessage,
  READ_WORKER_VARIABLE,
  reviveError,
  type WorkerTells,
} from "./_worker_protocol.ts";

/** What a worker is, for the main thread: which module, and how its stop is told. */
export interface WorkerChannelOptions<To> {
  /** The worker's module. */
  module: URL;
  /** The worker's name (shown by debuggers). */
  name: string;
  /** The input's path, quoted in the line a stop ends the run with. */
  path: string;
  /**
   * The line a worker that stopped ends the run with:
   * `Cannot <doing> "<path>": <worker> stopped (<why>): run again with WORKOS_IMPORTER_READ_WORKER=off to <instead>`.
   */
  stop: { doing: string; worker: string; instead: string };
  /** The error a batch asked for after the channel was closed is. */
  closedEarly(): Error;
  /** Messages of batches the worker may send ahead of the batch being taken. */
  readAhead: number;
  /** Told to the worker when the main thread waits with no message to take (see {@linkcode WorkerChannel.nextBatch}). */
  idle?: To;
  /** Called once when the worker ends. */
  onClose?(): void;
}

/**
 * A worker that reads input, seen from the main thread: its messages taken
 * one at a time in order.
 *
 * @typeParam To What the main thread tells the worker.
 * @typeParam Told What the worker tells besides {@linkcode WorkerTells}.
 *
 * @example Open a file in a worker and take its first batch
 * ```ts ignore
 * const channel = new WorkerChannel<ToMine, FromMine>({ module, name, path, stop, closedEarly, readAhead: 3 });
 * const opened = await channel.open({ type: "open", path }, onWarning);
 * const batch = opened && await channel.nextBatch(onWarning);
 * channel.close();
 * ```
 */
export class WorkerChannel<To, Told extends { type: string }> {
  readonly #worker: Worker;
  readonly #options: WorkerChannelOptions<To>;
  readonly #label: string;
  readonly #queue: Array<WorkerTells | Told> = [];
  #waiting: ((message: WorkerTells | Told | undefined) => void) | undefined;
  #opened = false;
  #pulling = false;
  /** `idle` was told and no batch has come since. */
  #toldIdle = false;
  #ended = false;
  #closed = false;

  /** Starts the worker. */
  constructor(options: WorkerChannelOptions<To>) {
    this.#options = options;
    this.#label = JSON.stringify(options.path);
    const worker = new Worker(options.module.href, { type: "module", name: options.name });
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<WorkerTells | Told>) => this.#receive(event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Told to the run, not to the process: the run ends with its one line.
      event.preventDefault();
      this.#crashed(event.message);
    };
    worker.onmessageerror = () => this.#crashed("a batch could not be read");
  }

  /**
   * Asks the worker to open the input and waits for its answer (warnings on
   * the way are told).
   *
   * @returns The facts of the opened input, or `undefined` when the worker
   *   failed before it could answer (it is ended; the caller reads in-thread).
   * @throws What opening the input in-thread would throw, with its message.
   */
  async open(message: To, onWarning?: (message: string) => void): Promise<OpenedFacts | undefined> {
    this.post(message);
    let first: WorkerTells | Told | undefined;
    for (;;) {
      first = await this.take();
      if (first?.type !== "warning") break;
      onWarning?.((first as { message: string }).message);
    }
    if (first === undefined) {
      this.close();
      return undefined;
    }
    if (first.type === "error") {
      this.close();
      throw this.revive((first as { error: ErrorDescription }).error);
    }
    if (first.type !== "opened") {
      this.close();
      throw this.stopped(`it answered ${first.type} before opening the file`);
    }
    this.#opened = true;
    const { type: _type, ...facts } = first as { type: "opened" } & OpenedFacts;
    return facts;
  }

  /**
   * The worker's next message of batches, or `null` at the end of the input;
   * it keeps the worker the read-ahead's messages ahead, tells warnings on
   * the way, and tells the worker `idle` when there is no message to take.
   *
   * @throws What reading the input in-thread would throw, or one line of
   *   what to do when the worker stopped.
   */
  async nextBatch(
    onWarning?: (message: string) => void,
  ): Promise<Extract<Told, { type: "batch" }> | null> {
    if (this.#ended) return null;
    if (!this.#pulling) {
      this.#pulling = true;
      this.post({ type: "pull", messages: this.#options.readAhead });
    }
    const idle = this.#options.idle;
    if (idle !== undefined && this.#queue.length === 0 && !this.#toldIdle) {
      this.#toldIdle = true;
      this.post(idle);
    }
    for (;;) {
      const message = await this.take();
      if (message === undefined) throw this.closedEarly();
      switch (message.type) {
        case "batch":
          this.#toldIdle = false;
          this.post({ type: "pull", messages: 1 });
          return message as Extract<Told, { type: "batch" }>;
        case "warning":
          onWarning?.((message as { message: string }).message);
          continue;
        case "end":
          this.#ended = true;
          return null;
        case "error":
          this.#ended = true;
          throw this.revive((message as { error: ErrorDescription }).error);
        default:
          continue;
      }
    }
  }

  /** Tells the worker `message` (nothing once the worker is ended). */
  post(message: To | PullMessage): void {
    if (!this.#closed) this.#worker.postMessage(message);
  }

  /** The worker's next message, or `undefined` once it is ended. */
  take(): Promise<WorkerTells | Told | undefined> {
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
    this.#options.onClose?.();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(undefined);
  }

  /** The error a message asked for after the worker was ended is (see {@linkcode WorkerChannelOptions.closedEarly}). */
  closedEarly(): Error {
    return this.#options.closedEarly();
  }

  /** The error a worker that stopped ends the run with: one line, what to do. */
  stopped(why: string): UserError {
    const { doing, worker, instead } = this.#options.stop;
    const reason = why.split("\n")[0].trim() || "no reason given";
    return new UserError(
      `Cannot ${doing} ${this.#label}: ${worker} stopped (${reason}): ` +
        `run again with ${READ_WORKER_VARIABLE}=off to ${instead}`,
      { exitCode: ExitCode.Failure },
    );
  }

  /**
   * The error the worker told, thrown here: what the reader throws in-thread
   * (the importer's own errors, `Deno.errors`) as it is; anything else is a
   * defect or a crash of the worker, whose stack stayed there (the one on
   * this side says nothing), so one line and what to do.
   */
  revive(description: ErrorDescription): Error {
    if (isReaderError(description)) return reviveError(description);
    return this.stopped(description.message);
  }

  #receive(message: WorkerTells | Told): void {
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#queue.push(message);
    } else {
      this.#waiting = undefined;
      waiting(message);
    }
  }

  #crashed(what: string): void {
    if (!this.#opened) {
      // Before it opened the input: the caller reads in-thread instead.
      this.close();
      return;
    }
    this.#receive({ type: "error", error: { kind: "Error", name: "Error", message: what } });
  }
}
