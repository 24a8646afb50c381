/**
 * The head of the chain: the input's record batches, read one batch at a
 * time as the stages below ask for them. Before each read it checks the
 * stop signal: once the run stops, no further batch is read and the input
 * is released; the batches already read go on down the chain. An input that
 * fails mid-way ends the chain as well (the rows already read still finish)
 * and the run then throws its error.
 *
 * @module
 */

import type { SourceRecord } from "../../types.ts";
import type { RunState } from "./run_state.ts";

/**
 * The records of `input`, up to the stop or the input's end.
 *
 * @param input The input's record batches, in input order (or the validate
 *   worker's batches of validated records).
 * @param state The run's state: its stop signal, where the interruption and
 *   an input failure are recorded.
 * @returns The records, ending without error.
 *
 * @example Usage
 * ```ts
 * import { readRecords } from "./read_records.ts";
 * import { RunState } from "./run_state.ts";
 * import assert from "node:assert/strict";
 *
 * const stop = new AbortController();
 * const state = new RunState({ stop: stop.signal });
 * const input = ReadableStream.from([[{ recordNumber: 1, fields: {}, byteEnd: 3 }]]);
 * stop.abort();
 * const batches = await Array.fromAsync(readRecords(input, state));
 * assert.equal(batches.length, 0);
 * assert.equal(state.interrupted, true);
 * ```
 */
export function readRecords<T = SourceRecord[]>(
  input: ReadableStream<T>,
  state: RunState,
): ReadableStream<T> {
  const reader = input.getReader();
  function release(): void {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return new ReadableStream<T>({
    async pull(controller) {
      if (state.stop.aborted) {
        state.interrupted = true;
        release();
        controller.close();
        return;
      }
      let read: ReadableStreamReadResult<T>;
      try {
        read = await reader.read();
      } catch (error) {
        state.inputFailure = { error };
        reader.releaseLock();
        controller.close();
        return;
      }
      if (read.done) {
        reader.releaseLock();
        controller.close();
      } else {
        controller.enqueue(read.value);
      }
    },
    cancel() {
      release();
    },
  }, { highWaterMark: 0 });
}
