/**
 * The low watermark: records are registered in input order as they are
 * read, settled in any order as they end, and the watermark is the last
 * record of the longest settled prefix.
 *
 * @module
 */

import type { Watermark } from "../../outcome/mod.ts";

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
  // Records in input order that are not yet below the watermark, as parallel
  // arrays (no object per record). Bounded by the rows in flight plus those
  // that finished while an older one lingers.
  #numbers: number[] = [];
  #ends: number[] = [];
  #done: boolean[] = [];
  #head = 0;
  // Record numbers arrive ascending (every reader numbers its records so),
  // and a record is then found by binary search; only if one ever arrives
  // out of order are they indexed (number → position in the arrays).
  #byNumber?: Map<number, number>;
  #settledAny = false;
  #watermarkNumber = 0;
  #watermarkEnd = 0;
  #watermark?: Watermark;

  /** The last record of the settled prefix; `undefined` before the first. */
  get watermark(): Watermark | undefined {
    if (this.#watermark === undefined && this.#settledAny) {
      this.#watermark = { recordNumber: this.#watermarkNumber, byteEnd: this.#watermarkEnd };
    }
    return this.#watermark;
  }

  /**
   * Registers a record, in input order.
   *
   * @param record The record's number and the byte offset just past it.
   */
  begin(record: { recordNumber: number; byteEnd: number }): void {
    const numbers = this.#numbers;
    const length = numbers.length;
    if (
      this.#byNumber === undefined && length > this.#head &&
      numbers[length - 1] >= record.recordNumber
    ) {
      this.#byNumber = new Map();
      for (let at = this.#head; at < length; at++) {
        if (!this.#done[at]) this.#byNumber.set(numbers[at], at);
      }
    }
    numbers.push(record.recordNumber);
    this.#ends.push(record.byteEnd);
    this.#done.push(false);
    this.#byNumber?.set(record.recordNumber, length);
  }

  /**
   * Marks a record final and moves the watermark over the settled prefix.
   *
   * @param recordNumber The record's number.
   */
  settle(recordNumber: number): void {
    const at = this.#find(recordNumber);
    if (at === -1) return;
    this.#done[at] = true;
    this.#byNumber?.delete(recordNumber);
    const length = this.#numbers.length;
    let head = this.#head;
    if (head < length && this.#done[head]) {
      while (head < length && this.#done[head]) head++;
      this.#watermarkNumber = this.#numbers[head - 1];
      this.#watermarkEnd = this.#ends[head - 1];
      this.#watermark = undefined;
      this.#settledAny = true;
      this.#head = head;
    }
    if (head > 1024 && head * 2 > length) this.#compact();
  }

  /** Where a pending record is in the arrays; -1 when it is not pending. */
  #find(recordNumber: number): number {
    if (this.#byNumber !== undefined) return this.#byNumber.get(recordNumber) ?? -1;
    const numbers = this.#numbers;
    let low = this.#head;
    // Most records settle in order: the oldest pending one first.
    if (numbers[low] === recordNumber) return this.#done[low] ? -1 : low;
    let high = numbers.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const number = numbers[middle];
      if (number === recordNumber) return this.#done[middle] ? -1 : middle;
      if (number < recordNumber) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  #compact(): void {
    const head = this.#head;
    this.#numbers = this.#numbers.slice(head);
    this.#ends = this.#ends.slice(head);
    this.#done = this.#done.slice(head);
    this.#head = 0;
    if (this.#byNumber !== undefined) {
      for (const [number, at] of this.#byNumber) this.#byNumber.set(number, at - head);
    }
  }
}
