// Exact numbering of the distinct strings of a long file (a migration
// package's emails) at a small fixed cost per entry: the strings' UTF-8
// bytes in 1 MiB chunks, found by a fingerprint.

import { cyrb53, cyrb53High, cyrb53Low } from "../validation/_cyrb53.ts";
import { FingerprintSet } from "../validation/fingerprint_set.ts";

const encoder = new TextEncoder();
const CHUNK_BITS = 20;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** Keys that may be longer than this in UTF-8 go to the `Map`: their length must fit 16 bits. */
const MAX_LENGTH = 65534;
/** The length of an entry kept in the `Map`, which no key's bytes match. */
const IN_MAP = 65535;
/** Past this many bytes (the starts are 32-bit), new keys go to the `Map`. */
const MAX_USED = 2 ** 32 - 2 * CHUNK;

/** A string's 64-bit fingerprint as two 32-bit halves. */
export type Fingerprint = (text: string) => [high: number, low: number];

function cyrb53Pair(text: string): [number, number] {
  cyrb53(text);
  return [cyrb53High, cyrb53Low];
}

/**
 * Gives each distinct string a number (0, 1, 2, … in the order first met)
 * and tells a string met before from a new one, exactly.
 *
 * A `Map<string, number>` of a million emails takes about 130 MB at its
 * peak (V8 copies a string key into a table of its own, so a key sliced
 * from the CSV reader's text keeps no run alive, but each costs its string
 * and its table entry). Here a key costs its UTF-8 bytes, 6 bytes of start
 * and length and a {@linkcode FingerprintSet} slot (10 bytes), all in typed
 * arrays, and nothing of the caller's string is kept. The fingerprint only
 * finds the candidate: its bytes are compared, so two keys that share a
 * fingerprint are still told apart (the later one is kept in a small `Map`).
 *
 * @example Usage
 * ```ts
 * import { KeyIndex } from "./_key_index.ts";
 * const keys = new KeyIndex();
 * console.log(keys.indexOf("ada@example.com"), keys.isNew); // 0 true
 * console.log(keys.indexOf("bob@example.com"), keys.isNew); // 1 true
 * console.log(keys.indexOf("ada@example.com"), keys.isNew); // 0 false
 * ```
 */
export class KeyIndex {
  readonly #fingerprints = new FingerprintSet({ values: true });
  readonly #fingerprint: Fingerprint;
  /**
   * The keys' bytes, in chunks of 1 MiB that are never copied (a growing
   * array would hold its old and new copies at once, half again the keys).
   */
  readonly #chunks: Uint8Array[] = [];
  /** Where the next key goes: chunk `#used >>> CHUNK_BITS`, from byte `#used & CHUNK_MASK`. */
  #used = 0;
  /** Entry `i`'s bytes: `#lengths[i]` of them from `#starts[i]`, as `#used` counts. */
  #starts = new Uint32Array(256);
  #lengths = new Uint16Array(256);
  #size = 0;
  /** Keys whose fingerprint an earlier, different key had (or that UTF-8 cannot hold). */
  readonly #others = new Map<string, number>();
  #scratch = new Uint8Array(256);
  /** Whether the last {@linkcode KeyIndex.indexOf}'s key was new. */
  isNew = false;

  /** @param options `fingerprint` replaces cyrb53, for tests that need two keys to collide. */
  constructor(options: { fingerprint?: Fingerprint } = {}) {
    this.#fingerprint = options.fingerprint ?? cyrb53Pair;
  }

  /** Distinct keys seen. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the arrays behind the index (the fingerprints' table included). */
  get bytes(): number {
    return this.#chunks.length * CHUNK + this.#starts.byteLength + this.#lengths.byteLength +
      this.#fingerprints.bytes;
  }

  /**
   * The number of `key`, numbering it if it is new ({@linkcode KeyIndex.isNew}
   * tells which).
   */
  indexOf(key: string): number {
    // A lone surrogate would become U+FFFD in UTF-8 and match another key.
    if (!key.isWellFormed() || key.length * 3 > MAX_LENGTH) return this.#other(key);
    const length = this.#encode(key);
    const [high, low] = this.#fingerprint(key);
    const first = this.#fingerprints.addFingerprint(high, low, this.#size);
    if (first === -1) {
      this.isNew = true;
      return this.#used > MAX_USED ? this.#inMap(key) : this.#append(length, length);
    }
    if (this.#equals(first, length)) {
      this.isNew = false;
      return first;
    }
    return this.#other(key);
  }

  #other(key: string): number {
    const known = this.#others.get(key);
    if (known !== undefined) {
      this.isNew = false;
      return known;
    }
    this.isNew = true;
    return this.#inMap(key);
  }

  /** A new entry kept in the `Map` (`Map` keys are copies: they keep no reader's text alive). */
  #inMap(key: string): number {
    const index = this.#append(0, IN_MAP);
    this.#others.set(key, index);
    return index;
  }

  /** `key`'s UTF-8 bytes into the scratch array; returns how many. */
  #encode(key: string): number {
    if (this.#scratch.length < key.length * 3) this.#scratch = new Uint8Array(key.length * 3);
    return encoder.encodeInto(key, this.#scratch).written;
  }

  #equals(entry: number, length: number): boolean {
    if (this.#lengths[entry] !== length) return false;
    const start = this.#starts[entry];
    const bytes = this.#chunks[start >>> CHUNK_BITS];
    const from = start & CHUNK_MASK;
    const scratch = this.#scratch;
    for (let i = 0; i < length; i++) if (bytes[from + i] !== scratch[i]) return false;
    return true;
  }

  /** A new entry of the first `length` scratch bytes, noted as `noted` long. */
  #append(length: number, noted: number): number {
    // A key never straddles two chunks: one that does not fit starts the next.
    if ((this.#used & CHUNK_MASK) + length > CHUNK) {
      this.#used = (Math.floor(this.#used / CHUNK) + 1) * CHUNK;
    }
    if (length > 0) {
      const chunk = this.#used >>> CHUNK_BITS;
      if (chunk === this.#chunks.length) this.#chunks.push(new Uint8Array(CHUNK));
      this.#chunks[chunk].set(this.#scratch.subarray(0, length), this.#used & CHUNK_MASK);
    }
    if (this.#size === this.#starts.length) {
      const starts = new Uint32Array(Math.ceil(this.#size * 1.5));
      starts.set(this.#starts);
      this.#starts = starts;
      const lengths = new Uint16Array(starts.length);
      lengths.set(this.#lengths);
      this.#lengths = lengths;
    }
    this.#starts[this.#size] = this.#used;
    this.#lengths[this.#size] = noted;
    this.#used += length;
    return this.#size++;
  }
}
