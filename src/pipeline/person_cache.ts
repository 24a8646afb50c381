/**
 * The import's memory of people: for each person (email key) it has seen,
 * what a later row of the same person needs — the user id, whether this
 * session created the user, the TOTP factor and the memberships already
 * ensured — and nothing else: no SDK objects, no settled promises. Its bound
 * is a byte budget, not a count, so a million-row import stays flat; most
 * people are packed as bytes outside V8's heap (which grows by more than
 * what it holds). A person forgotten past the bound is recognized again the
 * way any existing user is (the journal's claims, or a lookup after WorkOS
 * refuses the duplicate create), and a fixed-size filter of the people
 * forgotten lets the row count as a repeat of its person, not as an
 * existing user.
 *
 * @module
 */

import { CoalescingCache } from "../organizations/organization_cache.ts";
import { cyrb53, cyrb53High, cyrb53Low } from "../validation/_cyrb53.ts";
import { PackedPeople } from "./_packed_people.ts";

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

/**
 * The person cache's default budget: 8 MiB, about 44,000 people of one
 * membership each, or 75,000 without one (packed: see {@linkcode PersonCache}).
 */
export const DEFAULT_PERSON_CACHE_BYTES: number = 8 * 2 ** 20;

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

/** The people kept as objects, most recently used: at most this many, and an eighth of the budget. */
const HOT_PEOPLE = 1024;
/** Separates the fields of a packed person; WorkOS ids never hold it. */
const SEP = "\u0000";

/**
 * A settled person as one string for the packed store: user id, factor id,
 * then each membership's organization id and id. `undefined` when a field
 * holds the separator (never a WorkOS id): such a person is forgotten
 * instead.
 *
 * Not its `fresh` flag: a row may still hold the object it was packed from
 * and enroll a factor through it, so a packed person comes back as not
 * fresh, and a factor is looked up before it is enrolled (one read), never
 * enrolled twice.
 */
function packEntry(entry: PersonEntry): string | undefined {
  let packed = entry.userId + SEP + (typeof entry.factor === "string" ? entry.factor : "");
  if (entry.memberships) {
    for (const [organizationId, membership] of entry.memberships) {
      if (typeof membership !== "string") return undefined;
      packed += SEP + organizationId + SEP + membership;
    }
  }
  // One separator between fields: a field that held one would shift the rest.
  let fields = 1;
  for (let i = packed.indexOf(SEP); i >= 0; i = packed.indexOf(SEP, i + 1)) fields++;
  return fields === 2 + 2 * (entry.memberships?.size ?? 0) ? packed : undefined;
}

function unpackEntry(packed: string): PersonEntry {
  const fields = packed.split(SEP);
  const entry: PersonEntry = { userId: fields[0], fresh: false };
  if (fields[1] !== "") entry.factor = fields[1];
  if (fields.length > 2) {
    const memberships = new Map<string, SettledMembership>();
    for (let i = 2; i < fields.length; i += 2) memberships.set(fields[i], fields[i + 1]);
    entry.memberships = memberships;
  }
  return entry;
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
 * The most recently used people (up to 1,024, within an eighth of the
 * budget) are objects, which rows change in place; the others are packed
 * as bytes in typed arrays (see `_packed_people.ts`), about 140 bytes a
 * person instead of 300 of V8 heap, oldest first out; a row of a packed
 * person unpacks it into an object again (as not fresh: see `packEntry`).
 *
 * @example Usage
 * ```ts
 * import { PersonCache } from "./person_cache.ts";
 * import assert from "node:assert/strict";
 *
 * const people = new PersonCache({ maxBytes: 4_000 });
 * let loads = 0;
 * const load = () => Promise.resolve({ userId: `user_${++loads}`, fresh: true });
 * const [a, b] = await Promise.all([people.get("ada@example.com", load), people.get("ada@example.com", load)]);
 * assert.equal(a, b);
 * assert.equal(loads, 1);
 * for (let i = 0; i < 200; i++) await people.get(`p${i}@example.com`, load);
 * assert.ok(people.stats.bytes <= 4_000);
 * assert.equal(people.peek("ada@example.com"), undefined); // forgotten past the budget
 * assert.ok(people.wasForgotten("ada@example.com"));
 * ```
 */
export class PersonCache {
  readonly #hot: CoalescingCache<PersonEntry>;
  readonly #packed: PackedPeople;
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
    const hotBytes = Math.floor(maxBytes / 8);
    const forget = (key: string) => (this.#forgotten ??= new ForgottenPeople()).add(key);
    this.#packed = new PackedPeople(maxBytes - hotBytes, forget);
    this.#hot = new CoalescingCache<PersonEntry>({
      capacity: HOT_PEOPLE,
      maxBytes: hotBytes,
      sizeOf: entryBytes,
      keep: isBusy,
      onEvict: (key, entry) => {
        const packed = packEntry(entry);
        if (packed === undefined) forget(key);
        else this.#packed.put(key, packed);
      },
    });
  }

  /** Size, estimated bytes and evictions so far. */
  get stats(): PersonCacheStats {
    const packed = this.#packed;
    return {
      size: this.#hot.stats.size + packed.size,
      bytes: this.#hot.bytes + packed.bytes,
      evictions: this.#forgotten?.count ?? 0,
    };
  }

  /**
   * The person for `key`, established once by `load` if not remembered.
   *
   * @param key The person's email key.
   * @param load Establishes the person; called at most once per key at a time.
   * @returns The person.
   */
  get(key: string, load: () => Promise<PersonEntry>): Promise<PersonEntry> {
    if (this.#packed.size > 0 && this.#hot.peek(key) === undefined) {
      // Not in flight either: a person being loaded is in neither store.
      const packed = this.#packed.take(key);
      if (packed !== undefined) {
        const entry = unpackEntry(packed);
        // Counted as a use of the hot store, which may pack it again at once (a small budget).
        this.#hot.set(key, entry);
        return Promise.resolve(entry);
      }
    }
    return this.#hot.get(key, load);
  }

  /**
   * The remembered person for `key`, without counting as a use. A packed
   * person comes back as a copy: change a person only through
   * {@linkcode PersonCache.get}'s entry.
   *
   * @param key The person's email key.
   * @returns The person, or `undefined` when not remembered.
   */
  peek(key: string): PersonEntry | undefined {
    const entry = this.#hot.peek(key);
    if (entry !== undefined) return entry;
    const packed = this.#packed.peek(key);
    return packed === undefined ? undefined : unpackEntry(packed);
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
    if (this.#hot.peek(key) === entry) {
      this.#hot.changed(key);
    } else if (this.#packed.peek(key) !== undefined) {
      // Packed while its row still worked on it: the packed copy is older than the entry.
      this.#packed.take(key);
      const packed = packEntry(entry);
      if (packed !== undefined) this.#packed.put(key, packed);
      else (this.#forgotten ??= new ForgottenPeople()).add(key);
    }
  }

  /**
   * Forgets a person (its user no longer exists): not counted as forgotten.
   *
   * @param key The person's email key.
   */
  delete(key: string): void {
    this.#hot.delete(key);
    this.#packed.take(key);
  }
}
