/**
 * WorkOS's documented rate limits as exact sliding windows: each window keeps
 * the times of the requests it admitted in a ring buffer, so "N per T" holds
 * over every interval of length T, not just over aligned buckets.
 *
 * @module
 */

/**
 * Which limits a request counts against: `"other"` (not under
 * /user_management/: only the general limit), `"read"` (GET under
 * /user_management/) or `"write"` (POST, PUT, DELETE under /user_management/).
 */
export type RequestClass = "other" | "read" | "write";

/** The base limits, before scaling. */
export const BASE_LIMITS = {
  userManagementWrites: { limit: 500, windowMs: 10_000 },
  userManagementReads: { limit: 1_000, windowMs: 10_000 },
  general: { limit: 6_000, windowMs: 60_000 },
} as const;

class SlidingWindow {
  readonly limit: number;
  readonly windowMs: number;
  readonly #times: Float64Array;
  #head = 0;
  #count = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.#times = new Float64Array(limit);
  }

  /** Milliseconds until one more request fits; 0 when it fits now. */
  waitMs(now: number): number {
    const cutoff = now - this.windowMs;
    const times = this.#times;
    while (this.#count > 0 && times[this.#head] <= cutoff) {
      this.#head = this.#head + 1 === this.limit ? 0 : this.#head + 1;
      this.#count--;
    }
    return this.#count < this.limit ? 0 : times[this.#head] + this.windowMs - now;
  }

  record(now: number): void {
    let slot = this.#head + this.#count;
    if (slot >= this.limit) slot -= this.limit;
    this.#times[slot] = now;
    this.#count++;
  }
}

/** The three WorkOS limits for one API key. */
export class RateLimiter {
  readonly #writes: SlidingWindow;
  readonly #reads: SlidingWindow;
  readonly #general: SlidingWindow;

  /** @param scale Multiplies every limit's request count (windows keep their length). */
  constructor(scale: number) {
    const scaled = (limit: number) => Math.max(1, Math.round(limit * scale));
    const { userManagementWrites: w, userManagementReads: r, general: g } = BASE_LIMITS;
    this.#writes = new SlidingWindow(scaled(w.limit), w.windowMs);
    this.#reads = new SlidingWindow(scaled(r.limit), r.windowMs);
    this.#general = new SlidingWindow(scaled(g.limit), g.windowMs);
  }

  /**
   * Admits the request (recording it in its windows) or refuses it.
   *
   * @returns 0 when admitted, else the whole seconds (>= 1) until every
   * window involved admits one more request.
   */
  admit(requestClass: RequestClass, now: number): number {
    const specific = requestClass === "write"
      ? this.#writes
      : requestClass === "read"
      ? this.#reads
      : undefined;
    const wait = Math.max(this.#general.waitMs(now), specific?.waitMs(now) ?? 0);
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
    this.#general.record(now);
    specific?.record(now);
    return 0;
  }
}
