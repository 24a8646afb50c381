/**
 * Request timeouts for thousands of requests a second without a timer and
 * two abort signals per request: one queue of deadlines (all requests share
 * one timeout, so it is in deadline order) swept by one timer.
 *
 * @module
 */

/** One request's deadline. */
export interface Deadline {
  /** Pass to `fetch`: aborts at the deadline, or when the import is aborted. */
  readonly signal: AbortSignal;
  /** Whether the deadline passed before the request finished. */
  readonly timedOut: boolean;
  /** The request (its answer's body included) is over: its deadline no longer matters. */
  finish(): void;
}

/**
 * A deadline as the queue keeps it until its time comes, long after most
 * requests are over: no signal or closure, so thousands a second stay small.
 */
interface Entry {
  due: number;
  controller?: AbortController;
  timedOut: boolean;
}

/**
 * Deadlines of the requests in flight, all `timeoutMs` long. A deadline
 * fires between `timeoutMs` and `timeoutMs` plus one sweep interval (a
 * tenth of the timeout, at most a second) after it started.
 *
 * @example Usage
 * ```ts
 * import { Deadlines } from "./_deadlines.ts";
 * const deadlines = new Deadlines(30_000);
 * const deadline = deadlines.start();
 * try {
 *   // await fetch(url, { signal: deadline.signal });
 * } finally {
 *   deadline.finish();
 * }
 * console.log(deadline.timedOut); // false
 * ```
 */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #abort?: AbortSignal;
  #queue: Entry[] = [];
  #head = 0;
  #timer?: ReturnType<typeof setInterval>;

  /**
   * @param timeoutMs How long each request may take, answer body included.
   * @param abort Aborts every request in flight (a second Ctrl+C).
   */
  constructor(timeoutMs: number, abort?: AbortSignal) {
    this.#timeoutMs = timeoutMs;
    this.#sweepMs = Math.min(1_000, Math.max(5, timeoutMs / 10));
    this.#abort = abort;
    abort?.addEventListener("abort", () => {
      for (let i = this.#head; i < this.#queue.length; i++) {
        this.#queue[i].controller?.abort(abort.reason);
      }
    }, { once: true });
  }

  /**
   * Starts a request's deadline.
   *
   * @returns The deadline; call {@linkcode Deadline.finish} once the request is over.
   */
  start(): Deadline {
    const controller = new AbortController();
    if (this.#abort?.aborted) controller.abort(this.#abort.reason);
    const entry: Entry = { due: performance.now() + this.#timeoutMs, controller, timedOut: false };
    this.#queue.push(entry);
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#sweep(), this.#sweepMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    return {
      signal: controller.signal,
      get timedOut() {
        return entry.timedOut;
      },
      finish() {
        // Done entries wait in the queue for their turn; only the controller goes.
        entry.controller = undefined;
      },
    };
  }

  #sweep(): void {
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head].due <= now) {
      const entry = queue[this.#head++];
      if (entry.controller) {
        entry.timedOut = true;
        entry.controller.abort(
          new DOMException(`Request timed out after ${this.#timeoutMs} ms`, "TimeoutError"),
        );
        entry.controller = undefined;
      }
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      clearInterval(this.#timer);
      this.#timer = undefined;
    } else if (this.#head > 1_024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
