/**
 * The import's memory of people: for each person (email key) it has seen,
 * what a later row of the same person needs — the user id, whether this
 * session created the user, the TOTP factor and the memberships already
 * ensured — and nothing else: no SDK objects, no settled promises. Its bound
 * is a byte budget, not a count, so a million-row import stays flat; a
 * person forgotten past the bound is recognized again the way any existing
 * user is (the journal's claims, or a lookup after WorkOS refuses the
 * duplicate create).
 *
 * @module
 */

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

/** The person cache's default budget: 16 MiB, about 80,000 people of one membership each. */
export const DEFAULT_PERSON_CACHE_BYTES: number = 16 * 2 ** 20;

// Estimates of V8's layout on a 64-bit build, rounded up: an ordered hash
// map's slot (key, value, chain) and bucket, an object's header and fields,
// a sequential string's header.
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
  let bytes = MAP_SLOT_BYTES + ENTRY_BYTES + stringBytes(key) + stringBytes(entry.userId);
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
 * Least-recently-used memory of people within a byte budget, with lookups
 * coalesced: however many rows of one person arrive at once, the person is
 * established once. A failed load is not remembered, so the next row tries
 * again. A person whose membership or factor is still in flight is never
 * forgotten (at most the rows in flight are).
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
 * ```
 */
export class PersonCache {
  readonly #maxBytes: number;
  // A Map iterates in insertion order: re-inserting on use keeps it in LRU order.
  readonly #entries = new Map<string, { entry: PersonEntry; bytes: number }>();
  readonly #inFlight = new Map<string, Promise<PersonEntry>>();
  #bytes = 0;
  #evictions = 0;

  /**
   * @param options `maxBytes`: the estimated bytes people may take ({@linkcode DEFAULT_PERSON_CACHE_BYTES}).
   */
  constructor(options: { maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_PERSON_CACHE_BYTES;
    if (!(this.#maxBytes >= 0)) {
      throw new RangeError(
        `Cannot create the person cache: its budget must be at least 0 bytes, got ${this.#maxBytes}`,
      );
    }
  }

  /** Size, estimated bytes and evictions so far. */
  get stats(): PersonCacheStats {
    return { size: this.#entries.size, bytes: this.#bytes, evictions: this.#evictions };
  }

  /**
   * The person for `key`, established once by `load` if not remembered.
   *
   * @param key The person's email key.
   * @param load Establishes the person; called at most once per key at a time.
   * @returns The person.
   */
  get(key: string, load: () => Promise<PersonEntry>): Promise<PersonEntry> {
    const held = this.#entries.get(key);
    if (held) {
      this.#entries.delete(key);
      this.#entries.set(key, held);
      return Promise.resolve(held.entry);
    }
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const promise = load().then(
      (entry) => {
        this.#inFlight.delete(key);
        this.#store(key, entry);
        return entry;
      },
      (error) => {
        this.#inFlight.delete(key);
        throw error;
      },
    );
    this.#inFlight.set(key, promise);
    return promise;
  }

  /**
   * The remembered person for `key`, without counting as a use.
   *
   * @param key The person's email key.
   * @returns The person, or `undefined` when not remembered.
   */
  peek(key: string): PersonEntry | undefined {
    return this.#entries.get(key)?.entry;
  }

  /**
   * Measures a person again after its entry changed (a membership or factor
   * settled), forgetting the least recently used people past the budget.
   *
   * @param key The person's email key.
   * @param entry The person's entry as it is now.
   */
  changed(key: string, entry: PersonEntry): void {
    const held = this.#entries.get(key);
    if (held?.entry !== entry) return;
    this.#bytes -= held.bytes;
    this.#entries.delete(key);
    this.#store(key, entry);
  }

  /**
   * Forgets a person (its user no longer exists).
   *
   * @param key The person's email key.
   */
  delete(key: string): void {
    const held = this.#entries.get(key);
    if (!held) return;
    this.#bytes -= held.bytes;
    this.#entries.delete(key);
  }

  #store(key: string, entry: PersonEntry): void {
    const previous = this.#entries.get(key);
    if (previous) {
      this.#bytes -= previous.bytes;
      this.#entries.delete(key);
    }
    const bytes = entryBytes(key, entry);
    this.#entries.set(key, { entry, bytes });
    this.#bytes += bytes;
    this.#evict();
  }

  #evict(): void {
    // A busy person goes to the back of the line; at most every entry is looked at once.
    let looked = 0;
    const limit = this.#entries.size;
    while (this.#bytes > this.#maxBytes && looked++ < limit) {
      const [key, held] = this.#entries.entries().next().value as [
        string,
        { entry: PersonEntry; bytes: number },
      ];
      this.#entries.delete(key);
      if (isBusy(held.entry)) {
        this.#entries.set(key, held);
        continue;
      }
      this.#bytes -= held.bytes;
      this.#evictions++;
    }
  }
}
