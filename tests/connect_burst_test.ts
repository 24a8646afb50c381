/**
 * Plan and undo build their client through `connectWorkOS`, as the import
 * does, so they get its spread budget (`burstMs`: at most a second's worth
 * of a window at once, the rest at the window's average rate) rather than
 * a whole window in one burst. Seen at the fake: with `rateLimit: 1` (2
 * reads and 1 write a second), eight lookups or four deletes arrive over
 * seconds, not at once. Real runs against the fake.
 */

import assert from "node:assert/strict";
import { importUsers, planTenant } from "../mod.ts";
import { startFakeWorkOS } from "../testing.ts";
import type { FakeWorkOS } from "../testing.ts";
import { undoAuditLog } from "../src/undo/undo_job.ts";
import { tempDir, tempFile } from "./_cli.ts";

function usersCsv(count: number, domain: string): string {
  const lines = ["email"];
  for (let i = 1; i <= count; i++) lines.push(`user${i}@${domain}`);
  return lines.join("\n") + "\n";
}

/** When (ms since the call) each request matching `prefix` reached the fake. */
function arrivals(fake: FakeWorkOS, prefix: string): { times: number[]; stop(): void } {
  const started = performance.now();
  const times: number[] = [];
  const count = () =>
    Object.entries(fake.state.requestCounts)
      .filter(([key]) => key.startsWith(prefix))
      .reduce((sum, [, n]) => sum + n, 0);
  const base = count();
  const timer = setInterval(() => {
    const now = count() - base;
    while (times.length < now) times.push(performance.now() - started);
  }, 5);
  return {
    times,
    stop: () => {
      clearInterval(timer);
      const now = count() - base;
      while (times.length < now) times.push(performance.now() - started);
    },
  };
}

Deno.test("a plan's lookups are spread at the budget's rate, not sent as one window's burst", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(usersCsv(8, "plan-burst.test"));
  const seen = arrivals(fake, "GET /user_management/users");
  const plan = await planTenant(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 10,
    rateLimit: 1,
  });
  seen.stop();
  assert.equal(plan.usersToCreate, 8);
  assert.equal(seen.times.length, 8);
  // Two reads at once (a second's worth), then one every 500 ms: the last
  // about 3 s after the first. A whole window's budget (20 reads) would let
  // all eight go at once.
  const span = (seen.times.at(-1) ?? 0) - seen.times[0];
  assert.ok(span >= 2_000, `eight lookups within ${Math.round(span)} ms`);
});

Deno.test("an undo's deletes are spread at the budget's rate, not sent as one window's burst", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(usersCsv(4, "undo-burst.test"));
  const dir = await tempDir();
  const auditLog = `${dir}/audit.jsonl`;
  await importUsers(csv, { apiKey: fake.apiKey, apiUrl: fake.url, auditLog, rateLimit: 1_000 });
  assert.equal(fake.state.userCount(), 4);
  const seen = arrivals(fake, "DELETE ");
  await undoAuditLog(auditLog, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 10,
    rateLimit: 1,
  });
  seen.stop();
  assert.equal(fake.state.userCount(), 0);
  assert.equal(seen.times.length, 4);
  // One write at once, then one a second: the last about 3 s after the
  // first. A whole window's budget (10 writes) would let all four go at once.
  const span = (seen.times.at(-1) ?? 0) - seen.times[0];
  assert.ok(span >= 2_000, `four deletes within ${Math.round(span)} ms`);
});
