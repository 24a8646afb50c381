// The worker's side of every worker that reads input on the second core:
// it opens the input with the in-thread reader (the worker says how), reads
// it batch by batch, has the worker gather each batch into the message
// being made (encoded as the worker's codec says), and posts the messages
// as many ahead as the main thread has asked for ("pull"); it tells
// warnings after the batches read before them, the end, and any error,
// including what nothing in the worker caught. The providers' read worker
// (providers/_worker_host.ts) and the validate worker
// (pipeline/_validate_worker_host.ts) differ only in their hooks.

import type { SourceRecord } from "../types.ts";
import { openedFacts, type OpenedReader } from "./_open_reader.ts";
import {
  describeError,
  type PullMessage,
  tellUncaught,
  type WorkerTells,
} from "./_worker_protocol.ts";

/** The worker's global scope, as far as a host uses it. */
export interface WorkerScope<To, From> {
  onmessage: ((event: MessageEvent<To>) => void) | null;
  postMessage(message: From, transfer?: Transferable[]): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
}

/** What a worker's own messages (besides "open" and "pull") may use of its host. */
export interface HostControls<Told> {
  /** The opened input's reader, once "open" was answered. */
  reader: OpenedReader["reader"] | undefined;
  /** Posts one of the worker's own answers. */
  post(message: Told): void;
  /** Tells the error and ends the reading. */
  fail(error: unknown): void;
  /** Ends the reading: no batch is read after it. */
  stop(): void;
}

/**
 * What makes a worker what it is: how it opens the input, and how its
 * batches are gathered into messages.
 *
 * @typeParam Open The worker's "open" message.
 * @typeParam Own The worker's own other messages.
 * @typeParam Told What the worker posts besides {@linkcode WorkerTells}: its batches, its own answers.
 */
export interface WorkerHooks<Open, Own, Told> {
  /** Opens the input as `message` says; the reader's warnings go to `onWarning`. */
  open(message: Open, onWarning: (warning: string) => void): Promise<OpenedReader>;
  /** Adds a reader batch to the message being gathered: whether the message should go now. */
  gather(batch: SourceRecord[]): boolean;
  /** The message gathered, and the buffers to transfer with it, or `undefined` if it is empty. */
  take(): [Told, Transferable[]] | undefined;
  /** Answers one of the worker's own messages. */
  answer?(message: Own, host: HostControls<Told>): Promise<void> | void;
}

/**
 * Answers the main thread's messages: "open", then "pull" (so many more
 * messages of batches), and the worker's own through `hooks.answer`.
 *
 * @param scope The worker's global scope.
 * @param hooks What the worker does of its own.
 *
 * @example A worker that posts each batch's size
 * ```ts ignore
 * let sizes: number[] = [];
 * serveWorker(globalThis as unknown as WorkerScope<ToSizes, FromSizes>, {
 *   open: (message, onWarning) => openReaderHere(message.path, { onWarning }),
 *   gather: (batch) => sizes.push(batch.length) >= 8,
 *   take: () => sizes.length === 0 ? undefined : [{ type: "batch", sizes: sizes.splice(0) }, []],
 * });
 * ```
 */
export function serveWorker<Open extends { type: "open" }, Own extends { type: string }, Told>(
  scope: WorkerScope<Open | PullMessage | Own, WorkerTells | Told>,
  hooks: WorkerHooks<Open, Own, Told>,
): void {
  let reader: OpenedReader["reader"] | undefined;
  let close: (() => void) | undefined;
  /** Messages of batches the main thread is ready for. */
  let credits = 0;
  let pumping = false;
  let done = false;
  const post = (message: WorkerTells | Told, transfer?: Transferable[]) =>
    scope.postMessage(message, transfer);
  const flush = () => {
    const taken = hooks.take();
    if (taken === undefined) return;
    post(taken[0], taken[1]);
    credits--;
  };
  const fail = (error: unknown) => {
    done = true;
    close?.();
    flush();
    post({ type: "error", error: describeError(error) });
  };
  const controls = {
    post,
    fail,
    stop: () => {
      done = true;
    },
  };
  const pump = async (from: OpenedReader["reader"]) => {
    if (pumping) return;
    pumping = true;
    try {
      while (credits > 0 && !done) {
        const batch = await from.next();
        if (batch === null) {
          done = true;
          flush();
          close?.();
          post({ type: "end" });
          break;
        }
        if (hooks.gather(batch)) flush();
      }
    } catch (error) {
      fail(error);
    } finally {
      pumping = false;
    }
  };
  tellUncaught(scope, fail);
  scope.onmessage = async (event) => {
    const message = event.data;
    if (message.type === "open") {
      try {
        const opened = await hooks.open(message as Open, (warning) => {
          // After the batches read before it, as the reader tells it in-thread.
          flush();
          post({ type: "warning", message: warning });
        });
        reader = opened.reader;
        close = () => opened.bytes.close();
        post({ type: "opened", ...openedFacts(opened) });
      } catch (error) {
        fail(error);
      }
    } else if (message.type === "pull") {
      credits += (message as PullMessage).messages;
      if (reader !== undefined) await pump(reader);
    } else {
      await hooks.answer?.(message as Own, { ...controls, reader });
    }
  };
}
