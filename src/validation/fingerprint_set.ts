/**
 * A set of 64-bit fingerprints of strings in typed arrays: what dry runs and
 * validation count distinct people and (person, organization) pairs with, at
 * a fixed cost per entry whatever the strings' length.
 *
 * @module
 */

import { cyrb53, cyrb53High, cyrb53Low } from "./_cyrb53.ts";

/**
 * Shards, picked by the fingerprint's top 10 bits: each grows on its own, so
 * growing copies 1/1024 of the set at once, and a slot need not keep the
 * bits that chose its shard. (4,096 shards kept two more bits, but their
 * many small tables made a dry run's garbage collection cost up to 1.7
 * times the CPU time with the CLI's V8 flags.)
 */
const SHARD_BITS = 10;
const SHARDS = 1 << SHARD_BITS;
/** A shard's first table, before the stagger below: 32 slots. */
const FIRST_SLOTS = 32;
/** Each growth makes a shard's table this many times larger. */
const GROWTH = 1.5;
/** Grow a shard past this share of its slots taken. */
const MAX_LOAD = 0.9;
/** 2^32, to take a fraction of a 32-bit number. */
const TWO_32 = 4294967296;

/**
 * Slots of shard `shard`'s table after `step` growths. Shards start at
 * sizes spread evenly over one growth (32 to 48 slots), so they grow at
 * different moments and the whole set's slots per entry stay near their
 * average instead of jumping by half when every shard grows at once.
 */
function slotsAt(shard: number, step: number): number {
  return Math.round(FIRST_SLOTS * GROWTH ** (step + shard / SHARDS));
}

/** The table every shard has before its first entry: none. */
const NO_SLOTS = new Uint16Array(0);
const NO_VALUES = new Uint32Array(0);

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
 * Distinct strings, counted by a 64-bit fingerprint of each (cyrb53's two
 * 32-bit lanes): split into 1,024 shards by the fingerprint's top 10 bits,
 * each an open-addressing table (linear probing) in one `Uint16Array` that
 * keeps 48 more of the bits, 6 bytes a slot (10 with values). A shard grows
 * by half when nine-tenths full, so between 60 % and 90 % of its slots are
 * taken, and shards start at staggered sizes so that they do not all grow
 * at once: the set averages about 8.2 bytes an entry (10M distinct strings
 * take 82.3 MB; 13.7 bytes with values), and growing never holds more
 * than 1/1024 of the table twice. A shard's table is made at its first
 * entry, so a small set is small; in a set without values, from 4 KiB on
 * it lives in the shard's region of one reservation (address space that becomes memory as it is
 * written) and grows there in place, so the process grows by what the
 * tables hold and not by the tables they grew out of as well.
 *
 * Counts are exact up to fingerprint collisions: two different strings that
 * agree in the 58 bits kept (the shard's 10 and the slot's 48, whose last 16
 * bits keep 0 as 1, which changes the figures below by a part in 30,000)
 * count as one.
 * For `n` strings that happens with a chance of about `n² / 2^59`:
 * 1.7 × 10⁻⁶ (1 in 580,000) at 1M strings, 1.7 × 10⁻⁴ (1 in 5,800) at 10M.
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
  /**
   * Per shard, three 16-bit words a slot: the fingerprint's low 16 bits of
   * its upper half, then its lower half's upper and lower 16 bits (0 kept
   * as 1). A last word of 0 is an empty slot.
   */
  readonly #keys: Uint16Array[] = [];
  readonly #values: Uint32Array[] | undefined;
  /** Per shard: its slots, its entries, and how often it grew. */
  readonly #slots = new Int32Array(SHARDS);
  readonly #counts = new Int32Array(SHARDS);
  readonly #steps = new Uint8Array(SHARDS);
  /**
   * The reservation shards' tables grow in, once one is a page large: a
   * region of {@linkcode REGION_SLOTS} slots a shard (sets without values).
   */
  #region: Uint16Array | undefined;
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
    for (let s = 0; s < SHARDS; s++) this.#keys.push(NO_SLOTS);
    if (options.values) {
      this.#values = [];
      for (let s = 0; s < SHARDS; s++) this.#values.push(NO_VALUES);
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
   * const set = new FingerprintSet();
   * set.add("ada@example.com");
   * console.log(set.bytes); // 240: one shard's first table, 40 slots of 6 bytes
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
    const shard = high >>> (32 - SHARD_BITS);
    const top = high & 0xffff;
    const mid = cyrb53Low >>> 16;
    const bottom = (cyrb53Low & 0xffff) || 1;
    const keys = this.#keys[shard];
    const slots = this.#slots[shard];
    if (slots === 0) return false;
    for (let slot = Math.floor(((mid * 65536 + bottom) / TWO_32) * slots);;) {
      const at = 3 * slot;
      const c = keys[at + 2];
      if (c === bottom) {
        if (keys[at + 1] === mid && keys[at] === top) return true;
      } else if (c === 0) return false;
      if (++slot === slots) slot = 0;
    }
  }

  /**
   * Adds a fingerprint given as two 32-bit halves (what {@linkcode add}
   * computes from a string); for tests that need chosen collisions.
   *
   * @param high The fingerprint's upper 32 bits: its top 10 pick the shard,
   *   its low 16 are kept (bits 16–21 are not).
   * @param low The lower 32 bits, kept; they pick the first slot.
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
    const shard = high >>> (32 - SHARD_BITS);
    const top = high & 0xffff;
    const mid = low >>> 16;
    // A zero last word marks an empty slot: 0 is kept as 1 (so fingerprints
    // differing only in that word's 0 and 1 count as one).
    const bottom = (low & 0xffff) || 1;
    let keys = this.#keys[shard];
    let slots = this.#slots[shard];
    if (this.#counts[shard] + 1 > slots * MAX_LOAD) {
      keys = this.#grow(shard);
      slots = this.#slots[shard];
    }
    // The first slot from the lower half's leading bits (a fraction of the
    // table, as the table's size is no power of two).
    for (let slot = Math.floor(((mid * 65536 + bottom) / TWO_32) * slots);;) {
      const at = 3 * slot;
      const c = keys[at + 2];
      if (c === bottom) {
        if (keys[at + 1] === mid && keys[at] === top) {
          return this.#values ? this.#values[shard][slot] : 0;
        }
      } else if (c === 0) {
        keys[at] = top;
        keys[at + 1] = mid;
        keys[at + 2] = bottom;
        if (this.#values) this.#values[shard][slot] = value;
        this.#counts[shard]++;
        this.#size++;
        return -1;
      }
      if (++slot === slots) slot = 0;
    }
  }

  /**
   * Grows one shard by half (or makes its first table) and puts its entries
   * back. A table of {@linkcode REGION_FROM_BYTES} or more lives in the
   * shard's region of the set's reservation and grows where it is: its
   * entries wait in one scratch table while it is cleared and grown, so no
   * table is left behind for the allocator to keep.
   */
  #grow(shard: number): Uint16Array {
    const old = this.#keys[shard];
    const oldValues = this.#values?.[shard];
    const oldSlots = this.#slots[shard];
    const slots = slotsAt(shard, this.#steps[shard]++);
    const wasInRegion = this.#region !== undefined && old.buffer === this.#region.buffer;
    let from = old;
    let keys: Uint16Array;
    let values: Uint32Array | undefined;
    // Only sets without values grow in the reservation: a shard's two
    // tables there would round up to a page each, and at 1M entries that
    // cost more (31.2 MB resident for 13.7 MB of tables) than the allocator
    // keeps of tables of their own (21.9 MB).
    if (this.#values === undefined && 6 * slots >= REGION_FROM_BYTES && slots <= REGION_SLOTS) {
      // Pages of the reservation become resident only when first written:
      // the set costs what its tables use, rounded up to a page a shard.
      this.#region ??= new Uint16Array(3 * REGION_SLOTS * SHARDS);
      const at = 3 * REGION_SLOTS * shard;
      keys = this.#region.subarray(at, at + 3 * slots);
      if (wasInRegion) {
        from = scratchKeys(3 * oldSlots);
        from.set(old);
        keys.fill(0, 0, 3 * oldSlots);
      }
    } else {
      // Small tables, tables with values, and a shard past its region (some
      // 29,000 entries in one shard) are buffers of their own.
      keys = new Uint16Array(3 * slots);
      values = oldValues ? new Uint32Array(slots) : undefined;
    }
    for (let at = 0; at < oldSlots; at++) {
      const c = from[3 * at + 2];
      if (c === 0) continue;
      const a = from[3 * at];
      const b = from[3 * at + 1];
      // The first slot from the kept lower half, as on adding.
      let slot = Math.floor(((b * 65536 + c) / TWO_32) * slots);
      while (keys[3 * slot + 2] !== 0) if (++slot === slots) slot = 0;
      keys[3 * slot] = a;
      keys[3 * slot + 1] = b;
      keys[3 * slot + 2] = c;
      if (values && oldValues) values[slot] = oldValues[at];
    }
    this.#keys[shard] = keys;
    this.#slots[shard] = slots;
    if (this.#values && values) this.#values[shard] = values;
    // A table of its own that the shard grew out of is freed now: left to
    // the garbage collector, the tables shards grew out of (twice the set,
    // over its growth) wait for an old-generation collection.
    if (oldSlots > 0 && !wasInRegion) {
      (old.buffer as ArrayBuffer).transfer(0);
      (oldValues?.buffer as ArrayBuffer | undefined)?.transfer(0);
    }
    return keys;
  }
}

/**
 * A shard's table moves into its region of the set's reservation once it
 * takes this many bytes, a page (683 slots; the set then holds about
 * 500,000 entries). Smaller tables are buffers of their own (a new one at
 * each growth, the old one freed at once), so that a small set stays small:
 * in the reservation, each shard's first entry makes a page resident, 4 MiB
 * for the set; and V8 counts the whole reservation as external memory
 * (`Deno.memoryUsage().external`), resident or not. Later, tables of their
 * own would leave the allocator what they grew out of: 11 MB more than the
 * tables' 82.3 MB at 10M entries.
 */
const REGION_FROM_BYTES = 4096;

/**
 * Slots in each shard's region of the reservation: 2^15 (192 KiB), room
 * for about 29,000 entries a shard, 30M a set. The reservation is address
 * space: the system makes a page resident only when it is first written,
 * so a set of 10M entries has about 68 KiB of each region in memory.
 */
const REGION_SLOTS = 1 << 15;

/**
 * One scratch table for all sets: where a shard's entries wait while its
 * table grows in place. It is as large as the largest shard grown so far,
 * about 1/1024 of the largest set.
 */
let scratch = new Uint16Array(0);

/** The scratch table's first `length` words, enlarged first if need be. */
function scratchKeys(length: number): Uint16Array {
  if (scratch.length < length) scratch = new Uint16Array(Math.ceil(length * 1.5));
  return scratch.subarray(0, length);
}
