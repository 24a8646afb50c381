import assert from "node:assert/strict";
import { ManualClock } from "../src/limits/clock.ts";
import { Semaphore } from "../src/limits/semaphore.ts";

Deno.test("Semaphore never lets more than its permits in, and uses all of them", async () => {
  const clock = new ManualClock();
  const semaphore = new Semaphore(3);
  let inside = 0;
  let peak = 0;
  const tasks = Array.from({ length: 30 }, (_, i) =>
    semaphore.use(async () => {
      inside++;
      peak = Math.max(peak, inside);
      assert.ok(inside <= semaphore.inFlight && semaphore.inFlight <= 3);
      await clock.sleep(10 + (i * 37) % 50);
      inside--;
      return i;
    }));
  assert.equal(semaphore.inFlight, 3);
  assert.equal(semaphore.waiting, 27);
  while (await clock.advanceToNext());
  assert.deepEqual(await Promise.all(tasks), Array.from({ length: 30 }, (_, i) => i));
  assert.equal(peak, 3);
  assert.equal(semaphore.inFlight, 0);
  assert.equal(semaphore.waiting, 0);
});

Deno.test("Semaphore hands permits out in FIFO order, late callers do not jump the queue", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const order: string[] = [];
  const waiters = ["a", "b", "c"].map((name) => semaphore.acquire().then(() => order.push(name)));
  semaphore.release();
  // Arrives after the release but before "a" has run: must queue behind.
  const late = semaphore.acquire().then(() => order.push("late"));
  await waiters[0];
  assert.deepEqual(order, ["a"]);
  for (let i = 0; i < 3; i++) {
    semaphore.release();
    await Promise.resolve();
  }
  await Promise.all([...waiters, late]);
  assert.deepEqual(order, ["a", "b", "c", "late"]);
  assert.equal(semaphore.inFlight, 1);
});

Deno.test("Semaphore skips aborted waiters and keeps their permit", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const controller = new AbortController();
  const reason = new Error("Stop");
  const aborted = semaphore.acquire(controller.signal);
  const next = semaphore.acquire();
  assert.equal(semaphore.waiting, 2);
  controller.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  assert.equal(semaphore.waiting, 1);
  semaphore.release();
  await next;
  assert.equal(semaphore.inFlight, 1);
  assert.equal(semaphore.waiting, 0);
  await assert.rejects(semaphore.acquire(controller.signal), (error) => error === reason);
});

Deno.test("Semaphore.use releases when the work throws", async () => {
  const semaphore = new Semaphore(1);
  await assert.rejects(semaphore.use(() => Promise.reject(new Error("Boom"))), /Boom/);
  assert.equal(semaphore.inFlight, 0);
  assert.equal(await semaphore.use(() => Promise.resolve(1)), 1);
});

Deno.test("Semaphore rejects bad permits and unmatched releases", () => {
  assert.throws(() => new Semaphore(0), RangeError);
  assert.throws(() => new Semaphore(1.5), RangeError);
  assert.throws(() => new Semaphore(1).release(), RangeError);
});
