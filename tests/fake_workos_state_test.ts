import { WorkOS } from "@workos-inc/node";
import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";

function sdk(fake: FakeWorkOS) {
  return new WorkOS(fake.apiKey, {
    apiHostname: fake.hostname,
    port: fake.port,
    https: false,
    maxRetries: 0,
  });
}

Deno.test("seeding adds pre-existing tenants and returns plain camelCase objects", async () => {
  await using fake = await startFakeWorkOS();
  const org = fake.state.addOrganization({
    name: "Acme",
    externalId: "acme",
    metadata: { region: "eu" },
    createdAt: "2020-01-02T03:04:05.000Z",
  });
  assert.match(org.id, /^org_/);
  assert.deepEqual({ ...org, id: "" }, {
    id: "",
    name: "Acme",
    externalId: "acme",
    metadata: { region: "eu" },
    createdAt: "2020-01-02T03:04:05.000Z",
    updatedAt: "2020-01-02T03:04:05.000Z",
  });
  const user = fake.state.addUser({
    email: "Ada@Example.com",
    firstName: "Ada",
    password: "correct horse battery staple",
  });
  assert.equal(user.email, "ada@example.com");
  assert.equal(user.hasPassword, true);
  assert.equal(user.passwordHashType, null);
  assert.equal(user.lastName, null);
  const membership = fake.state.addMembership({
    userId: user.id,
    organizationId: org.id,
    roleSlug: "admin",
  });
  assert.equal(membership.status, "active");
  assert.equal(membership.roleSlug, "admin");
  const invitation = fake.state.addInvitation({ email: "bob@example.com", organizationId: org.id });
  assert.equal(invitation.state, "pending");

  assert.equal(fake.state.userCount(), 1);
  assert.equal(fake.state.organizationCount(), 1);
  assert.equal(fake.state.membershipCount(), 1);
  assert.equal(fake.state.invitationCount(), 1);
  assert.deepEqual(fake.state.listUsers(), [user]);
  assert.deepEqual(fake.state.listOrganizations(), [org]);
  assert.deepEqual(fake.state.listMemberships(), [membership]);
  assert.deepEqual(fake.state.listInvitations(), [invitation]);
  assert.deepEqual(fake.state.membershipsOfUser(user.id), [membership]);
  assert.deepEqual(fake.state.findUserByEmail("ADA@EXAMPLE.COM"), user);
  assert.deepEqual(fake.state.getUser(user.id), user);
  assert.deepEqual(fake.state.findOrganizationByExternalId("acme"), org);
  assert.equal(fake.state.findUserByEmail("nobody@example.com"), undefined);

  // What the API sees is what was seeded.
  const fetched = await sdk(fake).userManagement.getUser(user.id);
  assert.equal(fetched.firstName, "Ada");
  assert.equal(fetched.createdAt.toISOString(), user.createdAt);
});

Deno.test("seeding applies the API's rules and throws TypeError", async () => {
  await using fake = await startFakeWorkOS();
  const user = fake.state.addUser({ email: "taken@example.com", externalId: "x" });
  const org = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  assert.throws(() => fake.state.addUser({ email: "TAKEN@example.com" }), TypeError);
  assert.throws(
    () => fake.state.addUser({ email: "other@example.com", externalId: "x" }),
    TypeError,
  );
  assert.throws(() => fake.state.addUser({ email: "not an email" }), TypeError);
  assert.throws(
    () =>
      fake.state.addUser({ email: "h@example.com", passwordHash: "x", passwordHashType: "md5" }),
    /password_hash_type must be one of/,
  );
  assert.throws(() => fake.state.addOrganization({ name: "B", externalId: "acme" }), TypeError);
  fake.state.addMembership({ userId: user.id, organizationId: org.id });
  assert.throws(
    () => fake.state.addMembership({ userId: user.id, organizationId: org.id }),
    /already has an active membership/,
  );
  assert.throws(
    () =>
      fake.state.addMembership({
        userId: user.id,
        organizationId: fake.state.addOrganization({ name: "C" }).id,
        roleSlug: "owner",
      }),
    /Role 'owner' does not exist/,
  );
  assert.throws(
    () => fake.state.addMembership({ userId: "user_x", organizationId: org.id }),
    /User not found/,
  );
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("snapshot is deep and comparable: an import undone leaves it unchanged", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const org = fake.state.addOrganization({ name: "Existing", externalId: "existing" });
  const existing = fake.state.addUser({ email: "existing@example.com" });
  fake.state.addMembership({ userId: existing.id, organizationId: org.id });
  const before = fake.state.snapshot();

  const workos = sdk(fake);
  const created = [];
  for (let i = 0; i < 3; i++) {
    const user = await workos.userManagement.createUser({ email: `new${i}@example.com` });
    await workos.userManagement.createOrganizationMembership({
      userId: user.id,
      organizationId: org.id,
    });
    created.push(user.id);
  }
  const newOrg = await workos.organizations.createOrganization({ name: "New" });
  assert.notDeepEqual(fake.state.snapshot(), before);

  for (const id of created) await workos.userManagement.deleteUser(id);
  await workos.organizations.deleteOrganization(newOrg.id);
  const after = fake.state.snapshot();
  assert.deepEqual(after, before);

  // A snapshot is a copy: changing it changes nothing.
  after.users[0].metadata.x = "y";
  assert.deepEqual(fake.state.snapshot(), before);
});

Deno.test("secrets never appear in state, snapshots or answers", async () => {
  await using fake = await startFakeWorkOS();
  const password = "Sup3r-Secret-Password";
  const hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g";
  fake.state.addUser({ email: "a@example.com", password });
  const created = await sdk(fake).userManagement.createUser({
    email: "b@example.com",
    passwordHash: hash,
    passwordHashType: "argon2",
  });
  const everything = JSON.stringify([
    fake.state.snapshot(),
    created,
    fake.state.findUserByEmail("b@example.com"),
  ]);
  assert.equal(everything.includes(password), false);
  assert.equal(everything.includes(hash), false);
  assert.equal(everything.includes("c2FsdHNhbHQ"), false);
});

Deno.test("reset clears entities, counters, rate-limit windows and storms", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
  const workos = sdk(fake);
  for (let i = 0; i < 5; i++) {
    await workos.userManagement.createUser({ email: `r${i}@example.com` });
  }
  await assert.rejects(() => workos.userManagement.createUser({ email: "r5@example.com" }));
  fake.rateLimitStorm(60_000);
  fake.state.addOrganization({ name: "Acme" });
  fake.state.reset();
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.organizationCount(), 0);
  assert.equal(fake.state.totalRequests, 0);
  assert.equal(fake.state.rateLimitedCount, 0);
  assert.deepEqual(fake.state.requestCounts, {});
  assert.deepEqual(fake.state.snapshot(), {
    users: [],
    organizations: [],
    memberships: [],
    invitations: [],
  });
  await workos.userManagement.createUser({ email: "r0@example.com" });
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("await using closes the server", async () => {
  let url: string;
  {
    await using fake = await startFakeWorkOS();
    url = fake.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fake.hostname, "127.0.0.1");
    assert.equal(fake.apiKey, "sk_test_fake_workos");
    assert.ok(fake.port > 0);
    await (await fetch(`${url}/__fake/status`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
    })).body?.cancel();
  }
  await assert.rejects(() => fetch(`${url}/__fake/status`), TypeError);
});

Deno.test("close is idempotent and a custom API key is enforced", async () => {
  const fake = await startFakeWorkOS({ apiKey: "sk_test_custom" });
  assert.equal(fake.apiKey, "sk_test_custom");
  const response = await fetch(`${fake.url}/organizations`, {
    headers: { authorization: "Bearer sk_test_fake_workos" },
  });
  assert.equal(response.status, 401);
  await response.body?.cancel();
  await fake.close();
  await fake.close();
});

Deno.test("/__fake/ routes reset, configure and storm over HTTP", async () => {
  await using fake = await startFakeWorkOS();
  const headers = { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" };
  fake.state.addUser({ email: "a@example.com" });
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${fake.url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  assert.equal((await post("/__fake/reset", {})).body.users, 0);
  assert.equal((await post("/__fake/configure", { faults: { failureRate: 1 } })).status, 200);
  const failed = await fetch(`${fake.url}/organizations`, { headers });
  assert.ok(failed.status >= 500);
  await failed.body?.cancel();
  const bad = await post("/__fake/configure", { faults: { failureRate: 3 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /faults.failureRate/);
  await post("/__fake/configure", { faults: { failureRate: 0 } });
  await post("/__fake/storm", { durationMs: 10_000, retryAfterSeconds: 3 });
  const stormed = await fetch(`${fake.url}/organizations`, { headers });
  assert.equal(stormed.status, 429);
  assert.equal(stormed.headers.get("retry-after"), "3");
  await stormed.body?.cancel();
  const unauthorized = await fetch(`${fake.url}/__fake/status`);
  assert.equal(unauthorized.status, 401);
  await unauthorized.body?.cancel();
});

Deno.test("people sign up while an import runs: /__fake/users now, /__fake/sign-ups after n creates", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const headers = { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${fake.url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const now = await post("/__fake/users", { email: "Now@Signup.test", firstName: "Now" });
  assert.equal(now.status, 201);
  assert.equal(fake.state.findUserByEmail("now@signup.test")?.id, now.body.id);
  const taken = await post("/__fake/users", { email: "now@signup.test" });
  assert.equal(taken.status, 400, "a taken email is refused, as a sign-up would be");

  assert.equal(
    (await post("/__fake/sign-ups", {
      afterUserCreates: 2,
      users: [{ email: "late@signup.test" }],
    }))
      .status,
    200,
  );
  const create = (email: string) => post("/user_management/users", { email });
  await create("first@signup.test");
  assert.equal(fake.state.findUserByEmail("late@signup.test"), undefined, "not yet");
  await create("second@signup.test");
  assert.ok(fake.state.findUserByEmail("late@signup.test"), "right after the second create");
  assert.equal((await post("/__fake/sign-ups", { users: [] })).status, 400);
  assert.equal(fake.state.userCount(), 4);
});
