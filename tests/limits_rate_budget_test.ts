import assert from "node:assert/strict";
import { ManualClock } from "../src/limits/clock.ts";
import { RateBudget, type RequestKind } from "../src/limits/rate_budget.ts";
import { retry, type RetryDecision } from "../src/limits/retry.ts";
import { seededRandom } from "./_random.ts";

interface Grant {
  kind: RequestKind;
  at: number;
}

/** Records the answer of a granted request at once: these tests model requests answered instantly. */
function answer(answered: () => void): void {
  answered();
}

/**
 * The most grants any window of `windowMs` holds. Windows are closed,
 * `[t, t + windowMs]`, which is stricter than the server's; the busiest
 * window can always be slid to start at a grant, so checking every grant as
 * a window start checks every window position.
 */
function busiestWindow(times: number[], windowMs: number, closed = true): number {
  let busiest = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    if (end < start) end = start;
    while (
      end < times.length &&
      (closed ? times[end] <= times[start] + windowMs : times[end] < times[start] + windowMs)
    ) end++;
    busiest = Math.max(busiest, end - start);
  }
  return busiest;
}

interface SimulationOptions {
  writesPerSecond: number;
  workers: number;
  durationMs: number;
  /** Chance a request is a write. */
  writeShare: number;
  /** Longest simulated request latency in milliseconds. */
  maxLatencyMs: number;
  seed: number;
}

/**
 * Workers that each loop: take a slot, "send" at once, wait the request's
 * latency, repeat. Far more demand than budget, so the budget binds.
 */
async function simulate(options: SimulationOptions): Promise<{
  grants: Grant[];
  budget: RateBudget;
}> {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: options.writesPerSecond, clock });
  const random = seededRandom(options.seed);
  const stop = new AbortController();
  const grants: Grant[] = [];
  async function worker(): Promise<void> {
    while (clock.now() < options.durationMs) {
      const kind: RequestKind = random() < options.writeShare ? "write" : "read";
      try {
        (await budget.acquire(kind, stop.signal))();
      } catch {
        return;
      }
      grants.push({ kind, at: clock.now() });
      await clock.sleep(1 + random() * options.maxLatencyMs);
    }
  }
  const workers = Array.from({ length: options.workers }, () => worker());
  while (clock.now() < options.durationMs) await clock.advance(1_000);
  stop.abort();
  await clock.advance(options.maxLatencyMs + 1);
  await Promise.all(workers);
  return { grants, budget };
}

function times(grants: Grant[], kind?: RequestKind): number[] {
  return grants.filter((g) => kind === undefined || g.kind === kind).map((g) => g.at);
}

/**
 * The share of the server's limit used: grants in whole windows of our
 * (margin-widened) span, against what the server's rate would allow in that
 * time. A limiter that fills every window scores 1 / (1 + margin) = 0.995.
 */
function utilisation(at: number[], limit: number, windowMs: number, spanMs: number, end: number) {
  const blocks = Math.floor(end / spanMs);
  const used = at.filter((t) => t < blocks * spanMs).length;
  return used / ((blocks * spanMs * limit) / windowMs);
}

Deno.test("RateBudget derives WorkOS's limits from the write rate", () => {
  assert.deepEqual(new RateBudget().limits, {
    writesPer10s: 500,
    readsPer10s: 1_000,
    totalPer60s: 6_000,
  });
  assert.deepEqual(new RateBudget({ writesPerSecond: 20 }).limits, {
    writesPer10s: 200,
    readsPer10s: 400,
    totalPer60s: 2_400,
  });
  assert.deepEqual(new RateBudget({ writesPerSecond: 2.55 }).limits, {
    writesPer10s: 25,
    readsPer10s: 51,
    totalPer60s: 306,
  });
  assert.throws(() => new RateBudget({ writesPerSecond: 0 }), RangeError);
  assert.throws(() => new RateBudget({ writesPerSecond: Number.NaN }), RangeError);
  assert.throws(() => new RateBudget({ marginRatio: -0.1 }), RangeError);
});

Deno.test("RateBudget keeps every window within budget over 20 simulated minutes of mixed load", async () => {
  const durationMs = 20 * 60_000;
  const { grants, budget } = await simulate({
    writesPerSecond: 50,
    workers: 400,
    durationMs,
    writeShare: 1 / 3,
    maxLatencyMs: 400,
    seed: 1,
  });
  const writes = times(grants, "write");
  const reads = times(grants, "read");
  const all = times(grants);
  assert.ok(all.length > 100_000, `only ${all.length} grants`);
  // The server's windows, closed at both ends.
  assert.ok(busiestWindow(writes, 10_000) <= 500, "writes over 500 in 10 s");
  assert.ok(busiestWindow(reads, 10_000) <= 1_000, "reads over 1,000 in 10 s");
  assert.ok(busiestWindow(all, 60_000) <= 6_000, "requests over 6,000 in 60 s");
  // Our own, margin-widened windows are full but never overfull.
  assert.equal(busiestWindow(all, 60_300, false), 6_000);
  // With a third writes the general budget binds; it must be used up.
  const used = utilisation(all, 6_000, 60_000, 60_300, durationMs);
  assert.ok(used >= 0.98, `general budget utilisation ${used}`);
  const stats = budget.stats;
  assert.equal(stats.writes, writes.length);
  assert.equal(stats.reads, reads.length);
  assert.equal(stats.total, all.length);
  assert.equal(budget.waiting, 0);
});

Deno.test("RateBudget runs writes at the limit, not above it, under saturation", async () => {
  const durationMs = 5 * 60_000;
  const { grants } = await simulate({
    writesPerSecond: 50,
    workers: 120,
    durationMs,
    writeShare: 1,
    maxLatencyMs: 300,
    seed: 2,
  });
  const writes = times(grants, "write");
  assert.ok(busiestWindow(writes, 10_000) <= 500);
  assert.ok(busiestWindow(writes, 60_000) <= 6_000);
  const used = utilisation(writes, 500, 10_000, 10_050, durationMs);
  assert.ok(used >= 0.98, `write budget utilisation ${used}`);
});

Deno.test("RateBudget keeps reads and the general budget, both binding, at a low rate", async () => {
  const durationMs = 10 * 60_000;
  const { grants } = await simulate({
    writesPerSecond: 3,
    workers: 50,
    durationMs,
    writeShare: 0,
    maxLatencyMs: 2_000,
    seed: 3,
  });
  const reads = times(grants, "read");
  assert.ok(busiestWindow(reads, 10_000) <= 60);
  assert.ok(busiestWindow(reads, 60_000) <= 360);
  const used = utilisation(reads, 360, 60_000, 60_300, durationMs);
  assert.ok(used >= 0.98, `read budget utilisation ${used}`);
});

Deno.test("RateBudget allows the full limit at once in a fresh window, then not one more", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock });
  const grantedAt: number[] = [];
  const all = Array.from(
    { length: 501 },
    () => budget.acquire("write").then(answer).then(() => grantedAt.push(clock.now())),
  );
  await clock.advance(0);
  assert.equal(grantedAt.length, 500);
  assert.ok(grantedAt.every((t) => t === 0));
  await clock.advance(10_049);
  assert.equal(grantedAt.length, 500);
  await clock.advance(1);
  await Promise.all(all);
  assert.equal(grantedAt[500], 10_050);
});

Deno.test("RateBudget grants each kind in FIFO order and lets reads pass blocked writes", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 0.2, clock }); // 2 writes, 4 reads / 10 s
  const order: string[] = [];
  const tasks = ["w1", "w2", "w3", "r1", "r2"].map((name) =>
    budget.acquire(name[0] === "w" ? "write" : "read").then(answer).then(() => order.push(name))
  );
  await clock.advance(0);
  // w3 waits for the write window; the reads behind it are not held up.
  assert.deepEqual(order, ["w1", "w2", "r1", "r2"]);
  await clock.advance(10_050);
  await Promise.all(tasks);
  assert.deepEqual(order, ["w1", "w2", "r1", "r2", "w3"]);
});

Deno.test("RateBudget drops an aborted waiter without spending its slot", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 0.1, clock }); // 1 write / 10 s
  (await budget.acquire("write"))();
  const controller = new AbortController();
  const reason = new Error("Stopped");
  const aborted = budget.acquire("write", controller.signal);
  let secondAt: number | undefined;
  const second = budget.acquire("write").then(answer).then(() => secondAt = clock.now());
  assert.equal(budget.waiting, 2);
  await clock.advance(1_000);
  controller.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  assert.equal(budget.waiting, 1);
  await clock.advance(9_100);
  await second;
  assert.equal(secondAt, 10_050);
  assert.equal(budget.stats.writes, 2);
  await assert.rejects(budget.acquire("write", controller.signal), (error) => error === reason);
});

Deno.test("RateBudget rejects an unknown kind", async () => {
  const budget = new RateBudget({ clock: new ManualClock() });
  await assert.rejects(budget.acquire("delete" as RequestKind), TypeError);
});

Deno.test("RateBudget.pause holds waiting and new acquirers alike until it ends", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ clock });
  await clock.advance(1_000);
  budget.pause(5_000);
  const grantedAt: number[] = [];
  const early = Array.from(
    { length: 5 },
    () => budget.acquire("write").then(answer).then(() => grantedAt.push(clock.now())),
  );
  await clock.advance(2_000);
  const late = Array.from(
    { length: 5 },
    () => budget.acquire("read").then(answer).then(() => grantedAt.push(clock.now())),
  );
  await clock.advance(2_999);
  assert.equal(grantedAt.length, 0);
  assert.equal(budget.waiting, 10);
  await clock.advance(1);
  assert.ok(grantedAt.length >= 2, "the first of each kind goes when the pause ends");
  await clock.advance(1_000);
  await Promise.all([...early, ...late]);
  assert.ok(grantedAt.every((t) => t >= 6_000));
  assert.deepEqual(budget.stats.pauses, 1);
  assert.deepEqual(budget.stats.pausedMs, 5_000);
});

Deno.test("RateBudget.pause extends a pause in force and never shortens it", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ clock });
  budget.pause(5_000);
  await clock.advance(1_000);
  budget.pause(2_000); // would end at 3,000: ignored
  let grantedAt: number | undefined;
  const granted = budget.acquire("write").then(answer).then(() => grantedAt = clock.now());
  await clock.advance(3_000);
  assert.equal(grantedAt, undefined);
  budget.pause(4_000); // now 4,000: extends to 8,000
  await clock.advance(3_999);
  assert.equal(grantedAt, undefined);
  await clock.advance(1);
  await granted;
  assert.equal(grantedAt, 8_000);
  assert.equal(budget.stats.pauses, 3);
  assert.equal(budget.stats.pausedMs, 8_000);
  assert.throws(() => budget.pause(-1), RangeError);
  assert.throws(() => budget.pause(Number.POSITIVE_INFINITY), RangeError);
});

Deno.test("RateBudget resumes at half rate for one window after a pause, then at full rate", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock });
  const stop = new AbortController();
  const grants: number[] = [];
  async function writer(): Promise<void> {
    for (;;) {
      try {
        (await budget.acquire("write", stop.signal))();
      } catch {
        return;
      }
      grants.push(clock.now());
      await clock.sleep(1);
    }
  }
  const writers = Array.from({ length: 100 }, () => writer());
  await clock.advance(20_000);
  budget.pause(3_000);
  const pauseEnd = 23_000;
  const recoveryEnd = pauseEnd + 10_050;
  await clock.advance(30_000);
  stop.abort();
  await clock.advance(10);
  await Promise.all(writers);

  assert.ok(busiestWindow(grants, 10_000) <= 500);
  assert.equal(grants.filter((t) => t >= 20_000 && t < pauseEnd).length, 0);
  const recovering = grants.filter((t) => t >= pauseEnd && t < recoveryEnd);
  assert.equal(recovering[0], pauseEnd, "resumes as soon as the pause ends");
  assert.ok(recovering.length <= 251, `${recovering.length} writes in the recovery window`);
  assert.ok(recovering.length >= 245, `${recovering.length} writes in the recovery window`);
  for (let i = 1; i < recovering.length; i++) {
    assert.ok(recovering[i] - recovering[i - 1] >= 40.2 - 1e-9, "no burst while recovering");
  }
  // Back to full rate: the next window is full again.
  const after = grants.filter((t) => t >= recoveryEnd && t < recoveryEnd + 10_050);
  assert.ok(after.length >= 490, `${after.length} writes in the window after recovery`);
});

Deno.test("a 429 seen by one worker pauses every worker for its Retry-After", async () => {
  const clock = new ManualClock();
  const budget = new RateBudget({ writesPerSecond: 50, clock });
  const random = seededRandom(7);
  const sends: { worker: number; at: number; status: number }[] = [];
  let throttled = false;
  const retryAfterMs = 2_000;

  class HttpError extends Error {
    constructor(readonly status: number, readonly retryAfterMs?: number) {
      super(`HTTP ${status}`);
    }
  }
  // The server answers one 429 at t ≥ 5 s, as if another client had used
  // the environment's budget.
  function server(worker: number): void {
    const status = !throttled && clock.now() >= 5_000 ? 429 : 200;
    if (status === 429) throttled = true;
    sends.push({ worker, at: clock.now(), status });
    if (status === 429) throw new HttpError(429, retryAfterMs);
  }
  function decide(error: unknown): RetryDecision {
    if (error instanceof HttpError && error.status === 429) {
      return { retry: true, afterMs: error.retryAfterMs, rateLimited: true };
    }
    return { retry: false };
  }
  async function worker(id: number): Promise<void> {
    for (let i = 0; i < 40; i++) {
      await retry(async () => {
        (await budget.acquire("write"))();
        try {
          server(id);
        } catch (error) {
          // What the client layer does: the whole budget waits, not just us.
          if (error instanceof HttpError && error.retryAfterMs !== undefined) {
            budget.pause(error.retryAfterMs);
          }
          throw error;
        }
      }, { maxRetries: 5, decide, clock });
      await clock.sleep(50 + random() * 200);
    }
  }
  const workers = Array.from({ length: 20 }, (_, id) => worker(id));
  while (sends.length < 20 * 40 + 1) {
    assert.ok(clock.now() < 600_000, "the simulation did not finish");
    await clock.advance(500);
  }
  await clock.advance(1_000); // the workers' last pause between requests
  await Promise.all(workers);

  const rejected = sends.filter((s) => s.status === 429);
  assert.equal(rejected.length, 1);
  const t429 = rejected[0].at;
  const during = sends.filter((s) => s.at > t429 && s.at < t429 + retryAfterMs);
  assert.deepEqual(during, [], "no worker sent during the pause");
  const resumed = sends.filter((s) => s.at >= t429 + retryAfterMs);
  assert.ok(new Set(resumed.map((s) => s.worker)).size === 20, "every worker resumed");
  const retried = sends.find((s) => s.worker === rejected[0].worker && s.at > t429);
  assert.ok(retried !== undefined && retried.at >= t429 + retryAfterMs);
  assert.equal(budget.stats.pauses, 1);
});
