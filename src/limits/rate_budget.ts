/**
 * The WorkOS rate budget of one API key: user-management writes, reads, and
 * everything together, each kept as an exact sliding window, plus the
 * all-workers pause a 429 calls for.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { Queue } from "./_queue.ts";
import { SlidingWindow } from "./sliding_window.ts";

/**
 * Which budget a request takes: user-management `write`s and `read`s (lookups
 * are reads) count against their own window and the general one; `other`
 * requests (organizations) count against the general window only.
 */
export type RequestKind = "write" | "read" | "other";

/** Options for {@linkcode RateBudget}. */
export interface RateBudgetOptions {
  /**
   * User-management writes per second (`--rate-limit`); default 50, which is
   * WorkOS's limit. Reads get twice that, and the general budget follows
   * WorkOS's numbers scaled the same way.
   */
  writesPerSecond?: number;
  /** Time source; default the system clock. */
  clock?: Clock;
  /**
   * How much longer than the server's each window is kept, as a fraction of
   * it; default 0.005 (a 10 s window is treated as 10.05 s). Network skew
   * needs none: a slot is held until the answer, which the server's count
   * precedes.
   */
  marginRatio?: number;
  /**
   * How much of a window's budget may go back to back, as time at the
   * window's average rate: each kind may send at most `limit × burstMs /
   * window` grants at once (at least one); beyond that, grants are spread
   * evenly at the average rate, catching up on any lateness. Default: the
   * whole window (no spreading; the sliding windows alone decide).
   *
   * The windows bound every grant either way. Spreading keeps a run from
   * sending its whole window at once: such bursts starve the sender's event
   * loop, and the skew they cause between sending and the server's count
   * can outgrow the margin and earn 429s.
   */
  burstMs?: number;
}

/** Counters of what a {@linkcode RateBudget} granted and paused. */
export interface RateBudgetStats {
  /** Write slots granted. */
  writes: number;
  /** Read slots granted. */
  reads: number;
  /** All slots granted. */
  total: number;
  /** Calls to {@linkcode RateBudget.pause}. */
  pauses: number;
  /** Milliseconds during which grants were paused (overlaps counted once). */
  pausedMs: number;
}

/** The limits a {@linkcode RateBudget} enforces, as the server counts them. */
export interface RateBudgetLimits {
  /** User-management writes per 10 s window. */
  writesPer10s: number;
  /** User-management reads per 10 s window. */
  readsPer10s: number;
  /** All requests per 60 s window. */
  totalPer60s: number;
}

const KINDS: readonly RequestKind[] = ["write", "read", "other"];

/** A token bucket per kind, refilled at the window's average rate, capped at the burst. */
interface SpreadState {
  ratePerMs: Record<RequestKind, number>;
  capacity: Record<RequestKind, number>;
  tokens: Record<RequestKind, number>;
  updatedAt: Record<RequestKind, number>;
}
const KIND_WINDOW_MS = 10_000;
const GENERAL_WINDOW_MS = 60_000;

interface Waiter {
  kind: RequestKind;
  /** Arrival order across kinds, so ties go to whoever asked first. */
  seq: number;
  resolve(release: () => void): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  settled: boolean;
}

/**
 * Hands out send slots so that, provably, WorkOS's limits are never exceeded
 * and almost none of the budget is wasted. With `w` writes per second:
 *
 * - writes: at most `10·w` in any 10 s window (500 for w = 50);
 * - reads: at most `20·w` in any 10 s window (1,000);
 * - everything: at most `120·w` in any 60 s window (6,000).
 *
 * How it keeps those promises:
 *
 * 1. **A slot is held from the grant until the answer.** {@linkcode acquire}
 *    resolves when its slot is taken, in both its kind's window and the
 *    general one, with a function to call when the answer arrives; the
 *    slot then stays taken for one more window. The server counts a request
 *    somewhere between the two, so however late a starved event loop sends
 *    a granted request or reads its answer, no window at the server holds
 *    more than the limit: an overloaded machine is slowed, not rate
 *    limited. Latency costs its share of the window (25 ms of a 10 s one is
 *    0.25 %).
 * 2. **Grants are serialized.** One internal loop makes every grant, in FIFO
 *    order per kind (ties across kinds go to the earlier caller), sleeping
 *    until the next grant is allowed. Waiters never wake together and race,
 *    so thousands of them cannot overshoot.
 * 3. **Sliding windows, not token buckets.** No window of the server's length
 *    ever holds more than the limit, even at the start; but the whole limit
 *    is usable in the first window (500 writes may go at t = 0). That burst
 *    is what the server allows, and the worker count bounds it in practice.
 *    With `burstMs` (the importer uses one second), grants beyond that much
 *    of the budget are spread at the window's average rate instead: the
 *    same throughput, without whole-window bursts that starve the sender.
 * 4. **A small margin.** Each window is kept `marginRatio` longer than the
 *    server's (0.5 % by default), for what the answer does not bound (a
 *    request the server counts after the client gave up on it), which
 *    costs at most that share of the budget.
 * 5. **A 429 pauses everyone, then resumes gently.** {@linkcode pause} holds
 *    every grant until its end. Our count did not predict the 429, so the
 *    server sees traffic we do not (other clients of the same environment);
 *    for one 10 s window after a pause each kind is therefore paced at half
 *    its average rate (grants at least `2 · window / limit` apart, so no
 *    burst on resume), then returns to full rate.
 *
 * @example Usage
 * ```ts
 * import { RateBudget } from "./rate_budget.ts";
 * import { ManualClock } from "./clock.ts";
 * const budget = new RateBudget({ writesPerSecond: 1, clock: new ManualClock() });
 * console.log(budget.limits); // { writesPer10s: 10, readsPer10s: 20, totalPer60s: 120 }
 * const answered = await budget.acquire("write"); // send the request now
 * answered(); // its answer came
 * console.log(budget.stats.writes); // 1
 * ```
 */
export class RateBudget {
  /** The limits enforced, as the server counts them (before the margin). */
  readonly limits: RateBudgetLimits;
  readonly #clock: Clock;
  readonly #windows: Record<RequestKind, SlidingWindow>;
  readonly #general: SlidingWindow;
  readonly #queues: Record<RequestKind, Queue<Waiter>> = {
    write: new Queue(),
    read: new Queue(),
    other: new Queue(),
  };
  readonly #paceIntervalMs: Record<RequestKind, number>;
  readonly #recoveryMs: number;
  // Spreading (burstMs); absent when it is off.
  readonly #spread?: SpreadState;
  #paceLast: Record<RequestKind, number> = { write: -Infinity, read: -Infinity, other: -Infinity };
  #pausedUntil = -Infinity;
  #recoveryEnd = -Infinity;
  #seq = 0;
  #waiting = 0;
  #pumping = false;
  #wake: AbortController | undefined;
  #stats: RateBudgetStats = { writes: 0, reads: 0, total: 0, pauses: 0, pausedMs: 0 };

  /**
   * @param options Writes per second, clock and safety margin.
   *
   * @example Usage
   * ```ts
   * import { RateBudget } from "./rate_budget.ts";
   * const budget = new RateBudget({ writesPerSecond: 20 });
   * console.log(budget.limits.writesPer10s); // 200
   * ```
   */
  constructor(options: RateBudgetOptions = {}) {
    const { writesPerSecond = 50, clock = systemClock, marginRatio = 0.005, burstMs } = options;
    if (burstMs !== undefined && !(burstMs > 0)) {
      throw new RangeError(
        `Cannot create a rate budget: burst "${burstMs}" is not a positive number of milliseconds`,
      );
    }
    if (!Number.isFinite(writesPerSecond) || writesPerSecond * 10 < 1) {
      throw new RangeError(
        `Cannot create a rate budget: writes per second "${writesPerSecond}" must allow at least one write in 10 s`,
      );
    }
    if (!Number.isFinite(marginRatio) || marginRatio < 0) {
      throw new RangeError(
        `Cannot create a rate budget: margin ratio "${marginRatio}" is not a non-negative number`,
      );
    }
    this.#clock = clock;
    // Floors keep fractional rates on the safe side of WorkOS's numbers.
    this.limits = {
      writesPer10s: Math.floor(writesPerSecond * 10),
      readsPer10s: Math.floor(writesPerSecond * 20),
      totalPer60s: Math.floor(writesPerSecond * 120),
    };
    const kindMargin = KIND_WINDOW_MS * marginRatio;
    this.#windows = {
      write: new SlidingWindow({
        limit: this.limits.writesPer10s,
        windowMs: KIND_WINDOW_MS,
        marginMs: kindMargin,
      }),
      read: new SlidingWindow({
        limit: this.limits.readsPer10s,
        windowMs: KIND_WINDOW_MS,
        marginMs: kindMargin,
      }),
      // Organizations have no window of their own: this one mirrors the
      // general window, so only the general limit binds them.
      other: new SlidingWindow({
        limit: this.limits.totalPer60s,
        windowMs: GENERAL_WINDOW_MS,
        marginMs: GENERAL_WINDOW_MS * marginRatio,
      }),
    };
    this.#general = new SlidingWindow({
      limit: this.limits.totalPer60s,
      windowMs: GENERAL_WINDOW_MS,
      marginMs: GENERAL_WINDOW_MS * marginRatio,
    });
    this.#recoveryMs = KIND_WINDOW_MS + kindMargin;
    // Half the average rate: one grant per two average slots.
    this.#paceIntervalMs = {
      write: (2 * this.#recoveryMs) / this.limits.writesPer10s,
      read: (2 * this.#recoveryMs) / this.limits.readsPer10s,
      other: (2 * GENERAL_WINDOW_MS * (1 + marginRatio)) / this.limits.totalPer60s,
    };
    if (burstMs !== undefined && Number.isFinite(burstMs)) {
      const generalSpan = GENERAL_WINDOW_MS * (1 + marginRatio);
      const ratePerMs = {
        write: this.limits.writesPer10s / this.#recoveryMs,
        read: this.limits.readsPer10s / this.#recoveryMs,
        other: this.limits.totalPer60s / generalSpan,
      };
      const capacity = {
        write: Math.max(1, Math.min(this.limits.writesPer10s, ratePerMs.write * burstMs)),
        read: Math.max(1, Math.min(this.limits.readsPer10s, ratePerMs.read * burstMs)),
        other: Math.max(1, Math.min(this.limits.totalPer60s, ratePerMs.other * burstMs)),
      };
      this.#spread = {
        ratePerMs,
        capacity,
        tokens: { ...capacity },
        updatedAt: { write: -Infinity, read: -Infinity, other: -Infinity },
      };
    }
  }

  /** Grants `kind` may make back to back at time `at` (spreading only). */
  #tokens(kind: RequestKind, at: number): number {
    const spread = this.#spread as SpreadState;
    const refill = (at - spread.updatedAt[kind]) * spread.ratePerMs[kind];
    return Math.min(spread.capacity[kind], spread.tokens[kind] + refill);
  }

  /**
   * What has been granted and paused so far (a snapshot).
   *
   * @returns A copy of the counters.
   *
   * @example Usage
   * ```ts
   * import { RateBudget } from "./rate_budget.ts";
   * const budget = new RateBudget();
   * const answered = await budget.acquire("read");
   * answered();
   * console.log(budget.stats.reads, budget.stats.total); // 1 1
   * ```
   */
  get stats(): RateBudgetStats {
    return { ...this.#stats };
  }

  /**
   * How many callers wait for a slot.
   *
   * @returns The number of pending, not aborted acquires.
   *
   * @example Usage
   * ```ts
   * import { RateBudget } from "./rate_budget.ts";
   * const budget = new RateBudget();
   * console.log(budget.waiting); // 0
   * ```
   */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Waits for a slot of `kind` and of the general budget, after any pause,
   * then takes both at the same instant. Send the request once this
   * resolves, and call the function it resolves with when the answer
   * arrives or the request failed (or was not sent after all): until then
   * the slot counts as in flight, and for one window after.
   *
   * @param kind `"write"` for user-management changes, `"read"` for lookups.
   * @param signal Gives up waiting when it aborts; the promise then rejects
   * with the signal's reason and no slot is taken.
   * @returns A promise that resolves when the request may be sent, with the
   * function that records its answer (calls after the first do nothing).
   *
   * @example Usage
   * ```ts
   * import { RateBudget } from "./rate_budget.ts";
   * const budget = new RateBudget();
   * const answered = await budget.acquire("write");
   * try {
   *   // await fetch(...)
   * } finally {
   *   answered();
   * }
   * ```
   */
  acquire(kind: RequestKind, signal?: AbortSignal): Promise<() => void> {
    if (!KINDS.includes(kind)) {
      return Promise.reject(
        new TypeError(
          `Cannot acquire a rate budget slot: kind "${kind}" is not "write", "read" or "other"`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiting === 0) {
      // Nobody waits and the slot is free now: the grant the loop would make
      // at once, made here without a waiter, an abort listener and a run of
      // the loop, which at thousands of requests a second are garbage per
      // request. Same rule (#grantTime), same instant.
      const now = this.#clock.now();
      if (this.#grantTime(kind, now) <= now) return Promise.resolve(this.#take(kind, now));
    }
    return new Promise<() => void>((resolve, reject) => {
      const queue = this.#queues[kind];
      const waiter: Waiter = { kind, seq: this.#seq++, resolve, reject, signal, settled: false };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.settled) return;
          waiter.settled = true;
          this.#waiting--;
          reject(signal.reason);
          // The grant loop may be sleeping for this waiter; let it re-plan.
          if (queue.peek() === waiter) this.#kick();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      // Only a new head can change the plan; waking the loop for every
      // arrival behind it would only cost time.
      const isHead = this.#head(kind) === undefined;
      queue.push(waiter);
      this.#waiting++;
      if (isHead) this.#kick();
    });
  }

  /**
   * Holds every grant, for waiting and new callers alike, until `ms` from
   * now: a 429's Retry-After. Overlapping pauses extend, never shorten, the
   * pause in force. When it ends, each kind runs at half rate for one 10 s
   * window before returning to full rate.
   *
   * @param ms How long to pause in milliseconds (not negative).
   *
   * @example Usage
   * ```ts
   * import { RateBudget } from "./rate_budget.ts";
   * import { ManualClock } from "./clock.ts";
   * const clock = new ManualClock();
   * const budget = new RateBudget({ clock });
   * budget.pause(2_000);
   * const granted = budget.acquire("write");
   * await clock.advance(2_000);
   * (await granted)();
   * console.log(clock.now()); // 2000
   * ```
   */
  pause(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `Cannot pause the rate budget: "${ms}" is not a finite, non-negative delay`,
      );
    }
    const now = this.#clock.now();
    const until = now + ms;
    this.#stats.pauses++;
    if (until > this.#pausedUntil) {
      this.#stats.pausedMs += until - Math.max(now, this.#pausedUntil);
      this.#pausedUntil = until;
    }
    this.#recoveryEnd = Math.max(this.#recoveryEnd, this.#pausedUntil + this.#recoveryMs);
    this.#paceLast = { write: -Infinity, read: -Infinity, other: -Infinity };
    // No need to wake the grant loop: a pause only makes grants later, and
    // the loop re-plans whenever it wakes.
  }

  /** The first time `kind`'s head waiter may be granted, given `now`. */
  #grantTime(kind: RequestKind, now: number): number {
    // Window answers computed at `now` stay valid for any later time: only
    // grants (made by this loop) and answers (which kick it) change them.
    let at = Math.max(
      now,
      this.#pausedUntil,
      this.#windows[kind].earliestGrant(now),
      this.#general.earliestGrant(now),
    );
    if (at < this.#recoveryEnd) {
      at = Math.max(
        at,
        Math.min(this.#paceLast[kind] + this.#paceIntervalMs[kind], this.#recoveryEnd),
      );
    }
    const spread = this.#spread;
    if (spread) {
      // Wait for the next token; a hair of rounding is not worth a sleep.
      const missing = 1 - this.#tokens(kind, at);
      if (missing > 1e-9) at += missing / spread.ratePerMs[kind];
    }
    return at;
  }

  #head(kind: RequestKind): Waiter | undefined {
    const queue = this.#queues[kind];
    while (queue.length > 0 && queue.peek()?.settled) queue.shift();
    return queue.peek();
  }

  #kick(): void {
    if (this.#pumping) this.#wake?.abort();
    else void this.#pump();
  }

  #grant(waiter: Waiter, now: number): void {
    this.#queues[waiter.kind].shift();
    waiter.settled = true;
    this.#waiting--;
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(this.#take(waiter.kind, now));
  }

  /** Takes a slot of `kind` at `now`; returns the function that records its answer. */
  #take(kind: RequestKind, now: number): () => void {
    const window = this.#windows[kind];
    window.start(now);
    this.#general.start(now);
    if (now < this.#recoveryEnd) this.#paceLast[kind] = now;
    const spread = this.#spread;
    if (spread) {
      spread.tokens[kind] = Math.max(0, this.#tokens(kind, now) - 1);
      spread.updatedAt[kind] = now;
    }
    if (kind === "write") this.#stats.writes++;
    else if (kind === "read") this.#stats.reads++;
    this.#stats.total++;
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      const at = this.#clock.now();
      window.finish(at);
      this.#general.finish(at);
      // A full window waits for answers with no wake-up time of its own.
      if (this.#waiting > 0) this.#kick();
    };
  }

  /**
   * The one place grants are made. Runs while anyone waits: grants every
   * head that may go now, otherwise sleeps until the earliest may. New heads
   * and aborts cut the sleep short so the plan is redone.
   */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        const now = this.#clock.now();
        let best: Waiter | undefined;
        let bestAt = Infinity;
        for (const kind of KINDS) {
          const head = this.#head(kind);
          if (head === undefined) continue;
          const at = this.#grantTime(kind, now);
          if (at < bestAt || (at === bestAt && best !== undefined && head.seq < best.seq)) {
            best = head;
            bestAt = at;
          }
        }
        if (best === undefined) return;
        if (bestAt <= now) {
          this.#grant(best, now);
          continue;
        }
        const wake = new AbortController();
        this.#wake = wake;
        try {
          if (bestAt === Infinity) await untilAborted(wake.signal);
          else await this.#clock.sleep(bestAt - now, wake.signal);
        } catch (error) {
          if (!wake.signal.aborted) throw error;
        } finally {
          this.#wake = undefined;
        }
      }
    } catch (error) {
      // Only a broken clock gets here; fail the waiters rather than hang them.
      for (const kind of KINDS) {
        for (let waiter = this.#head(kind); waiter; waiter = this.#head(kind)) {
          waiter.settled = true;
          this.#waiting--;
          waiter.reject(error);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}

/** Resolves when `signal` aborts: a sleep only a kick ends. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
