/**
 * A bounded LRU cache whose lookups are coalesced: however many rows ask for
 * one organization (or one person) at once, its loader runs once.
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
  /**
   * Estimated bytes of one entry (key and value), for `maxBytes`: measured
   * when the entry is stored and again on {@linkcode CoalescingCache.changed}.
   */
  sizeOf?(key: string, value: V): number;
  /**
   * Whether an entry must stay however old it is (a request of it is still
   * in flight): the bound skips it, so it may be exceeded by such entries.
   */
  keep?(value: V): boolean;
  /** Told of every entry forgotten to stay within the bound (not of deletions). */
  onEvict?(key: string, value: V): void;
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
  readonly #keep?: (value: V) => boolean;
  readonly #onEvict?: (key: string, value: V) => void;
  // A Map iterates in insertion order: re-inserting on use keeps it in LRU order.
  // Each value with its bytes as last measured: a value that changed in
  // place must give back what it was counted at, not what it measures now.
  // (Beside the value, not in a second Map: a Map under LRU churn keeps a
  // table of about 90 bytes an entry, twice what the slot object costs.)
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;
  readonly #inFlight = new Map<string, Promise<V>>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  /**
   * @param options The bound: a count (`capacity`) and, with `sizeOf`, bytes (`maxBytes`).
   */
  constructor(options: CoalescingCacheOptions<V> = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#sizeOf = options.sizeOf;
    this.#keep = options.keep;
    this.#onEvict = options.onEvict;
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

  /** Estimated bytes the entries take, by `sizeOf` (0 without it). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries forgotten so far to stay within the bound. */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * The value held for `key`, without counting as a use, a hit or a miss.
   *
   * @param key Cache key.
   * @returns The value, or `undefined` when none is held (a load in flight included).
   */
  peek(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /**
   * Measures an entry again after its value changed in place (and
   * forgets the least recently used entries past the bound); the entry
   * counts as used.
   *
   * @param key Cache key.
   */
  changed(key: string): void {
    const slot = this.#entries.get(key);
    if (slot) this.#touch(key, slot.value);
  }

  /**
   * The value for `key`, loading it once if absent.
   *
   * @param key Cache key.
   * @param load Loads the value; called at most once per key at a time.
   * @returns The value.
   */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const slot = this.#entries.get(key);
    if (slot) {
      this.#hits++;
      this.#touch(key, slot.value);
      return Promise.resolve(slot.value);
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
    const current = pending ? await pending.catch(() => undefined) : this.#entries.get(key)?.value;
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
    const slot = this.#entries.get(key);
    if (!slot) return;
    this.#bytes -= slot.bytes;
    this.#entries.delete(key);
  }

  /**
   * The entries, least recently used first (for saving).
   *
   * @returns A copy of the entries.
   */
  entries(): Array<[string, V]> {
    return [...this.#entries].map(([key, slot]) => [key, slot.value]);
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
    const bytes = this.#sizeOf ? this.#sizeOf(key, value) : 0;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    this.#evict();
  }

  #evict(): void {
    // An entry kept goes to the back of the line; each entry is looked at once at most.
    let looked = 0;
    const limit = this.#entries.size;
    while (
      (this.#entries.size > this.#capacity || this.#bytes > this.#maxBytes) &&
      looked++ < limit
    ) {
      const [key, slot] = this.#entries.entries().next().value as [
        string,
        { value: V; bytes: number },
      ];
      const value = slot.value;
      if (this.#keep?.(value)) {
        this.#entries.delete(key);
        this.#entries.set(key, slot);
        continue;
      }
      this.delete(key);
      this.#evictions++;
      this.#onEvict?.(key, value);
    }
  }
}
