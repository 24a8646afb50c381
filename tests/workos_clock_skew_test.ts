/**
 * ClockSkew parses each distinct `Date` header once: answers that repeat
 * the last header reuse its value, and a new header is parsed again.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClockSkew } from "../src/workos/_clock_skew.ts";

Deno.test("clock skew reads a changed Date header anew, and a repeated one alike", () => {
  const at = Date.parse("2025-01-01T00:00:10.000Z");
  const skew = new ClockSkew();
  skew.observe("Wed, 01 Jan 2025 00:00:10 GMT", at, at + 100);
  skew.observe("Wed, 01 Jan 2025 00:00:10 GMT", at + 200, at + 300);
  assert.deepEqual(skew.bounds(), { low: -100, high: 800 });
  // Five seconds ahead now: the samples disagree, so the bounds widen to
  // hold them all, which they only do if the new header was parsed.
  skew.observe("Wed, 01 Jan 2025 00:00:15 GMT", at + 400, at + 500);
  assert.deepEqual(skew.bounds(), { low: -300, high: 5_600 });
  const fresh = new ClockSkew();
  fresh.observe("not a date", at, at);
  assert.deepEqual(
    fresh.bounds(),
    { low: -2_000, high: 2_000 },
    "an unreadable header is no sample",
  );
});
