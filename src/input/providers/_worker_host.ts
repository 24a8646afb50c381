// The worker's side of the read worker (see _worker_client.ts): it opens
// the export with the in-thread reader itself, `openReaderHere`, and hands
// its batches of mapped records on in the compact form, a few batches to a
// message, as many messages ahead as the main thread has asked for.

import type { SourceRecord } from "../../types.ts";
import { type OpenedReader, openReaderHere } from "../_open_reader.ts";
import { encodeBatch } from "./_batch_codec.ts";
import {
  BATCHES_PER_MESSAGE,
  describeError,
  type FromWorker,
  type ToWorker,
} from "./_worker_client.ts";

/** The worker's global scope, as far as the reader uses it. */
export interface ReadWorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}

/**
 * Answers the main thread's messages: open, pull batches, count.
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
  /** The batches read and not posted yet. */
  let records: SourceRecord[] = [];
  let sizes: number[] = [];
  const post = (message: FromWorker, transfer?: Transferable[]) =>
    scope.postMessage(message, transfer);
  const flush = () => {
    if (sizes.length === 0) return;
    const [batch, transfer] = encodeBatch(records);
    post({ type: "batch", batch, sizes }, transfer);
    credits--;
    records = [];
    sizes = [];
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
        for (const record of batch) records.push(record);
        sizes.push(batch.length);
        if (sizes.length >= BATCHES_PER_MESSAGE) flush();
      }
    } catch (error) {
      fail(error);
    } finally {
      pumping = false;
    }
  };
  scope.onmessage = async (event) => {
    const message = event.data;
    switch (message.type) {
      case "open": {
        try {
          const opened = await openReaderHere(message.path, {
            ...message.options,
            onWarning: (warning) => {
              // After the batches read before it, as the reader tells it in-thread.
              flush();
              post({ type: "warning", message: warning });
            },
          });
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
