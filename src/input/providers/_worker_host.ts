// The worker's side of the read worker (see _worker_client.ts): the host of
// _worker_host_kit.ts, which opens the export with the in-thread reader
// itself (`openReaderHere`) and hands its batches of mapped records on in
// the compact form, a few batches to a message, as many messages ahead as
// the main thread has asked for. Of its own, it hands the next chunk's
// lines to an idle main thread ("idle") and counts the export ("count").

import type { SourceRecord } from "../../types.ts";
import { openReaderHere } from "../_open_reader.ts";
import { type HostControls, serveWorker, type WorkerScope } from "../_worker_host_kit.ts";
import { BatchEncoder, type EncodedBatch } from "./_batch_codec.ts";
import {
  BATCHES_PER_MESSAGE,
  type FromWorker,
  type HandedOverLines,
  type HandOver,
  type ToWorker,
} from "./_worker_client.ts";

/** The worker's global scope, as far as the reader uses it. */
export type ReadWorkerScope = WorkerScope<ToWorker, FromWorker>;

/** The read worker's own messages, besides "open" and "pull". */
type OwnMessage = Extract<ToWorker, { type: "idle" | "count" }>;

/** What the read worker posts besides what every worker does. */
type OwnAnswer = Extract<FromWorker, { type: "batch" | "counted" }>;

/**
 * Answers the main thread's messages: open, pull batches, idle (hand the
 * next chunk's lines over), count.
 *
 * @param scope The worker's global scope.
 *
 * @example The worker's entry (_read_worker.ts)
 * ```ts ignore
 * serveReads(globalThis as unknown as ReadWorkerScope);
 * ```
 */
export function serveReads(scope: ReadWorkerScope): void {
  /**
   * The batches read and not posted yet: the reader batches since the last
   * lines handed over are one encoded batch (`encoder`), each encoded as it
   * is read, so that its records (and the objects the reader parsed them
   * from) are garbage before the next batch is read, not kept until the
   * message goes.
   */
  let batches: Array<EncodedBatch | HandedOverLines> = [];
  let transfers: ArrayBuffer[] = [];
  const encoder = new BatchEncoder();
  /** Reader batches in the message being gathered. */
  let gathered = 0;
  /** Ends the encoded batch being gathered: it goes before what is added next. */
  const encoded = () => {
    if (encoder.size === 0) return;
    const [batch, transfer] = encoder.finish();
    batches.push(batch);
    for (const buffer of transfer) transfers.push(buffer);
  };
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
    encoded();
    const bytes = lines.slice();
    batches.push({ lines: bytes, base, lastLineNumber });
    transfers.push(bytes.buffer);
    return true;
  };
  serveWorker<Extract<ToWorker, { type: "open" }>, OwnMessage, OwnAnswer>(scope, {
    open(message, onWarning) {
      handOver = message.handOver;
      return openReaderHere(message.path, { ...message.options, onWarning }, { handOverLines });
    },
    gather(batch: SourceRecord[]) {
      encoder.add(batch);
      return ++gathered >= BATCHES_PER_MESSAGE || handedOver;
    },
    take() {
      encoded();
      if (batches.length === 0) return undefined;
      const message: OwnAnswer = { type: "batch", batches };
      const transfer = transfers;
      batches = [];
      transfers = [];
      gathered = 0;
      handedOver = false;
      return [message, transfer];
    },
    answer,
  });

  async function answer(message: OwnMessage, host: HostControls<OwnAnswer>): Promise<void> {
    if (message.type === "idle") {
      idle = true;
      return;
    }
    if (host.reader === undefined) return;
    try {
      const count = await host.reader.count();
      host.stop();
      host.post({ type: "counted", count });
    } catch (error) {
      host.fail(error);
    }
  }
}
