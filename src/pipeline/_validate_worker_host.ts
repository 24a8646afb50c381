// The worker's side of the validate worker (see _validate_worker_client.ts):
// the host of input/_worker_host_kit.ts, which opens the file with the
// in-thread reader itself (`openReaderHere`); of its own, it validates each
// record with the in-thread `checkRecord` (what crosses leaves a valid row's
// metadata out, so it is checked, not kept) and hands the results on in
// the compact form of _validated_codec.ts, a few reader batches to a
// message, as many messages ahead as the main thread has asked for.

import { openReaderHere } from "../input/_open_reader.ts";
import { serveWorker, type WorkerScope } from "../input/_worker_host_kit.ts";
import type { SourceRecord } from "../types.ts";
import { checkRecord } from "../validation/validate_record.ts";
import { ValidatedEncoder } from "./_validated_codec.ts";
import {
  type FromValidateWorker,
  type ToValidateWorker,
  VALIDATED_BATCHES_PER_MESSAGE,
} from "./_validate_worker_client.ts";

/** The worker's global scope, as far as the host uses it. */
export type ValidateWorkerScope = WorkerScope<ToValidateWorker, FromValidateWorker>;

/** A message of validated batches. */
type ValidatedMessage = Extract<FromValidateWorker, { type: "batch" }>;

/**
 * Answers the main thread's messages: open, then pull batches.
 *
 * @param scope The worker's global scope.
 *
 * @example The worker's entry (_validate_worker.ts)
 * ```ts ignore
 * serveValidation(globalThis as unknown as ValidateWorkerScope);
 * ```
 */
export function serveValidation(scope: ValidateWorkerScope): void {
  const encoder = new ValidatedEncoder();
  /** The size of each reader batch in the message being gathered. */
  let sizes: number[] = [];
  serveWorker<Extract<ToValidateWorker, { type: "open" }>, never, ValidatedMessage>(scope, {
    open: (message, onWarning) => openReaderHere(message.path, { ...message.options, onWarning }),
    gather(batch: SourceRecord[]) {
      for (const record of batch) {
        encoder.add(record.recordNumber, record.byteEnd, checkRecord(record));
      }
      sizes.push(batch.length);
      return sizes.length >= VALIDATED_BATCHES_PER_MESSAGE;
    },
    take() {
      if (sizes.length === 0) return undefined;
      const [batch, transfer] = encoder.take();
      const message: ValidatedMessage = { type: "batch", batch, sizes };
      sizes = [];
      return [message, transfer];
    },
  });
}
