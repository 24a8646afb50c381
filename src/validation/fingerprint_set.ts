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
const NO_WORDS = new Uint32Array(0);
const NO_BYTES = new Uint8Array(0);
const NO_STASH = new Float64Array(0);

/**
 * From this many slots on, a shard of a set without values takes five
 * bytes a slot instead of six: its first slot stands for the lower half's
 * leading bits, so the slot keeps only their offset from the first lower
 * half of that slot (20 bits, since a slot stands for fewer than 2^20
 * lower halves in a table of more than 4,096) and the upper half's 16
 * bits, with 4 bits for its distance from its first slot. The shards of a
 * set reach it at about 3.7M to 5.6M entries.
 */
const COMPACT_FROM_SLOTS = 4097;
/**
 * The farthest a five-byte slot's entry sits from its first slot (its
 * distance, plus one, takes 4 bits): an entry that would sit farther goes
 * to its shard's stash: about 1 in 70 of them by the time the table is
 * 95 % full.
 */
const MAX_DISTANCE = 14;
/**
 * A table of five-byte slots grows when 95 % full, and by 30 %: Robin Hood
 * probing keeps its probes short that full, and 73–95 % of its slots are
 * taken (60–90 % for six-byte slots), about 6.2 bytes an entry. At 10M
 * entries, 61.6 MB against 68.7 growing by half at nine-tenths, for 25–35 %
 * more CPU time filling the set and looking each entry up once.
 */
const COMPACT_MAX_LOAD = 0.95;
const COMPACT_GROWTH = 1.3;

/** Options for {@linkcode FingerprintSet}. */
export interface FingerprintSetOptions {
  /**
   * Keep a 32-bit number with each entry (the row it was first seen on, say),
   * read back by {@linkcode FingerprintSet.addWithValue}: 8 bytes per slot
   * instead of 6 (or 5) while every value fits in 16 bits, 10 from the
   * first that does not.
   */
  values?: boolean;
}

/**
 * Distinct strings, counted by a 64-bit fingerprint of each (cyrb53's two
 * 32-bit lanes): split into 1,024 shards by the fingerprint's top 10 bits,
 * each an open-addressing table that keeps 48 more of the bits. Small
 * tables, and tables with values, take 6 bytes a slot (8 with values to
 * 65,535, 10 with larger ones):
 * linear probing in one `Uint16Array`. From 4,097 slots a shard (the set
 * at about 4M entries) a table without values takes 5: Robin Hood linear
 * probing in a `Uint32Array` and a `Uint8Array`, where an entry's first
 * slot stands for its lower half's leading bits and the slot keeps the
 * rest and the entry's distance from it (an entry that would sit more than
 * 14 slots from its first slot waits in its shard's stash, whole). A shard
 * of six-byte slots grows by half when nine-tenths full, so between 60 %
 * and 90 % of its slots are taken, one of five-byte slots by 30 % when 95 %
 * full (73–95 % taken), and shards start at staggered sizes so that they do
 * not all grow at once: the set averages about 8.2 bytes an entry up to
 * some 4M entries and 6.2 from some 6M on (10M distinct strings take 61.6
 * MB; 13.7 bytes an entry with values), and growing never holds more than
 * 1/1024 of the table twice. A shard's table is made at its first entry, so a small set
 * is small; in a set without values, from 4 KiB on it lives in the shard's
 * region of one reservation (address space that becomes memory as it is
 * written) and grows there in place, with its stash after it, and the
 * smaller tables before are laid one after the other in a second
 * reservation, given back whole once every shard has left it, so the
 * process grows by what the tables hold and not by the tables they grew
 * out of as well.
 *
 * Counts are exact up to fingerprint collisions: two different strings that
 * agree in the 58 bits kept (the shard's 10 and the slot's 48, whose last 16
 * bits keep 0 as 1, which changes the figures below by a part in 30,000;
 * a five-byte slot keeps the same 48, its position standing for part of
 * them) count as one.
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
   * Per shard in six-byte slots (the layout of small tables and of sets
   * with values), three 16-bit words a slot: the fingerprint's low 16 bits
   * of its upper half, then its lower half's upper and lower 16 bits (0
   * kept as 1), and in a set with values two more words, the value's
   * lower and upper 16 bits (see {@linkcode #stride}). A third word of 0 is
   * an empty slot. {@linkcode NO_SLOTS} for a shard in five-byte slots.
   */
  readonly #keys: Uint16Array[] = [];
  /**
   * Per shard in five-byte slots ({@linkcode COMPACT_FROM_SLOTS}), each
   * slot's first 32 bits: the lower half's offset from the first lower half
   * its first slot stands for (20 bits), and the upper half's kept bits
   * 0–11.
   */
  readonly #words: Uint32Array[] = [];
  /**
   * …and its fifth byte: the upper half's bits 12–15, under one more than
   * the entry's distance from its first slot (0: an empty slot).
   */
  readonly #bytes: Uint8Array[] = [];
  /**
   * Per shard in five-byte slots, the entries that would have been more
   * than {@linkcode MAX_DISTANCE} slots from their first slot, each as its
   * 48 kept bits (lower half × 2^16 + the upper half's 16), the first
   * {@linkcode #stashed} of them. A typed array, after the table in the
   * shard's region (or one of its own, kept across growths, for a table
   * outside it): stashes as arrays of numbers lived long enough to be
   * promoted, and each growth left its shard's old one to V8's old
   * generation, which grew by 9 MiB over a 10M-people dry run with no
   * collection due.
   */
  readonly #stash: Float64Array[] = [];
  /** Per shard: the entries in its stash. */
  readonly #stashed = new Int32Array(SHARDS);
  /**
   * Words a six-byte slot takes in {@linkcode #keys}: 3, or in a set with
   * values 4 (while every value fits in 16 bits; see {@linkcode #widen}) or
   * 5, whose slot keeps its value in one or two more words (low half first)
   * beside its key, so that a look-up reads one place in memory, not two:
   * the tables of a 1M-row dry run are ten times the processor's second
   * level cache, and a row's look-up of the people set was a tenth of its
   * CPU profile.
   */
  #stride: number;
  /** Per shard: its slots, its entries, and how often it grew. */
  readonly #slots = new Int32Array(SHARDS);
  readonly #counts = new Int32Array(SHARDS);
  readonly #steps = new Uint8Array(SHARDS);
  /** Per shard: the entries past which it grows. */
  readonly #limits = new Int32Array(SHARDS);
  /** Per shard: 1 once its stash overflowed, so it keeps six-byte slots. */
  readonly #crowded = new Uint8Array(SHARDS);
  /**
   * The reservation shards' tables grow in, once one is a page large: a
   * region of {@linkcode REGION_SLOTS} six-byte slots a shard (sets without
   * values).
   */
  #region: ArrayBuffer | undefined;
  /**
   * The reservation a set without values keeps its shards' tables in while
   * they are under a page ({@linkcode REGION_FROM_BYTES}), one after the
   * other ({@linkcode #nurseryUsed} bytes of it so far), and frees whole
   * once every shard has moved on to the region: tables of their own were
   * freed one by one into the allocator's heap, which kept 3.6 MiB of them
   * resident to the end of a set of 10M entries (5 MiB in a 10M-person dry
   * run), between live allocations it cannot give back.
   */
  #nursery: ArrayBuffer | undefined;
  #nurseryUsed = 0;
  /** Shards whose table is in {@linkcode #nursery}. */
  #nurseryShards = 0;
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
    for (let s = 0; s < SHARDS; s++) {
      this.#keys.push(NO_SLOTS);
      this.#words.push(NO_WORDS);
      this.#bytes.push(NO_BYTES);
      this.#stash.push(NO_STASH);
    }
    this.#stride = options.values ? 4 : 3;
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
   * The bytes the set's typed arrays take (and 8 a stashed entry).
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
    for (const words of this.#words) total += words.byteLength;
    for (const bytes of this.#bytes) total += bytes.byteLength;
    for (const stashed of this.#stashed) total += 8 * stashed;
    return total;
  }

  /**
   * Makes room for about `entries` entries at once: each shard takes the
   * first of its sizes that holds its share, instead of growing to it table
   * by table. The tables a shard grows out of are
   * freed, but the allocator keeps them between live ones: filling a set
   * with values with 983,443 entries grew the process's heap by 17.0 MiB for
   * 13.4 MB of tables. A set that stays smaller than reserved keeps the
   * reserved tables (at most what `entries` distinct strings would take);
   * one that grows past it grows as before (a shard whose share is
   * above the mean, too).
   *
   * @param entries How many distinct strings the set is expected to hold.
   *
   * @example Usage
   * ```ts
   * import { FingerprintSet } from "./fingerprint_set.ts";
   * import assert from "node:assert/strict";
   *
   * const set = new FingerprintSet({ values: true });
   * set.reserve(100_000);
   * const reserved = set.bytes;
   * for (let i = 0; i < 50_000; i++) set.add(`person.${i}@example.com`);
   * assert.equal(set.bytes, reserved);
   * ```
   */
  reserve(entries: number): void {
    const share = Math.ceil(entries / SHARDS);
    for (let shard = 0; shard < SHARDS; shard++) {
      // A shard with room enough keeps its table, and one in five-byte
      // slots its course (it grows by its own factor).
      if (this.#limits[shard] >= share) continue;
      if (this.#keys[shard] === NO_SLOTS && this.#slots[shard] > 0) continue;
      let step = this.#steps[shard];
      while (Math.floor(slotsAt(shard, step) * MAX_LOAD) < share && step < 64) step++;
      this.#steps[shard] = step;
      this.#grow(shard);
    }
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
    const low = keptLow(cyrb53Low);
    const slots = this.#slots[shard];
    if (slots === 0) return false;
    const mid = low >>> 16;
    const bottom = low & 0xffff;
    if (this.#keys[shard] === NO_SLOTS) return this.#findCompact(shard, top, mid, bottom);
    const keys = this.#keys[shard];
    const stride = this.#stride;
    for (let slot = Math.floor((low / TWO_32) * slots);;) {
      const at = stride * slot;
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
    const shard = high >>> (32 - SHARD_BITS);
    const top = high & 0xffff;
    // A zero last word marks an empty six-byte slot: 0 is kept as 1 (so
    // fingerprints differing only in that word's 0 and 1 count as one).
    low = keptLow(low >>> 0);
    let slots = this.#slots[shard];
    if (this.#counts[shard] + 1 > this.#limits[shard]) {
      this.#grow(shard);
      slots = this.#slots[shard];
    }
    const keys = this.#keys[shard];
    const mid = low >>> 16;
    const bottom = low & 0xffff;
    // The lower half goes on as two 16-bit halves: small integers, where a
    // number past 2^30 would be a new heap object at each call.
    if (keys === NO_SLOTS) return this.#addCompact(shard, top, mid, bottom);
    // The first slot from the lower half's leading bits (a fraction of the
    // table, as the table's size is no power of two).
    const stride = this.#stride;
    for (let slot = Math.floor((low / TWO_32) * slots);;) {
      const at = stride * slot;
      const c = keys[at + 2];
      if (c === bottom) {
        if (keys[at + 1] === mid && keys[at] === top) {
          return stride === 4
            ? keys[at + 3]
            : stride === 5
            ? keys[at + 4] * 65536 + keys[at + 3]
            : 0;
        }
      } else if (c === 0) {
        // Only a value kept widens the set, not one a look-up passes.
        if (stride === 4 && (value > 0xffff || value < 0)) {
          this.#widen();
          return this.addFingerprint(high, low, value);
        }
        keys[at] = top;
        keys[at + 1] = mid;
        keys[at + 2] = bottom;
        if (stride !== 3) {
          keys[at + 3] = value & 0xffff;
          if (stride === 5) keys[at + 4] = value >>> 16;
        }
        this.#counts[shard]++;
        this.#size++;
        return -1;
      }
      if (++slot === slots) slot = 0;
    }
  }

  /** Whether a shard in five-byte slots holds the fingerprint. */
  #findCompact(shard: number, top: number, mid: number, bottom: number): boolean {
    const low = mid * 65536 + bottom;
    const words = this.#words[shard];
    const bytes = this.#bytes[shard];
    const slots = this.#slots[shard];
    const first = Math.floor((low / TWO_32) * slots);
    const word = (((top & 0xfff) << 20) | (low - firstLow(first, slots))) >>> 0;
    const nibble = top >>> 12;
    for (let slot = first, distance = 0;; distance++) {
      const b = bytes[slot];
      // Robin Hood order: an entry nearer its own first slot than this
      // probe is to ours means ours would have taken its place.
      if (b === 0 || (b >>> 4) - 1 < distance) return false;
      if ((b >>> 4) - 1 === distance && words[slot] === word && (b & 15) === nibble) return true;
      if (distance === MAX_DISTANCE) {
        const stash = this.#stash[shard];
        const stashed = this.#stashed[shard];
        // A loop of our own, not includes(): the number it looks for is no
        // small integer, and a call would make it a heap object each time.
        const kept = low * 65536 + top;
        for (let i = 0; i < stashed; i++) if (stash[i] === kept) return true;
        return false;
      }
      if (++slot === slots) slot = 0;
    }
  }

  /**
   * Adds a fingerprint to a shard in five-byte slots (Robin Hood linear
   * probing: an entry takes the slot of one nearer its own first slot, which
   * moves on), unless it is there.
   */
  #addCompact(shard: number, top: number, mid: number, bottom: number): number {
    const low = mid * 65536 + bottom;
    const words = this.#words[shard];
    const bytes = this.#bytes[shard];
    const slots = this.#slots[shard];
    const first = Math.floor((low / TWO_32) * slots);
    const word = (((top & 0xfff) << 20) | (low - firstLow(first, slots))) >>> 0;
    const nibble = top >>> 12;
    let slot = first;
    let distance = 0;
    for (;; distance++) {
      const b = bytes[slot];
      if (b === 0 || (b >>> 4) - 1 < distance) break;
      if ((b >>> 4) - 1 === distance && words[slot] === word && (b & 15) === nibble) return 0;
      if (distance === MAX_DISTANCE) {
        // Every slot this far holds an entry at least as far from its own:
        // the fingerprint is in the stash or goes there.
        const kept = low * 65536 + top;
        const stash = this.#stash[shard];
        const stashed = this.#stashed[shard];
        for (let i = 0; i < stashed; i++) if (stash[i] === kept) return 0;
        this.#stashEntry(shard, kept);
        return -1;
      }
      if (++slot === slots) slot = 0;
    }
    this.#counts[shard]++;
    this.#size++;
    const carried = placeCompact(words, bytes, slots, slot, distance, word, nibble);
    if (carried !== PLACED) this.#stashEntry(shard, carried, true);
    return -1;
  }

  /**
   * Keeps an entry in its shard's stash (counted in the shard, unless it
   * was counted already); a stash past 1/32 of its table's slots (entries
   * that crowd one place, which random fingerprints do not) makes the shard
   * go back to six-byte slots.
   */
  #stashEntry(shard: number, kept: number, counted = false): void {
    const stashed = this.#stashPush(shard, kept);
    if (!counted) {
      this.#counts[shard]++;
      this.#size++;
    }
    if (stashed > this.#slots[shard] >>> 5) {
      this.#crowded[shard] = 1;
      this.#grow(shard);
    }
  }

  /**
   * Gives every slot of a set with values a second word for its value:
   * values start in one 16-bit word (8-byte slots), enough for a dry run's
   * organization numbers, and the first value past 65,535 (a row number,
   * say) widens the set once, shard by shard, each old table freed at once.
   */
  #widen(): void {
    for (let shard = 0; shard < SHARDS; shard++) {
      const old = this.#keys[shard];
      const slots = this.#slots[shard];
      if (old === NO_SLOTS || slots === 0) continue;
      const keys = new Uint16Array(5 * slots);
      for (let slot = 0; slot < slots; slot++) {
        keys[5 * slot] = old[4 * slot];
        keys[5 * slot + 1] = old[4 * slot + 1];
        keys[5 * slot + 2] = old[4 * slot + 2];
        keys[5 * slot + 3] = old[4 * slot + 3];
      }
      if (old.buffer !== this.#nursery) (old.buffer as ArrayBuffer).transfer(0);
      this.#keys[shard] = keys;
    }
    this.#stride = 5;
  }

  /**
   * Appends to a shard's stash, doubling its typed array when full (the old
   * one freed at once); returns the entries now in it.
   */
  #stashPush(shard: number, kept: number): number {
    let stash = this.#stash[shard];
    const stashed = this.#stashed[shard];
    if (stashed === stash.length) {
      const grown = new Float64Array(Math.max(8, 2 * stashed));
      grown.set(stash);
      // (A stash in the region is left there: the shard grows out of it.)
      if (stash.byteLength > 0 && stash.buffer !== this.#region) {
        (stash.buffer as ArrayBuffer).transfer(0);
      }
      this.#stash[shard] = stash = grown;
    }
    stash[stashed] = kept;
    return this.#stashed[shard] = stashed + 1;
  }

  /**
   * Grows one shard by half (or makes its first table) and puts its entries
   * back. A table of {@linkcode REGION_FROM_BYTES} or more lives in the
   * shard's region of the set's reservation and grows where it is: its
   * entries wait in one scratch table while it is cleared and grown, so no
   * table is left behind for the allocator to keep. From
   * {@linkcode COMPACT_FROM_SLOTS} slots on, a shard of a set without
   * values takes five bytes a slot instead of six.
   */
  #grow(shard: number): void {
    const oldKeys = this.#keys[shard];
    const oldWords = this.#words[shard];
    const oldBytes = this.#bytes[shard];
    const stride = this.#stride;
    const oldSlots = this.#slots[shard];
    const grownCompact = oldKeys === NO_SLOTS && oldSlots > 0 && this.#crowded[shard] === 0;
    const stepSlots = slotsAt(shard, this.#steps[shard]++);
    const slots = grownCompact ? Math.round(oldSlots * COMPACT_GROWTH) : stepSlots;
    const region = this.#region;
    const wasInRegion = region !== undefined &&
      (oldKeys.buffer === region || oldWords.buffer === region);
    const nursery = this.#nursery;
    const wasInNursery = nursery !== undefined && oldKeys.buffer === nursery;
    const compact = stride === 3 && slots >= COMPACT_FROM_SLOTS &&
      this.#crowded[shard] === 0;
    // The entries, as (lower half, upper half's kept bits, value) triples.
    const entries = this.#counts[shard];
    const held = scratchEntries(3 * entries);
    let n = 0;
    if (oldKeys !== NO_SLOTS) {
      for (let at = 0; at < oldSlots * stride; at += stride) {
        const c = oldKeys[at + 2];
        if (c === 0) continue;
        held[n++] = oldKeys[at + 1] * 65536 + c;
        held[n++] = oldKeys[at];
        held[n++] = stride === 5
          ? oldKeys[at + 4] * 65536 + oldKeys[at + 3]
          : stride === 4
          ? oldKeys[at + 3]
          : 0;
      }
    } else {
      for (let at = 0; at < oldSlots; at++) {
        const b = oldBytes[at];
        if (b === 0) continue;
        let first = at - ((b >>> 4) - 1);
        if (first < 0) first += oldSlots;
        const w = oldWords[at];
        held[n++] = (w & 0xfffff) + firstLow(first, oldSlots);
        held[n++] = ((b & 15) << 12) | (w >>> 20);
        held[n++] = 0;
      }
      const stash = this.#stash[shard];
      for (let i = 0; i < this.#stashed[shard]; i++) {
        const kept = stash[i];
        held[n++] = Math.floor(kept / 65536);
        held[n++] = kept % 65536;
        held[n++] = 0;
      }
      this.#stashed[shard] = 0;
    }
    // Only sets without values grow in the reservation: a shard's two
    // tables there would round up to a page each, and at 1M entries that
    // cost more (31.2 MB resident for 13.7 MB of tables) than the allocator
    // keeps of tables of their own (21.9 MB).
    const inRegion = stride === 3 && 6 * slots >= REGION_FROM_BYTES &&
      slots <= REGION_SLOTS;
    let keys = NO_SLOTS;
    let words = NO_WORDS;
    let bytes = NO_BYTES;
    const oldStash = this.#stash[shard];
    // A stash of its own stays with a shard of five-byte slots outside the
    // region (emptied, not dropped: the grown table's stash fills it again).
    let stash = compact && oldStash.buffer !== region ? oldStash : NO_STASH;
    if (inRegion) {
      // Pages of the reservation become resident only when first written:
      // the set costs what its tables use, rounded up to a page a shard.
      const buffer = this.#region ??= new ArrayBuffer(6 * REGION_SLOTS * SHARDS);
      const at = 6 * REGION_SLOTS * shard;
      if (wasInRegion) {
        // The old table, and the room its stash had after it (whatever
        // the stash wrote there), which the grown table covers.
        const used = oldKeys !== NO_SLOTS
          ? oldKeys.byteLength
          : stashOffset(oldSlots) + 8 * stashCapacity(oldSlots);
        new Uint8Array(buffer, at, used).fill(0);
      }
      if (compact) {
        words = new Uint32Array(buffer, at, slots);
        bytes = new Uint8Array(buffer, at + 4 * slots, slots);
        // The stash right after the table, with room for as many entries
        // as keep the shard in five-byte slots: in pages the table's end
        // has made resident already, or next to them, and never left
        // behind (stashes of their own, doubled as they filled, grew the
        // allocator's heap by 2.6 MiB over a 10M-person dry run).
        stash = new Float64Array(buffer, at + stashOffset(slots), stashCapacity(slots));
      } else keys = new Uint16Array(buffer, at, 3 * slots);
    } else if (compact) {
      // A shard past its region (some 29,000 entries in one shard) takes
      // tables of its own.
      words = new Uint32Array(slots);
      bytes = new Uint8Array(slots);
    } else if (
      stride === 3 && 6 * slots < REGION_FROM_BYTES &&
      this.#nurseryUsed + 6 * slots <= NURSERY_BYTES
    ) {
      // A table under a page of a set without values: the next bytes of
      // the nursery (never more than NURSERY_BYTES, the sum of every
      // shard's tables under a page; one more is a buffer of its own).
      const buffer = this.#nursery ??= new ArrayBuffer(NURSERY_BYTES);
      keys = new Uint16Array(buffer, this.#nurseryUsed, 3 * slots);
      this.#nurseryUsed += 6 * slots;
      if (!wasInNursery) this.#nurseryShards++;
    } else {
      // Tables with values are buffers of their own.
      keys = new Uint16Array(stride * slots);
    }
    this.#keys[shard] = keys;
    this.#words[shard] = words;
    this.#bytes[shard] = bytes;
    this.#stash[shard] = stash;
    if (oldStash !== stash && oldStash.byteLength > 0 && oldStash.buffer !== region) {
      (oldStash.buffer as ArrayBuffer).transfer(0);
    }
    this.#slots[shard] = slots;
    this.#limits[shard] = Math.floor(slots * (compact ? COMPACT_MAX_LOAD : MAX_LOAD));
    // A table of its own that the shard grew out of is freed now: left to
    // the garbage collector, the tables shards grew out of (twice the set,
    // over its growth) wait for an old-generation collection.
    if (wasInNursery) {
      // The nursery goes back to the system whole once no shard is in it
      // (a shard growing out of the region's reach after that gets a new
      // one).
      if (keys.buffer !== nursery && --this.#nurseryShards === 0) {
        nursery.transfer(0);
        this.#nursery = undefined;
        this.#nurseryUsed = 0;
      }
    } else if (oldSlots > 0 && !wasInRegion) {
      for (const old of [oldKeys, oldWords, oldBytes]) {
        if (old.byteLength > 0) (old.buffer as ArrayBuffer).transfer(0);
      }
    }
    if (compact) {
      // The entries are distinct: each goes straight to its place (the
      // second half of #addCompact), with no look for itself first.
      for (let at = 0; at < n; at += 3) {
        const low = held[at];
        const top = held[at + 1];
        const slot = Math.floor((low / TWO_32) * slots);
        const word = (((top & 0xfff) << 20) | (low - firstLow(slot, slots))) >>> 0;
        const carried = placeCompact(words, bytes, slots, slot, 0, word, top >>> 12);
        if (carried !== PLACED) this.#stashPush(shard, carried);
      }
      if (this.#stashed[shard] > slots >>> 5) {
        this.#crowded[shard] = 1;
        this.#grow(shard);
      }
      return;
    }
    for (let at = 0; at < n; at += 3) {
      const low = held[at];
      const b = low >>> 16;
      const c = low & 0xffff;
      // The first slot from the kept lower half, as on adding.
      let slot = Math.floor((low / TWO_32) * slots);
      while (keys[stride * slot + 2] !== 0) if (++slot === slots) slot = 0;
      const to = stride * slot;
      keys[to] = held[at + 1];
      keys[to + 1] = b;
      keys[to + 2] = c;
      if (stride !== 3) {
        keys[to + 3] = held[at + 2] & 0xffff;
        if (stride === 5) keys[to + 4] = held[at + 2] >>> 16;
      }
    }
  }
}

/**
 * The lower half as the set keeps it: its last 16 bits' 0 as 1, since a
 * six-byte slot whose last word is 0 is empty.
 */
function keptLow(low: number): number {
  return (low & 0xffff) === 0 ? low + 1 : low;
}

/** What {@linkcode placeCompact} gives when every entry has a slot. */
const PLACED = -1;

/**
 * Puts an entry in a table of five-byte slots at `slot`, `distance` slots
 * past its own first one, where it is not (the second half of adding, and
 * all of putting a grown shard's entries back): Robin Hood order, an entry
 * takes the slot of one nearer its own first slot, which moves on.
 *
 * @returns {@linkcode PLACED}, or the entry last carried, whole (as the
 *   stash keeps it), when it would be too far from its first slot for four
 *   bits.
 */
function placeCompact(
  words: Uint32Array,
  bytes: Uint8Array,
  slots: number,
  slot: number,
  distance: number,
  word: number,
  nibble: number,
): number {
  for (;;) {
    const b = bytes[slot];
    if (b === 0) {
      words[slot] = word;
      bytes[slot] = nibble | ((distance + 1) << 4);
      return PLACED;
    }
    if ((b >>> 4) - 1 < distance) {
      const w = words[slot];
      words[slot] = word;
      bytes[slot] = nibble | ((distance + 1) << 4);
      word = w;
      nibble = b & 15;
      distance = (b >>> 4) - 1;
    }
    if (++slot === slots) slot = 0;
    if (++distance > MAX_DISTANCE) {
      let first = slot - distance;
      if (first < 0) first += slots;
      return (((word & 0xfffff) + firstLow(first, slots)) * 65536) +
        ((nibble << 12) | (word >>> 20));
    }
  }
}

/**
 * The least lower half whose first slot is `slot` in a table of `slots`:
 * an entry keeps only its lower half's offset from it, which takes 20 bits
 * in a table of more than 4,096 slots. (`slot × 2^32 / slots` is exact or
 * at least 1 / slots from a whole number, far beyond a double's rounding,
 * so the ceiling is exact.)
 */
function firstLow(slot: number, slots: number): number {
  return Math.ceil((slot * TWO_32) / slots);
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
 * Where a shard's stash starts in its region, after a table of `slots`
 * five-byte slots (at a multiple of 8 bytes), and how many entries it has
 * room for: one more than a shard keeps before it goes back to six-byte
 * slots. The largest table in a region (2^15 slots) and its stash take
 * 172 KiB of the region's 192.
 */
function stashOffset(slots: number): number {
  return Math.ceil((5 * slots) / 8) * 8;
}

function stashCapacity(slots: number): number {
  return (slots >>> 5) + 1;
}

/**
 * The bytes of a set's nursery: every table under
 * {@linkcode REGION_FROM_BYTES} each shard takes on its way to the region
 * (9.3 MB), but at least 33 MiB of address space: glibc serves an
 * allocation that large from a mapping of its own (its threshold for that
 * rises with what is freed, to 32 MiB at most), whose pages become
 * resident only when written and go back to the system when freed. A set
 * of 1,000 entries writes 240 KB of it.
 */
const NURSERY_BYTES = (() => {
  let bytes = 0;
  for (let shard = 0; shard < SHARDS; shard++) {
    for (let step = 0; 6 * slotsAt(shard, step) < REGION_FROM_BYTES; step++) {
      bytes += 6 * slotsAt(shard, step);
    }
  }
  return Math.max(bytes, 33 * 2 ** 20);
})();

/**
 * Slots in each shard's region of the reservation: 2^15 (192 KiB), room
 * for about 29,000 entries a shard, 30M a set. The reservation is address
 * space: the system makes a page resident only when it is first written,
 * so a set of 10M entries has about 68 KiB of each region in memory.
 */
const REGION_SLOTS = 1 << 15;

/**
 * One scratch table for all sets: where a shard's entries wait while its
 * table grows. It is as large as the largest shard grown so far, about
 * 1/1024 of the largest set.
 */
let scratch = new Uint32Array(0);

/** The scratch table's first `length` numbers, enlarged first if need be. */
function scratchEntries(length: number): Uint32Array {
  if (scratch.length < length) scratch = new Uint32Array(Math.ceil(length * 1.5));
  return scratch.subarray(0, length);
}
