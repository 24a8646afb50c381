// The worker's side of the validate worker (see _validate_worker_client.ts):
// it opens the file with the in-thread reader itself (`openReaderHere`),
// validates each record with the in-thread `validateRecord`, and hands the
// results on in the compact form of _validated_codec.ts, a few reader
// batches to a message, as many messages ahead as the main thread has
// asked for.

import { type OpenedReader, openReaderHere } from "../input/_open_reader.ts";
import { describeError, tellUncaught } from "../input/providers/_worker_client.ts";
import { validateRecord } from "../validation/validate_record.ts";
import { ValidatedEncoder } from "./_validated_codec.ts";
import {
  type FromValidateWorker,
  type ToValidateWorker,
  VALIDATED_BATCHES_PER_MESSAGE,
} from "./_validate_worker_client.ts";

/** The worker's global scope, as far as the host uses it. */
export interface ValidateWorkerScope {
  onmessage: ((event: MessageEvent<ToValidateWorker>) => void) | null;
  postMessage(message: FromValidateWorker, transfer?: Transferable[]): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
}

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
  let reader: OpenedReader["reader"] | undefined;
  let close: (() => void) | undefined;
  /** Messages of batches the main thread is ready for. */
  let credits = 0;
  let pumping = false;
  let done = false;
  const encoder = new ValidatedEncoder();
  let sizes: number[] = [];
  const post = (message: FromValidateWorker, transfer?: Transferable[]) =>
    scope.postMessage(message, transfer);
  const flush = () => {
    if (sizes.length === 0) return;
    const [batch, transfer] = encoder.take();
    post({ type: "batch", batch, sizes }, transfer);
    credits--;
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
          close?.();
          post({ type: "end" });
          break;
        }
        for (const record of batch) {
          encoder.add(record.recordNumber, record.byteEnd, validateRecord(record));
        }
        sizes.push(batch.length);
        if (sizes.length >= VALIDATED_BATCHES_PER_MESSAGE) flush();
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
          const opened = await openReaderHere(message.path, {
            ...message.options,
            onWarning: (warning) => {
              // After the records read before it, as the reader tells it in-thread.
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
            unknownColumns: opened.unknownColumns,
            upsert: opened.upsert,
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
    }
  };
}
