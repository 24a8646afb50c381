// A stream of batches pulled one by one from something that is not a stream
// stage (a provider's reader, a worker's messages), one batch ahead at most,
// so memory stays flat; it lets go of its source when it ends, fails, is
// cancelled or its signal aborts.

/**
 * The batches `next` gives, until it gives `null`, as a stream; `release`
 * runs once the stream ends, fails, is cancelled or `signal` aborts (which
 * errors the stream with the signal's reason).
 *
 * @param next The next batch, or `null` at the end.
 * @param release Lets go of the source (safe to call more than once).
 * @param signal Aborts the reading.
 * @returns The batches in order.
 *
 * @example Three batches
 * ```ts
 * import { pulledStream } from "./_pulled_stream.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const batches = [[1, 2], [3]];
 * let released = 0;
 * const stream = pulledStream(() => Promise.resolve(batches.shift() ?? null), () => released++);
 * deepEqual(await Array.fromAsync(stream), [[1, 2], [3]]);
 * equal(released, 1);
 * ```
 */
export function pulledStream<T>(
  next: () => Promise<T | null>,
  release: () => void,
  signal?: AbortSignal,
): ReadableStream<T> {
  let onAbort: (() => void) | undefined;
  const letGo = () => {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    release();
  };
  return new ReadableStream<T>({
    start(controller) {
      if (signal === undefined) return;
      onAbort = () => {
        letGo();
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
          letGo();
          controller.close();
        } else {
          controller.enqueue(batch);
        }
      } catch (error) {
        letGo();
        if (!signal?.aborted) controller.error(error);
      }
    },
    cancel() {
      letGo();
    },
  }, { highWaterMark: 1 });
}
