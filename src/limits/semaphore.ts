/**
 * A counting semaphore that bounds how many requests are in flight at once.
 *
 * @module
 */

import { Queue } from "./_queue.ts";

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  settled: boolean;
}

/**
 * A FIFO-fair counting semaphore: permits go to waiters strictly in the
 * order they asked, so no worker starves behind later arrivals.
 *
 * A released permit is handed straight to the first waiter instead of being
 * put back, so a caller that arrives between the release and the waiter's
 * wake-up cannot jump the queue.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "./semaphore.ts";
 * const semaphore = new Semaphore(2);
 * let peak = 0;
 * await Promise.all([1, 2, 3, 4].map((n) =>
 *   semaphore.use(async () => {
 *     peak = Math.max(peak, semaphore.inFlight);
 *     await new Promise((r) => setTimeout(r, 1));
 *     return n;
 *   })
 * ));
 * console.log(peak); // 2
 * ```
 */
export class Semaphore {
  readonly #permits: number;
  #inFlight = 0;
  // Aborted waiters stay queued, marked settled, and are skipped on release.
  #queue = new Queue<Waiter>();
  #waiting = 0;

  /**
   * @param permits How many holders may be inside at once (a positive integer).
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(10);
   * console.log(semaphore.inFlight); // 0
   * ```
   */
  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(
        `Cannot create a semaphore: permits "${permits}" is not a positive integer`,
      );
    }
    this.#permits = permits;
  }

  /**
   * How many permits are held.
   *
   * @returns The number of holders inside.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(3);
   * await semaphore.acquire();
   * console.log(semaphore.inFlight); // 1
   * ```
   */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * How many callers wait for a permit.
   *
   * @returns The queue length.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(1);
   * await semaphore.acquire();
   * semaphore.acquire();
   * console.log(semaphore.waiting); // 1
   * ```
   */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Takes a permit, waiting in line when none is free.
   *
   * @param signal Gives up waiting when it aborts; the promise then rejects
   * with the signal's reason and no permit is taken.
   * @returns A promise that resolves once the permit is held.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(1);
   * await semaphore.acquire();
   * try {
   *   // ... the guarded work ...
   * } finally {
   *   semaphore.release();
   * }
   * ```
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiting === 0 && this.#inFlight < this.#permits) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, settled: false };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.settled) return;
          waiter.settled = true;
          this.#waiting--;
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#waiting++;
    });
  }

  /**
   * Gives a permit back, handing it to the longest waiter if there is one.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(1);
   * await semaphore.acquire();
   * semaphore.release();
   * console.log(semaphore.inFlight); // 0
   * ```
   */
  release(): void {
    if (this.#inFlight === 0) {
      throw new RangeError("Cannot release the semaphore: no permit is held");
    }
    const next = this.#next();
    if (next === undefined) {
      this.#inFlight--;
      return;
    }
    // The permit passes on; inFlight stays the same.
    next.settled = true;
    this.#waiting--;
    if (next.onAbort) next.signal?.removeEventListener("abort", next.onAbort);
    next.resolve();
  }

  /**
   * Runs `fn` while holding a permit, releasing it however `fn` ends.
   *
   * @typeParam T What `fn` resolves to.
   * @param fn The guarded work.
   * @param signal Gives up waiting for the permit when it aborts.
   * @returns What `fn` resolves to.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "./semaphore.ts";
   * const semaphore = new Semaphore(4);
   * const value = await semaphore.use(() => Promise.resolve(7));
   * console.log(value); // 7
   * ```
   */
  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  #next(): Waiter | undefined {
    for (let waiter = this.#queue.shift(); waiter; waiter = this.#queue.shift()) {
      if (!waiter.settled) return waiter;
    }
    return undefined;
  }
}
