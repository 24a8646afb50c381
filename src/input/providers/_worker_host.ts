// The worker's side of the read worker (see _worker_client.ts): it opens
// the export with the in-thread reader itself, `openReaderHere`, and hands
// its batches of mapped records on in the compact form, a few batches to a
// message, as many messages ahead as the main thread has asked for.

import { type OpenedReader, openReaderHere } from "../_open_reader.ts";
import { encodeBatch, type EncodedBatch } from "./_batch_codec.ts";
import {
  BATCHES_PER_MESSAGE,
  describeError,
  type FromWorker,
  type HandedOverLines,
  type HandOver,
  tellUncaught,
  type ToWorker,
} from "./_worker_client.ts";

/** The worker's global scope, as far as the reader uses it. */
export interface ReadWorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
}

/**
 * Answers the main thread's messages: open, pull batches, idle (hand the
 * next chunk's lines over), count.
 *
 * @example The worker's entry (_read_worker.ts)
 * ```ts ignore
 * serveReads(globalThis as unknown as ReadWorkerScope);
 * ```
 */
export function serveReads(scope: ReadWorkerScope): void {
  let reader: OpenedReader["reader"] | undefined;
  let close: (() => void) | undefined;
  /** Messages of batches the main thread is ready for. */
  let credits = 0;
  let pumping = false;
  let done = false;
  /**
   * The batches read and not posted yet, each encoded as it is read: its
   * records (and the objects the reader parsed them from) are garbage
   * before the next batch is read, not kept until the message goes.
   */
  let batches: Array<EncodedBatch | HandedOverLines> = [];
  let transfers: ArrayBuffer[] = [];
  /** How lines are handed to the main thread (see {@linkcode HandOver}). */
  let handOver: HandOver = "when-idle";
  /** The main thread waits for a batch: the next chunk's lines go to it to read. */
  let idle = false;
  /** Lines were handed over since the last message: post them now, the main thread waits. */
  let handedOver = false;
  /** Chunks offered, for `every-other`. */
  let offered = 0;
  const handOverLines = (lines: Uint8Array, base: number, lastLineNumber: number) => {
    const take = handOver === "every-other"
      ? offered++ % 2 === 1
      : handOver === "when-idle" && idle;
    if (!take) return false;
    idle = false;
    handedOver = true;
    const bytes = lines.slice();
    batches.push({ lines: bytes, base, lastLineNumber });
    transfers.push(bytes.buffer);
    return true;
  };
  const post = (message: FromWorker, transfer?: Transferable[]) =>
    scope.postMessage(message, transfer);
  const flush = () => {
    if (batches.length === 0) return;
    post({ type: "batch", batches }, transfers);
    credits--;
    batches = [];
    transfers = [];
    handedOver = false;
  };
  const fail = (error: unknown) => {
    done = true;
    close?.();
    flush();
    post({ type: "error", error: describeError(error) });
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
          post({ type: "end" });
          break;
        }
        const [encoded, transfer] = encodeBatch(batch);
        batches.push(encoded);
        for (const buffer of transfer) transfers.push(buffer);
        if (batches.length >= BATCHES_PER_MESSAGE || handedOver) flush();
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
    switch (message.type) {
      case "open": {
        try {
          handOver = message.handOver;
          const opened = await openReaderHere(message.path, {
            ...message.options,
            onWarning: (warning) => {
              // After the batches read before it, as the reader tells it in-thread.
              flush();
              post({ type: "warning", message: warning });
            },
          }, { handOverLines });
          reader = opened.reader;
          close = () => opened.bytes.close();
          post({
            type: "opened",
            format: opened.format,
            columns: opened.columns,
            ...(opened.namesOrganizations === undefined
              ? {}
              : { namesOrganizations: opened.namesOrganizations }),
          });
        } catch (error) {
          fail(error);
        }
        break;
      }
      case "pull":
        credits += message.messages;
        if (reader !== undefined) await pump(reader);
        break;
      case "idle":
        idle = true;
        break;
      case "count":
        if (reader === undefined) break;
        try {
          const count = await reader.count();
          done = true;
          post({ type: "counted", count });
        } catch (error) {
          fail(error);
        }
        break;
    }
  };
}
