/**
 * The one retry policy: which failures are worth another attempt, how long
 * to wait before it (exponential backoff with full jitter, or exactly the
 * server's Retry-After), and the loop that applies both.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

/**
 * HTTP statuses worth retrying: 408 Request Timeout, 429 Too Many Requests,
 * 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable and
 * 504 Gateway Timeout. Any other 4xx means the request itself is wrong and
 * would fail again; other 5xx (501, 505, ...) are not transient either.
 *
 * @example Usage
 * ```ts
 * import { RETRYABLE_STATUSES } from "./retry.ts";
 * console.log(RETRYABLE_STATUSES.has(504)); // true
 * ```
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** The ceiling of the first retry's delay in milliseconds; default 250. */
  baseMs?: number;
  /** No delay ceiling grows past this, in milliseconds; default 30,000. */
  capMs?: number;
  /** A source of numbers in [0, 1); default `Math.random`. */
  random?: () => number;
}

function checkMs(what: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot compute a backoff delay: ${what} "${value}" is not a finite, non-negative number`,
    );
  }
}

/**
 * The delay before retry `attempt` (0 for the retry after the first
 * failure): "full jitter", `random() · min(cap, base · 2^attempt)`.
 *
 * Full jitter spreads retries of many workers that failed together evenly
 * over the whole interval, so they do not come back as a new burst; its
 * expected delay is half the ceiling.
 *
 * @param attempt How many retries came before this one (an integer ≥ 0).
 * @param options Base, cap and random source.
 * @returns The delay in milliseconds, in `[0, min(cap, base · 2^attempt))`.
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * console.log(backoffDelay(3, { baseMs: 100, random: () => 0.5 })); // 400
 * console.log(backoffDelay(20, { capMs: 1_000, random: () => 0.5 })); // 500
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 250, capMs = 30_000, random = Math.random } = options;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `Cannot compute a backoff delay: attempt "${attempt}" is not an integer ≥ 0`,
    );
  }
  checkMs("base", baseMs);
  checkMs("cap", capMs);
  const r = random();
  if (!(r >= 0 && r < 1)) {
    throw new RangeError(`Cannot compute a backoff delay: random value "${r}" is not in [0, 1)`);
  }
  // 2 ** attempt may overflow to Infinity; min() with the cap absorbs it.
  return r * Math.min(capMs, baseMs * 2 ** attempt);
}

/** What to do about a failed attempt. */
export type RetryDecision =
  | { retry: false }
  | {
    retry: true;
    /** Wait exactly this long (the server's Retry-After) instead of backing off. */
    afterMs?: number;
    /** The failure was a 429, so callers pause their shared budget. */
    rateLimited?: boolean;
  };

/** Options for {@linkcode retryable}. */
export interface RetryableOptions {
  /** The statuses to retry; default {@linkcode RETRYABLE_STATUSES}. */
  statuses?: ReadonlySet<number>;
}

/**
 * Whether a failure with this HTTP status is worth another attempt.
 * `undefined` stands for "no HTTP answer": network errors and timeouts, which
 * are always retried. See {@linkcode RETRYABLE_STATUSES} for the statuses.
 *
 * @param status The answer's status, or `undefined` when there was none.
 * @param options Another set of retryable statuses.
 * @returns `true` for 408, 429, 500, 502, 503, 504 and no answer.
 *
 * @example Usage
 * ```ts
 * import { retryable } from "./retry.ts";
 * console.log(retryable(503)); // true
 * console.log(retryable(undefined)); // true
 * console.log(retryable(422)); // false
 * ```
 */
export function retryable(status: number | undefined, options: RetryableOptions = {}): boolean {
  if (status === undefined) return true;
  return (options.statuses ?? RETRYABLE_STATUSES).has(status);
}

/** Options for {@linkcode parseRetryAfter}. */
export interface ParseRetryAfterOptions {
  /** The current wall-clock time in epoch ms, for HTTP-date values; default `Date.now()`. */
  now?: number;
}

/**
 * Reads a `Retry-After` header as milliseconds to wait: either
 * delay-seconds (`"2"`, also `"1.5"`) or an HTTP-date.
 *
 * @param value The header's value.
 * @param options The current time for HTTP-date values.
 * @returns Milliseconds (never negative), or `undefined` when the header is
 * missing or unreadable.
 *
 * @example Usage
 * ```ts
 * import { parseRetryAfter } from "./retry.ts";
 * console.log(parseRetryAfter("3")); // 3000
 * const now = Date.UTC(2025, 0, 1, 0, 0, 0);
 * console.log(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", { now })); // 5000
 * console.log(parseRetryAfter("soon")); // undefined
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  options: ParseRetryAfterOptions = {},
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Every HTTP-date form starts with a day name; Date.parse alone would take
  // "-1" for a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - (options.now ?? Date.now()));
}

/** What {@linkcode RetryOptions.onRetry} is told before each wait. */
export interface RetryInfo {
  /** The attempt about to be made after the wait (1 for the first retry). */
  attempt: number;
  /** How long the wait is, in milliseconds. */
  delayMs: number;
  /** The failure being retried. */
  error: unknown;
  /** Whether {@linkcode RetryOptions.decide} called it a rate limit (429). */
  rateLimited: boolean;
}

/** Options for {@linkcode retry}. */
export interface RetryOptions {
  /** Retries after the first attempt (an integer ≥ 0). */
  maxRetries: number;
  /** Classifies a failure: retry or not, and whether the server said when. */
  decide(error: unknown): RetryDecision;
  /** Time source for the waits; default the system clock. */
  clock?: Clock;
  /** Stops waiting and retrying when it aborts. */
  signal?: AbortSignal;
  /** Told about each retry before its wait (for logs and counters). */
  onRetry?(info: RetryInfo): void;
  /** Backoff tuning; see {@linkcode backoffDelay}. */
  backoff?: BackoffOptions;
}

/**
 * Runs `operation` until it succeeds, retrying failures that
 * `options.decide` calls retryable, at most `maxRetries` times.
 *
 * Before a retry it waits exactly `afterMs` when the decision carries one (a
 * server's Retry-After is a floor; jittering below it would earn another
 * 429), otherwise a full-jitter {@linkcode backoffDelay}. The wait ends early,
 * rejecting with the abort reason, when `signal` aborts; an aborted signal
 * also stops any further attempt.
 *
 * @typeParam T What the operation resolves to.
 * @param operation The work; it receives the attempt number (0 first).
 * @param options The retry budget, the failure classifier and more.
 * @returns What the first successful attempt resolves to.
 * @throws The last failure, when it is not retryable or retries ran out.
 *
 * @example Usage
 * ```ts
 * import { retry, retryable } from "./retry.ts";
 * class HttpError extends Error {
 *   constructor(readonly status: number) {
 *     super(`HTTP ${status}`);
 *   }
 * }
 * let calls = 0;
 * const value = await retry(async (attempt) => {
 *   calls++;
 *   if (attempt < 2) throw new HttpError(503);
 *   return "ok";
 * }, {
 *   maxRetries: 5,
 *   decide: (error) => ({ retry: error instanceof HttpError && retryable(error.status) }),
 *   backoff: { baseMs: 1 },
 * });
 * console.log(value, calls); // ok 3
 * ```
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { maxRetries, decide, clock = systemClock, signal, onRetry, backoff } = options;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(`Cannot retry: max retries "${maxRetries}" is not an integer ≥ 0`);
  }
  for (let attempt = 0;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      // A failure caused by our own abort is not worth a retry.
      if (signal?.aborted || attempt >= maxRetries) throw error;
      const decision = decide(error);
      if (!decision.retry) throw error;
      if (decision.afterMs !== undefined && !Number.isFinite(decision.afterMs)) {
        throw new RangeError(`Cannot retry: wait "${decision.afterMs}" is not a finite number`);
      }
      const delayMs = decision.afterMs !== undefined
        ? Math.max(0, decision.afterMs)
        : backoffDelay(attempt, backoff);
      onRetry?.({
        attempt: attempt + 1,
        delayMs,
        error,
        rateLimited: decision.rateLimited ?? false,
      });
      await clock.sleep(delayMs, signal);
    }
  }
}
