/**
 * The import's person cache keeps ids and flags within a byte budget; past
 * the budget, a later row of a forgotten person still creates nothing twice:
 * WorkOS refuses the duplicate, the row finds the user (and the journal's
 * claims say it is a repeat). End states are read from the fake over HTTP.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { PersonCache, type PersonEntry } from "../src/pipeline/person_cache.ts";
import { PackedPeople } from "../src/pipeline/_packed_people.ts";
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
  // Packed, a person of these takes about 60 bytes of arena and index.
  assert.ok(size > 5 && size < 30, `${size} people in 2,000 bytes`);
  assert.equal(size + evictions, 100);
  // Each person costs what its bytes and slots do: no SDK object rides along.
  // Packed, at least its 16-byte header and its email's and id's bytes.
  const perPerson = bytes / size;
  assert.ok(perPerson < 350, `${perPerson} bytes a person`);
  assert.ok(perPerson > 16 + "person99@example.com".length + "user_99".length, `${perPerson}`);
  // Used on every row, the first person stayed; the others went oldest first.
  assert.equal(people.peek("person0@example.com")?.userId, "user_0");
  assert.equal(people.peek("person1@example.com"), undefined);
  assert.equal(people.peek("person99@example.com")?.userId, "user_99");
});

Deno.test("the person cache's byte estimate is what its people take on the heap and in its arrays, Map slots included", async () => {
  // In a process of its own, so that the heap weighed is the cache's. Rows of
  // distinct people, every third one of them seen again ten rows later: the
  // LRU churn of an import, which leaves holes in the cache's Map table.
  const script = `
    import { PersonCache } from ${
    JSON.stringify(new URL("../src/pipeline/person_cache.ts", import.meta.url).href)
  };
    const userId = (i) => "user_01J" + String(i).padStart(23, "0");
    // The V8 heap and the typed arrays' memory (external), less the filter
    // of forgotten people, a fixed 2 MiB the budget does not count.
    const weight = () => {
      const { heapUsed, external } = Deno.memoryUsage();
      return heapUsed + external;
    };
    // A function per cache, so that no frame of the loop keeps the last cache alive.
    async function weigh(maxBytes) {
      gc();
      gc();
      const before = weight();
      const people = new PersonCache({ maxBytes });
      for (let i = 0; i < 200000; i++) {
        await people.get("bench.user" + i + "@example.com", () => Promise.resolve({ userId: userId(i), fresh: true }));
        if (i % 3 === 0 && i >= 10) {
          await people.get("bench.user" + (i - 10) + "@example.com", () => Promise.resolve({ userId: userId(i), fresh: true }));
        }
      }
      gc();
      gc();
      return (weight() - before - 2 ** 21) / people.stats.bytes;
    }
    const ratios = [await weigh(2 * 2 ** 20), await weigh(8 * 2 ** 20)];
    console.log(JSON.stringify(ratios));`;
  const ratios: number[] = JSON.parse(await evalScript(script, ["--v8-flags=--expose-gc"]));
  // The estimate used to leave out the cache's slot objects and the Map's
  // holes: its people took 1.3-1.5 times the budget. Most people are packed
  // in typed arrays now, counted to the byte; the first cache weighed also
  // carries the code's first compilation (1.08-1.15).
  for (const ratio of ratios) {
    assert.ok(
      ratio > 0.7 && ratio < 1.2,
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

Deno.test("a person packed out of the cache's objects comes back with its user, flags, factor and memberships", async () => {
  // An eighth of 64 KiB for objects: about 200 people; the rest are packed.
  const people = new PersonCache({ maxBytes: 64 * 1024 });
  const ada: PersonEntry = {
    userId: "user_ada",
    fresh: false,
    factor: "auth_factor_ada",
    memberships: new Map([["org_a", "om_a"], ["org_\u00e9", "om_b"]]),
  };
  await people.get("ada@\u00e9xample.com", () => Promise.resolve(ada));
  people.changed("ada@\u00e9xample.com", ada);
  const bob = await people.get("bob@example.com", () => Promise.resolve(person("user_bob")));
  for (let i = 0; i < 300; i++) {
    await people.get(`p${i}@example.com`, () => Promise.resolve(person(`user_${i}`)));
  }
  assert.equal(people.stats.evictions, 0, "all within the budget");
  assert.equal(people.stats.size, 302);
  assert.ok(people.stats.bytes <= 64 * 1024);
  const peeked = people.peek("ada@\u00e9xample.com");
  assert.notEqual(peeked, ada, "packed: a copy");
  assert.deepEqual(peeked, ada);
  // A packed person comes back as not fresh: its factor is looked up before it is enrolled.
  assert.deepEqual(people.peek("bob@example.com"), { ...bob, fresh: false });
  const again = await people.get(
    "ada@\u00e9xample.com",
    () => Promise.reject(new Error("loaded again")),
  );
  assert.deepEqual(again, ada);
  // Back among the objects: the row that got it changes that very entry.
  assert.equal(people.peek("ada@\u00e9xample.com"), again);
  people.delete("bob@example.com");
  assert.equal(people.peek("bob@example.com"), undefined);
  assert.equal(people.wasForgotten("bob@example.com"), false, "deleted, not forgotten");
  assert.equal(people.stats.size, 301);
});

Deno.test("the packed people store keeps what a Map would, oldest first out, within its budget", () => {
  const forgotten: string[] = [];
  const store = new PackedPeople(16 * 1024, (key) => forgotten.push(key));
  const reference = new Map<string, string>();
  // A fixed pseudo-random walk of puts, takes and peeks over 3,000 keys,
  // some of them not Latin-1, so that probing, deletion, growth and
  // compaction all run many times.
  let seed = 7;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let step = 0; step < 40_000; step++) {
    const i = Math.floor(next() * 3_000);
    const key = i % 7 === 0 ? `p\u00e9rson${i}@\u4f8b.example` : `person${i}@example.com`;
    const action = next();
    if (action < 0.5) {
      if (!reference.has(key) && store.peek(key) === undefined) {
        const value = `user_${i}\u00000\u0000${"x".repeat(i % 40)}`;
        store.put(key, value);
        reference.set(key, value);
      }
    } else if (action < 0.8) {
      const taken = store.take(key);
      if (taken !== undefined) assert.equal(taken, reference.get(key), key);
      reference.delete(key);
    } else {
      const peeked = store.peek(key);
      if (peeked !== undefined) assert.equal(peeked, reference.get(key), key);
    }
    assert.ok(store.bytes <= 16 * 1024, `${store.bytes} bytes`);
    // What the store dropped is gone from the reference too.
    for (const key of forgotten.splice(0)) reference.delete(key);
    if (step % 997 === 0) {
      assert.equal(store.size, reference.size, `step ${step}`);
      for (const [key, value] of reference) assert.equal(store.peek(key), value, key);
    }
  }
  assert.ok(store.evictions > 100, `${store.evictions} evictions`);
  assert.ok(store.size > 50, `${store.size} kept in 16 KiB`);
});

Deno.test("the packed people store drops the oldest entries first, and an entry larger than its budget at once", () => {
  const forgotten: string[] = [];
  const store = new PackedPeople(4 * 1024, (key) => forgotten.push(key));
  for (let i = 0; i < 200; i++) store.put(`person${i}@example.com`, `user_${i}`);
  assert.ok(store.evictions > 0);
  assert.equal(store.size + store.evictions, 200);
  // Dropped in the order they came.
  assert.deepEqual(
    forgotten,
    Array.from({ length: forgotten.length }, (_, i) => `person${i}@example.com`),
  );
  assert.equal(store.peek("person199@example.com"), "user_199");
  store.put("huge@example.com", "x".repeat(8 * 1024));
  assert.equal(forgotten.at(-1), "huge@example.com");
  assert.equal(store.peek("huge@example.com"), undefined);
  assert.equal(store.peek("person199@example.com"), "user_199");
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
  // 0: nobody remembered; 3,000 bytes: everybody packed (no room for objects); the default: kept.
  for (const budget of [0, 3_000, undefined]) {
    fake.state.reset();
    const processor = new RowProcessor(client, new OrganizationResolver(client), {
      mode: { kind: "multi" },
      personCacheBytes: budget,
    });
    const outcomes = [];
    for (const row of rows) outcomes.push(await processor.process(row));
    const label = budget === 0
      ? "nobody remembered"
      : budget === 3_000
      ? "everybody packed"
      : "everybody remembered";
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
