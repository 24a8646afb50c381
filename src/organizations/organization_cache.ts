/**
 * A bounded LRU cache whose lookups are coalesced: however many rows ask for
 * one organization at once, its loader runs once.
 *
 * @module
 */

/** Hit and miss counts of a {@linkcode CoalescingCache}. */
export interface CacheStats {
  /** Answers served from the cache or from a lookup already in flight. */
  hits: number;
  /** Answers that needed a lookup. */
  misses: number;
  /** Entries held now. */
  size: number;
}

/** Options for {@linkcode CoalescingCache}. */
export interface CoalescingCacheOptions<V> {
  /** Entries kept before the least recently used goes (10,000). */
  capacity?: number;
  /**
   * Estimated bytes the entries may take, by `sizeOf`, before the least
   * recently used goes (no bound).
   */
  maxBytes?: number;
  /** Estimated bytes of one entry (key and value), for `maxBytes`. */
  sizeOf?(key: string, value: V): number;
}

/**
 * Least-recently-used cache with request coalescing. Failed loads are not
 * cached, so the next request tries again.
 *
 * @example Usage
 * ```ts
 * import { CoalescingCache } from "./organization_cache.ts";
 * const cache = new CoalescingCache<string>({ capacity: 2 });
 * const [a, b] = await Promise.all([
 *   cache.get("acme", () => Promise.resolve("org_1")),
 *   cache.get("acme", () => Promise.resolve("org_2")),
 * ]);
 * console.log(a, b, cache.stats.misses); // org_1 org_1 1
 * ```
 */
export class CoalescingCache<V> {
  readonly #capacity: number;
  readonly #maxBytes: number;
  readonly #sizeOf?: (key: string, value: V) => number;
  // A Map iterates in insertion order: re-inserting on use keeps it in LRU order.
  readonly #entries = new Map<string, V>();
  #bytes = 0;
  readonly #inFlight = new Map<string, Promise<V>>();
  #hits = 0;
  #misses = 0;

  /**
   * @param options The bound: a count (`capacity`) and, with `sizeOf`, bytes (`maxBytes`).
   */
  constructor(options: CoalescingCacheOptions<V> = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#sizeOf = options.sizeOf;
    if (!(this.#capacity >= 1)) {
      throw new RangeError(
        `Cannot create cache: capacity must be at least 1, got ${this.#capacity}`,
      );
    }
  }

  /** Hits, misses and size so far. */
  get stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  /**
   * The value for `key`, loading it once if absent.
   *
   * @param key Cache key.
   * @param load Loads the value; called at most once per key at a time.
   * @returns The value.
   */
  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.#entries.has(key)) {
      this.#hits++;
      const value = this.#entries.get(key) as V;
      this.#touch(key, value);
      return Promise.resolve(value);
    }
    const pending = this.#inFlight.get(key);
    if (pending) {
      this.#hits++;
      return pending;
    }
    this.#misses++;
    return this.#load(key, load);
  }

  /**
   * Replaces the value for `key` by what `load` returns, coalesced with any
   * load already in flight for the key. No hit or miss is counted: this is a
   * follow-up to a `get`, not a new question.
   *
   * @param key Cache key.
   * @param load Computes the new value from the current one.
   * @returns The new value.
   */
  async update(key: string, load: (current: V | undefined) => Promise<V>): Promise<V> {
    const pending = this.#inFlight.get(key);
    const current = pending ? await pending.catch(() => undefined) : this.#entries.get(key);
    const again = this.#inFlight.get(key);
    if (again) return again;
    return this.#load(key, () => load(current));
  }

  /**
   * Stores a value directly (restoring a saved cache).
   *
   * @param key Cache key.
   * @param value The value.
   */
  set(key: string, value: V): void {
    this.#touch(key, value);
  }

  /**
   * Forgets a key (its value no longer holds).
   *
   * @param key Cache key.
   */
  delete(key: string): void {
    if (this.#sizeOf && this.#entries.has(key)) {
      this.#bytes -= this.#sizeOf(key, this.#entries.get(key) as V);
    }
    this.#entries.delete(key);
  }

  /**
   * The entries, least recently used first (for saving).
   *
   * @returns A copy of the entries.
   */
  entries(): Array<[string, V]> {
    return [...this.#entries];
  }

  #load(key: string, load: () => Promise<V>): Promise<V> {
    const promise = load().then(
      (value) => {
        this.#inFlight.delete(key);
        this.#touch(key, value);
        return value;
      },
      (error) => {
        this.#inFlight.delete(key);
        throw error;
      },
    );
    this.#inFlight.set(key, promise);
    return promise;
  }

  #touch(key: string, value: V): void {
    this.delete(key);
    this.#entries.set(key, value);
    if (this.#sizeOf) this.#bytes += this.#sizeOf(key, value);
    while (
      this.#entries.size > this.#capacity ||
      (this.#bytes > this.#maxBytes && this.#entries.size > 0)
    ) {
      this.delete(this.#entries.keys().next().value as string);
    }
  }
}
