/**
 * What the world does around a run, through the real CLI against the fake
 * WorkOS over HTTP: outages (503 pages, hanging requests, refused
 * connections) that the run waits out or stops at past `--max-outage`
 * (exit 75), a key refused mid-job (exit 2) or at the start, an unreachable
 * URL at the start, an organization that does not exist, and a bad output
 * path. No row ever fails for any of them, and a resume ends exact.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, type OutageMode, startFakeWorkOS } from "../testing.ts";
import { type CliResult, envOf, runCli, tempDir, tempFile } from "./_cli.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `rows` people over `orgs` organizations, and `invalid` rows with a bad email among them. */
function multiOrgCsv(rows: number, orgs: number, invalid = 0): string {
  const lines = ["email,first_name,org_external_id,org_name"];
  for (let i = 1; i <= rows; i++) {
    lines.push(`person${i}@outage.test,Person${i},org-${i % orgs},Org ${i % orgs}`);
    if (i <= invalid) lines.push(`broken-${i},Broken,org-${i % orgs},Org ${i % orgs}`);
  }
  return lines.join("\n") + "\n";
}

/** Every user has exactly one membership, in its own organization, and every organization is there once. */
function assertExact(fake: FakeWorkOS, rows: number, orgs: number): void {
  assert.equal(fake.state.userCount(), rows);
  assert.equal(fake.state.organizationCount(), orgs);
  assert.equal(fake.state.membershipCount(), rows);
  const external = new Map(fake.state.listOrganizations().map((org) => [org.id, org.externalId]));
  for (let i = 1; i <= rows; i++) {
    const user = fake.state.findUserByEmail(`person${i}@outage.test`);
    assert.ok(user, `person${i} missing`);
    const memberships = fake.state.membershipsOfUser(user.id);
    assert.equal(memberships.length, 1, user.email);
    assert.equal(external.get(memberships[0].organizationId), `org-${i % orgs}`);
  }
}

function writesSent(fake: FakeWorkOS): number {
  let writes = 0;
  for (const [key, count] of Object.entries(fake.state.requestCounts)) {
    if (!key.startsWith("GET ")) writes += count;
  }
  return writes;
}

function lastJson(stdout: string): Record<string, number> {
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

async function errorLines(path: string): Promise<Array<{ errorType: string }>> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

/**
 * Runs `schedule` against the fake once `startAt` users exist, while the CLI
 * runs: each step switches the outage mode and waits.
 */
function whenUsersReach(
  fake: FakeWorkOS,
  startAt: number,
  schedule: Array<[OutageMode, number]>,
): { started: () => number | undefined; done: Promise<void> } {
  let startedAt: number | undefined;
  const done = (async () => {
    const deadline = Date.now() + 60_000;
    while (fake.state.userCount() < startAt && Date.now() < deadline) await delay(5);
    startedAt = performance.now();
    for (const [mode, ms] of schedule) {
      fake.outage(mode);
      if (ms > 0) await delay(ms);
    }
  })();
  return { started: () => startedAt, done };
}

async function jobStatus(dir: string, jobId: string): Promise<Record<string, unknown>> {
  const result = await runCli(["status", jobId, "--checkpoint-dir", dir, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** A job importing {@linkcode multiOrgCsv} into the fake, and the runs of it. */
interface OutageJob {
  /** The checkpoint directory. */
  dir: string;
  /** Starts the job: `--csv <file> --job-id <id> --checkpoint-dir <dir> --quiet` and `args`. */
  start(args: string[]): Promise<CliResult>;
  /** Resumes it (`--json`). */
  resume(): Promise<CliResult>;
  /** What `status --json` says of it. */
  status(): Promise<Record<string, unknown>>;
}

async function outageJob(
  fake: FakeWorkOS,
  jobId: string,
  csv: { rows: number; orgs: number; invalid?: number },
): Promise<OutageJob> {
  const dir = await tempDir();
  const path = await tempFile(multiOrgCsv(csv.rows, csv.orgs, csv.invalid));
  const env = envOf(fake);
  return {
    dir,
    start: (args) =>
      runCli(["--csv", path, "--job-id", jobId, "--checkpoint-dir", dir, "--quiet", ...args], {
        env,
      }),
    resume: () =>
      runCli(["--resume", jobId, "--checkpoint-dir", dir, "--quiet", "--json"], { env }),
    status: () => jobStatus(dir, jobId),
  };
}

/** A test whose CLI runs outlive an outage (timers and sockets of the fake's outage modes). */
function outageTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

outageTest(
  "a 60 s outage mid-job at default settings: the run waits, carries on, ends exact; only invalid rows fail (exit 1)",
  async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const rows = 240;
    const orgs = 4;
    const job = await outageJob(fake, "long-outage", { rows, orgs, invalid: 3 });
    // 20 s of 503 pages, 20 s of requests that hang, 20 s of a closed port.
    const outage = whenUsersReach(fake, rows / 3, [
      ["unavailable", 20_000],
      ["hang", 20_000],
      ["refuse", 20_000],
      ["none", 0],
    ]);
    const result = await job.start(["--errors-out", `${job.dir}/errors.jsonl`, "--json"]);
    await outage.done;
    assert.equal(result.code, 1, result.stderr);
    assert.ok(fake.outageRequests > 0, "the outage met requests");
    assertExact(fake, rows, orgs);
    const summary = lastJson(result.stdout);
    assert.equal(summary.successes, rows);
    assert.equal(summary.failures, 3);
    assert.equal(summary.usersCreated, rows);
    assert.equal(summary.membershipsCreated, rows);
    assert.equal(summary.organizationsCreated, orgs);
    assert.deepEqual(
      (await errorLines(`${job.dir}/errors.jsonl`)).map((error) => error.errorType),
      ["validation", "validation", "validation"],
    );
    assert.match(
      result.stderr,
      /WorkOS unreachable since \d\d:\d\d:\d\d \(503 Service Unavailable, not a JSON answer\): retrying in \d+ s/,
    );
    assert.match(result.stderr, /WorkOS answers again after \d+m\d+s .*: carrying on/);
    assert.equal((await job.status()).status, "completed");
  },
);

outageTest("a short outage mid-job without invalid rows: waited out, exit 0, exact", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
  const rows = 150;
  const job = await outageJob(fake, "short-outage", { rows, orgs: 3 });
  const outage = whenUsersReach(fake, rows / 3, [["unavailable", 4_000], ["none", 0]]);
  const result = await job.start(["--json", "--rate-limit", "100"]);
  await outage.done;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(fake.outageRequests > 0);
  assertExact(fake, rows, 3);
  assert.equal(lastJson(result.stdout).failures, 0);
});

outageTest(
  "an outage longer than --max-outage stops the job with exit 75 and the resume command; --resume ends exact",
  async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
    const rows = 150;
    const job = await outageJob(fake, "past-max", { rows, orgs: 3, invalid: 2 });
    const outage = whenUsersReach(fake, rows / 3, [["refuse", 0]]);
    const first = await job.start(["--rate-limit", "100", "--max-outage", "3s"]);
    await outage.done;
    assert.equal(first.code, 75, first.stderr);
    assert.match(
      first.stderr,
      /Error: WorkOS unreachable since \d\d:\d\d:\d\d \(connection (refused|reset|closed)\) for longer than --max-outage 3s: stopped/,
    );
    assert.ok(
      first.stdout.includes(
        `Resume with: workos-importer --resume past-max --checkpoint-dir ${job.dir}`,
      ),
    );
    const stopped = await job.status();
    assert.equal(stopped.status, "interrupted");
    assert.ok(fake.state.userCount() < rows, "the run stopped before the end");
    // No row failed for the outage: only the invalid ones are in the job's errors.
    assert.ok((stopped.errors as number) <= 2);

    fake.outage("none");
    const resumed = await job.resume();
    assert.equal(resumed.code, 1, resumed.stderr);
    assertExact(fake, rows, 3);
    const summary = lastJson(resumed.stdout);
    assert.equal(summary.successes, rows);
    assert.equal(summary.failures, 2);
    assert.equal(summary.usersCreated, rows);
    assert.equal(summary.membershipsCreated, rows);
  },
);

outageTest(
  "without a job, past --max-outage: exit 75, the rows not attempted counted, a re-run adopts what exists",
  async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
    const rows = 120;
    const csv = await tempFile(multiOrgCsv(rows, 2));
    const outage = whenUsersReach(fake, rows / 3, [["hang", 0]]);
    const result = await runCli(
      [
        "--csv",
        csv,
        "--quiet",
        "--rate-limit",
        "100",
        "--max-outage",
        "2",
        "--request-timeout",
        "1",
      ],
      { env: envOf(fake) },
    );
    await outage.done;
    assert.equal(result.code, 75, result.stderr);
    assert.match(result.stderr, /for longer than --max-outage 2s: stopped/);
    const notAttempted = Number(result.stdout.match(/Rows not done: ([\d,]+)/)?.[1]);
    assert.ok(notAttempted > 0, result.stdout);
    assert.match(result.stdout, /SUMMARY \(stopped before the end\)/);
    assert.match(result.stdout, /Run the same command again to import the rest: it adopts/);

    fake.outage("none");
    const again = await runCli(["--csv", csv, "--quiet", "--json"], { env: envOf(fake) });
    assert.equal(again.code, 0, again.stderr);
    assertExact(fake, rows, 2);
  },
);

outageTest(
  "a key refused mid-job: exit 2 within 10 s, one line, no row failed; --resume with a working key ends exact",
  async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
    const rows = 200;
    const job = await outageJob(fake, "revoked", { rows, orgs: 3 });
    const refusal = whenUsersReach(fake, rows / 3, [["unauthorized", 0]]);
    const first = await job.start(["--rate-limit", "100"]);
    const endedAfter = performance.now() - (refusal.started() ?? 0);
    await refusal.done;
    assert.equal(first.code, 2, first.stderr);
    assert.ok(endedAfter < 10_000, `${endedAfter} ms after the key was refused`);
    assert.match(
      first.stderr,
      /Error: WorkOS refused the API key \(401\): check WORKOS_SECRET_KEY; rows after [\d,]+ were not attempted/,
    );
    // Not retried row by row: a handful of requests met the refusal.
    assert.ok(fake.outageRequests <= 20, `${fake.outageRequests} requests refused`);
    const stopped = await job.status();
    assert.notEqual(stopped.status, "completed");
    assert.equal(stopped.errors, 0);
    assert.equal(JSON.stringify(stopped).includes(fake.apiKey), false, "the key is not kept");

    fake.outage("none");
    const resumed = await job.resume();
    assert.equal(resumed.code, 0, resumed.stderr);
    assertExact(fake, rows, 3);
    const summary = lastJson(resumed.stdout);
    assert.equal(summary.usersCreated, rows);
    assert.equal(summary.membershipsCreated, rows);
    assert.equal(summary.failures, 0);
  },
);

Deno.test("a wrong key at the start: exit 2 within 10 s, no write sent", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(multiOrgCsv(20, 2));
  const started = performance.now();
  const result = await runCli(
    ["--csv", csv, "--job-id", "wrong-key", "--checkpoint-dir", dir, "--quiet"],
    { env: envOf(fake, "sk_test_not_the_key") },
  );
  assert.ok(performance.now() - started < 10_000);
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /Error: WorkOS refused the API key \(401\): check WORKOS_SECRET_KEY/,
  );
  assert.equal(result.stderr.includes("sk_test_not_the_key"), false);
  assert.equal(writesSent(fake), 0);
  assert.equal(fake.state.totalRequests, 1, "one read proved the key wrong");
});

for (const mode of ["refuse", "hang"] as const) {
  outageTest(
    `an unreachable API at the start (${mode}): exit 75 within 10 s with the URL, no write sent`,
    async () => {
      await using fake = await startFakeWorkOS({ rateLimits: false });
      fake.outage(mode);
      const csv = await tempFile(multiOrgCsv(20, 2));
      const started = performance.now();
      const result = await runCli(["--csv", csv, "--quiet"], { env: envOf(fake) });
      const elapsed = performance.now() - started;
      fake.outage("none");
      assert.ok(elapsed < 10_000, `${elapsed} ms`);
      assert.equal(result.code, 75, result.stderr);
      assert.ok(
        result.stderr.includes(`Error: Cannot reach WorkOS at "${fake.url}": `),
        result.stderr,
      );
      assert.match(result.stderr, /check --api-url \(or WORKOS_API_URL\)/);
      assert.equal(writesSent(fake), 0);
      assert.equal(fake.state.userCount(), 0);
    },
  );
}

Deno.test("--org-id that does not exist: the run stops before any user is created", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email\nann@example.com\nbob@example.com\n");
  const result = await runCli(["--csv", csv, "--org-id", "org_typo", "--quiet"], {
    env: envOf(fake),
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Organization not found: "org_typo": check --org-id/);
  assert.equal(result.stderr.includes("    at "), false, "no stack trace");
  assert.equal(fake.state.userCount(), 0);
  assert.equal(writesSent(fake), 0);
});

Deno.test("a bad --errors-out path in a job: exit 2 before the first request, naming --errors-out", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(multiOrgCsv(10, 2));
  const bad = `${dir}/no/such/dir/errors.csv`;
  const result = await runCli(
    ["--csv", csv, "--job-id", "bad-out", "--checkpoint-dir", `${dir}/jobs`, "--errors-out", bad],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(`Error: Cannot write "${bad}": `), result.stderr);
  assert.match(result.stderr, /--errors-out/);
  assert.equal(fake.state.totalRequests, 0);
  assert.equal(result.stderr.split("\n").filter(Boolean).length, 1, "one line");
});

Deno.test("a checkpoint directory that is a file: exit 2 naming --checkpoint-dir, nothing sent", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const file = await tempFile("not a directory", ".txt");
  const csv = await tempFile(multiOrgCsv(5, 1));
  const result = await runCli(
    ["--csv", csv, "--job-id", "j", "--checkpoint-dir", file],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(`Cannot write --checkpoint-dir "${file}"`), result.stderr);
  assert.equal(fake.state.totalRequests, 0);
});
