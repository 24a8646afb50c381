/**
 * The one way every command that talks to WorkOS builds its client: import,
 * plan and undo get the same budget (spread over each second), retries and
 * timeouts from the same options.
 *
 * @module
 */

import { RateBudget } from "../limits/rate_budget.ts";
import { DEFAULT_API_URL, type OutageEvent, WorkOSClient } from "./client.ts";

/** Options for {@linkcode connectWorkOS}; they mirror the commands' flags. */
export interface ConnectOptions {
  /** WorkOS secret key. */
  apiKey: string;
  /** WorkOS API location (`https://api.workos.com`). */
  apiUrl?: string;
  /** User-management writes per second the budget is scaled from (50). */
  rateLimit?: number;
  /** Retries of a transient failure (5). */
  maxRetries?: number;
  /** Request timeout in ms (30,000). */
  requestTimeoutMs?: number;
  /** Aborts requests in flight (a second Ctrl+C). */
  abort?: AbortSignal;
  /** Wait this long for WorkOS once it stops answering; off when absent. */
  maxOutageMs?: number;
  /** Told when WorkOS goes down, before each probe, and when it answers again. */
  onOutage?(event: OutageEvent): void;
}

/**
 * Builds the WorkOS client of a command.
 *
 * @param options Key, location and limits.
 * @returns The client.
 *
 * @example Usage
 * ```ts
 * import { connectWorkOS } from "./connect.ts";
 * import assert from "node:assert/strict";
 *
 * const client = connectWorkOS({ apiKey: "sk_test_123", apiUrl: "http://127.0.0.1:4100" });
 * assert.equal(client.stats.requests, 0);
 * ```
 */
export function connectWorkOS(options: ConnectOptions): WorkOSClient {
  return new WorkOSClient({
    apiKey: options.apiKey,
    apiUrl: options.apiUrl ?? DEFAULT_API_URL,
    // A second's worth at once at most: the rest of each window's budget is
    // spread at its average rate, so no burst starves the event loop and
    // skews sends past the budget's margin (same throughput).
    budget: new RateBudget({ writesPerSecond: options.rateLimit ?? 50, burstMs: 1_000 }),
    maxRetries: options.maxRetries,
    requestTimeoutMs: options.requestTimeoutMs,
    signal: options.abort,
    maxOutageMs: options.maxOutageMs,
    onOutage: options.onOutage,
  });
}
