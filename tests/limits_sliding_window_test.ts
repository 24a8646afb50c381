import assert from "node:assert/strict";
import { SlidingWindow } from "../src/limits/sliding_window.ts";
import { seededRandom } from "./_random.ts";

/** The obvious, slow answer: the first t ≥ now with room in (t - span, t]. */
function naiveEarliest(all: number[], limit: number, span: number, now: number): number {
  const candidates = [now, ...all.map((t) => t + span)].filter((t) => t >= now).sort((a, b) =>
    a - b
  );
  for (const t of candidates) {
    if (all.filter((g) => g > t - span && g <= t).length < limit) return t;
  }
  throw new Error("Unreachable");
}

Deno.test("SlidingWindow admits the whole limit at once, then waits for the oldest to leave", () => {
  const window = new SlidingWindow({ limit: 3, windowMs: 1_000 });
  for (let i = 0; i < 3; i++) {
    assert.equal(window.earliestGrant(0), 0);
    window.record(0);
  }
  assert.equal(window.earliestGrant(0), 1_000);
  assert.equal(window.earliestGrant(1_500), 1_500);
  assert.equal(window.countInWindow(999), 3);
  assert.equal(window.countInWindow(1_000), 0);
  window.record(1_000);
  assert.equal(window.earliestGrant(1_000), 1_000);
});

Deno.test("SlidingWindow widens the window by its margin", () => {
  const window = new SlidingWindow({ limit: 1, windowMs: 10_000, marginMs: 100 });
  assert.equal(window.spanMs, 10_100);
  window.record(5);
  assert.equal(window.earliestGrant(6), 10_105);
  assert.equal(window.countInWindow(10_104), 1);
  assert.equal(window.countInWindow(10_105), 0);
});

Deno.test("SlidingWindow refuses grants out of order or over the limit", () => {
  const window = new SlidingWindow({ limit: 2, windowMs: 100 });
  window.record(50);
  assert.throws(() => window.record(49), RangeError);
  window.record(60);
  assert.throws(() => window.record(149), /full until "150"/);
  window.record(150);
  assert.throws(() => window.record(Number.NaN), RangeError);
});

Deno.test("SlidingWindow rejects bad options", () => {
  assert.throws(() => new SlidingWindow({ limit: 0, windowMs: 1 }), RangeError);
  assert.throws(() => new SlidingWindow({ limit: 2.5, windowMs: 1 }), RangeError);
  assert.throws(() => new SlidingWindow({ limit: 1, windowMs: 0 }), RangeError);
  assert.throws(() => new SlidingWindow({ limit: 1, windowMs: 1, marginMs: -1 }), RangeError);
});

Deno.test("SlidingWindow agrees with a brute-force count on random traffic", () => {
  const random = seededRandom(42);
  for (let run = 0; run < 40; run++) {
    const limit = 1 + Math.floor(random() * 6);
    const windowMs = 10 + Math.floor(random() * 90);
    const marginMs = Math.floor(random() * 5);
    const span = windowMs + marginMs;
    const window = new SlidingWindow({ limit, windowMs, marginMs });
    const granted: number[] = [];
    let now = 0;
    for (let i = 0; i < 150; i++) {
      now += Math.floor(random() * 30);
      const earliest = window.earliestGrant(now);
      assert.equal(earliest, naiveEarliest(granted, limit, span, now));
      assert.equal(
        window.countInWindow(now),
        granted.filter((g) => g > now - span && g <= now).length,
      );
      // Grant as early as allowed: the tightest traffic the window permits.
      window.record(earliest);
      granted.push(earliest);
      now = earliest;
    }
    for (const start of granted) {
      const inWindow = granted.filter((g) => g >= start && g < start + span).length;
      assert.ok(inWindow <= limit, `${inWindow} grants in [${start}, ${start + span})`);
    }
  }
});
