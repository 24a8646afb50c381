/**
 * The WorkOS client against the fake over real HTTP, through the official
 * SDK: which failures are retried and which are not, how many requests that
 * takes (exactly: the SDK's own retry loop must never add any), timeouts,
 * ghost successes on every create, and request ids on failures.
 */

import assert from "node:assert/strict";
import { DEFAULT_API_KEY, type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { type Clock, systemClock } from "../src/limits/clock.ts";
import { RateBudget } from "../src/limits/rate_budget.ts";
import { WorkOSApiError, WorkOSClient, type WorkOSClientOptions } from "../src/workos/client.ts";
import { ensureUser, findUserByEmail } from "../src/workos/users.ts";
import { ensureMembership } from "../src/workos/memberships.ts";
import { ensureOrganization, findOrganizationByExternalId } from "../src/workos/organizations.ts";
import type { UserRow } from "../src/types.ts";
import { type ProxyStep, startFaultProxy } from "./_fault_proxy.ts";

/**
 * Sleeps a hundredth of what is asked: retry backoff then costs the tests
 * milliseconds, while the budget (on the system clock) keeps real time.
 */
const quickRetries: Clock = {
  now: () => systemClock.now(),
  sleep: (ms, signal) => systemClock.sleep(ms / 100, signal),
};

function clientFor(
  target: { url: string; apiKey?: string },
  options: Partial<WorkOSClientOptions> = {},
): WorkOSClient {
  return new WorkOSClient({
    apiKey: target.apiKey ?? DEFAULT_API_KEY,
    apiUrl: target.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
    clock: quickRetries,
    ...options,
  });
}

function rowFor(email: string, extra: Partial<UserRow> = {}): UserRow {
  return {
    recordNumber: 1,
    byteEnd: 0,
    email,
    emailKey: email.toLowerCase(),
    original: { email },
    ...extra,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<WorkOSApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WorkOSApiError, `expected a WorkOSApiError, got ${error}`);
    return error;
  }
  assert.fail("the call succeeded");
}

function count(fake: FakeWorkOS, key: string): number {
  return fake.state.requestCounts[key] ?? 0;
}

const LIST_USERS = "GET /user_management/users";
const CREATE_USER = "POST /user_management/users";

// --- What is retried ---------------------------------------------------------

for (const status of [408, 429, 500, 502, 503, 504]) {
  Deno.test(`client retries a ${status} answer and then succeeds`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const step: ProxyStep = status === 429 ? { status, retryAfter: "0" } : { status };
    await using proxy = startFaultProxy(fake.url, [step]);
    const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
    const user = await findUserByEmail(client, "nobody@example.com");
    assert.equal(user, undefined);
    assert.equal(proxy.received.length, 2, "one failed attempt, one retry");
    assert.equal(fake.state.totalRequests, 1);
    assert.equal(client.stats.requests, 2);
    assert.equal(client.stats.retries, 1);
    assert.equal(client.stats.rateLimited, status === 429 ? 1 : 0);
  });
}

Deno.test("client retries the fake's injected 500, 502 and 503 until every request succeeds", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { failureRate: 0.4 },
    seed: 11,
  });
  const client = clientFor(fake, { maxRetries: 10 });
  for (let i = 0; i < 30; i++) {
    assert.equal(await findUserByEmail(client, `user${i}@example.com`), undefined);
  }
  const failures = fake.state.faultCounts.failure;
  assert.ok(failures > 0, "the fake injected failures");
  // One request per attempt: the SDK added none of its own.
  assert.equal(fake.state.totalRequests, 30 + failures);
  assert.equal(client.stats.requests, 30 + failures);
  assert.equal(client.stats.retries, failures);
});

Deno.test("client retries dropped connections, then reports them as a network error", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, faults: { dropRate: 1 } });
  const client = clientFor(fake, { maxRetries: 2 });
  const failure = await failureOf(ensureUser(client, rowFor("a@example.com")));
  assert.equal(failure.failure.kind, "network");
  assert.match(failure.message, /^Network error: /);
  assert.equal(failure.requestId, undefined, "no answer, no request id");
  // The create, then for each retry a lookup first (the create may have
  // landed). The create reached the fake once: its body is a Blob, which
  // Deno's fetch never replays. A lookup may be replayed once by fetch on a
  // reused connection (harmless: it changes nothing).
  assert.equal(client.stats.requests, 3);
  assert.equal(count(fake, CREATE_USER), 1);
  const lookups = count(fake, LIST_USERS);
  assert.ok(lookups >= 2 && lookups <= 4, `${lookups} lookups`);
  assert.equal(fake.state.userCount(), 0);
});

/**
 * A server that answers every GET on a keep-alive connection and, at the
 * first POST, reads it whole and closes that connection without an answer:
 * a create dropped on a reused connection, the case Deno's fetch replays on
 * its own for a body it holds as bytes.
 */
function startDroppingServer(): { url: string; posts: string[]; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const posts: string[] = [];
  const list = JSON.stringify({ object: "list", data: [], list_metadata: {} });
  const answer = new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n` +
      `content-length: ${list.length}\r\nconnection: keep-alive\r\n\r\n${list}`,
  );
  async function serve(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(65_536);
    const decoder = new TextDecoder();
    let pending = "";
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      pending += decoder.decode(buffer.subarray(0, n));
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const head = pending.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) break;
        pending = pending.slice(end + 4 + length);
        if (head.startsWith("POST")) {
          posts.push(head);
          conn.close();
          return;
        }
        await conn.write(answer);
      }
    }
    conn.close();
  }
  (async () => {
    for await (const conn of listener) serve(conn).catch(() => {});
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    posts,
    close: () => listener.close(),
  };
}

Deno.test("client sends a create dropped on a reused connection once: fetch does not replay it", async () => {
  const server = startDroppingServer();
  try {
    const client = clientFor(server, { maxRetries: 0 });
    // The read opens the connection the create then reuses.
    assert.equal(await findUserByEmail(client, "a@example.com"), undefined);
    const failure = await failureOf(ensureUser(client, rowFor("a@example.com")));
    assert.equal(failure.failure.kind, "network");
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A string or Uint8Array body arrives twice here (Deno 2.9).
    assert.equal(server.posts.length, 1, `${server.posts.length} POSTs arrived`);
    assert.match(server.posts[0], /content-length: *\d+/i);
    assert.doesNotMatch(server.posts[0], /transfer-encoding/i);
  } finally {
    server.close();
  }
});

Deno.test("client sends writes with a Content-Length, not chunked", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  await using proxy = startFaultProxy(fake.url, []);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  await ensureUser(client, rowFor("ann@example.com", { firstName: "Ann" }));
  const [headers] = proxy.receivedHeaders;
  assert.equal(headers.get("transfer-encoding"), null);
  assert.ok(Number(headers.get("content-length")) > 0);
  assert.equal(headers.get("content-type"), "application/json");
});

Deno.test("client retries a refused connection, then reports it as a network error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const client = clientFor({ url: `http://127.0.0.1:${port}` }, { maxRetries: 2 });
  const failure = await failureOf(findUserByEmail(client, "a@example.com"));
  assert.equal(failure.failure.kind, "network");
  assert.match(failure.message, /^Network error: /);
  assert.equal(client.stats.requests, 3);
});

Deno.test("client times a slow answer out after --request-timeout and retries it", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  await using proxy = startFaultProxy(fake.url, [{ delayMs: 500 }]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey }, { requestTimeoutMs: 100 });
  assert.equal(await findUserByEmail(client, "a@example.com"), undefined);
  assert.equal(proxy.received.length, 2);
  assert.equal(client.stats.retries, 1);
});

Deno.test("client reports a request that times out on every attempt as a timeout", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { slowRate: 1, slowMs: 5_000 },
  });
  const client = clientFor(fake, { requestTimeoutMs: 150, maxRetries: 1 });
  const failure = await failureOf(findUserByEmail(client, "a@example.com"));
  assert.equal(failure.failure.kind, "timeout");
  assert.equal(failure.message, "Request timed out after 150 ms");
  assert.equal(fake.state.totalRequests, 2);
});

// --- What is not retried -----------------------------------------------------

for (const status of [400, 401, 403, 404, 409, 422]) {
  Deno.test(`client does not retry a ${status} answer and keeps its request id`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    await using proxy = startFaultProxy(fake.url, [{ status }]);
    const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
    const failure = await failureOf(findUserByEmail(client, "a@example.com"));
    assert.equal(failure.failure.status, status);
    assert.equal(failure.requestId, proxy.ownRequestIds[0]);
    assert.equal(proxy.received.length, 1);
    assert.equal(client.stats.retries, 0);
  });
}

Deno.test("client does not retry the fake's own 4xx: a wrong key, a missing user, a bad body", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const wrongKey = clientFor({ url: fake.url, apiKey: "sk_test_wrong" });
  const unauthorized = await failureOf(findUserByEmail(wrongKey, "a@example.com"));
  assert.equal(unauthorized.failure.status, 401);
  assert.match(unauthorized.requestId ?? "", /^[0-9a-f-]{36}$/);

  const client = clientFor(fake);
  const missing = await failureOf(
    client.read("read", (sdk) => sdk.userManagement.getUser("user_01NOPE")),
  );
  assert.equal(missing.failure.status, 404);
  const invalid = await failureOf(ensureUser(client, rowFor("not an email")));
  assert.ok(invalid.failure.status === 400 || invalid.failure.status === 422);
  assert.equal(fake.state.totalRequests, 3, "one request each");
  assert.equal(client.stats.retries + wrongKey.stats.retries, 0);
});

Deno.test("client reads a gateway's HTML error page by its status: 502 is retried, 400 is not", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const html = { body: "<html><body>Bad gateway</body></html>", contentType: "text/html" };
  await using proxy = startFaultProxy(fake.url, [
    { status: 502, ...html },
    "forward",
    { status: 400, ...html },
  ]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  assert.equal(await findUserByEmail(client, "a@example.com"), undefined);
  assert.equal(proxy.received.length, 2);
  const failure = await failureOf(findUserByEmail(client, "a@example.com"));
  assert.equal(failure.failure.kind, "http");
  assert.equal(failure.failure.status, 400);
  assert.equal(failure.requestId, proxy.ownRequestIds[1]);
  assert.equal(proxy.received.length, 3, "the 400 was not retried");
});

// --- How many times ----------------------------------------------------------

Deno.test("client makes exactly 1 + --max-retries attempts; the SDK's own retry never fires", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, faults: { failureRate: 1 } });
  for (const [maxRetries, expected] of [[0, 1], [3, 4], [undefined, 6]] as const) {
    fake.state.reset();
    const client = clientFor(fake, maxRetries === undefined ? {} : { maxRetries });
    const failure = await failureOf(findUserByEmail(client, "a@example.com"));
    assert.ok([500, 502, 503].includes(failure.failure.status ?? 0));
    assert.match(failure.requestId ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(fake.state.totalRequests, expected, `maxRetries ${maxRetries}`);
    assert.equal(client.stats.requests, expected);
  }
});

Deno.test("client sends a 429 once with --max-retries 0: the SDK does not retry it either", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.rateLimitStorm(60_000, 1);
  const client = clientFor(fake, { maxRetries: 0 });
  const failure = await failureOf(findUserByEmail(client, "a@example.com"));
  assert.equal(failure.failure.status, 429);
  assert.equal(failure.failure.retryAfterSeconds, 1);
  assert.equal(fake.state.totalRequests, 1);
  assert.equal(fake.state.rateLimitedCount, 1);
  assert.equal(client.budget.stats.pauses, 1, "the budget paused for Retry-After");
});

// --- Ghost successes -----------------------------------------------------------

for (const style of ["error", "drop"] as const) {
  Deno.test(`ensureUser adopts a user whose create was applied but answered with a ${style}`, async () => {
    await using fake = await startFakeWorkOS({
      rateLimits: false,
      faults: { ghostRate: 1, ghostStyle: style },
    });
    const client = clientFor(fake);
    const { value, created, uncertain } = await ensureUser(client, rowFor("Ghost@Example.com"));
    assert.equal(created, true, "a ghost success is this call's creation");
    assert.equal(uncertain, true, "found by the lookup after the failure: the caller may check");
    assert.equal(fake.state.userCount(), 1);
    assert.equal(fake.state.findUserByEmail("ghost@example.com")?.id, value.id);
    assert.equal(fake.state.faultCounts.ghost, 1);
    // The retry looked first and did not create again.
    assert.equal(count(fake, CREATE_USER), 1);
    assert.equal(count(fake, LIST_USERS), 1);
    assert.equal(client.budget.stats.writes, 1);
    assert.equal(client.budget.stats.reads, 1, "the lookup took a read slot");
  });
}

Deno.test("ensureMembership adopts a membership whose create was applied but answered 500", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { ghostRate: 1, ghostStyle: "error" },
  });
  const user = fake.state.addUser({ email: "ann@example.com" });
  const organization = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const client = clientFor(fake);
  const { value, created } = await ensureMembership(client, user.id, {
    organizationId: organization.id,
    roleSlug: "admin",
  });
  assert.equal(created, true);
  assert.equal(fake.state.membershipCount(), 1);
  assert.equal(fake.state.membershipsOfUser(user.id)[0].id, value.id);
  assert.equal(fake.state.membershipsOfUser(user.id)[0].roleSlug, "admin");
  assert.equal(count(fake, "POST /user_management/organization_memberships"), 1);
  assert.equal(count(fake, "GET /user_management/organization_memberships"), 1);
  assert.equal(client.budget.stats.writes, 1);
  assert.equal(client.budget.stats.reads, 1);
});

Deno.test("ensureOrganization adopts an organization whose create was applied but dropped", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { ghostRate: 1, ghostStyle: "drop" },
  });
  const client = clientFor(fake);
  const { value, created } = await ensureOrganization(client, "acme", { name: "Acme Inc." });
  assert.equal(created, true);
  assert.equal(fake.state.organizationCount(), 1);
  assert.equal(fake.state.findOrganizationByExternalId("acme")?.id, value.id);
  assert.equal(count(fake, "POST /organizations"), 1);
  assert.equal(count(fake, "GET /organizations/external_id/:external_id"), 1);
  // Organizations are outside user management: the general budget only.
  assert.equal(client.budget.stats.writes + client.budget.stats.reads, 0);
  assert.equal(client.budget.stats.total, 2);
});

Deno.test("a 429 on create is not ambiguous: the retry creates without looking first", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  await using proxy = startFaultProxy(fake.url, [{ status: 429, retryAfter: "0" }]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  const { created } = await ensureUser(client, rowFor("ann@example.com"));
  assert.equal(created, true);
  assert.deepEqual(proxy.received, [CREATE_USER, CREATE_USER]);
});

Deno.test("after an ambiguous failure, a user made long after that create timed out is not claimed", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  // The first create times out at the client (3 s) but lands at the server
  // at 5 s, after the retry's lookup found nothing and before the retry's
  // create: that create finds the email taken. Made outside the first
  // create's own window, it may be anyone's sign-up: not this call's.
  await using proxy = startFaultProxy(fake.url, [
    { delayMs: 5_000 },
    "forward",
    { delayMs: 2_500 },
    "forward",
  ]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey }, { requestTimeoutMs: 3_000 });
  const { value, created, uncertain } = await ensureUser(client, rowFor("late@example.com"));
  assert.deepEqual(proxy.received, [CREATE_USER, LIST_USERS, CREATE_USER, LIST_USERS]);
  assert.equal(fake.state.userCount(), 1);
  assert.equal(fake.state.findUserByEmail("late@example.com")?.id, value.id);
  assert.equal(created, false, "made outside every window of this call's own creates");
  assert.equal(uncertain, undefined);
});

Deno.test("a 2xx answer to a create without an id is looked up, never counted blindly", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  // The create reaches the fake (it makes the user), but its answer is
  // replaced by a 201 with an empty object.
  await using proxy = startFaultProxy(fake.url, [{ forwardThen: { status: 201, body: "{}" } }]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  const { value, created, uncertain } = await ensureUser(client, rowFor("noid@example.com"));
  assert.deepEqual(proxy.received, [CREATE_USER, LIST_USERS]);
  assert.equal(fake.state.userCount(), 1);
  assert.equal(value.id, fake.state.findUserByEmail("noid@example.com")?.id);
  assert.equal(created, true, "made inside the window of the create that answered without an id");
  assert.equal(uncertain, true);
});

Deno.test("a 2xx without an id, when the user was there before, is existing", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const old = fake.state.addUser({ email: "old@example.com", createdAt: "2020-01-01T00:00:00Z" });
  await using proxy = startFaultProxy(fake.url, [{ status: 201, body: "{}" }]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  const { value, created } = await ensureUser(client, rowFor("old@example.com"));
  assert.deepEqual(proxy.received, [CREATE_USER, LIST_USERS]);
  assert.equal(value.id, old.id);
  assert.equal(created, false);
});

Deno.test("ensureUser adopts a user that existed before, as not created", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const existing = fake.state.addUser({ email: "old@example.com" });
  const client = clientFor(fake);
  const { value, created } = await ensureUser(client, rowFor("OLD@example.com"));
  assert.equal(created, false);
  assert.equal(value.id, existing.id);
  assert.equal(client.stats.retries, 0);
});

Deno.test("ensureUser through a storm of 500s, drops and ghosts creates each user exactly once", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { failureRate: 0.15, dropRate: 0.05, ghostRate: 0.15 },
    seed: 5,
  });
  const client = clientFor(fake, { maxRetries: 10 });
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => ensureUser(client, rowFor(`user${i}@example.com`))),
  );
  assert.ok(fake.state.faultCounts.ghost > 0 && fake.state.faultCounts.failure > 0);
  assert.equal(fake.state.userCount(), 60);
  assert.ok(results.every((result) => result.created), "no ghost was mistaken for an old user");
  assert.equal(new Set(results.map((result) => result.value.id)).size, 60);
  // One write slot per create that reached the server: no transport retry
  // sent one twice behind the client's back.
  assert.equal(client.budget.stats.writes, count(fake, CREATE_USER));
});

Deno.test("organization lookups take the general budget, user lookups the read budget", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = clientFor(fake);
  await findOrganizationByExternalId(client, "nope");
  assert.deepEqual(
    [client.budget.stats.writes, client.budget.stats.reads, client.budget.stats.total],
    [0, 0, 1],
  );
  await findUserByEmail(client, "a@example.com");
  assert.deepEqual(
    [client.budget.stats.writes, client.budget.stats.reads, client.budget.stats.total],
    [0, 1, 2],
  );
});

Deno.test("a user that existed before stays not created when the lookup after 'exists' fails once", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const existing = fake.state.addUser({ email: "old@example.com" });
  await using proxy = startFaultProxy(fake.url, ["forward", { status: 503 }]);
  const client = clientFor({ url: proxy.url, apiKey: fake.apiKey });
  const { value, created } = await ensureUser(client, rowFor("old@example.com"));
  assert.equal(created, false, "the 503 on the lookup did not make it look like a ghost");
  assert.equal(value.id, existing.id);
  assert.deepEqual(proxy.received, [CREATE_USER, LIST_USERS, LIST_USERS]);
});

Deno.test("aborting the client's signal (a second Ctrl+C) ends requests in flight at once, without retries", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { slowRate: 1, slowMs: 10_000 },
  });
  const abort = new AbortController();
  const client = clientFor(fake, { signal: abort.signal });
  const pending = findUserByEmail(client, "a@example.com");
  while (fake.state.totalRequests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  abort.abort(new Error("Interrupted twice"));
  await assert.rejects(pending);
  assert.equal(fake.state.totalRequests, 1);
  assert.equal(client.stats.retries, 0);
});
