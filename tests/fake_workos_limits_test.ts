import { RateLimitExceededException } from "@workos-inc/node";
import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { RateLimiter } from "../src/fake_workos/_rate_limiter.ts";
import { type Recorded, recordingSdk } from "./_recording_sdk.ts";

/** Asserts a 429 the way WorkOS sends it, and returns its Retry-After. */
function assertTooMany(answer: Recorded, maxSeconds: number): number {
  assert.equal(answer.status, 429);
  assert.deepEqual(JSON.parse(answer.body), { message: "Too many requests" });
  assert.ok(answer.headers.get("x-request-id"));
  const retryAfter = answer.headers.get("retry-after") ?? "";
  assert.match(retryAfter, /^\d+$/);
  const seconds = Number(retryAfter);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `Retry-After ${seconds}`);
  return seconds;
}

async function rejectsWith429(call: () => Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error) => {
    assert.ok(error instanceof RateLimitExceededException);
    assert.equal(error.status, 429);
    assert.ok(typeof error.retryAfter === "number" && error.retryAfter >= 1);
    return true;
  });
}

// Scale 0.01: 5 writes / 10 s, 10 reads / 10 s, 60 requests / 60 s.

Deno.test("user-management writes are limited to 500 per 10 s (scaled)", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
  const { workos, last } = recordingSdk(fake);
  for (let i = 0; i < 5; i++) {
    await workos.userManagement.createUser({ email: `w${i}@example.com` });
  }
  await rejectsWith429(() => workos.userManagement.createUser({ email: "w5@example.com" }));
  assertTooMany(last(), 10);
  assert.equal(fake.state.userCount(), 5);
  // Deletes are writes too; reads have their own window and still pass.
  const [first] = fake.state.listUsers();
  await rejectsWith429(() => workos.userManagement.deleteUser(first.id));
  assert.equal((await workos.userManagement.getUser(first.id)).id, first.id);
  assert.equal(fake.state.rateLimitedCount, 2);
});

Deno.test("user-management reads are limited to 1,000 per 10 s (scaled)", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
  const { workos, last } = recordingSdk(fake);
  const user = fake.state.addUser({ email: "r@example.com" });
  for (let i = 0; i < 10; i++) await workos.userManagement.getUser(user.id);
  await rejectsWith429(() => workos.userManagement.listUsers({ email: "r@example.com" }));
  assertTooMany(last(), 10);
  // Writes have their own window and still pass.
  await workos.userManagement.createUser({ email: "still-ok@example.com" });
  assert.equal(fake.state.rateLimitedCount, 1);
});

Deno.test("all requests are limited to 6,000 per 60 s (scaled)", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
  const { workos, last } = recordingSdk(fake);
  const org = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  // Organization endpoints are outside user management: only the general limit applies.
  for (let i = 0; i < 60; i++) await workos.organizations.getOrganization(org.id);
  await rejectsWith429(() => workos.organizations.getOrganizationByExternalId("acme"));
  const seconds = assertTooMany(last(), 60);
  assert.ok(seconds > 10, `general window Retry-After ${seconds}`);
  // The general limit covers user management as well.
  await rejectsWith429(() => workos.userManagement.listUsers({ email: "a@example.com" }));
  assertTooMany(last(), 60);
  assert.equal(fake.state.rateLimitedCount, 2);
  assert.equal(fake.state.requestCounts["GET /organizations/:id"], 60);
});

Deno.test("rateLimitStorm answers 429 to everything for its duration", async () => {
  await using fake = await startFakeWorkOS();
  const { workos, last } = recordingSdk(fake);
  fake.rateLimitStorm(30_000);
  await rejectsWith429(() => workos.userManagement.createUser({ email: "s@example.com" }));
  assertTooMany(last(), 30);
  assert.ok(Number(last().headers.get("retry-after")) >= 29);
  await rejectsWith429(() => workos.organizations.createOrganization({ name: "Acme" }));
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.organizationCount(), 0);

  fake.rateLimitStorm(30_000, 7);
  await rejectsWith429(() => workos.userManagement.listUsers({ email: "s@example.com" }));
  assert.equal(last().headers.get("retry-after"), "7");

  fake.rateLimitStorm(20);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await workos.userManagement.createUser({ email: "after-storm@example.com" });
  assert.equal(fake.state.rateLimitedCount, 3);
});

Deno.test("rate limits can be turned off and back on at runtime; reset clears windows", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
  const { workos } = recordingSdk(fake);
  fake.configure({ rateLimits: false });
  for (let i = 0; i < 20; i++) {
    await workos.userManagement.createUser({ email: `off${i}@example.com` });
  }
  fake.configure({ rateLimits: { scale: 0.01 } });
  for (let i = 0; i < 5; i++) {
    await workos.userManagement.createUser({ email: `on${i}@example.com` });
  }
  await rejectsWith429(() => workos.userManagement.createUser({ email: "on5@example.com" }));
  fake.state.reset();
  await workos.userManagement.createUser({ email: "fresh@example.com" });
  assert.equal(fake.state.rateLimitedCount, 0);
});

Deno.test("the limiter is an exact sliding window, not fixed buckets", () => {
  // 5 writes per 10 s at scale 0.01.
  const limiter = new RateLimiter(0.01);
  for (let i = 0; i < 5; i++) assert.equal(limiter.admit("write", 9_000 + i), 0);
  // A fixed 10 s bucket would start afresh at 10,000; the window still holds
  // the five requests from 9,000 and admits one at 19,000.
  assert.equal(limiter.admit("write", 10_500), 9);
  assert.equal(limiter.admit("write", 18_999), 1);
  assert.equal(limiter.admit("write", 19_000), 0);
  assert.equal(limiter.admit("write", 19_000.5), 1);
  assert.equal(limiter.admit("write", 19_004), 0);
  // Refused requests take no slot.
  assert.equal(limiter.admit("read", 19_005), 0);
});

Deno.test("the general window sees every class of request", () => {
  const limiter = new RateLimiter(0.01); // general 60 per 60 s
  for (let i = 0; i < 50; i++) assert.equal(limiter.admit("other", i), 0);
  for (let i = 0; i < 5; i++) assert.equal(limiter.admit("read", 100 + i), 0);
  for (let i = 0; i < 5; i++) assert.equal(limiter.admit("write", 200 + i), 0);
  assert.equal(limiter.admit("other", 40_000), 20);
  assert.equal(limiter.admit("other", 60_000), 0);
});
