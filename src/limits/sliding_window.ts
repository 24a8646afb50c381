/**
 * Exact sliding-window bookkeeping for one rate limit ("at most `limit`
 * requests in any `windowMs`").
 *
 * @module
 */

/** Answers a window's ring holds before it first grows. */
const INITIAL_RING = 1024;

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
 * Answers when one more request may be sent so that no window of length
 * `windowMs + marginMs` can ever hold more than `limit` of them at the
 * server, whenever within its flight the server counted each one.
 *
 * A request holds its slot from its grant until its answer arrives, and for
 * one window after that: the server counted it at some moment between the
 * two, which only the answer bounds. Why that is exact: take any window of
 * the server's length and, of the requests it counted, the one granted
 * last. Every other one was granted before it and answered after the
 * window's start, so at that last grant each still held its slot; the grant
 * was only made because fewer than `limit` slots were held. The window
 * therefore never holds more than `limit`, however late a starved event
 * loop sends a granted request or reads its answer: an overloaded sender
 * only holds its slots longer, which slows it down instead of earning 429s.
 *
 * {@linkcode start} takes a slot for a request in flight and
 * {@linkcode finish} records its answer; {@linkcode record} does both at
 * once, for a request whose answer is known at the grant. Answers are kept
 * in a ring buffer of `limit` times in the order they came, so each answer
 * leaves the window in that order and `limit` slots suffice.
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
 * window.start(400); // sent at 400, no answer yet
 * console.log(window.earliestGrant(500)); // Infinity: wait for the answer
 * window.finish(700);
 * console.log(window.earliestGrant(800)); // 1000
 * console.log(window.countInWindow(800)); // 2
 * ```
 */
export class SlidingWindow {
  /** Most grants in any window. */
  readonly limit: number;
  /** The effective window length: `windowMs + marginMs`. */
  readonly spanMs: number;
  // Answer times of answered requests still in the window, oldest first: a
  // ring that starts small and doubles up to `limit` as answers pile up, so
  // a window whose limit is far above what a run sends (limits off: millions)
  // never holds more memory than its busiest window needed.
  #answers: Float64Array;
  #head = 0;
  #size = 0;
  #inFlight = 0;
  #last = -Infinity;

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
    this.#answers = new Float64Array(Math.min(limit, INITIAL_RING));
  }

  /**
   * How many answers the ring holds before it must grow: it starts at 1,024
   * (or `limit`, when smaller) and doubles while a window holds more, up to
   * `limit`.
   *
   * @returns The ring's capacity now.
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 6_000_000, windowMs: 60_000 });
   * console.log(window.capacity); // 1024: not 6,000,000 slots of 8 bytes up front
   * ```
   */
  get capacity(): number {
    return this.#answers.length;
  }

  /**
   * How many requests are granted and not answered yet.
   *
   * @returns The number of slots held by requests in flight.
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 3, windowMs: 1_000 });
   * window.start(0);
   * console.log(window.inFlight); // 1
   * ```
   */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * The earliest time at or after `now` at which one more grant keeps every
   * window within the limit.
   *
   * @param now The current time in milliseconds.
   * @returns `now` when a grant fits now; else when enough answered
   * requests leave the window; `Infinity` when only an answer of a request
   * in flight can make room.
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
    const held = this.#inFlight + this.#size;
    if (held < this.limit) return now;
    // The answered requests that must leave before one slot is free.
    const leaving = held - this.limit + 1;
    if (leaving > this.#size) return Infinity;
    const at = this.#answers[(this.#head + leaving - 1) % this.#answers.length] + this.spanMs;
    return Math.max(now, at);
  }

  /**
   * Takes a slot at `at` for a request sent now whose answer is awaited;
   * call {@linkcode finish} when it arrives (or the request fails). Only
   * when {@linkcode earliestGrant} allows it: this class would rather fail
   * loudly than let the limit be exceeded.
   *
   * @param at When the grant was made (= when the request is sent).
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 1, windowMs: 1_000 });
   * window.start(5);
   * console.log(window.countInWindow(5_000)); // 1: still in flight
   * ```
   */
  start(at: number): void {
    if (!Number.isFinite(at)) {
      throw new RangeError(`Cannot record a grant: time "${at}" is not finite`);
    }
    this.#expire(at);
    const allowed = this.earliestGrant(at);
    if (allowed > at) {
      throw new RangeError(
        `Cannot record a grant at "${at}": the window is full until "${allowed}"`,
      );
    }
    this.#inFlight++;
  }

  /**
   * Records at `at` the answer of a request {@linkcode start}ed earlier: its
   * slot stays held for one window from now.
   *
   * @param at When the answer arrived (or the request failed).
   *
   * @example Usage
   * ```ts
   * import { SlidingWindow } from "./sliding_window.ts";
   * const window = new SlidingWindow({ limit: 1, windowMs: 1_000 });
   * window.start(0);
   * window.finish(300);
   * console.log(window.earliestGrant(300)); // 1300
   * ```
   */
  finish(at: number): void {
    if (this.#inFlight === 0) {
      throw new RangeError(`Cannot record an answer at "${at}": no request is in flight`);
    }
    if (!Number.isFinite(at)) {
      throw new RangeError(`Cannot record an answer: time "${at}" is not finite`);
    }
    // A clock that stepped back must not make an answer leave early.
    const answeredAt = Math.max(at, this.#last);
    this.#expire(answeredAt);
    this.#inFlight--;
    if (this.#size === this.#answers.length) this.#grow();
    this.#answers[(this.#head + this.#size) % this.#answers.length] = answeredAt;
    this.#size++;
    this.#last = answeredAt;
  }

  /**
   * Records a grant made at `at` whose answer is known at once (both
   * {@linkcode start} and {@linkcode finish} at `at`). Grants must be
   * recorded in time order and only when {@linkcode earliestGrant} allows
   * them: this class would rather fail loudly than let the limit be
   * exceeded.
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
    if (at < this.#last) {
      throw new RangeError(
        `Cannot record a grant at "${at}": it is before the last grant at "${this.#last}"`,
      );
    }
    this.start(at);
    this.finish(at);
  }

  /**
   * How many slots still count against a grant made at `now`: requests in
   * flight, and answers in `(now - spanMs, now]`.
   *
   * @param now The current time in milliseconds.
   * @returns The number of slots held at `now`.
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
    let count = this.#inFlight;
    // Newest first: stop at the first answer that has left the window.
    for (let i = this.#size - 1; i >= 0; i--) {
      const t = this.#answers[(this.#head + i) % this.#answers.length];
      // Same arithmetic as earliestGrant, so both agree to the last bit.
      if (t + this.spanMs <= now) break;
      if (t <= now) count++;
    }
    return count;
  }

  /** Drops answers that have left the window by `now`. */
  #expire(now: number): void {
    while (this.#size > 0 && this.#answers[this.#head] + this.spanMs <= now) {
      this.#head = (this.#head + 1) % this.#answers.length;
      this.#size--;
    }
  }

  /** Doubles the ring (at most to `limit`: no more answers can be in a window), oldest first again. */
  #grow(): void {
    const old = this.#answers;
    const grown = new Float64Array(Math.min(this.limit, old.length * 2));
    const tail = old.subarray(this.#head, Math.min(old.length, this.#head + this.#size));
    grown.set(tail);
    grown.set(old.subarray(0, this.#size - tail.length), tail.length);
    this.#answers = grown;
    this.#head = 0;
  }
}
