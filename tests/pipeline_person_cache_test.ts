/**
 * The import's person cache keeps ids and flags within a byte budget; past
 * the budget, a later row of a forgotten person still creates nothing twice:
 * WorkOS refuses the duplicate, the row finds the user (and the journal's
 * claims say it is a repeat). End states are read from the fake over HTTP.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { PersonCache, type PersonEntry, stringBytes } from "../src/pipeline/person_cache.ts";
import { RowProcessor } from "../src/pipeline/row_processor.ts";
import { InvitationProcessor } from "../src/pipeline/invitation_processor.ts";
import { CoalescingCache } from "../src/organizations/organization_cache.ts";
import { OrganizationResolver } from "../src/organizations/organization_resolver.ts";
import { WorkOSClient } from "../src/workos/client.ts";
import { RateBudget } from "../src/limits/rate_budget.ts";
import { importUsers } from "../src/pipeline/import_users.ts";
import { createJob, describeInput } from "../src/journal/journal.ts";
import type { UserRow } from "../src/types.ts";
import { evalScript, tempDir } from "./_cli.ts";

const TOTP_SECRET = "JBSWY3DPEHPK3PXP";

function person(userId: string): PersonEntry {
  return { userId, fresh: true };
}

Deno.test("the person cache stays within its byte budget, forgetting the least recently used person first", async () => {
  const people = new PersonCache({ maxBytes: 2_000 });
  for (let i = 0; i < 100; i++) {
    await people.get(`person${i}@example.com`, () => Promise.resolve(person(`user_${i}`)));
    if (i > 5) await people.get("person0@example.com", () => Promise.reject(new Error("loaded")));
    assert.ok(people.stats.bytes <= 2_000, `${people.stats.bytes} bytes after ${i + 1} people`);
  }
  const { size, evictions, bytes } = people.stats;
  assert.ok(size > 5 && size < 20, `${size} people in 2,000 bytes`);
  assert.equal(size + evictions, 100);
  // Each person costs what its strings and slots do: no SDK object rides along.
  const perPerson = bytes / size;
  assert.ok(perPerson < 350, `${perPerson} bytes a person`);
  assert.ok(perPerson > stringBytes("person99@example.com") + stringBytes("user_99"));
  // Used on every row, the first person stayed; the others went oldest first.
  assert.equal(people.peek("person0@example.com")?.userId, "user_0");
  assert.equal(people.peek("person1@example.com"), undefined);
  assert.equal(people.peek("person99@example.com")?.userId, "user_99");
});

Deno.test("the person cache's byte estimate is what its people take on the heap, Map slots included", async () => {
  // In a process of its own, so that the heap weighed is the cache's. Rows of
  // distinct people, every third one of them seen again ten rows later: the
  // LRU churn of an import, which leaves holes in the cache's Map table.
  const script = `
    import { PersonCache } from ${
    JSON.stringify(new URL("../src/pipeline/person_cache.ts", import.meta.url).href)
  };
    const userId = (i) => "user_01J" + String(i).padStart(23, "0");
    // A function per cache, so that no frame of the loop keeps the last cache alive.
    async function weigh(maxBytes) {
      gc();
      gc();
      const before = Deno.memoryUsage().heapUsed;
      const people = new PersonCache({ maxBytes });
      for (let i = 0; i < 200000; i++) {
        await people.get("bench.user" + i + "@example.com", () => Promise.resolve({ userId: userId(i), fresh: true }));
        if (i % 3 === 0 && i >= 10) {
          await people.get("bench.user" + (i - 10) + "@example.com", () => Promise.resolve({ userId: userId(i), fresh: true }));
        }
      }
      gc();
      gc();
      return (Deno.memoryUsage().heapUsed - before) / people.stats.bytes;
    }
    const ratios = [await weigh(2 * 2 ** 20), await weigh(8 * 2 ** 20)];
    console.log(JSON.stringify(ratios));`;
  const ratios: number[] = JSON.parse(await evalScript(script, ["--v8-flags=--expose-gc"]));
  // The estimate used to leave out the cache's slot objects and the Map's
  // holes: its people took 1.3-1.5 times the budget.
  for (const ratio of ratios) {
    assert.ok(
      ratio > 0.7 && ratio < 1.15,
      `the heap holds ${ratios.map((r) => r.toFixed(2))} times the estimate`,
    );
  }
});

Deno.test("the person cache coalesces a person's loads, forgets failed ones, and keeps a person with a request in flight", async () => {
  const people = new PersonCache({ maxBytes: 0 });
  let loads = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const load = async () => {
    loads++;
    await gate;
    return person("user_ada");
  };
  const both = Promise.all([people.get("ada", load), people.get("ada", load)]);
  release();
  const [a, b] = await both;
  assert.equal(a, b);
  assert.equal(loads, 1);
  // A budget of 0 bytes remembers nobody idle...
  assert.equal(people.peek("ada"), undefined);

  await assert.rejects(people.get("bob", () => Promise.reject(new Error("refused"))), /refused/);
  const bob = await people.get("bob", () => Promise.resolve(person("user_bob")));
  assert.equal(bob.userId, "user_bob", "a failed load is tried again");

  // ...but one whose membership is in flight stays until it settles.
  let settle!: (value: { id: string }) => void;
  const carol = await people.get("carol", () => {
    const entry = person("user_carol");
    entry.memberships = new Map([["org_1", new Promise((resolve) => settle = resolve)]]);
    return Promise.resolve(entry);
  });
  assert.equal(people.peek("carol"), carol);
  await people.get("dave", () => Promise.resolve(person("user_dave")));
  assert.equal(people.peek("carol"), carol, "busy: not forgotten");
  settle({ id: "om_1" });
  carol.memberships?.set("org_1", "om_1");
  people.changed("carol", carol);
  assert.equal(people.peek("carol"), undefined, "idle again: forgotten");
  assert.equal(people.stats.bytes, 0);
});

function rowOf(recordNumber: number, email: string, org: string, totp = false): UserRow {
  return {
    recordNumber,
    byteEnd: recordNumber * 10,
    email,
    emailKey: email.toLowerCase(),
    original: { email },
    organization: { kind: "external_id", externalId: org, name: `Org ${org}` },
    ...(totp ? { totp: { secret: TOTP_SECRET } } : {}),
  };
}

Deno.test("past the person cache's bound, later rows of a forgotten person create no second user, membership or factor", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
  });
  const rows = [
    rowOf(1, "ada@cache.test", "org-a", true),
    rowOf(2, "bob@cache.test", "org-a"),
    rowOf(3, "ada@cache.test", "org-a", true),
    rowOf(4, "Ada@Cache.test", "org-b", true),
    rowOf(5, "bob@cache.test", "org-a"),
  ];
  for (const budget of [0, undefined]) {
    fake.state.reset();
    const processor = new RowProcessor(client, new OrganizationResolver(client), {
      mode: { kind: "multi" },
      personCacheBytes: budget,
    });
    const outcomes = [];
    for (const row of rows) outcomes.push(await processor.process(row));
    const label = budget === 0 ? "nobody remembered" : "everybody remembered";
    assert.deepEqual(outcomes.map((o) => o.error?.errorMessage), rows.map(() => undefined), label);
    assert.equal(fake.state.userCount(), 2, label);
    assert.equal(fake.state.organizationCount(), 2, label);
    assert.equal(fake.state.membershipCount(), 3, label);
    const ada = fake.state.findUserByEmail("ada@cache.test");
    assert.ok(ada, label);
    assert.equal(fake.state.authFactorsOfUser(ada.id).length, 1, label);
    // Every row of a person names the same user and the same memberships.
    assert.deepEqual(outcomes.map((o) => o.userId), [
      ada.id,
      outcomes[1].userId,
      ada.id,
      ada.id,
      outcomes[1].userId,
    ]);
    assert.equal(outcomes[2].membership?.id, outcomes[0].membership?.id, label);
    assert.equal(outcomes[4].membership?.id, outcomes[1].membership?.id, label);
    assert.deepEqual(outcomes.map((o) => o.membership?.created), [true, true, false, true, false]);
    // Forgotten or not, a later row of a person is a repeat: not an existing
    // user, and its factor is not counted as enrolled a second time.
    assert.deepEqual(outcomes.map((o) => o.user), [
      "created",
      "created",
      "repeat",
      "repeat",
      "repeat",
    ], label);
    assert.deepEqual(outcomes.map((o) => o.factor?.created), [
      true,
      undefined,
      false,
      false,
      undefined,
    ], label);
    assert.equal(processor.peopleStats.size, budget === 0 ? 0 : 2, label);
  }
});

Deno.test("past the person cache's bound, a job counts a forgotten person's later rows as repeats from its claims", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  try {
    const csv = `${dir}/users.csv`;
    await Deno.writeTextFile(
      csv,
      "email,org_external_id,org_name\n" +
        "ada@cache.test,org-a,Org A\nbob@cache.test,org-a,Org A\nada@cache.test,org-b,Org B\n" +
        "ADA@cache.test,org-a,Org A\n",
    );
    const journal = await createJob("cache", {
      checkpointDir: dir,
      input: await describeInput(csv),
      options: { concurrency: 1 },
    });
    const result = await importUsers(csv, {
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      concurrency: 1,
      chunkSize: 1,
      journal,
      personCacheBytes: 0,
    });
    await journal.finish("completed");
    assert.equal(result.failures, 0);
    assert.equal(fake.state.userCount(), 2);
    assert.equal(fake.state.membershipCount(), 3);
    assert.equal(result.usersCreated, 2);
    assert.equal(result.usersExisting, 0, "the journal's claims say Ada's later rows are repeats");
    assert.equal(result.membershipsCreated, 3);
    assert.equal(result.membershipsExisting, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a coalescing cache with a byte budget forgets the least recently used entries past it", async () => {
  const cache = new CoalescingCache<string>({
    capacity: Infinity,
    maxBytes: 100,
    sizeOf: (key, value) => key.length + value.length,
  });
  for (let i = 0; i < 10; i++) await cache.get(`key${i}`, () => Promise.resolve(`value-${i}`));
  // 4 + 7 bytes each: 9 fit in 100.
  assert.equal(cache.stats.size, 9);
  assert.deepEqual(cache.entries()[0], ["key1", "value-1"]);
  cache.delete("key5");
  await cache.get("kX", () => Promise.resolve("value-X"));
  assert.equal(cache.stats.size, 9, "the deleted entry's bytes were given back");
});

Deno.test("past the invitation cache's bound, a repeat row of a forgotten pair sends no second invitation", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
  });
  const resolver = new OrganizationResolver(client);
  const processor = new InvitationProcessor(client, resolver, {
    mode: { kind: "multi" },
    invitesPerSecond: 1_000,
    cacheBytes: 0,
  });
  const rows = [
    rowOf(1, "ada@cache.test", "org-a"),
    rowOf(2, "bob@cache.test", "org-a"),
    rowOf(3, "ada@cache.test", "org-a"),
    rowOf(4, "ada@cache.test", "org-b"),
  ];
  const outcomes = [];
  for (const row of rows) outcomes.push(await processor.process(row));
  assert.deepEqual(outcomes.map((o) => o.error?.errorMessage), rows.map(() => undefined));
  assert.equal(fake.state.invitationCount(), 3);
  assert.deepEqual(outcomes.map((o) => o.invitation?.created), [true, true, false, true]);
  assert.equal(outcomes[2].invitation?.id, outcomes[0].invitation?.id);
});
