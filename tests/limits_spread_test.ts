import assert from "node:assert/strict";
import { ManualClock } from "../src/limits/clock.ts";
import { RateBudget } from "../src/limits/rate_budget.ts";

/** Records the answer of a granted request at once: these tests model requests answered instantly. */
function answer(answered: () => void): void {
  answered();
}

/** The most grants any closed window `[t, t + windowMs]` holds. */
function busiestWindow(times: number[], windowMs: number): number {
  let busiest = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end] <= times[start] + windowMs) end++;
    busiest = Math.max(busiest, end - start);
  }
  return busiest;
}

/** `workers` callers that take write slots back to back until `untilMs`. */
async function saturate(budget: RateBudget, clock: ManualClock, workers: number, untilMs: number) {
  const grants: number[] = [];
  const stop = new AbortController();
  const loops = Array.from({ length: workers }, async () => {
    while (clock.now() < untilMs) {
      try {
        (await budget.acquire("write", stop.signal))();
      } catch {
        return;
      }
      grants.push(clock.now());
      await clock.sleep(5);
    }
  });
  while (clock.now() < untilMs) await clock.advance(100);
  stop.abort();
  await clock.advance(10);
  await Promise.all(loops);
  return grants;
}

Deno.test("RateBudget with burstMs spreads grants over the window, at the same rate and within every window", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock, burstMs: 1_000 });
  const grants = await saturate(budget, clock, 200, 5 * 60_000);
  // At most a second's worth at once: 49 of the 500 a window allows.
  assert.equal(grants.filter((t) => t === 0).length, 49);
  assert.ok(busiestWindow(grants, 1_000) <= 50 + 50, "no second holds much more than its share");
  // The sliding window still holds.
  assert.ok(busiestWindow(grants, 10_000) <= 500);
  // And no budget is lost: the average rate of the window, 500 per 10.1 s.
  const steady = grants.filter((t) => t >= 60_000 && t < 4 * 60_000).length;
  assert.ok(steady >= 0.99 * (180_000 / 10_050) * 500, `${steady} writes in 3 minutes`);
});

Deno.test("RateBudget with burstMs catches up a late sender, but never past the burst", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock, burstMs: 1_000 });
  for (let i = 0; i < 49; i++) (await budget.acquire("write"))();
  // Idle for a minute: the bucket refills to its cap, not to a minute's worth.
  await clock.advance(60_000);
  let atOnce = 0;
  const stop = new AbortController();
  const pending = Array.from(
    { length: 200 },
    () =>
      budget.acquire("write", stop.signal).then(answer).then(() => {
        if (clock.now() === 60_000) atOnce++;
      }, () => {}),
  );
  await clock.advance(0);
  stop.abort();
  await Promise.all(pending);
  assert.equal(atOnce, 49);
});

Deno.test("RateBudget rejects a burst that is not a positive duration", () => {
  assert.throws(() => new RateBudget({ burstMs: 0 }), RangeError);
  assert.throws(() => new RateBudget({ burstMs: -5 }), RangeError);
  assert.throws(() => new RateBudget({ burstMs: Number.NaN }), RangeError);
  // Infinity means no spreading, as when absent.
  new RateBudget({ burstMs: Infinity });
});
