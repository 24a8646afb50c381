import assert from "node:assert/strict";
import { ManualClock, systemClock } from "../src/limits/clock.ts";

Deno.test("ManualClock wakes sleepers in time order, ties in sleep order", async () => {
  const clock = new ManualClock(1_000);
  const woke: string[] = [];
  const at: number[] = [];
  for (const [name, ms] of [["c", 300], ["a", 100], ["b1", 200], ["b2", 200]] as const) {
    clock.sleep(ms).then(() => {
      woke.push(name);
      at.push(clock.now());
    });
  }
  assert.equal(clock.sleepers, 4);
  assert.equal(clock.nextWake(), 1_100);
  await clock.advance(250);
  assert.deepEqual(woke, ["a", "b1", "b2"]);
  assert.deepEqual(at, [1_100, 1_200, 1_200]);
  assert.equal(clock.now(), 1_250);
  await clock.advance(50);
  assert.deepEqual(woke, ["a", "b1", "b2", "c"]);
  assert.equal(clock.sleepers, 0);
  assert.equal(clock.nextWake(), undefined);
});

Deno.test("ManualClock runs sleeps made during an advance when they fall due within it", async () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  async function loop(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      // A deep chain of awaits must still finish before time moves on.
      for (let j = 0; j < 100; j++) await Promise.resolve();
      await clock.sleep(30);
      seen.push(clock.now());
    }
  }
  const done = loop();
  await clock.advance(100);
  assert.deepEqual(seen, [30, 60, 90]);
  await clock.advance(100);
  await done;
  assert.deepEqual(seen, [30, 60, 90, 120, 150]);
});

Deno.test("ManualClock sleep rejects with the abort reason and leaves the queue", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const reason = new Error("Stop");
  const sleeping = clock.sleep(100, controller.signal);
  controller.abort(reason);
  await assert.rejects(sleeping, (error) => error === reason);
  assert.equal(clock.sleepers, 0);
  assert.equal(await clock.advanceToNext(), false);
  await assert.rejects(clock.sleep(10, controller.signal), (error) => error === reason);
});

Deno.test("ManualClock resolves non-positive sleeps without an advance", async () => {
  const clock = new ManualClock();
  await clock.sleep(0);
  await clock.sleep(-5);
  assert.equal(clock.now(), 0);
  assert.throws(() => clock.sleep(Number.NaN), RangeError);
});

Deno.test("ManualClock.advanceToNext jumps exactly to the next due time", async () => {
  const clock = new ManualClock();
  let woke = false;
  clock.sleep(1234.5).then(() => woke = true);
  assert.equal(await clock.advanceToNext(), true);
  assert.equal(clock.now(), 1234.5);
  assert.equal(woke, true);
});

Deno.test("ManualClock refuses bad and overlapping advances", async () => {
  const clock = new ManualClock();
  await assert.rejects(clock.advance(-1), RangeError);
  await assert.rejects(clock.advance(Number.POSITIVE_INFINITY), RangeError);
  const first = clock.advance(10);
  await assert.rejects(clock.advance(10), Error);
  await first;
  assert.equal(clock.now(), 10);
  assert.throws(() => new ManualClock(Number.NaN), RangeError);
});

Deno.test("systemClock sleeps, and stops sleeping on abort", async () => {
  const before = systemClock.now();
  await systemClock.sleep(2);
  assert.ok(systemClock.now() >= before);
  const controller = new AbortController();
  const reason = new Error("Stop");
  const sleeping = systemClock.sleep(60_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(sleeping, (error) => error === reason);
  await assert.rejects(systemClock.sleep(1, controller.signal), (error) => error === reason);
});
