/**
 * Staying within WorkOS's rate limits without wasting them: an injectable
 * clock, a fair semaphore for concurrency, exact sliding-window budgets that
 * hold each request's slot until its answer, a shared 429 pause, and the
 * retry policy.
 *
 * @example Usage
 * ```ts
 * import { RateBudget, retry, retryable, Semaphore } from "./mod.ts";
 * const budget = new RateBudget({ writesPerSecond: 50 });
 * const workers = new Semaphore(8);
 * const result = await workers.use(() =>
 *   retry(async () => {
 *     const answered = await budget.acquire("write");
 *     try {
 *       return "sent"; // await fetch(...)
 *     } finally {
 *       answered();
 *     }
 *   }, { maxRetries: 5, decide: () => ({ retry: retryable(undefined) }) })
 * );
 * console.log(result); // sent
 * ```
 *
 * @module
 */

export * from "./clock.ts";
export * from "./semaphore.ts";
export * from "./sliding_window.ts";
export * from "./rate_budget.ts";
export * from "./retry.ts";
export * from "./run_stop.ts";
