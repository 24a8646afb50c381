/**
 * The journal as the import commits to it (through its sink, which counts
 * and writes the job's error file): commits larger than one Deno KV atomic,
 * the crash-consistency rules a resume relies on (entries of a cut-off
 * commit ignored, the error file cut back), and how a resumed row tells its
 * own earlier work from another row's (the ownership rules over the
 * journal's claims).
 */

import assert from "node:assert/strict";
import { createJob, describeInput, type Journal, resumeJob } from "../src/journal/journal.ts";
import { keySize, type Mutation, SAFE_LIMITS, splitMutations } from "../src/journal/_atomic.ts";
import type { RowOutcome } from "../src/outcome/mod.ts";
import { type JournalSessionState, openJournalSink } from "../src/pipeline/journal_sink.ts";
import {
  claimOrganization,
  classifyOwnMembership,
  priorUserOutcome,
} from "../src/pipeline/job_ownership.ts";
import type { WorkOSMembership } from "../src/workos/memberships.ts";
import type { WorkOSUser } from "../src/workos/users.ts";
import { tempDir } from "./_cli.ts";

const STATE: JournalSessionState = { organizationCache: [], organizationsCreated: 0 };

/** Commits a batch as the import does: through the journal's sink. */
async function commit(
  journal: Journal,
  outcomes: RowOutcome[],
  watermark: { recordNumber: number; byteEnd: number } | undefined,
): Promise<void> {
  const sink = await openJournalSink(journal, { state: () => STATE });
  try {
    await sink.write(outcomes, watermark);
  } finally {
    await sink.close();
  }
}

async function newJob(rows: number): Promise<{ dir: string; csv: string }> {
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  let text = "email,org_external_id,org_name\n";
  for (let i = 1; i <= rows; i++) text += `user${i}@journal.test,acme,Acme\n`;
  await Deno.writeTextFile(csv, text);
  return { dir, csv };
}

function outcome(n: number, extra: Partial<RowOutcome> = {}): RowOutcome {
  return {
    recordNumber: n,
    byteEnd: n * 10,
    email: `user${n}@journal.test`,
    userId: `user_${String(n).padStart(26, "0")}`,
    user: "created",
    membership: { id: `om_${String(n).padStart(26, "0")}`, organizationId: "org_1", created: true },
    ...extra,
  };
}

/** A user as WorkOS returns it, made just after the claim tests' jobs started. */
function userOf(id: string, email: string): WorkOSUser {
  return {
    id,
    email,
    firstName: null,
    lastName: null,
    emailVerified: false,
    externalId: null,
    metadata: {},
    createdAtMs: Date.parse("2025-01-01T00:00:01Z"),
  };
}

/** A membership as WorkOS returns it, made just after the claim tests' jobs started. */
function membershipOf(id: string, userId: string, organizationId: string): WorkOSMembership {
  return {
    id,
    userId,
    organizationId,
    status: "active",
    createdAtMs: Date.parse("2025-01-01T00:00:02Z"),
  };
}

/** The `i`th user id of one millisecond: ULIDs that share a claim bucket. */
function sameSecondId(i: number): string {
  return `user_01JD8Z3K4M${String(i).padStart(16, "0")}`;
}

Deno.test("a commit larger than one atomic splits within Deno KV's limits and resumes exactly", async () => {
  const { dir, csv } = await newJob(3);
  const input = await describeInput(csv);
  const journal = await createJob("big", { checkpointDir: dir, input, options: {} });
  // 2,500 rows, each with a claim and above the watermark. Half have ids
  // that are not ULIDs, so each of their claims takes a value of its own:
  // more mutations than one atomic holds.
  const outcomes: RowOutcome[] = [];
  for (let n = 2; n <= 2_501; n++) {
    outcomes.push(n % 2 ? outcome(n, { userId: `user_legacy_${n}` }) : outcome(n));
  }
  outcomes.push(outcome(2_502, {
    userId: undefined,
    user: undefined,
    membership: undefined,
    error: {
      recordNumber: 2_502,
      email: "bad",
      errorType: "validation",
      errorMessage: 'Email is invalid: "bad"'.repeat(40),
      timestamp: new Date().toISOString(),
    },
  }));
  // Row 1 is still in flight: the watermark stays at 0 and every row is "done above" it.
  await commit(journal, outcomes, undefined);
  assert.ok(journal.atomicsCommitted >= 2, `${journal.atomicsCommitted} atomics`);
  assert.equal(journal.progress.totals.totalRows, 2_501);
  assert.equal(journal.progress.totals.usersCreated, 2_500);
  assert.equal(journal.progress.totals.failures, 1);
  await journal.finish("interrupted");

  const resumed = await resumeJob("big", { checkpointDir: dir });
  try {
    assert.equal(resumed.tallyAtStart.membershipsCreated, 2_500);
    assert.equal(resumed.isFinal(1), false);
    assert.equal(resumed.isFinal(2), true);
    assert.equal(resumed.isFinal(2_502), true);
    assert.equal(resumed.isFinal(2_503), false);
    assert.equal(resumed.resumeFrom, undefined);
    // Row 1 finishes: the watermark passes every row, and the done keys go.
    await commit(resumed, [outcome(1)], { recordNumber: 2_502, byteEnd: 25_020 });
    assert.equal(resumed.progress.totals.totalRows, 2_502);
  } finally {
    await resumed.finish("interrupted");
  }
  const kv = await Deno.openKv(`${dir}/big/journal.kv`);
  try {
    let doneKeys = 0;
    for await (const _ of kv.list({ prefix: ["done"] })) doneKeys++;
    assert.equal(doneKeys, 0);
  } finally {
    kv.close();
  }
});

Deno.test("splitMutations keeps order and every group within count, size and key limits", () => {
  const mutations: Mutation[] = [];
  for (let i = 0; i < 2_400; i++) {
    mutations.push({
      type: "set",
      key: ["u", `user_${"x".repeat(26)}${i}`, "org_abc", i],
      value: [1, 1, 1],
    });
    if (i % 100 === 0) {
      mutations.push({ type: "set", key: ["rows", i], value: new Uint8Array(60_000) });
    }
    if (i % 7 === 0) mutations.push({ type: "delete", key: ["done", i] });
  }
  const groups = splitMutations(mutations);
  assert.deepEqual(groups.flat(), mutations);
  for (const group of groups) {
    assert.ok(group.length <= 1_000);
    const keys = group.reduce((sum, m) => sum + keySize(m.key), 0);
    assert.ok(keys <= SAFE_LIMITS.keyBytes);
    const values = group.reduce(
      (sum, m) => sum + (m.type === "set" && m.value instanceof Uint8Array ? m.value.length : 0),
      0,
    );
    assert.ok(values + keys <= 800 * 1024);
  }
});

Deno.test("a resume ignores the entries of a commit a crash cut off and cuts the error file back", async () => {
  const { dir, csv } = await newJob(10);
  const journal = await createJob("cut", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
  });
  const failed = outcome(3, {
    userId: undefined,
    user: undefined,
    membership: undefined,
    error: {
      recordNumber: 3,
      email: "x",
      errorType: "validation",
      errorMessage: "Email is invalid",
      timestamp: new Date().toISOString(),
    },
  });
  await commit(journal, [outcome(1), outcome(2), failed, outcome(5)], {
    recordNumber: 3,
    byteEnd: 30,
  });
  const committedBytes = journal.progress.errorsBytes;
  await journal.finish("running");
  // What a crash mid-commit leaves: the next commit's entries without its progress,
  // and error lines past the committed length.
  const kv = await Deno.openKv(`${dir}/cut/journal.kv`);
  await kv.atomic()
    .set(["done", 2, 0], [6])
    .set(["rows", 2, 0], new Uint8Array(10))
    .set(["org", "org_cut"], 2)
    .commit();
  kv.close();
  await Deno.writeTextFile(`${dir}/cut/errors.jsonl`, '{"recordNumber":6}\n{"record', {
    append: true,
  });

  const resumed = await resumeJob("cut", { checkpointDir: dir });
  try {
    assert.deepEqual(resumed.resumeFrom, { byteOffset: 30, recordNumber: 3 });
    assert.equal(resumed.isFinal(5), true);
    assert.equal(resumed.isFinal(6), false, "a row of the cut-off commit runs again");
    assert.equal(resumed.isFinal(4), false);
    assert.equal(resumed.isUncertain(4), false, "beyond the rows read by the last commit");
    assert.equal(resumed.tallyAtStart.totalRows, 4);
    // The import cuts the file back as it opens it for the resumed rows.
    await (await openJournalSink(resumed, { state: () => STATE })).close();
    assert.equal((await Deno.stat(`${dir}/cut/errors.jsonl`)).size, committedBytes);
  } finally {
    await resumed.finish("interrupted");
  }
  const check = await Deno.openKv(`${dir}/cut/journal.kv`);
  try {
    assert.equal((await check.get(["done", 2, 0])).value, null, "stale done entry removed");
    assert.equal(
      (await check.get(["org", "org_cut"])).value,
      null,
      "stale organization claim removed",
    );
    assert.equal((await check.get(["rows", 2, 0])).value, null, "stale rows removed");
  } finally {
    check.close();
  }
});

Deno.test("a resumed row tells its own earlier work from another row's", async () => {
  const { dir, csv } = await newJob(10);
  const journal = await createJob("claims", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  const user = userOf("user_ada", "ada@journal.test");
  // Row 1 created Ada and her membership in org_1; row 4 (same person) joined org_2.
  await commit(journal, [
    outcome(1, {
      userId: "user_ada",
      membership: { id: "om_1", organizationId: "org_1", created: true },
    }),
    outcome(4, {
      userId: "user_ada",
      user: "repeat",
      membership: { id: "om_2", organizationId: "org_2", created: true },
    }),
  ], { recordNumber: 1, byteEnd: 10 });
  try {
    assert.equal(await priorUserOutcome(journal, user, 7), "repeat");
    assert.equal(await priorUserOutcome(journal, user, 1), "created");
    assert.equal(await priorUserOutcome(journal, { ...user, id: "user_bob" }, 2), undefined);
    const membership = membershipOf("om_2", "user_ada", "org_2");
    assert.equal(await classifyOwnMembership(journal, membership, 4), true);
    assert.equal(await classifyOwnMembership(journal, membership, 9), false);
    assert.equal(
      await classifyOwnMembership(journal, { ...membership, organizationId: "org_3" }, 9),
      true,
      "made since the start and claimed by no row: this row made it before a crash",
    );
    // The import asks only about organizations made while a session was cut off.
    const organization = { id: "org_9", name: "Nine", externalId: "nine", createdAtMs: NaN };
    assert.equal(
      claimOrganization(journal, {
        ...organization,
        createdAtMs: Date.parse("2025-01-02T00:00:00Z"),
      }),
      true,
    );
    assert.equal(
      claimOrganization(journal, {
        ...organization,
        createdAtMs: Date.parse("2025-01-02T00:00:00Z"),
      }),
      false,
      "counted once",
    );
  } finally {
    await journal.finish("interrupted");
  }
});

Deno.test("a job's files are owner-only and its journal never holds the API key", async () => {
  const { dir, csv } = await newJob(2);
  const secret = "sk_test_never_in_a_journal_4242";
  const journal = await createJob("secret", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: { apiKey: secret, concurrency: 3, onWarning: () => {}, organizationId: "org_1" },
  });
  await commit(journal, [outcome(1)], { recordNumber: 1, byteEnd: 10 });
  assert.deepEqual(journal.job.options, { concurrency: 3, organizationId: "org_1" });
  await journal.finish("completed");
  if (Deno.build.os !== "windows") {
    assert.equal(((await Deno.stat(`${dir}/secret`)).mode ?? 0) & 0o777, 0o700);
    for (const name of ["journal.kv", "errors.jsonl", "job.lock"]) {
      assert.equal(((await Deno.stat(`${dir}/secret/${name}`)).mode ?? 0) & 0o777, 0o600, name);
    }
  }
  for await (const entry of Deno.readDir(`${dir}/secret`)) {
    const bytes = await Deno.readFile(`${dir}/secret/${entry.name}`);
    assert.ok(!new TextDecoder().decode(bytes).includes(secret), entry.name);
  }
  await assert.rejects(
    () => resumeJob("secret", { checkpointDir: dir }),
    /Cannot resume job "secret": it completed already/,
  );
});

Deno.test("a job cannot be opened twice at once, nor started twice", async () => {
  const { dir, csv } = await newJob(2);
  const input = await describeInput(csv);
  const journal = await createJob("once", { checkpointDir: dir, input, options: {} });
  try {
    await assert.rejects(
      () => resumeJob("once", { checkpointDir: dir }),
      /another process is running it/,
    );
  } finally {
    await journal.finish("interrupted");
  }
  await assert.rejects(
    () => createJob("once", { checkpointDir: dir, input, options: {} }),
    /Cannot start job "once": it exists already .*--resume once/,
  );
});

Deno.test("claims of users made in the same second share a value, and each is found exactly", async () => {
  const { dir, csv } = await newJob(3);
  const journal = await createJob("buckets", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  // ULIDs of one millisecond, as WorkOS makes them; the last one is a
  // prefix of none of the others but shares their bucket.
  const ids = Array.from({ length: 600 }, (_, i) => sameSecondId(i));
  const outcomes = ids.map((id, i) =>
    outcome(i + 1, {
      userId: id,
      membership: { id: `om_${i}`, organizationId: `org_${i % 3}`, created: true },
    })
  );
  try {
    await commit(journal, outcomes, { recordNumber: 600, byteEnd: 6_000 });
    const kv = await Deno.openKv(`${dir}/buckets/journal.kv`);
    let claimEntries = 0;
    for await (const _ of kv.list({ prefix: ["claims"] })) claimEntries++;
    kv.close();
    assert.ok(claimEntries <= 2, `${claimEntries} claim values for 600 rows`);
    for (const i of [0, 17, 599]) {
      const user = userOf(ids[i], `user${i + 1}@journal.test`);
      assert.equal(await priorUserOutcome(journal, user, i + 1), "created");
      assert.equal(await priorUserOutcome(journal, user, 9_999), "repeat");
      const membership = membershipOf(`om_${i}`, ids[i], `org_${i % 3}`);
      assert.equal(await classifyOwnMembership(journal, membership, i + 1), true);
      assert.equal(await classifyOwnMembership(journal, membership, 9_999), false);
    }
    assert.equal(
      await priorUserOutcome(journal, userOf(sameSecondId(9_999), "none@journal.test"), 1),
      undefined,
      "a user of the same second that no row claims",
    );
  } finally {
    await journal.finish("interrupted");
  }
});

Deno.test("a resume keeps the claims of a commit a crash cut off, and later commits never overwrite them", async () => {
  const { dir, csv } = await newJob(3);
  const journal = await createJob("keep", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  await commit(journal, [outcome(1, { userId: sameSecondId(1) })], {
    recordNumber: 1,
    byteEnd: 10,
  });
  const cutSeq = journal.progress.seq + 1;
  await journal.finish("running");
  // The cut-off commit wrote row 2's claim (it did create the user) but not its progress.
  const kv = await Deno.openKv(`${dir}/keep/journal.kv`);
  await kv.set(
    ["claims", sameSecondId(2).slice(0, -18), cutSeq, 0],
    new TextEncoder().encode(JSON.stringify([sameSecondId(2), "org_1", 2, 1, 1]) + "\n"),
  );
  kv.close();

  const resumed = await resumeJob("keep", { checkpointDir: dir });
  try {
    await commit(resumed, [outcome(3, { userId: sameSecondId(3) })], {
      recordNumber: 1,
      byteEnd: 10,
    });
    const user = userOf(sameSecondId(2), "user2@journal.test");
    assert.equal(await priorUserOutcome(resumed, user, 2), "created", "row 2 made it");
    assert.equal(await priorUserOutcome(resumed, user, 5), "repeat", "another row of Ada's");
    assert.equal(await priorUserOutcome(resumed, { ...user, id: sameSecondId(3) }, 3), "created");
  } finally {
    await resumed.finish("interrupted");
  }
});

Deno.test("a journal of another format version is refused with what to do", async () => {
  const { dir, csv } = await newJob(2);
  const journal = await createJob("old", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
  });
  await journal.finish("interrupted");
  const kv = await Deno.openKv(`${dir}/old/journal.kv`);
  const job = await kv.get<Record<string, unknown>>(["job"]);
  await kv.set(["job"], { ...job.value, version: 1 });
  kv.close();
  await assert.rejects(
    () => resumeJob("old", { checkpointDir: dir }),
    (error: Error) => {
      assert.match(
        error.message,
        /^Cannot resume job "old": its journal has version 1, this build reads \d+: /,
      );
      assert.match(error.message, /workos-importer clean old/);
      return true;
    },
  );
});

Deno.test("a commit keeps only packed claims: no row outcomes, about 30 bytes a claim", async () => {
  const { dir, csv } = await newJob(3);
  const journal = await createJob("packed", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  const outcomes = Array.from({ length: 600 }, (_, i) =>
    outcome(i + 1, {
      userId: sameSecondId(i),
      membership: { id: `om_${i}`, organizationId: `org_01JD8Z3K4M${i % 3}`, created: true },
      requestIds: { user: crypto.randomUUID(), membership: crypto.randomUUID() },
    }));
  try {
    await commit(journal, outcomes, { recordNumber: 600, byteEnd: 6_000 });
  } finally {
    await journal.finish("interrupted");
  }
  const kv = await Deno.openKv(`${dir}/packed/journal.kv`);
  try {
    for await (const entry of kv.list({ prefix: ["rows"] })) assert.fail(`${entry.key} kept`);
    let claimBytes = 0;
    for await (const entry of kv.list<Uint8Array>({ prefix: ["claims"] })) {
      claimBytes += entry.value.length;
    }
    // Version 2 wrote each claim as a JSON line of about 80 bytes.
    assert.ok(claimBytes > 0 && claimBytes <= 600 * 32, `${claimBytes} bytes of claims`);
  } finally {
    kv.close();
  }
});

Deno.test("claims of one bucket past one value's size each carry their organizations, and all are found", async () => {
  const { dir, csv } = await newJob(3);
  const journal = await createJob("parts", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  // 4,000 users of one second, each in an organization of its own: more
  // than one 60,000-byte value.
  const rows = 4_000;
  const ids = Array.from({ length: rows }, (_, i) => sameSecondId(i));
  const organizationOf = (i: number) => `org_01JD8Z3K4M${String(i).padStart(16, "0")}`;
  const outcomes = ids.map((id, i) =>
    outcome(i + 1, {
      userId: id,
      user: i % 4 === 3 ? "repeat" : "created",
      membership: { id: `om_${i}`, organizationId: organizationOf(i), created: true },
    })
  );
  try {
    await commit(journal, outcomes, { recordNumber: rows, byteEnd: rows * 10 });
    const kv = await Deno.openKv(`${dir}/parts/journal.kv`);
    let parts = 0;
    for await (const _ of kv.list({ prefix: ["claims"] })) parts++;
    kv.close();
    assert.ok(parts >= 2, `${parts} values`);
    for (const i of [0, 1, 3, 1_999, 2_000, 2_001, 3_998, 3_999]) {
      const claims = await journal.claimsOf(ids[i]);
      const expected = {
        recordNumber: i + 1,
        membershipCreated: true,
        organizationId: organizationOf(i),
        ...(i % 4 === 3 ? {} : { user: "created" as const }),
      };
      assert.deepEqual(claims, [expected], `row ${i + 1}`);
    }
  } finally {
    await journal.finish("interrupted");
  }
});

Deno.test("organizations keep their numbers across sessions, and a cut-off commit's are never reused", async () => {
  const { dir, csv } = await newJob(3);
  const journal = await createJob("numbers", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
    startedAt: Date.parse("2025-01-01T00:00:00Z"),
  });
  const row = (n: number, organizationId: string) =>
    outcome(n, {
      userId: sameSecondId(n),
      membership: { id: `om_${n}`, organizationId, created: true },
    });
  await commit(journal, [row(1, "org_a"), row(2, "org_b"), row(3, "org_a")], {
    recordNumber: 3,
    byteEnd: 30,
  });
  const cutSeq = journal.progress.seq + 1;
  await journal.finish("running");
  // A commit a crash cut off numbered org_c and wrote a claim with it, but not its progress.
  const kv = await Deno.openKv(`${dir}/numbers/journal.kv`);
  await kv.set(["orgno", 2], "org_c");
  await kv.set(
    ["claims", sameSecondId(4).slice(0, -18), cutSeq, 0],
    new TextEncoder().encode(`4\n${sameSecondId(4).slice(-18)},2,4,3\n`),
  );
  kv.close();

  const resumed = await resumeJob("numbers", { checkpointDir: dir });
  try {
    await commit(resumed, [row(5, "org_d"), row(6, "org_a")], { recordNumber: 3, byteEnd: 30 });
    const organizationsOf = async (n: number) =>
      (await resumed.claimsOf(sameSecondId(n))).map((claim) => claim.organizationId);
    assert.deepEqual(await organizationsOf(1), ["org_a"]);
    assert.deepEqual(await organizationsOf(2), ["org_b"]);
    assert.deepEqual(await organizationsOf(3), ["org_a"]);
    assert.deepEqual(await organizationsOf(4), ["org_c"], "the cut-off commit's claim");
    assert.deepEqual(await organizationsOf(5), ["org_d"]);
    assert.deepEqual(await organizationsOf(6), ["org_a"]);
  } finally {
    await resumed.finish("interrupted");
  }
});
