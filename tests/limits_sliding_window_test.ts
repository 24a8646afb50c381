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

Deno.test("SlidingWindow with a huge limit holds only what its busiest window needed, and stays exact across growth", () => {
  // Limits off: millions of slots allowed, a few thousand used. The ring
  // used to be `limit` slots from the start; every answer wrote one slot
  // further along it, so the pages touched grew with the run's length.
  const limit = 6_000_000;
  const span = 1_000;
  const window = new SlidingWindow({ limit, windowMs: span });
  assert.equal(window.capacity, 1_024);
  const all: number[] = [];
  // 5,000 answers at 5 a millisecond: about 5,000 in one window at the peak.
  for (let i = 0; i < 5_000; i++) {
    const at = Math.floor(i / 5);
    window.record(at);
    all.push(at);
  }
  assert.equal(window.capacity, 8_192);
  assert.equal(window.countInWindow(999), 5_000);
  assert.equal(window.countInWindow(1_000), 4_995);
  // Then a slow trickle that keeps wrapping the ring: it does not grow again.
  for (let t = 2_000; t < 40_000; t += 7) {
    window.record(t);
    all.push(t);
  }
  assert.equal(window.capacity, 8_192);
  for (const now of [39_996, 40_500, 40_995, 40_996]) {
    const expected = all.filter((t) => t > now - span && t <= now).length;
    assert.equal(window.countInWindow(now), expected);
  }
  const small = new SlidingWindow({ limit: 3, windowMs: 100 });
  assert.equal(small.capacity, 3);
});

Deno.test("SlidingWindow grows its ring while the oldest answers wrap around its end", () => {
  const limit = 5_000;
  const span = 100;
  const window = new SlidingWindow({ limit, windowMs: span });
  const all: number[] = [];
  const random = seededRandom(7);
  let now = 0;
  for (let i = 0; i < 30_000; i++) {
    // Bursts and lulls, so that the ring fills while its head is mid-way.
    now += random() < 0.01 ? 150 : random() < 0.5 ? 0 : 1;
    const at = Math.max(now, window.earliestGrant(now));
    window.record(at);
    all.push(at);
    now = at;
    if (i % 997 === 0) {
      assert.equal(window.countInWindow(now), all.filter((t) => t > now - span && t <= now).length);
      assert.equal(
        window.earliestGrant(now),
        naiveEarliest(all.slice(-limit - 5), limit, span, now),
      );
    }
  }
  assert.ok(window.capacity <= limit);
});
