/**
 * The low watermark: records are registered in input order as they are
 * read, settled in any order as they end, and the watermark is the last
 * record of the longest settled prefix.
 *
 * @module
 */

import type { Watermark } from "../../outcome/mod.ts";

interface Pending {
  recordNumber: number;
  byteEnd: number;
  done: boolean;
}

/**
 * Keeps the low watermark of records that finish out of order.
 *
 * @example The watermark waits for the oldest record
 * ```ts
 * import { WatermarkTracker } from "./watermark_tracker.ts";
 * import assert from "node:assert/strict";
 *
 * const tracker = new WatermarkTracker();
 * tracker.begin({ recordNumber: 1, byteEnd: 10 });
 * tracker.begin({ recordNumber: 2, byteEnd: 20 });
 * tracker.settle(2);
 * assert.equal(tracker.watermark, undefined);
 * tracker.settle(1);
 * assert.deepEqual(tracker.watermark, { recordNumber: 2, byteEnd: 20 });
 * ```
 */
export class WatermarkTracker {
  // Records in input order that are not yet below the watermark. Bounded by
  // the rows in flight plus those that finished while an older one lingers.
  #order: Pending[] = [];
  #head = 0;
  readonly #byNumber = new Map<number, Pending>();
  #watermark?: Watermark;

  /** The last record of the settled prefix; `undefined` before the first. */
  get watermark(): Watermark | undefined {
    return this.#watermark;
  }

  /**
   * Registers a record, in input order.
   *
   * @param record The record's number and the byte offset just past it.
   */
  begin(record: { recordNumber: number; byteEnd: number }): void {
    const pending = { recordNumber: record.recordNumber, byteEnd: record.byteEnd, done: false };
    this.#order.push(pending);
    this.#byNumber.set(record.recordNumber, pending);
  }

  /**
   * Marks a record final and moves the watermark over the settled prefix.
   *
   * @param recordNumber The record's number.
   */
  settle(recordNumber: number): void {
    const pending = this.#byNumber.get(recordNumber);
    if (!pending) return;
    pending.done = true;
    this.#byNumber.delete(recordNumber);
    while (this.#head < this.#order.length && this.#order[this.#head].done) {
      const finished = this.#order[this.#head++];
      this.#watermark = { recordNumber: finished.recordNumber, byteEnd: finished.byteEnd };
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
