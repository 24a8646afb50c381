/**
 * An injectable source of time. Everything in `src/limits` reads time and
 * waits only through a {@linkcode Clock}, so tests can drive hours of
 * simulated traffic with a {@linkcode ManualClock} in milliseconds of real
 * time, and never depend on how busy the machine is.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** A source of time in milliseconds, and a way to wait for it to pass. */
export interface Clock {
  /**
   * The current time in milliseconds. Only differences matter; the value
   * never goes backwards.
   */
  now(): number;
  /**
   * Resolves once `ms` milliseconds have passed. Rejects with the signal's
   * reason when `signal` aborts first (or has already aborted).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function checkDelay(ms: number): void {
  if (Number.isNaN(ms)) throw new RangeError(`Cannot sleep: "${ms}" is not a number`);
}

/**
 * The real clock. `now()` is monotonic (`performance.timeOrigin +
 * performance.now()`), not `Date.now()`: a wall clock stepped back by NTP
 * would make a sliding window forget recent grants and overshoot the limit.
 *
 * @example Usage
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const start = systemClock.now();
 * await systemClock.sleep(5);
 * console.log(systemClock.now() - start >= 4); // true
 * ```
 */
export const systemClock: Clock = {
  now(): number {
    return performance.timeOrigin + performance.now();
  },
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    checkDelay(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

interface Sleeper {
  due: number;
  seq: number;
  resolve(): void;
  cancelled: boolean;
}

function before(a: Sleeper, b: Sleeper): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * Lets every pending microtask (and the microtasks they queue) run. A
 * macrotask boundary is the only thing that waits for the whole chain;
 * `setImmediate` is one without `setTimeout`'s 4 ms clamp for nested timers,
 * which would make a long simulation take minutes.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to, for tests. Sleepers wake in time
 * order (ties in the order they went to sleep) when {@linkcode advance}
 * passes their due time; `now()` reads exactly that due time while they run.
 *
 * @example Usage
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock();
 * const woke: number[] = [];
 * clock.sleep(300).then(() => woke.push(clock.now()));
 * clock.sleep(100).then(() => woke.push(clock.now()));
 * await clock.advance(1_000);
 * console.log(woke); // [100, 300]
 * console.log(clock.now()); // 1000
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #advancing = false;
  // A binary min-heap on (due, seq): simulations keep thousands of sleepers.
  #heap: Sleeper[] = [];

  /**
   * @param start The initial time in milliseconds; default 0.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * console.log(new ManualClock(5_000).now()); // 5000
   * ```
   */
  constructor(start = 0) {
    if (!Number.isFinite(start)) {
      throw new RangeError(`Cannot create a manual clock: start "${start}" is not finite`);
    }
    this.#now = start;
  }

  /**
   * The simulated time in milliseconds.
   *
   * @returns The current simulated time.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * await clock.advance(42);
   * console.log(clock.now()); // 42
   * ```
   */
  now(): number {
    return this.#now;
  }

  /**
   * Resolves when the clock is advanced `ms` past now. A delay of zero or
   * less resolves without any advance, as with a real clock.
   *
   * @param ms How long to wait in milliseconds.
   * @param signal Rejects the wait with its reason when it aborts.
   * @returns A promise that resolves at the due time.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * const done = clock.sleep(1_000);
   * await clock.advance(1_000);
   * await done;
   * console.log(clock.now()); // 1000
   * ```
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    checkDelay(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        // Lazy deletion: the heap skips cancelled sleepers when they surface.
        sleeper.cancelled = true;
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        due: this.#now + ms,
        seq: this.#seq++,
        cancelled: false,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#push(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * How many sleepers are waiting.
   *
   * @returns The number of pending, not aborted sleeps.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * clock.sleep(10);
   * console.log(clock.sleepers); // 1
   * await clock.advance(10);
   * console.log(clock.sleepers); // 0
   * ```
   */
  get sleepers(): number {
    return this.#heap.reduce((n, s) => n + (s.cancelled ? 0 : 1), 0);
  }

  /**
   * The time at which the next sleeper wakes, if any.
   *
   * @returns The earliest due time, or `undefined` when nobody sleeps.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock(100);
   * clock.sleep(50);
   * console.log(clock.nextWake()); // 150
   * ```
   */
  nextWake(): number | undefined {
    return this.#peek()?.due;
  }

  /**
   * Moves time forward by `ms`, waking every sleeper due by then in time
   * order. After each wake-up every microtask is let run before the clock
   * moves again, so work done in reaction to a wake-up (including new
   * sleeps that fall due within the advance) happens at the right time.
   *
   * @param ms How far to move in milliseconds (not negative).
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * const times: number[] = [];
   * async function tick() {
   *   for (let i = 0; i < 3; i++) {
   *     await clock.sleep(10);
   *     times.push(clock.now());
   *   }
   * }
   * const done = tick();
   * await clock.advance(100);
   * await done;
   * console.log(times); // [10, 20, 30]
   * ```
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(`Cannot advance the clock: "${ms}" is not a finite, non-negative delay`);
    }
    if (this.#advancing) {
      throw new Error("Cannot advance the clock: another advance is still running");
    }
    this.#advancing = true;
    try {
      const target = this.#now + ms;
      await settle();
      for (let next = this.#peek(); next && next.due <= target; next = this.#peek()) {
        this.#pop();
        this.#now = Math.max(this.#now, next.due);
        next.resolve();
        await settle();
      }
      this.#now = target;
      await settle();
    } finally {
      this.#advancing = false;
    }
  }

  /**
   * Advances exactly to the next sleeper's due time, waking it (and any
   * sleeper due at the same time).
   *
   * @returns `false` when nobody was sleeping, so the clock did not move.
   *
   * @example Usage
   * ```ts
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * clock.sleep(250);
   * console.log(await clock.advanceToNext()); // true
   * console.log(clock.now()); // 250
   * console.log(await clock.advanceToNext()); // false
   * ```
   */
  async advanceToNext(): Promise<boolean> {
    await settle();
    const next = this.#peek();
    if (!next) return false;
    await this.advance(Math.max(0, next.due - this.#now));
    return true;
  }

  #peek(): Sleeper | undefined {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
    return this.#heap[0];
  }

  #push(sleeper: Sleeper): void {
    const heap = this.#heap;
    heap.push(sleeper);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
      if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
      i = smallest;
    }
  }
}
