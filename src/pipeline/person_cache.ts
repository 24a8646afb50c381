/**
 * The import's memory of people: for each person (email key) it has seen,
 * what a later row of the same person needs — the user id, whether this
 * session created the user, the TOTP factor and the memberships already
 * ensured — and nothing else: no SDK objects, no settled promises. Its bound
 * is a byte budget, not a count, so a million-row import stays flat; a
 * person forgotten past the bound is recognized again the way any existing
 * user is (the journal's claims, or a lookup after WorkOS refuses the
 * duplicate create), and a fixed-size filter of the people forgotten lets
 * the row count as a repeat of its person, not as an existing user.
 *
 * @module
 */

import { CoalescingCache } from "../organizations/organization_cache.ts";
import { cyrb53, cyrb53High, cyrb53Low } from "../validation/_cyrb53.ts";

/** A membership of a person, once ensured: its id. */
export type SettledMembership = string;

/** What a later row of a person needs. */
export interface PersonEntry {
  /** The WorkOS user id. */
  readonly userId: string;
  /** Created by this session, not found: it cannot have a TOTP factor it did not enroll. */
  readonly fresh: boolean;
  /** The TOTP factor: its enrollment in flight, or its id once enrolled. */
  factor?: Promise<{ id: string; created: boolean }> | string;
  /**
   * Memberships rows of this person asked for, by organization id: the
   * request in flight, or the membership's id once ensured.
   */
  memberships?: Map<string, Promise<{ id: string }> | SettledMembership>;
}

/** Sizes and counts of a {@linkcode PersonCache}. */
export interface PersonCacheStats {
  /** People remembered now. */
  size: number;
  /** Estimated bytes they take. */
  bytes: number;
  /** People forgotten to stay within the budget. */
  evictions: number;
}

/** The person cache's default budget: 16 MiB, about 55,000 people of one membership each. */
export const DEFAULT_PERSON_CACHE_BYTES: number = 16 * 2 ** 20;

// Estimates of V8's layout on a 64-bit build (Deno's V8 has no pointer
// compression: 8 bytes a field), rounded up, and checked against the heap
// (tests/pipeline_person_cache_test.ts fills a cache in a process of its
// own and weighs it):
// - the cache's own Map: an ordered hash table's entry is three fields (key,
//   value, chain) plus half a bucket, but a Map under LRU churn keeps the
//   deleted entries' holes until it rehashes and doubles ahead of its size,
//   so it settles at about three table entries a live one;
// - the cache's slot object beside each value ({ value, bytes }: a header
//   of three fields and two fields);
// - a person's own small Map of memberships, its entries (no churn), the
//   entry object, and a sequential string's header.
const CACHE_MAP_SLOT_BYTES = 84;
const CACHE_SLOT_BYTES = 40;

/**
 * What a {@linkcode CoalescingCache} entry costs beyond its key and value,
 * estimated: its Map's table under LRU churn and its slot object (see above).
 * Every byte-budgeted cache of the import counts it, so that its budget is
 * what it takes on the heap.
 */
export const COALESCING_SLOT_BYTES: number = CACHE_MAP_SLOT_BYTES + CACHE_SLOT_BYTES;
const MAP_SLOT_BYTES = 40;
const MAP_BYTES = 120;
const ENTRY_BYTES = 72;
const STRING_HEADER_BYTES = 24;

/**
 * Estimated bytes a string takes on the heap (two bytes a character when it
 * holds any above U+00FF, as V8 stores it).
 *
 * @param text The string.
 * @returns The estimate.
 *
 * @example Usage
 * ```ts
 * import { stringBytes } from "./person_cache.ts";
 * console.log(stringBytes("ada@example.com")); // 40
 * ```
 */
export function stringBytes(text: string): number {
  // deno-lint-ignore no-control-regex
  const wide = /[^\u0000-\u00ff]/.test(text);
  const bytes = STRING_HEADER_BYTES + text.length * (wide ? 2 : 1);
  return Math.ceil(bytes / 8) * 8;
}

function entryBytes(key: string, entry: PersonEntry): number {
  let bytes = COALESCING_SLOT_BYTES + ENTRY_BYTES + stringBytes(key) + stringBytes(entry.userId);
  if (typeof entry.factor === "string") bytes += stringBytes(entry.factor);
  if (entry.memberships) {
    bytes += MAP_BYTES;
    for (const [organizationId, membership] of entry.memberships) {
      bytes += MAP_SLOT_BYTES + stringBytes(organizationId);
      if (typeof membership === "string") bytes += stringBytes(membership);
    }
  }
  return bytes;
}

/** Whether an entry still waits for a request (it must not be forgotten then). */
function isBusy(entry: PersonEntry): boolean {
  if (entry.factor !== undefined && typeof entry.factor !== "string") return true;
  if (entry.memberships) {
    for (const membership of entry.memberships.values()) {
      if (typeof membership !== "string") return true;
    }
  }
  return false;
}

/**
 * A fixed-size Bloom filter of the people a cache forgot: 2 MiB, 6 probes.
 * It answers "maybe forgotten" for every person forgotten, and for a person
 * never seen with a probability of about 1 in 1,300 after 1M people were
 * forgotten (1 in 56 after 2M): such a row, whose user WorkOS already had,
 * counts as a repeat instead of as existing. Nothing else depends on it.
 */
class ForgottenPeople {
  static readonly BITS = 2 ** 24;
  static readonly PROBES = 6;
  readonly #bits = new Uint32Array(ForgottenPeople.BITS / 32);
  #count = 0;

  /** People added so far. */
  get count(): number {
    return this.#count;
  }

  add(key: string): void {
    this.#count++;
    this.#probe(key, (word, bit) => {
      this.#bits[word] |= bit;
      return true;
    });
  }

  has(key: string): boolean {
    if (this.#count === 0) return false;
    return this.#probe(key, (word, bit) => (this.#bits[word] & bit) !== 0);
  }

  /** Double hashing of the two 32-bit lanes of cyrb53; `visit` returning false stops it. */
  #probe(key: string, visit: (word: number, bit: number) => boolean): boolean {
    cyrb53(key);
    const a = cyrb53Low;
    const b = cyrb53High | 1;
    const mask = ForgottenPeople.BITS - 1;
    for (let i = 0; i < ForgottenPeople.PROBES; i++) {
      const index = (a + Math.imul(i, b)) & mask;
      if (!visit(index >>> 5, 1 << (index & 31))) return false;
    }
    return true;
  }
}

/**
 * Least-recently-used memory of people within a byte budget, with lookups
 * coalesced: however many rows of one person arrive at once, the person is
 * established once (a {@linkcode CoalescingCache} measured by
 * {@linkcode stringBytes}). A failed load is not remembered, so the next row
 * tries again. A person whose membership or factor is still in flight is
 * never forgotten (at most the rows in flight are). A person forgotten is
 * remembered as such ({@linkcode PersonCache.wasForgotten}), in a fixed 2 MiB.
 *
 * @example Usage
 * ```ts
 * import { PersonCache } from "./person_cache.ts";
 * import assert from "node:assert/strict";
 *
 * const people = new PersonCache({ maxBytes: 1_000 });
 * let loads = 0;
 * const load = () => Promise.resolve({ userId: `user_${++loads}`, fresh: true });
 * const [a, b] = await Promise.all([people.get("ada@example.com", load), people.get("ada@example.com", load)]);
 * assert.equal(a, b);
 * assert.equal(loads, 1);
 * for (let i = 0; i < 20; i++) await people.get(`p${i}@example.com`, load);
 * assert.ok(people.stats.bytes <= 1_000);
 * assert.equal(people.peek("ada@example.com"), undefined); // forgotten past the budget
 * assert.ok(people.wasForgotten("ada@example.com"));
 * ```
 */
export class PersonCache {
  readonly #cache: CoalescingCache<PersonEntry>;
  // Allocated on the first eviction: an import that never fills the cache never pays for it.
  #forgotten?: ForgottenPeople;

  /**
   * @param options `maxBytes`: the estimated bytes people may take ({@linkcode DEFAULT_PERSON_CACHE_BYTES}).
   */
  constructor(options: { maxBytes?: number } = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_PERSON_CACHE_BYTES;
    if (!(maxBytes >= 0)) {
      throw new RangeError(
        `Cannot create the person cache: its budget must be at least 0 bytes, got ${maxBytes}`,
      );
    }
    this.#cache = new CoalescingCache<PersonEntry>({
      capacity: Infinity,
      maxBytes,
      sizeOf: entryBytes,
      keep: isBusy,
      onEvict: (key) => (this.#forgotten ??= new ForgottenPeople()).add(key),
    });
  }

  /** Size, estimated bytes and evictions so far. */
  get stats(): PersonCacheStats {
    const cache = this.#cache;
    return { size: cache.stats.size, bytes: cache.bytes, evictions: cache.evictions };
  }

  /**
   * The person for `key`, established once by `load` if not remembered.
   *
   * @param key The person's email key.
   * @param load Establishes the person; called at most once per key at a time.
   * @returns The person.
   */
  get(key: string, load: () => Promise<PersonEntry>): Promise<PersonEntry> {
    return this.#cache.get(key, load);
  }

  /**
   * The remembered person for `key`, without counting as a use.
   *
   * @param key The person's email key.
   * @returns The person, or `undefined` when not remembered.
   */
  peek(key: string): PersonEntry | undefined {
    return this.#cache.peek(key);
  }

  /**
   * Whether the person for `key` was remembered once and forgotten to stay
   * within the budget: always `true` for such a person, and `false` for a
   * person never seen but for a small chance (see the module's filter).
   *
   * @param key The person's email key.
   * @returns Whether a row of this person was established and forgotten.
   */
  wasForgotten(key: string): boolean {
    return this.#forgotten?.has(key) ?? false;
  }

  /**
   * Measures a person again after its entry changed (a membership or factor
   * settled), forgetting the least recently used people past the budget.
   *
   * @param key The person's email key.
   * @param entry The person's entry as it is now.
   */
  changed(key: string, entry: PersonEntry): void {
    if (this.#cache.peek(key) === entry) this.#cache.changed(key);
  }

  /**
   * Forgets a person (its user no longer exists): not counted as forgotten.
   *
   * @param key The person's email key.
   */
  delete(key: string): void {
    this.#cache.delete(key);
  }
}
