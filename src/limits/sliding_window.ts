/**
 * Exact sliding-window bookkeeping for one rate limit ("at most `limit`
 * requests in any `windowMs`").
 *
 * @module
 */

/** Options for {@linkcode SlidingWindow}. */
export interface SlidingWindowOptions {
  /** Most grants allowed in any window (a positive integer). */
  limit: number;
  /** The window length in milliseconds, as the server counts it. */
  windowMs: number;
  /**
   * Extra milliseconds added to the window, to absorb skew between when we
   * send and when the server counts the request; default 0.
   */
  marginMs?: number;
}

/**
 * Remembers the last `limit` grant times in a ring buffer and answers when
 * one more grant may be made so that no window of length
 * `windowMs + marginMs` ever holds more than `limit` grants.
 *
 * Why this is exact rather than approximate: with grants sorted by time, a
 * window of length `W` holds more than `limit` of them exactly when some
 * grant and the `limit`-th grant before it are less than `W` apart. So a new
 * grant at `t` is safe if and only if `t ≥ oldest + W`, where `oldest` is the
 * `limit`-th most recent grant, the one the ring buffer's head holds. Older
 * grants can never matter again, which is why `limit` slots suffice.
 *
 * Unlike a token bucket this never lets a burst exceed the limit in any
 * window, but the whole limit is usable at once in the first window: a fresh
 * window admits `limit` grants at the same instant.
 *
 * This class does no waiting; {@linkcode RateBudget} uses it to decide when
 * to grant.
 *
 * @example Usage
 * ```ts
 * import { SlidingWindow } from "./sliding_window.ts";
 * const window = new SlidingWindow({ limit: 2, windowMs: 1_000 });
 * window.record(0);
 * window.record(400);
 * console.log(window.earliestGrant(500)); // 1000
 * console.log(window.countInWindow(500)); // 2
 * ```
 */
export class SlidingWindow {
  /** Most grants in any window. */
  readonly limit: number;
  /** The effective window length: `windowMs + marginMs`. */
  readonly spanMs: number;
  readonly #times: Float64Array;
  #head = 0;
  #size = 0;

  /**
   * @param options The limit, the window length and the safety margin.
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 500, windowMs: 10_000, marginMs: 100 });
   * console.log(window.spanMs); // 10100
   * ```
   */
  constructor(options: SlidingWindowOptions) {
    const { limit, windowMs, marginMs = 0 } = options;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create a sliding window: limit "${limit}" is not a positive integer`,
      );
    }
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(
        `Cannot create a sliding window: window "${windowMs}" is not a positive number of milliseconds`,
      );
    }
    if (!(marginMs >= 0) || !Number.isFinite(marginMs)) {
      throw new RangeError(
        `Cannot create a sliding window: margin "${marginMs}" is not a non-negative number of milliseconds`,
      );
    }
    this.limit = limit;
    this.spanMs = windowMs + marginMs;
    this.#times = new Float64Array(limit);
  }

  /**
   * The earliest time at or after `now` at which one more grant keeps every
   * window within the limit.
   *
   * @param now The current time in milliseconds.
   * @returns `now` when a grant fits now, else when the oldest counted grant
   * leaves the window.
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 1, windowMs: 100 });
   * console.log(window.earliestGrant(0)); // 0
   * window.record(0);
   * console.log(window.earliestGrant(30)); // 100
   * ```
   */
  earliestGrant(now: number): number {
    if (this.#size < this.limit) return now;
    return Math.max(now, this.#times[this.#head] + this.spanMs);
  }

  /**
   * Records a grant made at `at`. Grants must be recorded in time order and
   * only when {@linkcode earliestGrant} allows them: this class would
   * rather fail loudly than let the limit be exceeded.
   *
   * @param at When the grant was made (= when the request is sent).
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 10, windowMs: 1_000 });
   * window.record(5);
   * console.log(window.countInWindow(5)); // 1
   * ```
   */
  record(at: number): void {
    if (!Number.isFinite(at)) {
      throw new RangeError(`Cannot record a grant: time "${at}" is not finite`);
    }
    if (this.#size > 0) {
      const last = this.#times[(this.#head + this.#size - 1) % this.limit];
      if (at < last) {
        throw new RangeError(
          `Cannot record a grant at "${at}": it is before the last grant at "${last}"`,
        );
      }
    }
    const allowed = this.earliestGrant(at);
    if (allowed > at) {
      throw new RangeError(
        `Cannot record a grant at "${at}": the window is full until "${allowed}"`,
      );
    }
    if (this.#size < this.limit) {
      this.#times[(this.#head + this.#size) % this.limit] = at;
      this.#size++;
    } else {
      this.#times[this.#head] = at;
      this.#head = (this.#head + 1) % this.limit;
    }
  }

  /**
   * How many recorded grants still count against a grant made at `now`:
   * those in `(now - spanMs, now]`.
   *
   * @param now The current time in milliseconds.
   * @returns The number of grants in the window ending at `now`.
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 5, windowMs: 1_000 });
   * window.record(0);
   * window.record(600);
   * console.log(window.countInWindow(1_200)); // 1
   * ```
   */
  countInWindow(now: number): number {
    let count = 0;
    // Newest first: stop at the first grant that has left the window.
    for (let i = this.#size - 1; i >= 0; i--) {
      const t = this.#times[(this.#head + i) % this.limit];
      // Same arithmetic as earliestGrant, so both agree to the last bit.
      if (t + this.spanMs <= now) break;
      if (t <= now) count++;
    }
    return count;
  }
}
