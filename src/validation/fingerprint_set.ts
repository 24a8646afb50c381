/**
 * A set of 64-bit fingerprints of strings in typed arrays: what dry runs and
 * validation count distinct people and (person, organization) pairs with, at
 * a fixed cost per entry whatever the strings' length.
 *
 * @module
 */

import { cyrb53, cyrb53High, cyrb53Low } from "./_cyrb53.ts";

/** Shards: each grows on its own, so a doubling copies 1/64 of the set at once. */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const INITIAL_SHARD_SLOTS = 16;
/** Grow a shard past this share of its slots taken. */
const MAX_LOAD = 0.75;

/** Options for {@linkcode FingerprintSet}. */
export interface FingerprintSetOptions {
  /**
   * Keep a 32-bit number with each entry (the row it was first seen on, say),
   * read back by {@linkcode FingerprintSet.addWithValue}: 12 bytes per slot
   * instead of 8.
   */
  values?: boolean;
}

/**
 * Distinct strings, counted by a 64-bit fingerprint of each: an
 * open-addressing table (linear probing) of fingerprints in `Uint32Array`s,
 * split into 64 shards by the fingerprint's top bits, each of which doubles
 * when it is three-quarters full. Memory is 8 bytes per slot (12 with
 * values) and slots are 1⅓–2⅔ times the entries: 10M distinct strings take
 * 2^24 slots, 128 MiB (192 MiB with values), and no doubling ever holds more
 * than 1/64 of the table twice.
 *
 * Counts are exact up to fingerprint collisions: two different strings with
 * the same 64 bits count as one. For `n` strings that happens with a chance
 * of about `n² / 2^65`: 2.7 × 10⁻⁸ at 1M strings, 2.7 × 10⁻⁶ (1 in 370,000)
 * at 10M.
 *
 * @example Usage
 * ```ts
 * import { FingerprintSet } from "./fingerprint_set.ts";
 * const people = new FingerprintSet();
 * console.log(people.add("ada@example.com")); // true: new
 * console.log(people.add("ada@example.com")); // false: seen before
 * console.log(people.has("grace@example.com")); // false
 * console.log(people.size); // 1
 * ```
 */
export class FingerprintSet {
  /** Per shard: [high, low] pairs; [0, 0] is an empty slot. */
  readonly #keys: Uint32Array[] = [];
  readonly #values: Uint32Array[] | undefined;
  readonly #counts = new Int32Array(SHARDS);
  #size = 0;

  /**
   * @param options Whether to keep a number with each entry.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const firstRows = new FingerprintSet({ values: true });
   * console.log(firstRows.addWithValue("ada@example.com", 2)); // -1: new
   * console.log(firstRows.addWithValue("ada@example.com", 7)); // 2
   * ```
   */
  constructor(options: FingerprintSetOptions = {}) {
    for (let s = 0; s < SHARDS; s++) this.#keys.push(new Uint32Array(2 * INITIAL_SHARD_SLOTS));
    if (options.values) {
      this.#values = [];
      for (let s = 0; s < SHARDS; s++) this.#values.push(new Uint32Array(INITIAL_SHARD_SLOTS));
    }
  }

  /**
   * How many distinct fingerprints the set holds.
   *
   * @returns The count of entries.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const set = new FingerprintSet();
   * set.add("a");
   * set.add("b");
   * set.add("a");
   * console.log(set.size); // 2
   * ```
   */
  get size(): number {
    return this.#size;
  }

  /**
   * The bytes the set's typed arrays take.
   *
   * @returns The memory of the table itself, in bytes.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * console.log(new FingerprintSet().bytes); // 8192
   * ```
   */
  get bytes(): number {
    let total = 0;
    for (const keys of this.#keys) total += keys.byteLength;
    for (const values of this.#values ?? []) total += values.byteLength;
    return total;
  }

  /**
   * Adds `text`'s fingerprint.
   *
   * @param text The string to count.
   * @returns `true` when it was not in the set yet.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const set = new FingerprintSet();
   * console.log(set.add("x"), set.add("x")); // true false
   * ```
   */
  add(text: string): boolean {
    cyrb53(text);
    return this.addFingerprint(cyrb53High, cyrb53Low, 0) < 0;
  }

  /**
   * Adds `text`'s fingerprint with `value`, unless it is there already.
   *
   * @param text The string to count.
   * @param value A whole number in `[0, 2^32)` to keep with a new entry (in a
   * set made with `values: true`; otherwise it is not kept).
   * @returns `-1` when `text` is new; else the value kept when it was first added.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const set = new FingerprintSet({ values: true });
   * set.addWithValue("ada@example.com", 12);
   * console.log(set.addWithValue("ada@example.com", 40)); // 12
   * ```
   */
  addWithValue(text: string, value: number): number {
    cyrb53(text);
    return this.addFingerprint(cyrb53High, cyrb53Low, value);
  }

  /**
   * {@linkcode FingerprintSet.addWithValue} of the pair `first + "\u0000" +
   * second`, without building that string: the same fingerprint.
   *
   * @param first The pair's first string.
   * @param second Its second string.
   * @param value Kept with a new entry, as in `addWithValue`.
   * @returns `-1` when the pair is new; else the value kept when it was first added.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * import assert from "node:assert/strict";
   *
   * const set = new FingerprintSet({ values: true });
   * set.addWithValue("ada@example.com\u0000ext:acme", 12);
   * assert.equal(set.addPairWithValue("ada@example.com", "ext:acme", 40), 12);
   * ```
   */
  addPairWithValue(first: string, second: string, value: number): number {
    cyrb53(first, second);
    return this.addFingerprint(cyrb53High, cyrb53Low, value);
  }

  /**
   * Whether `text`'s fingerprint is in the set.
   *
   * @param text The string to look up.
   * @returns `true` when it (or a string with the same fingerprint) was added.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const set = new FingerprintSet();
   * set.add("x");
   * console.log(set.has("x"), set.has("y")); // true false
   * ```
   */
  has(text: string): boolean {
    cyrb53(text);
    const high = cyrb53High;
    const low = cyrb53Low === 0 && high === 0 ? 1 : cyrb53Low;
    const keys = this.#keys[high >>> (32 - SHARD_BITS)];
    const mask = (keys.length >>> 1) - 1;
    for (let slot = low & mask;; slot = (slot + 1) & mask) {
      const h = keys[2 * slot];
      const l = keys[2 * slot + 1];
      if (h === high && l === low) return true;
      if (h === 0 && l === 0) return false;
    }
  }

  /**
   * Adds a fingerprint given as two 32-bit halves (what {@linkcode add}
   * computes from a string); for tests that need chosen collisions.
   *
   * @param high The fingerprint's upper 32 bits (its top 6 pick the shard).
   * @param low The lower 32 bits (its low bits pick the first slot).
   * @param value Kept with a new entry in a set with values.
   * @returns `-1` when new; else the value kept with the entry (0 without values).
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * const set = new FingerprintSet();
   * console.log(set.addFingerprint(1, 2, 0), set.addFingerprint(1, 2, 0)); // -1 0
   * ```
   */
  addFingerprint(high: number, low: number, value: number): number {
    high >>>= 0;
    low >>>= 0;
    // [0, 0] marks an empty slot: that one fingerprint shares [0, 1].
    if (high === 0 && low === 0) low = 1;
    const shard = high >>> (32 - SHARD_BITS);
    let keys = this.#keys[shard];
    let slots = keys.length >>> 1;
    if (this.#counts[shard] + 1 > slots * MAX_LOAD) {
      keys = this.#grow(shard);
      slots = keys.length >>> 1;
    }
    const mask = slots - 1;
    for (let slot = low & mask;; slot = (slot + 1) & mask) {
      const h = keys[2 * slot];
      const l = keys[2 * slot + 1];
      if (h === high && l === low) return this.#values ? this.#values[shard][slot] : 0;
      if (h === 0 && l === 0) {
        keys[2 * slot] = high;
        keys[2 * slot + 1] = low;
        if (this.#values) this.#values[shard][slot] = value;
        this.#counts[shard]++;
        this.#size++;
        return -1;
      }
    }
  }

  /** Doubles one shard and puts its entries back in their new slots. */
  #grow(shard: number): Uint32Array {
    const old = this.#keys[shard];
    const oldValues = this.#values?.[shard];
    const slots = old.length; // twice the old slot count
    const keys = new Uint32Array(2 * slots);
    const values = oldValues ? new Uint32Array(slots) : undefined;
    const mask = slots - 1;
    for (let from = 0; from < old.length >>> 1; from++) {
      const high = old[2 * from];
      const low = old[2 * from + 1];
      if (high === 0 && low === 0) continue;
      let slot = low & mask;
      while (keys[2 * slot] !== 0 || keys[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      keys[2 * slot] = high;
      keys[2 * slot + 1] = low;
      if (values && oldValues) values[slot] = oldValues[from];
    }
    this.#keys[shard] = keys;
    if (this.#values && values) this.#values[shard] = values;
    return keys;
  }
}
