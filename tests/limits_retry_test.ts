import assert from "node:assert/strict";
import { ManualClock } from "../src/limits/clock.ts";
import {
  backoffDelay,
  parseRetryAfter,
  retry,
  retryable,
  type RetryDecision,
  type RetryInfo,
} from "../src/limits/retry.ts";
import { seededRandom } from "./_random.ts";

/** A failed request: `status` undefined means no answer (network, timeout). */
class RequestError extends Error {
  constructor(readonly status: number | undefined, readonly retryAfterMs?: number) {
    super(status === undefined ? "Network error" : `HTTP ${status}`);
  }
}

function decide(error: unknown): RetryDecision {
  if (!(error instanceof RequestError) || !retryable(error.status)) return { retry: false };
  return error.status === 429
    ? { retry: true, afterMs: error.retryAfterMs, rateLimited: true }
    : { retry: true };
}

/** Runs `retry` on a ManualClock until it settles, skipping through waits. */
async function settle<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const finish = () => done = true;
  promise.then(finish, finish);
  while (!done) {
    if (!await clock.advanceToNext()) break;
  }
  return await promise;
}

Deno.test("backoffDelay is full jitter under an exponential, capped ceiling", () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 0);
  assert.equal(backoffDelay(0, { random: () => 0.5 }), 125);
  assert.equal(backoffDelay(1, { random: () => 0.5 }), 250);
  assert.equal(backoffDelay(4, { random: () => 0.5 }), 2_000);
  assert.equal(backoffDelay(30, { random: () => 0.5 }), 15_000);
  assert.equal(backoffDelay(2_000, { random: () => 0.5 }), 15_000);
  assert.equal(backoffDelay(3, { baseMs: 10, capMs: 50, random: () => 0.5 }), 25);
  const almostOne = 1 - 2 ** -40;
  assert.ok(backoffDelay(2, { baseMs: 100, random: () => almostOne }) < 400);
  assert.ok(backoffDelay(2, { baseMs: 100, random: () => almostOne }) > 399.99);
});

Deno.test("backoffDelay spreads delays evenly over the whole interval", () => {
  const random = seededRandom(9);
  const ceiling = 100 * 2 ** 3;
  const samples = Array.from({ length: 20_000 }, () => backoffDelay(3, { baseMs: 100, random }));
  assert.ok(samples.every((d) => d >= 0 && d < ceiling));
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  assert.ok(Math.abs(mean - ceiling / 2) < ceiling * 0.02, `mean ${mean}`);
  // Full jitter, not "equal jitter": short delays are as likely as long ones.
  const lowest = samples.filter((d) => d < ceiling / 10).length / samples.length;
  assert.ok(lowest > 0.08 && lowest < 0.12, `share below a tenth ${lowest}`);
});

Deno.test("backoffDelay rejects bad input", () => {
  assert.throws(() => backoffDelay(-1), RangeError);
  assert.throws(() => backoffDelay(1.5), RangeError);
  assert.throws(() => backoffDelay(0, { baseMs: -1 }), RangeError);
  assert.throws(() => backoffDelay(0, { capMs: Number.NaN }), RangeError);
  assert.throws(() => backoffDelay(0, { random: () => 1 }), RangeError);
});

Deno.test("retryable covers 408, 429, 500, 502, 503, 504 and no answer, nothing else", () => {
  for (const status of [undefined, 408, 429, 500, 502, 503, 504]) {
    assert.equal(retryable(status), true, `status ${status}`);
  }
  for (const status of [200, 400, 401, 403, 404, 405, 409, 410, 422, 501, 505, 511]) {
    assert.equal(retryable(status), false, `status ${status}`);
  }
  assert.equal(retryable(409, { statuses: new Set([409]) }), true);
  assert.equal(retryable(503, { statuses: new Set([409]) }), false);
});

for (const status of [undefined, 408, 429, 500, 502, 503, 504]) {
  Deno.test(`retry retries a ${status ?? "network"} failure`, async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const result = await settle(
      clock,
      retry((attempt) => {
        attempts.push(attempt);
        return attempt === 0
          ? Promise.reject(new RequestError(status, 1_000))
          : Promise.resolve("done");
      }, { maxRetries: 5, decide, clock }),
    );
    assert.equal(result, "done");
    assert.deepEqual(attempts, [0, 1]);
  });
}

for (const status of [400, 401, 403, 404, 409, 422, 501]) {
  Deno.test(`retry gives up at once on ${status}`, async () => {
    const clock = new ManualClock();
    const failure = new RequestError(status);
    let calls = 0;
    const retries: RetryInfo[] = [];
    await assert.rejects(
      retry(() => {
        calls++;
        return Promise.reject(failure);
      }, { maxRetries: 5, decide, clock, onRetry: (info) => retries.push(info) }),
      (error) => error === failure,
    );
    assert.equal(calls, 1);
    assert.deepEqual(retries, []);
  });
}

Deno.test("retry rethrows the last failure once retries run out", async () => {
  const clock = new ManualClock();
  const failures: RequestError[] = [];
  const run = retry(() => {
    const failure = new RequestError(503);
    failures.push(failure);
    return Promise.reject(failure);
  }, { maxRetries: 5, decide, clock });
  await assert.rejects(settle(clock, run), (error) => error === failures.at(-1));
  assert.equal(failures.length, 6);

  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new RequestError(503));
    }, { maxRetries: 0, decide, clock }),
  );
  assert.equal(calls, 1);
});

Deno.test("retry waits a 429's Retry-After exactly, never a jittered shorter time", async () => {
  const clock = new ManualClock();
  const calledAt: number[] = [];
  const retries: RetryInfo[] = [];
  const run = retry((attempt) => {
    calledAt.push(clock.now());
    return attempt < 2 ? Promise.reject(new RequestError(429, 1_500)) : Promise.resolve(attempt);
  }, {
    maxRetries: 5,
    decide,
    clock,
    backoff: { random: () => 0 },
    onRetry: (info) => retries.push(info),
  });
  await clock.advance(1_499);
  assert.deepEqual(calledAt, [0]);
  await clock.advance(1);
  assert.deepEqual(calledAt, [0, 1_500]);
  await clock.advance(1_500);
  assert.equal(await run, 2);
  assert.deepEqual(calledAt, [0, 1_500, 3_000]);
  assert.deepEqual(
    retries.map(({ attempt, delayMs, rateLimited }) => ({ attempt, delayMs, rateLimited })),
    [
      { attempt: 1, delayMs: 1_500, rateLimited: true },
      { attempt: 2, delayMs: 1_500, rateLimited: true },
    ],
  );
});

Deno.test("retry backs off exponentially with jitter when the server names no time", async () => {
  const clock = new ManualClock();
  const calledAt: number[] = [];
  const delays: number[] = [];
  const run = retry((attempt) => {
    calledAt.push(clock.now());
    return attempt < 4 ? Promise.reject(new RequestError(undefined)) : Promise.resolve("ok");
  }, {
    maxRetries: 5,
    decide,
    clock,
    backoff: { baseMs: 100, random: () => 0.5 },
    onRetry: (info) => delays.push(info.delayMs),
  });
  assert.equal(await settle(clock, run), "ok");
  assert.deepEqual(delays, [50, 100, 200, 400]);
  assert.deepEqual(calledAt, [0, 50, 150, 350, 750]);
});

Deno.test("retry stops waiting and retrying when its signal aborts", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const reason = new Error("Stop");
  let calls = 0;
  const run = retry(() => {
    calls++;
    return Promise.reject(new RequestError(503));
  }, { maxRetries: 5, decide, clock, signal: controller.signal, backoff: { random: () => 0.9 } });
  await clock.advance(10);
  controller.abort(reason);
  await assert.rejects(run, (error) => error === reason);
  await clock.advance(60_000);
  assert.equal(calls, 1);
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.resolve();
    }, { maxRetries: 5, decide, clock, signal: controller.signal }),
    (error) => error === reason,
  );
  assert.equal(calls, 1);
});

Deno.test("retry does not retry a failure that happened after its signal aborted", async () => {
  const controller = new AbortController();
  const failure = new RequestError(undefined);
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      controller.abort();
      return Promise.reject(failure);
    }, { maxRetries: 5, decide, clock: new ManualClock(), signal: controller.signal }),
    (error) => error === failure,
  );
  assert.equal(calls, 1);
});

Deno.test("retry rejects a bad retry count", async () => {
  const options = { decide, clock: new ManualClock() };
  await assert.rejects(retry(() => Promise.resolve(), { ...options, maxRetries: -1 }), RangeError);
  await assert.rejects(retry(() => Promise.resolve(), { ...options, maxRetries: 1.5 }), RangeError);
});

Deno.test("parseRetryAfter reads delay-seconds and HTTP dates", () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  assert.equal(parseRetryAfter("2"), 2_000);
  assert.equal(parseRetryAfter(" 0 "), 0);
  assert.equal(parseRetryAfter("1.5"), 1_500);
  assert.equal(parseRetryAfter("Sun, 01 Jun 2025 12:00:30 GMT", { now }), 30_000);
  assert.equal(parseRetryAfter("Sun, 01 Jun 2025 11:00:00 GMT", { now }), 0);
  assert.equal(parseRetryAfter("-1"), undefined);
  assert.equal(parseRetryAfter("later"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});
