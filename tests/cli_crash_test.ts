/**
 * The exactly-once promise, end to end: the real CLI imports a generated file
 * into the fake WorkOS with latency and faults on (failures, dropped
 * connections, writes that succeed but answer 500), is killed with SIGKILL
 * at ten seeded random moments and resumed each time; the fake's final state,
 * the job's error file and the final summary must be exactly what one clean
 * run gives.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { generateCsv } from "../examples/gen_csv.ts";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import type { UserRow } from "../src/types.ts";
import { seededRandom } from "./_random.ts";
import { killRepeatedly, runCli, tempDir } from "./_cli.ts";

const KILLS = 10;
const ROWS = 4_000;
// Another seed, another pattern of kill moments and faults: CRASH_TEST_SEED=7 deno test ...
const SEED = Number(Deno.env.get("CRASH_TEST_SEED") ?? 20_250_601);

interface Truth {
  valid: UserRow[];
  invalid: number[];
}

/** Classifies every row of the input, independently of any import. */
async function truthOf(path: string): Promise<Truth> {
  const input = await openInput(path);
  const truth: Truth = { valid: [], invalid: [] };
  for await (const batch of input.records) {
    for (const record of batch) {
      const result = validateRecord(record);
      if (result.ok) truth.valid.push(result.row);
      else truth.invalid.push(record.recordNumber);
    }
  }
  return truth;
}

Deno.test({
  name:
    "SIGKILL at ten random moments, resumed each time: every user once, every membership, every error once, exact counts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    const csv = `${dir}/users.csv`;
    // One person in three organizations, on rows a third of the file apart.
    await generateCsv(csv, { rows: ROWS, orgs: 25, withErrors: true, seed: 5, personsInOrgs: 3 });
    const truth = await truthOf(csv);
    assert.ok(truth.invalid.length > 10, "the file has invalid rows");

    await using fake = await startFakeWorkOS({
      rateLimits: false,
      latency: { fixedMs: 2, jitterMs: 4 },
      faults: { failureRate: 0.03, dropRate: 0.01, ghostRate: 0.01 },
      seed: SEED,
    });
    const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
    const common = [
      "--checkpoint-dir",
      `${dir}/checkpoints`,
      "--concurrency",
      "8",
      "--rate-limit",
      "100000",
      "--quiet",
      "--json",
    ];
    const next = seededRandom(SEED);
    // Killed at a random moment once each session is at work.
    const kills = await killRepeatedly({
      sessions: KILLS,
      args: (session) => [
        ...(session === 0 ? ["--csv", csv, "--job-id", "crash"] : ["--resume", "crash"]),
        ...common,
      ],
      env,
      progress: () => fake.state.totalRequests,
      killAt: () => ({ afterMs: 50 + Math.floor(next() * 450) }),
    });
    assert.equal(kills, KILLS, "every session was killed mid-run");
    assert.ok(fake.state.userCount() < new Set(truth.valid.map((row) => row.emailKey)).size);

    const { code, stdout, stderr } = await runCli(["--resume", ...common], { env });
    assert.equal(code, 1, stderr);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string);

    // Users: one per person, with the fields of the person's rows.
    const people = new Map<string, UserRow>();
    for (const row of truth.valid) if (!people.has(row.emailKey)) people.set(row.emailKey, row);
    assert.equal(fake.state.userCount(), people.size);
    for (const [email, row] of people) {
      const user = fake.state.findUserByEmail(email);
      assert.ok(user, `user ${email}`);
      assert.equal(user.firstName, row.firstName ?? null);
      assert.equal(user.lastName, row.lastName ?? null);
      assert.equal(user.externalId, row.externalId ?? null);
      assert.equal(user.emailVerified, row.emailVerified ?? false);
      assert.deepEqual(user.metadata, row.metadata ?? {});
    }

    // Memberships: every valid row's, once.
    const pairs = new Set<string>();
    const organizations = new Set<string>();
    for (const row of truth.valid) {
      const ref = row.organization;
      assert.ok(ref?.kind === "external_id");
      organizations.add(ref.externalId);
      pairs.add(`${row.emailKey} ${ref.externalId}`);
      const user = fake.state.findUserByEmail(row.emailKey);
      const organization = fake.state.findOrganizationByExternalId(ref.externalId);
      assert.ok(user && organization);
      const memberships = fake.state.membershipsOfUser(user.id)
        .filter((membership) => membership.organizationId === organization.id);
      assert.equal(memberships.length, 1, `membership of row ${row.recordNumber}`);
    }
    assert.equal(fake.state.membershipCount(), pairs.size);
    assert.equal(fake.state.organizationCount(), organizations.size);

    // The person in three organizations, rows far apart.
    const rowsByPerson = Map.groupBy(truth.valid, (row) => row.emailKey);
    const multi = [...rowsByPerson.values()].find((rows) => rows.length === 3);
    assert.ok(multi, "a person on three valid rows");
    assert.ok(multi[2].recordNumber - multi[0].recordNumber > ROWS / 2);
    const multiUser = fake.state.findUserByEmail(multi[0].emailKey);
    assert.ok(multiUser);
    assert.equal(fake.state.membershipsOfUser(multiUser.id).length, 3);

    // Every invalid row exactly once in the job's errors, and nothing else.
    const lines = (await Deno.readTextFile(`${dir}/checkpoints/crash/errors.jsonl`)).trim()
      .split("\n").map((line) => JSON.parse(line));
    const failed = lines.map((line) => line.recordNumber).sort((a, b) => a - b);
    assert.deepEqual(failed, [...truth.invalid].sort((a, b) => a - b));
    assert.ok(lines.every((line) => line.errorType === "validation"));

    // The summary covers the whole job and equals the truth.
    assert.equal(summary.status, "completed_with_errors");
    assert.equal(summary.totalRows, ROWS);
    assert.equal(summary.successes, truth.valid.length);
    assert.equal(summary.failures, truth.invalid.length);
    assert.equal(summary.usersCreated, people.size);
    assert.equal(summary.usersExisting, 0);
    assert.equal(summary.usersUpdated, 0);
    assert.equal(summary.membershipsCreated, pairs.size);
    assert.equal(summary.membershipsExisting, truth.valid.length - pairs.size);
    assert.equal(summary.organizationsCreated, organizations.size);
    assert.equal(summary.errorsWritten, truth.invalid.length);
    assert.equal(summary.jobId, "crash");
    assert.ok(fake.state.faultCounts.ghost > 0 && fake.state.faultCounts.failure > 0);
  },
});
