import assert from "node:assert/strict";
import { Deadlines } from "../src/workos/_deadlines.ts";

Deno.test("Deadlines keeps only the requests in flight: a finished request leaves at once", () => {
  const deadlines = new Deadlines(30_000);
  const started = Array.from({ length: 5_000 }, () => deadlines.start());
  assert.equal(deadlines.size, 5_000);
  // Finished out of order, as answers come: the queue is not kept for 30 s.
  for (let i = 0; i < started.length; i += 2) started[i].finish();
  assert.equal(deadlines.size, 2_500);
  for (let i = started.length - 1; i >= 0; i -= 2) started[i].finish();
  assert.equal(deadlines.size, 0);
  started[0].finish();
  assert.equal(deadlines.size, 0);
  assert.ok(started.every((deadline) => !deadline.timedOut && !deadline.signal.aborted));
});

Deno.test("Deadlines times out the requests still in flight, and only those", async () => {
  const deadlines = new Deadlines(20);
  const finished = deadlines.start();
  const slow = deadlines.start();
  const later = deadlines.start();
  finished.finish();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(slow.timedOut, true);
  assert.equal((slow.signal.reason as DOMException).name, "TimeoutError");
  assert.equal(later.timedOut, true);
  assert.equal(finished.timedOut, false);
  assert.equal(finished.signal.aborted, false);
  assert.equal(deadlines.size, 0);
  // A request started after the queue emptied gets a sweep again.
  const again = deadlines.start();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(again.timedOut, true);
  again.finish();
});

Deno.test("Deadlines aborts every request in flight when the import is aborted", () => {
  const abort = new AbortController();
  const deadlines = new Deadlines(30_000, abort.signal);
  const done = deadlines.start();
  const open = [deadlines.start(), deadlines.start()];
  done.finish();
  abort.abort(new Error("Stopped by a second Ctrl+C"));
  assert.ok(open.every((deadline) => deadline.signal.aborted && !deadline.timedOut));
  assert.equal(done.signal.aborted, false);
  for (const deadline of open) deadline.finish();
  assert.equal(deadlines.size, 0);
  const late = deadlines.start();
  assert.equal(late.signal.aborted, true);
  late.finish();
});
