/**
 * The real CLI with every export read in the read worker
 * (`WORKOS_IMPORTER_READ_WORKER=on`, as a file of 32 MiB or more is): a dry
 * run prints what the in-thread reader's dry run prints, with the same error
 * file; a file that is not the format `--from` names is the same one line;
 * and a job killed with SIGKILL at random moments and resumed through the
 * worker imports every user once and every error once.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { auth0Lines, random } from "./fixtures/providers/generate.ts";
import { envOf, killRepeatedly, runCli, tempDir } from "./_cli.ts";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;
const ON = { WORKOS_IMPORTER_READ_WORKER: "on" };
const OFF = { WORKOS_IMPORTER_READ_WORKER: "off" };

const CASES: Array<[string, string[]]> = [
  ["auth0", ["auth0_users.ndjson", "--password-hashes", `${FIXTURES}auth0_password_hashes.ndjson`]],
  ["firebase", ["firebase_users.json"]],
  ["supertokens", ["supertokens_users.json"]],
  ["cognito", ["cognito_users.json"]],
];

/**
 * stderr's lines without the run's own duration, sorted: a file-level
 * warning (told by the reader when it reaches the end) and the rows'
 * warnings (told by the pipeline as it admits each row) interleave as the
 * stages happen to run, in-thread too; where the reader tells a warning
 * among its records is checked in tests/input_providers_worker_test.ts.
 */
function steady(text: string): string[] {
  return text.replace(/Duration: [^│\n]*/g, "Duration:").split("\n").sort();
}

for (const [from, [file, ...flags]] of CASES) {
  Deno.test(`--from ${from}, read in the worker: the dry run and its error file are the in-thread reader's`, async () => {
    const dir = await tempDir();
    try {
      // Two error files whose paths are as long: the summary box names them.
      await Deno.mkdir(`${dir}/1`);
      await Deno.mkdir(`${dir}/2`);
      const run = (env: Record<string, string>, name: string) =>
        runCli([
          "--from",
          from,
          "--input",
          `${FIXTURES}${file}`,
          ...flags,
          "--dry-run",
          "--json",
          "--errors-out",
          `${dir}/${name}/errors.csv`,
        ], { env });
      const here = await run(OFF, "1");
      const there = await run(ON, "2");
      assert.equal(there.code, here.code, there.stderr);
      const summary = (text: string) => {
        const { durationMs: _durationMs, ...rest } = JSON.parse(
          text.trim().split("\n").at(-1) ?? "",
        );
        return rest;
      };
      assert.deepEqual(summary(there.stdout), summary(here.stdout));
      assert.deepEqual(
        steady(there.stderr.replaceAll(`${dir}/2/`, `${dir}/1/`)),
        steady(here.stderr),
      );
      // Each error's line, without the time it was written at.
      const errorsOf = async (name: string) =>
        (await Deno.readTextFile(`${dir}/${name}/errors.csv`))
          .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>");
      const errors = await errorsOf("1");
      assert.ok(errors.split("\n").length > 3, "the fixture has row errors");
      assert.equal(await errorsOf("2"), errors);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a file that is not the format --from names: the same one line from the worker, exit 2", async () => {
  const args = ["--from", "firebase", "--input", `${FIXTURES}auth0_users.ndjson`, "--dry-run"];
  const here = await runCli(args, { env: OFF });
  const there = await runCli(args, { env: ON });
  assert.equal(here.code, 2);
  assert.equal(there.code, 2);
  assert.equal(there.stderr, here.stderr);
  assert.equal(there.stderr.trim().split("\n").length, 1);
});

Deno.test({
  name:
    "--from auth0 read in the worker: SIGKILL at random moments, resumed each time: every user once, every error once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    const path = `${dir}/users.ndjson`;
    const lines = [...auth0Lines({ count: 1_500, seed: 5 })].map((line) => line.user);
    await Deno.writeTextFile(path, `${lines.join("\n")}\n`);
    await using fake = await startFakeWorkOS({
      rateLimits: false,
      latency: { fixedMs: 2, jitterMs: 4 },
      faults: { failureRate: 0.03, dropRate: 0.01, ghostRate: 0.01 },
      seed: 16,
    });
    const common = ["--concurrency", "8", "--rate-limit", "100000", "--quiet", "--json"];
    // What one clean run gives, in-thread, against a fake of its own.
    await using clean = await startFakeWorkOS({ rateLimits: false });
    const reference = await runCli(
      ["--from", "auth0", "--input", path, "--checkpoint-dir", `${dir}/clean`, "--job-id", "a"]
        .concat(common),
      { env: { ...envOf(clean), ...OFF } },
    );
    assert.equal(reference.code, 1, reference.stderr);
    const expected = JSON.parse(reference.stdout.trim().split("\n").at(-1) as string);
    assert.ok(expected.failures > 20, "the export has users the target cannot take");

    const env = { ...envOf(fake), ...ON };
    const jobArgs = ["--checkpoint-dir", `${dir}/checkpoints`, ...common];
    const next = random(16);
    const kills = await killRepeatedly({
      sessions: 3,
      args: (session) => [
        ...(session === 0
          ? ["--from", "auth0", "--input", path, "--job-id", "a0"]
          : ["--resume", "a0"]),
        ...jobArgs,
      ],
      env,
      progress: () => fake.state.totalRequests,
      killAt: () => ({ afterMs: 50 + Math.floor(next() * 300) }),
    });
    assert.equal(kills, 3, "every session was killed mid-run");
    assert.ok(fake.state.userCount() < expected.successes, "the kills left work to do");
    const { code, stdout, stderr } = await runCli(["--resume", "a0", ...jobArgs], { env });
    assert.equal(code, 1, stderr);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string);
    assert.equal(fake.state.userCount(), clean.state.userCount());
    for (const user of clean.state.listUsers()) {
      const twin = fake.state.findUserByExternalId(user.externalId as string);
      assert.ok(twin, user.email);
      assert.equal(twin.email, user.email);
      assert.equal(twin.firstName, user.firstName);
      assert.equal(twin.lastName, user.lastName);
      assert.equal(twin.emailVerified, user.emailVerified);
      assert.deepEqual(twin.metadata, user.metadata);
    }
    const numbers = async (job: string) =>
      (await Deno.readTextFile(`${dir}/${job}/errors.jsonl`)).trim().split("\n")
        .map((line) => JSON.parse(line).recordNumber).sort((a, b) => a - b);
    assert.deepEqual(await numbers("checkpoints/a0"), await numbers("clean/a"));
    assert.equal(summary.totalRows, expected.totalRows);
    assert.equal(summary.successes, expected.successes);
    assert.equal(summary.failures, expected.failures);
    assert.equal(summary.usersCreated, expected.usersCreated);
    await Deno.remove(dir, { recursive: true });
  },
});
