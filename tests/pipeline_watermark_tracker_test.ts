import assert from "node:assert/strict";
import { WatermarkTracker } from "../src/pipeline/stages/watermark_tracker.ts";

Deno.test("the watermark is the last record of the settled prefix, through compaction", () => {
  const tracker = new WatermarkTracker();
  for (let n = 1; n <= 5000; n++) tracker.begin({ recordNumber: n, byteEnd: n * 7 });
  tracker.settle(1);
  assert.deepEqual(tracker.watermark, { recordNumber: 1, byteEnd: 7 });
  // Out of order: nothing moves until the oldest settles.
  for (let n = 3000; n >= 3; n--) tracker.settle(n);
  assert.deepEqual(tracker.watermark, { recordNumber: 1, byteEnd: 7 });
  tracker.settle(2);
  assert.deepEqual(tracker.watermark, { recordNumber: 3000, byteEnd: 21000 });
  tracker.settle(2); // settled already: ignored
  tracker.settle(99_999); // never begun: ignored
  for (let n = 3001; n <= 5000; n++) tracker.settle(n);
  assert.deepEqual(tracker.watermark, { recordNumber: 5000, byteEnd: 35000 });
  tracker.begin({ recordNumber: 5001, byteEnd: 35010 });
  tracker.settle(5001);
  assert.deepEqual(tracker.watermark, { recordNumber: 5001, byteEnd: 35010 });
});

Deno.test("records whose numbers do not ascend are still settled by number", () => {
  const tracker = new WatermarkTracker();
  tracker.begin({ recordNumber: 10, byteEnd: 100 });
  tracker.begin({ recordNumber: 4, byteEnd: 140 });
  tracker.begin({ recordNumber: 12, byteEnd: 160 });
  tracker.settle(12);
  tracker.settle(4);
  assert.equal(tracker.watermark, undefined);
  tracker.settle(10);
  assert.deepEqual(tracker.watermark, { recordNumber: 12, byteEnd: 160 });
});
