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
 * A deadline as the queue keeps it, and as `start` hands it out: one object
 * a request, besides its controller (it was three more: the handle, its
 * `finish` closure and a `remove` closure). A request that finishes leaves
 * the queue at once (it is a linked list in start order, which is deadline
 * order), so the queue holds the requests in flight, not every request of
 * the last `timeoutMs` (at 2,000 requests a second and a 30 s timeout that
 * was 60,000 entries).
 */
class Entry implements Deadline {
  readonly due: number;
  readonly signal: AbortSignal;
  controller?: AbortController;
  timedOut = false;
  previous?: Entry;
  next?: Entry;
  readonly #remove: (entry: Entry) => void;

  constructor(due: number, controller: AbortController, remove: (entry: Entry) => void) {
    this.due = due;
    this.controller = controller;
    this.signal = controller.signal;
    this.#remove = remove;
  }

  finish(): void {
    if (this.controller === undefined) return;
    this.controller = undefined;
    this.#remove(this);
  }
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
 * console.log(deadline.timedOut, deadlines.size); // false 0
 * ```
 */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #abort?: AbortSignal;
  // Oldest (soonest due) first.
  #first?: Entry;
  #last?: Entry;
  #size = 0;
  #timer?: ReturnType<typeof setInterval>;
  readonly #removeEntry = (entry: Entry) => this.#remove(entry);

  /**
   * @param timeoutMs How long each request may take, answer body included.
   * @param abort Aborts every request in flight (a second Ctrl+C).
   */
  constructor(timeoutMs: number, abort?: AbortSignal) {
    this.#timeoutMs = timeoutMs;
    this.#sweepMs = Math.min(1_000, Math.max(5, timeoutMs / 10));
    this.#abort = abort;
    abort?.addEventListener("abort", () => {
      for (let entry = this.#first; entry; entry = entry.next) {
        entry.controller?.abort(abort.reason);
      }
    }, { once: true });
  }

  /** Requests started and not finished (nor timed out) yet. */
  get size(): number {
    return this.#size;
  }

  /**
   * Starts a request's deadline.
   *
   * @returns The deadline; call {@linkcode Deadline.finish} once the request is over.
   */
  start(): Deadline {
    const controller = new AbortController();
    if (this.#abort?.aborted) controller.abort(this.#abort.reason);
    const entry = new Entry(performance.now() + this.#timeoutMs, controller, this.#removeEntry);
    this.#append(entry);
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#sweep(), this.#sweepMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    return entry;
  }

  #append(entry: Entry): void {
    entry.previous = this.#last;
    if (this.#last) this.#last.next = entry;
    else this.#first = entry;
    this.#last = entry;
    this.#size++;
  }

  #remove(entry: Entry): void {
    if (entry.previous) entry.previous.next = entry.next;
    else this.#first = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else this.#last = entry.previous;
    entry.previous = entry.next = undefined;
    this.#size--;
    if (this.#size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    while (this.#first && this.#first.due <= now) {
      const entry = this.#first;
      const controller = entry.controller;
      entry.controller = undefined;
      entry.timedOut = true;
      this.#remove(entry);
      controller?.abort(
        new DOMException(`Request timed out after ${this.#timeoutMs} ms`, "TimeoutError"),
      );
    }
  }
}
