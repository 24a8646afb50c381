/**
 * The person cache's cold store: settled people packed as bytes, in one
 * arena and one open-addressing index of typed arrays, oldest first out.
 *
 * Why bytes: a person kept as JavaScript objects (its entry, its slot, its
 * email and id strings, and its share of a `Map` table under LRU churn) takes
 * about 300 bytes of V8 heap, and every live MiB of heap cost about 2 MiB of
 * resident memory at `--concurrency 50` (the old generation grows by half
 * what is live, plus what is promoted while it marks). Here a person takes
 * its UTF-8 bytes, a 16-byte header and 8 bytes of index per slot (kept at
 * most three quarters full): about 110 bytes for a users-only person. The arrays hold
 * no pointers, so the collector never scans them either.
 *
 * @module
 */

import { cyrb53, cyrb53Low } from "../validation/_cyrb53.ts";

/**
 * Header words of a record: the key's hash, the record's length in bytes
 * (a multiple of 4; top bit: dead, taken or deleted), the key's and the
 * value's lengths in bytes.
 */
const HEADER_BYTES = 16;
const DEAD = 0x8000_0000 | 0;
const MIN_SLOTS = 16;
/** Bytes of index per slot: the record's word offset and the key's hash. */
const SLOT_BYTES = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Keys (strings) to values (strings) within a byte budget that counts every
 * byte of its arrays; oldest first out, the key of each handed to `onEvict`.
 * Not exported from the package: the person cache's own store.
 */
export class PackedPeople {
  readonly #maxBytes: number;
  readonly #onEvict: (key: string) => void;
  #arena = new Uint8Array(0);
  #words = new Int32Array(0);
  /** Next free byte of the arena (a multiple of 4). */
  #head = 0;
  /** Word offset + 1 of each slot's record; 0 for an empty slot. */
  #slots = new Int32Array(0);
  #hashes = new Int32Array(0);
  #count = 0;
  /** Bytes of the live records. */
  #liveBytes = 0;
  #evictions = 0;
  #scratch = new Uint8Array(256);

  /**
   * @param maxBytes The most its arrays may take together.
   * @param onEvict Told the key of each entry dropped to stay within it.
   */
  constructor(maxBytes: number, onEvict: (key: string) => void) {
    this.#maxBytes = maxBytes;
    this.#onEvict = onEvict;
  }

  /** Entries kept. */
  get size(): number {
    return this.#count;
  }

  /** Bytes its arrays take. */
  get bytes(): number {
    return this.#arena.byteLength + this.#slots.byteLength + this.#hashes.byteLength;
  }

  /** Entries dropped to stay within the budget. */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * Keeps `value` for `key` (which must not be kept already), dropping the
   * oldest entries as needed; an entry larger than the whole budget is
   * dropped at once.
   */
  put(key: string, value: string): void {
    const need = HEADER_BYTES + 3 * (key.length + value.length) + 4;
    if (!this.#makeRoom(need)) {
      this.#evictions++;
      this.#onEvict(key);
      return;
    }
    const arena = this.#arena;
    const start = this.#head;
    const keyBytes = encoder.encodeInto(key, arena.subarray(start + HEADER_BYTES)).written;
    const valueBytes = encoder.encodeInto(
      value,
      arena.subarray(start + HEADER_BYTES + keyBytes),
    ).written;
    const length = (HEADER_BYTES + keyBytes + valueBytes + 3) & ~3;
    cyrb53(key);
    const hash = cyrb53Low | 0;
    const word = start >> 2;
    this.#words[word] = hash;
    this.#words[word + 1] = length;
    this.#words[word + 2] = keyBytes;
    this.#words[word + 3] = valueBytes;
    this.#head = start + length;
    this.#insertSlot(hash, word);
    this.#count++;
    this.#liveBytes += length;
  }

  /** The value for `key`, or `undefined`. */
  peek(key: string): string | undefined {
    const slot = this.#find(key);
    return slot < 0 ? undefined : this.#valueAt(this.#slots[slot] - 1);
  }

  /** The value for `key`, no longer kept; `undefined` when not kept. */
  take(key: string): string | undefined {
    const slot = this.#find(key);
    if (slot < 0) return undefined;
    const word = this.#slots[slot] - 1;
    const value = this.#valueAt(word);
    this.#liveBytes -= this.#words[word + 1];
    this.#words[word + 1] |= DEAD;
    this.#removeSlot(slot);
    this.#count--;
    return value;
  }

  #valueAt(word: number): string {
    const from = (word << 2) + HEADER_BYTES + this.#words[word + 2];
    return decoder.decode(this.#arena.subarray(from, from + this.#words[word + 3]));
  }

  #keyAt(word: number): string {
    const from = (word << 2) + HEADER_BYTES;
    return decoder.decode(this.#arena.subarray(from, from + this.#words[word + 2]));
  }

  /** The slot holding `key`, or -1. */
  #find(key: string): number {
    if (this.#count === 0) return -1;
    cyrb53(key);
    const hash = cyrb53Low | 0;
    const mask = this.#slots.length - 1;
    let encoded: Uint8Array | undefined;
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot];
      if (entry === 0) return -1;
      if (this.#hashes[slot] !== hash) continue;
      encoded ??= this.#encodeKey(key);
      if (this.#sameKey(entry - 1, encoded)) return slot;
    }
  }

  #encodeKey(key: string): Uint8Array {
    if (this.#scratch.length < key.length * 3) this.#scratch = new Uint8Array(key.length * 3);
    const { written } = encoder.encodeInto(key, this.#scratch);
    return this.#scratch.subarray(0, written);
  }

  #sameKey(word: number, key: Uint8Array): boolean {
    if (this.#words[word + 2] !== key.length) return false;
    const from = (word << 2) + HEADER_BYTES;
    const arena = this.#arena;
    for (let i = 0; i < key.length; i++) if (arena[from + i] !== key[i]) return false;
    return true;
  }

  #insertSlot(hash: number, word: number): void {
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = word + 1;
    this.#hashes[slot] = hash;
  }

  /** Linear probing's deletion: later entries of the run move back into the hole. */
  #removeSlot(hole: number): void {
    const slots = this.#slots;
    const hashes = this.#hashes;
    const mask = slots.length - 1;
    slots[hole] = 0;
    for (let slot = (hole + 1) & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
      const home = hashes[slot] & mask;
      // The entry may fill the hole when its home is not between the hole and it (cyclically).
      const movable = hole <= slot ? home <= hole || home > slot : home <= hole && home > slot;
      if (movable) {
        slots[hole] = slots[slot];
        hashes[hole] = hashes[slot];
        slots[slot] = 0;
        hole = slot;
      }
    }
  }

  /**
   * Room for a record of up to `need` bytes and one more index entry:
   * on the first record, makes the arrays at their final sizes (the index
   * up to a quarter of the budget, the arena the rest); after that, drops
   * the oldest entries. `false` when the budget cannot hold the record at
   * all.
   *
   * Why not grow by doubling: each array given up was a large block freed,
   * and glibc answers the free of a block it had mapped on its own by
   * raising its mmap threshold to the block's size and its trim threshold
   * to twice that (after the arena's 4 MiB step: 4 and 8 MiB), so that
   * smaller native allocations came from the main heap and what was freed
   * at its top stayed resident. Made once, the arrays are never freed nor
   * copied, and their pages not yet written are not resident.
   */
  #makeRoom(need: number): boolean {
    if (this.#slots.length === 0) {
      if (MIN_SLOTS * SLOT_BYTES >= this.#maxBytes) return false;
      let slots = MIN_SLOTS;
      while (slots * 2 * SLOT_BYTES <= this.#maxBytes / 4) slots *= 2;
      this.#slots = new Int32Array(slots);
      this.#hashes = new Int32Array(slots);
      this.#arena = new Uint8Array((this.#maxBytes - slots * SLOT_BYTES) & ~3);
      this.#words = new Int32Array(this.#arena.buffer);
    }
    if (need > this.#arena.length) return false;
    if ((this.#count + 1) * 4 > this.#slots.length * 3) {
      // The index is as full as it may be: the oldest quarter of the entries go.
      this.#compact(need, Math.max(1, this.#count >> 2));
    }
    if (this.#head + need > this.#arena.length) this.#compact(need, 0);
    return this.#head + need <= this.#arena.length;
  }

  /**
   * Drops the oldest live entries — at least `entries` of them, and enough
   * that the rest and `need` bytes fit in the arena with a quarter of it to
   * spare — then moves the rest to its front and indexes them again. A
   * quarter at a time, so that the copy is paid once per many entries, not
   * per entry.
   */
  #compact(need: number, entries: number): void {
    const words = this.#words;
    const size = this.#arena.length;
    const keep = Math.min(size - need, size - (size >> 2));
    let offset = 0;
    let dropped = 0;
    while (offset < this.#head && (this.#liveBytes > keep || dropped < entries)) {
      const word = offset >> 2;
      const length = words[word + 1] & ~DEAD;
      if ((words[word + 1] & DEAD) === 0) {
        this.#count--;
        this.#liveBytes -= length;
        this.#evictions++;
        dropped++;
        this.#onEvict(this.#keyAt(word));
      }
      offset += length;
    }
    // Move the survivors to the front, leaving out the dead, and index them again.
    const arena = this.#arena;
    this.#slots.fill(0);
    let at = 0;
    while (offset < this.#head) {
      const word = offset >> 2;
      const length = words[word + 1] & ~DEAD;
      if ((words[word + 1] & DEAD) === 0) {
        if (at !== offset) arena.copyWithin(at, offset, offset + length);
        this.#insertSlot(words[at >> 2], at >> 2);
        at += length;
      }
      offset += length;
    }
    this.#head = at;
  }
}
