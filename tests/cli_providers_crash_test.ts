/**
 * A provider's export keeps the exactly-once promise: the real CLI imports a
 * generated Firebase `auth:export` JSON file (one JSON document, read by the
 * streaming list scanner) into the fake WorkOS with faults on, is killed
 * with SIGKILL at seeded random moments and resumed each time; the end
 * state, the job's errors and the summary are what one clean run gives.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import type { UserRow } from "../src/types.ts";
import { firebaseUsers, random } from "./fixtures/providers/generate.ts";
import { envOf, killRepeatedly, runCli, tempDir } from "./_cli.ts";

const KILLS = 4;
const USERS = 2_000;
const SEED = Number(Deno.env.get("CRASH_TEST_SEED") ?? 15);

Deno.test({
  name:
    "--from firebase: SIGKILL at random moments, resumed each time: every user once, every error once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    const path = `${dir}/users.json`;
    const users = [...firebaseUsers({ count: USERS, seed: 3 })].map((user) => JSON.stringify(user));
    await Deno.writeTextFile(path, `{"users": [\n  ${users.join(",\n  ")}\n]}\n`);

    const valid: UserRow[] = [];
    const invalid: number[] = [];
    const input = await openInput(path, { provider: { from: "firebase" } });
    for await (const batch of input.records) {
      for (const record of batch) {
        const result = validateRecord(record);
        if (result.ok) valid.push(result.row);
        else invalid.push(record.recordNumber);
      }
    }
    assert.ok(invalid.length > 50, "the export has users the target cannot take");

    await using fake = await startFakeWorkOS({
      rateLimits: false,
      latency: { fixedMs: 2, jitterMs: 4 },
      faults: { failureRate: 0.03, dropRate: 0.01, ghostRate: 0.01 },
      seed: SEED,
    });
    const env = envOf(fake);
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
    const next = random(SEED);
    const kills = await killRepeatedly({
      sessions: KILLS,
      args: (session) => [
        ...(session === 0
          ? ["--from", "firebase", "--input", path, "--job-id", "fb"]
          : ["--resume", "fb"]),
        ...common,
      ],
      env,
      progress: () => fake.state.totalRequests,
      killAt: () => ({ afterMs: 50 + Math.floor(next() * 400) }),
    });
    assert.equal(kills, KILLS, "every session was killed mid-run");
    assert.ok(fake.state.userCount() < valid.length, "the kills left work to do");

    const { code, stdout, stderr } = await runCli(["--resume", "fb", ...common], { env });
    assert.equal(code, 1, stderr);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string);

    assert.equal(fake.state.userCount(), valid.length);
    for (const row of valid) {
      const user = fake.state.findUserByExternalId(row.externalId as string);
      assert.ok(user, `row ${row.recordNumber}`);
      assert.equal(user.email, row.emailKey);
      assert.equal(user.firstName, row.firstName ?? null);
      assert.equal(user.lastName, row.lastName ?? null);
      assert.equal(user.emailVerified, row.emailVerified ?? false);
      assert.deepEqual(user.metadata, row.metadata ?? {});
    }
    const lines = (await Deno.readTextFile(`${dir}/checkpoints/fb/errors.jsonl`)).trim()
      .split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((line) => line.recordNumber).sort((a, b) => a - b), invalid);
    assert.equal(summary.totalRows, USERS);
    assert.equal(summary.successes, valid.length);
    assert.equal(summary.failures, invalid.length);
    assert.equal(summary.usersCreated, valid.length);
    assert.equal(summary.usersExisting, 0);
    assert.ok(fake.state.faultCounts.ghost > 0 && fake.state.faultCounts.failure > 0);
  },
});
