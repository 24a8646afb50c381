/**
 * The rate limits end to end: the real client, through the official SDK,
 * against the fake over HTTP. A long simulated run (the budget on a manual
 * clock) proves that no window of the requests the fake received is over
 * budget, faults and retries included; a 429 stops every worker, not only
 * the one that got it; cache hits cost no budget; and the real CLI at
 * `--rate-limit` never trips the fake's own limits.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { ManualClock } from "../src/limits/clock.ts";
import { RateBudget } from "../src/limits/rate_budget.ts";
import { WorkOSClient } from "../src/workos/client.ts";
import { ensureUser, findUserByEmail } from "../src/workos/users.ts";
import { ensureMembership } from "../src/workos/memberships.ts";
import { findOrganizationByExternalId } from "../src/workos/organizations.ts";
import { OrganizationResolver } from "../src/organizations/organization_resolver.ts";
import { RowProcessor } from "../src/pipeline/row_processor.ts";
import type { UserRow } from "../src/types.ts";
import { runCli, tempFile } from "./_cli.ts";
import { seededRandom } from "./_random.ts";

/**
 * The most requests any closed window `[t, t + windowMs]` holds: stricter
 * than the server's half-open window. The busiest window can always be slid
 * to start at a request, so checking each request as a start checks all.
 */
function busiestWindow(times: number[], windowMs: number): number {
  let busiest = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end] <= times[start] + windowMs) end++;
    busiest = Math.max(busiest, end - start);
  }
  return busiest;
}

type Kind = "write" | "read" | "other";

/** How the fake (and WorkOS) counts a request against its limits. */
function kindOf(endpoint: string): Kind {
  const [method, path] = endpoint.split(" ");
  if (!path.startsWith("/user_management/")) return "other";
  return method === "GET" ? "read" : "write";
}

function rowFor(email: string): UserRow {
  return { recordNumber: 1, byteEnd: 0, email, emailKey: email.toLowerCase(), original: { email } };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

Deno.test("no window of a 6-minute simulated run through the real client is over budget, faults and retries included", async () => {
  // Dropped connections are left out on purpose: Deno's fetch replays a
  // dropped read once on its own, a request no budget can see.
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { failureRate: 0.05, ghostRate: 0.05, ghostStyle: "error" },
    seed: 21,
  });
  const organization = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const seeded = Array.from(
    { length: 300 },
    (_, i) => fake.state.addUser({ email: `seed${i}@example.com` }),
  );
  const clock = new ManualClock();
  const stop = new AbortController();
  // 10 writes and 20 reads per 10 s, 120 requests per 60 s: small numbers,
  // so many windows pass with few real requests.
  const budget = new RateBudget({ writesPerSecond: 1, clock });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget,
    clock,
    signal: stop.signal,
  });
  const random = seededRandom(5);
  const workers = 30;
  const endAt = 6 * 60_000;
  let finished = 0;
  let nextUser = 0;
  let nextMember = 0;
  let rowFailures = 0;

  async function worker(id: number): Promise<void> {
    try {
      while (!stop.signal.aborted) {
        const pick = random();
        try {
          if (pick < 0.35) {
            await ensureUser(client, rowFor(`w${id}.${nextUser++}@example.com`));
          } else if (pick < 0.65) {
            await findUserByEmail(client, `seed${Math.floor(random() * 300)}@example.com`);
          } else if (pick < 0.85) {
            const user = seeded[nextMember++ % seeded.length];
            await ensureMembership(client, user.id, { organizationId: organization.id });
          } else {
            await findOrganizationByExternalId(client, "acme");
          }
        } catch {
          if (stop.signal.aborted) return;
          rowFailures++;
        }
        await clock.sleep(random() * 2_000, stop.signal);
      }
    } catch {
      // Stopped while waiting.
    } finally {
      finished++;
    }
  }

  // Quiet means every worker waits for a slot or sleeps on the clock (the
  // grant loop's own sleep aside): no request is in flight, so what the fake
  // counted so far was all sent at the current simulated time.
  async function quiet(): Promise<void> {
    for (let spins = 0;; spins++) {
      const loopSleeping = budget.waiting > 0 ? 1 : 0;
      if (budget.waiting + clock.sleepers - loopSleeping + finished === workers) return;
      assert.ok(spins < 10_000, "the simulation did not settle");
      await delay(spins < 50 ? 0 : 1);
    }
  }

  const arrivals: Record<Kind, number[]> = { write: [], read: [], other: [] };
  let counted: Record<string, number> = {};
  function record(): void {
    const counts = fake.state.requestCounts;
    for (const [endpoint, total] of Object.entries(counts)) {
      const fresh = total - (counted[endpoint] ?? 0);
      for (let i = 0; i < fresh; i++) arrivals[kindOf(endpoint)].push(clock.now());
    }
    counted = counts;
  }

  const running = Array.from({ length: workers }, (_, id) => worker(id));
  while (clock.now() < endAt) {
    await quiet();
    record();
    assert.ok(await clock.advanceToNext(), "something is always due");
  }
  await quiet();
  record();
  stop.abort();
  await clock.advance(1);
  await Promise.all(running);

  const all = [...arrivals.write, ...arrivals.read, ...arrivals.other].sort((a, b) => a - b);
  assert.ok(busiestWindow(arrivals.write, 10_000) <= 10, "writes per 10 s");
  assert.ok(busiestWindow(arrivals.read, 10_000) <= 20, "reads per 10 s");
  assert.ok(busiestWindow(all, 60_000) <= 120, "requests per 60 s");
  // Every request the fake saw took exactly one slot of its own kind.
  assert.equal(arrivals.write.length, budget.stats.writes);
  assert.equal(arrivals.read.length, budget.stats.reads);
  assert.equal(all.length, budget.stats.total);
  // The run was saturated, or the windows would prove nothing.
  assert.ok(all.length >= 6 * 120 * 0.9, `${all.length} requests in 6 simulated minutes`);
  assert.ok(fake.state.faultCounts.failure > 0 && fake.state.faultCounts.ghost > 0);
  assert.ok(client.stats.retries > 0);
  assert.equal(rowFailures, 0, "every fault was retried away");
});

Deno.test("a 429 one worker gets pauses every worker for its Retry-After, through the real client", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
  });
  // The storm outlasts nothing: Retry-After (2 s) is longer than it (1.5 s).
  fake.rateLimitStorm(1_500, 2);
  const first = findUserByEmail(client, "first@example.com");
  while (client.stats.rateLimited === 0) await delay(5);
  // These workers never got a 429 themselves. Sending now would earn nine
  // more; the shared pause holds them until the storm is over.
  const others = Array.from(
    { length: 9 },
    (_, i) => findUserByEmail(client, `worker${i}@example.com`),
  );
  const results = await Promise.all([first, ...others]);
  assert.deepEqual(results, Array(10).fill(undefined));
  assert.equal(fake.state.rateLimitedCount, 1);
  assert.equal(fake.state.totalRequests, 11, "ten lookups and one retry");
  assert.equal(client.stats.rateLimited, 1);
  assert.equal(client.stats.retries, 1);
  assert.equal(client.budget.stats.pauses, 1);
  assert.ok(client.budget.stats.pausedMs >= 2_000);
});

Deno.test("cache hits take no budget: 60 rows in 3 organizations cost 3 lookups and 3 creates", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
  });
  const resolver = new OrganizationResolver(client);
  const processor = new RowProcessor(client, resolver, { mode: { kind: "multi" } });
  const rows = Array.from({ length: 60 }, (_, i): UserRow => ({
    ...rowFor(`user${i}@example.com`),
    recordNumber: i + 1,
    organization: { kind: "external_id", externalId: `org-${i % 3}`, name: `Org ${i % 3}` },
  }));
  const outcomes = await Promise.all(rows.map((row) => processor.process(row)));
  assert.ok(outcomes.every((outcome) => outcome.error === undefined));
  assert.equal(fake.state.organizationCount(), 3);
  assert.equal(fake.state.membershipCount(), 60);
  const stats = client.budget.stats;
  assert.equal(stats.writes, 120, "a user and a membership per row");
  assert.equal(stats.reads, 0);
  assert.equal(stats.total - stats.writes - stats.reads, 6, "organizations: 3 lookups, 3 creates");
  assert.equal(stats.total, fake.state.totalRequests);
  assert.deepEqual(resolver.cacheStats, { hits: 57, misses: 3, size: 3 });
});

Deno.test("the CLI at --rate-limit runs into the fake's own limits without a 429, and logs progress every 10 s", async () => {
  // The fake at 2 % of WorkOS's limits (10 writes per 10 s) and the CLI at
  // --rate-limit 1 (the same): 12 users take more than one window.
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.02 } });
  const lines = ["email,first_name"];
  for (let i = 1; i <= 12; i++) lines.push(`user${i}@example.com,User${i}`);
  const csv = await tempFile(lines.join("\n") + "\n");
  const result = await runCli(["--csv", csv, "--rate-limit", "1", "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fake.state.userCount(), 12);
  assert.equal(fake.state.rateLimitedCount, 0);
  assert.doesNotMatch(result.stdout, /Rate limited/);
  // Not a terminal: plain lines, no escape codes, with the file's total.
  const progress = result.stderr.split("\n").filter((line) => line.startsWith("Progress: "));
  assert.ok(progress.length >= 1, result.stderr);
  assert.match(
    progress.at(-1) ?? "",
    /^Progress: 12\/12 rows \(100\.0%\) \| [\d.]+ users\/s \| writes \d+\/10 per 10 s \| 429s: 0 \| retries: 0 \| ETA /,
  );
  // The writes figure is what the budget counts in its window: never over the limit.
  for (const line of progress) {
    const shown = Number(line.match(/writes (\d+)\/10 per 10 s/)?.[1]);
    assert.ok(shown <= 10, line);
  }
  assert.ok(!result.stderr.includes("\x1b["), "no escape codes");
});

Deno.test("the CLI reading standard input shows progress without a total or an ETA", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.02 } });
  const lines = ["email"];
  for (let i = 1; i <= 12; i++) lines.push(`user${i}@example.com`);
  const result = await runCli(["--csv", "-", "--rate-limit", "1", "--quiet"], {
    env: envOf(fake),
    stdin: lines.join("\n") + "\n",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fake.state.rateLimitedCount, 0);
  const progress = result.stderr.split("\n").filter((line) => line.startsWith("Progress: "));
  assert.ok(progress.length >= 1, result.stderr);
  assert.match(progress.at(-1) ?? "", /^Progress: 12 rows \| /);
  assert.doesNotMatch(progress.at(-1) ?? "", /ETA|%/);
});
