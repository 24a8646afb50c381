/**
 * The rate budget on an overloaded machine: a starved event loop sends a
 * granted request late, or reads its answer late. The server counts a
 * request somewhere between the grant and the answer; these simulations
 * (a manual clock, requests counted at a time of the simulation's choosing)
 * check the server's windows, not the budget's own bookkeeping.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../src/limits/clock.ts";
import { RateBudget, type RequestKind } from "../src/limits/rate_budget.ts";
import { seededRandom } from "./_random.ts";

/** The most times any half-open window `[t, t + windowMs)` holds: how the server counts. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] < sorted[start] + windowMs) end++;
    busiest = Math.max(busiest, end - start);
  }
  return busiest;
}

interface Counted {
  kind: RequestKind;
  /** When the server counted it. */
  at: number;
}

Deno.test("a request the starved loop sends after its window slid still counts: no window at the server holds more than the limit", async () => {
  const clock = new ManualClock();
  // 10 writes per 10 s (10.05 s with the margin).
  const budget = new RateBudget({ writesPerSecond: 1, clock });
  const counted: number[] = [];
  // Ten grants at t = 0, which the overloaded process only gets to send at
  // t = 3 s; the server answers 20 ms later.
  const late = Array.from({ length: 10 }, async () => {
    const answered = await budget.acquire("write");
    await clock.sleep(3_000);
    counted.push(clock.now());
    await clock.sleep(20);
    answered();
  });
  // Ten more, sent the moment they are granted.
  const prompt = Array.from({ length: 10 }, async () => {
    const answered = await budget.acquire("write");
    counted.push(clock.now());
    await clock.sleep(20);
    answered();
  });
  await clock.advance(0);
  for (let t = 0; t < 40_000 && clock.sleepers + budget.waiting > 0; t += 10) {
    await clock.advance(10);
  }
  await Promise.all([...late, ...prompt]);
  assert.equal(counted.length, 20);
  // Counted from the grant, the second ten went at 10.05 s: ten at 3 s and
  // ten at 10.05 s in one window. Counted until the answer, they wait for
  // 3.02 s + 10.05 s.
  assert.ok(busiestWindow(counted, 10_000) <= 10, `${busiestWindow(counted, 10_000)} in 10 s`);
  assert.ok(Math.min(...counted.slice(10)) >= 13_070, "the second ten waited for the answers");
});

/**
 * Workers that take a slot, are sent after a random stall of the starved
 * loop (most requests promptly, some seconds late), are counted at the
 * server then, and answered after `latencyMs`; the answer itself is read
 * after another stall.
 */
async function simulate(
  options: { seed: number; durationMs: number; workers: number; stallShare: number },
): Promise<{ counted: Counted[]; budget: RateBudget }> {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 5, clock, burstMs: 1_000 });
  const random = seededRandom(options.seed);
  const stop = new AbortController();
  const counted: Counted[] = [];
  const stall = () => random() < options.stallShare ? random() * 4_000 : 0;
  async function worker(): Promise<void> {
    while (clock.now() < options.durationMs) {
      const roll = random();
      const kind: RequestKind = roll < 0.5 ? "write" : roll < 0.9 ? "read" : "other";
      let answered: () => void;
      try {
        answered = await budget.acquire(kind, stop.signal);
      } catch {
        return;
      }
      const sendStall = stall();
      if (sendStall > 0) await clock.sleep(sendStall);
      counted.push({ kind, at: clock.now() });
      await clock.sleep(20 + random() * 10);
      const readStall = stall();
      if (readStall > 0) await clock.sleep(readStall);
      answered();
    }
  }
  const workers = Array.from({ length: options.workers }, () => worker());
  while (clock.now() < options.durationMs) await clock.advance(100);
  stop.abort();
  await clock.advance(20_000);
  await Promise.all(workers);
  return { counted, budget };
}

Deno.test("stalls of seconds between grant, send and answer never put a window at the server over WorkOS's limits", async () => {
  for (const seed of [1, 2, 3]) {
    const { counted } = await simulate({
      seed,
      durationMs: 3 * 60_000,
      workers: 60,
      stallShare: 0.2,
    });
    const of = (kind?: RequestKind) =>
      counted.filter((c) => kind === undefined || c.kind === kind).map((c) => c.at);
    assert.ok(counted.length > 1_000, `only ${counted.length} requests`);
    assert.ok(busiestWindow(of("write"), 10_000) <= 50, `seed ${seed}: writes`);
    assert.ok(busiestWindow(of("read"), 10_000) <= 100, `seed ${seed}: reads`);
    assert.ok(busiestWindow(of(), 60_000) <= 600, `seed ${seed}: all requests`);
  }
});

Deno.test("without stalls the budget still uses at least 0.98 of the write limit with 20–30 ms answers", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock, burstMs: 1_000 });
  const random = seededRandom(9);
  const stop = new AbortController();
  const sent: number[] = [];
  const durationMs = 5 * 60_000;
  const workers = Array.from({ length: 64 }, async () => {
    while (clock.now() < durationMs) {
      let answered: () => void;
      try {
        answered = await budget.acquire("write", stop.signal);
      } catch {
        return;
      }
      sent.push(clock.now());
      await clock.sleep(20 + random() * 10);
      answered();
    }
  });
  while (clock.now() < durationMs) await clock.advance(100);
  stop.abort();
  await clock.advance(100);
  await Promise.all(workers);
  assert.ok(busiestWindow(sent, 10_000) <= 500);
  // Past the first window, as the budget_use benchmark measures.
  const steady = sent.filter((t) => t >= 60_000 && t < durationMs).length;
  const ratio = steady / (((durationMs - 60_000) / 10_000) * 500);
  assert.ok(ratio >= 0.98, `ratio ${ratio}`);
});
