/**
 * A create that fails without saying whether it landed (a 503, a dropped
 * connection) is followed by a lookup; what the lookup finds may be that
 * create's ghost success, or a user that was there before. The import must
 * count each as what it is, with and without a journal.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { importUsers } from "../src/pipeline/import_users.ts";
import { createJob, describeInput, resumeJob } from "../src/journal/journal.ts";
import { startFaultProxy } from "./_fault_proxy.ts";
import { tempDir } from "./_cli.ts";

const CREATE_USER = "POST /user_management/users";
const LIST_USERS = "GET /user_management/users";

Deno.test("a user that was there before is counted as existing when its create failed with a 503", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const old = fake.state.addUser({
    email: "old@uncertain.test",
    createdAt: "2020-01-01T00:00:00Z",
  });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  await Deno.writeTextFile(csv, "email\nold@uncertain.test\nnew@uncertain.test\n");
  // After the preflight read, the first create is answered 503 without reaching the fake.
  await using proxy = startFaultProxy(fake.url, ["forward", { status: 503 }]);
  const result = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: proxy.url,
    concurrency: 1,
  });
  assert.deepEqual(proxy.received.slice(0, 3), [LIST_USERS, CREATE_USER, LIST_USERS]);
  assert.equal(result.usersExisting, 1, "the old user was adopted, not counted as made");
  assert.equal(result.usersCreated, 1);
  assert.equal(fake.state.userCount(), 2);
  assert.equal(fake.state.findUserByEmail("old@uncertain.test")?.id, old.id);
});

Deno.test("a resumed row whose create failed with a 503 finds its person made by an earlier session's row: a repeat", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  await Deno.writeTextFile(
    csv,
    "email\nada@uncertain.test\nbob@uncertain.test\nada@uncertain.test\n",
  );
  const journal = await createJob("uncertain", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: { concurrency: 1 },
  });
  const stop = new AbortController();
  const first = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 1,
    chunkSize: 1,
    journal,
    stop: stop.signal,
    onRow: () => stop.abort(),
  });
  await journal.finish("interrupted");
  assert.deepEqual([first.totalRows, first.usersCreated], [1, 1]);

  // Bob (read before the stop, so looked up first) goes through; Ada's
  // second row meets a 503 that never reached the fake.
  await using proxy = startFaultProxy(fake.url, ["forward", "forward", "forward", { status: 503 }]);
  const resumed = await resumeJob("uncertain", { checkpointDir: dir });
  const result = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: proxy.url,
    concurrency: 1,
    journal: resumed,
  });
  await resumed.finish("completed");
  // The preflight read first.
  assert.deepEqual(proxy.received.slice(0, 5), [
    LIST_USERS,
    LIST_USERS,
    CREATE_USER,
    CREATE_USER,
    LIST_USERS,
  ]);
  assert.equal(fake.state.userCount(), 2);
  assert.equal(result.usersCreated, 2, "Ada once, Bob once, across both sessions");
  assert.equal(result.totalRows, 3);
});

Deno.test("a membership that was there before is counted as existing when its create failed with a 503", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const old = "2020-01-01T00:00:00Z";
  const user = fake.state.addUser({ email: "old@uncertain.test", createdAt: old });
  const organization = fake.state.addOrganization({ name: "Acme", createdAt: old });
  fake.state.addMembership({ userId: user.id, organizationId: organization.id, createdAt: old });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  await Deno.writeTextFile(csv, `email,org_id\nold@uncertain.test,${organization.id}\n`);
  // After the preflight read, the user's create is refused (it exists); the
  // membership's create is answered 503.
  await using proxy = startFaultProxy(fake.url, ["forward", "forward", "forward", { status: 503 }]);
  const result = await importUsers(csv, { apiKey: fake.apiKey, apiUrl: proxy.url });
  assert.deepEqual(proxy.received.slice(0, 5), [
    LIST_USERS,
    CREATE_USER,
    LIST_USERS,
    "POST /user_management/organization_memberships",
    "GET /user_management/organization_memberships",
  ]);
  assert.equal(result.membershipsCreated, 0);
  assert.equal(result.membershipsExisting, 1);
  assert.equal(fake.state.membershipCount(), 1);
});
