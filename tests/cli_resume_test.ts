/**
 * Checkpointed jobs as a user drives them: Ctrl+C and resume, a failed job
 * resumed once its cause is fixed, a changed input refused, a bare
 * `--resume`, and the `jobs`, `status` and `clean` commands, all through the
 * real CLI against the fake WorkOS.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { outputOf, runCli, spawnCli, tempDir, tempFile } from "./_cli.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A CSV of `rows` users, every `invalidEvery`th with a bad email. */
function usersCsv(rows: number, options: { invalidEvery?: number; org?: boolean } = {}): string {
  let text = options.org ? "email,first_name,org_external_id,org_name\n" : "email,first_name\n";
  for (let i = 1; i <= rows; i++) {
    const email = options.invalidEvery && i % options.invalidEvery === 0
      ? `broken${i}.resume.test`
      : `user${i}@resume.test`;
    text += options.org ? `${email},User ${i},org-${i % 3},Org ${i % 3}\n` : `${email},User ${i}\n`;
  }
  return text;
}

Deno.test({
  name:
    "Ctrl+C commits the journal, prints the resume command and exits 130; the resume ends exact",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 15 } });
    const dir = await tempDir();
    const csv = await tempFile(usersCsv(600, { invalidEvery: 50, org: true }));
    const checkpoints = `${dir}/jobs dir`;
    const child = spawnCli(
      [
        "--csv",
        csv,
        "--job-id",
        "sig",
        "--checkpoint-dir",
        checkpoints,
        "--concurrency",
        "4",
        "--rate-limit",
        "100000",
        "--errors-out",
        `${dir}/errors.csv`,
        "--quiet",
      ],
      { env: envOf(fake) },
    );
    const deadline = Date.now() + 20_000;
    while (fake.state.userCount() < 60 && Date.now() < deadline) await delay(10);
    child.kill("SIGINT");
    const { code, stdout, stderr } = await outputOf(child);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Stopping: no new rows/);
    assert.match(stdout, /Interrupted: rows in flight were finished/);
    assert.ok(
      stdout.includes(
        `Resume with: workos-importer --resume sig --checkpoint-dir '${checkpoints}'`,
      ),
      stdout,
    );
    const usersAtStop = fake.state.userCount();
    assert.ok(usersAtStop < 588, "stopped early");

    const status = await runCli(["status", "sig", "--json", "--checkpoint-dir", checkpoints]);
    assert.equal(status.code, 0, status.stderr);
    const job = JSON.parse(status.stdout);
    assert.equal(job.status, "interrupted");
    assert.equal(job.active, false);
    assert.equal(job.totalRows, 600);
    // Every row in flight was finished and committed: the journal knows every user made.
    assert.equal(job.totals.usersCreated, usersAtStop);
    assert.equal(job.sessions, 1);

    const resumed = await runCli(
      [
        "--resume",
        "sig",
        "--checkpoint-dir",
        checkpoints,
        "--quiet",
        "--json",
        "--rate-limit",
        "1000",
      ],
      { env: envOf(fake) },
    );
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, /Resuming job "sig": after row [\d,]+ of 600/);
    const summary = JSON.parse(resumed.stdout);
    assert.equal(summary.totalRows, 600);
    assert.equal(summary.successes, 588);
    assert.equal(summary.failures, 12);
    assert.equal(summary.usersCreated, 588);
    assert.equal(summary.membershipsCreated, 588);
    assert.equal(summary.organizationsCreated, 3);
    assert.equal(fake.state.userCount(), 588);
    assert.equal(fake.state.membershipCount(), 588);
    // --errors-out holds the whole job's errors, each once.
    const errorRows = (await Deno.readTextFile(`${dir}/errors.csv`)).trim().split("\n").slice(1);
    assert.equal(errorRows.length, 12);
    assert.equal(new Set(errorRows).size, 12);
    const lines = (await Deno.readTextFile(`${checkpoints}/sig/errors.jsonl`)).trim().split("\n");
    assert.equal(lines.length, 12);
  },
});

Deno.test({
  name:
    "a second Ctrl+C abandons requests in flight: their rows are not failed, they run on resume",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 250 } });
    const dir = await tempDir();
    const csv = await tempFile(usersCsv(200, { invalidEvery: 20, org: true }));
    const child = spawnCli(
      [
        "--csv",
        csv,
        "--job-id",
        "twice",
        "--checkpoint-dir",
        dir,
        "--concurrency",
        "8",
        "--rate-limit",
        "100000",
        "--quiet",
        "--json",
      ],
      { env: envOf(fake) },
    );
    const deadline = Date.now() + 20_000;
    while (fake.state.userCount() < 10 && Date.now() < deadline) await delay(10);
    child.kill("SIGINT");
    await delay(100);
    child.kill("SIGINT");
    const { code, stdout, stderr } = await outputOf(child);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Abandoning requests in flight/);
    assert.match(stderr, /Interrupted: requests in flight were abandoned/);
    const stopped = JSON.parse(stdout);
    assert.equal(stopped.status, "interrupted");
    // Only rows that really failed are failures: the invalid ones among those committed.
    const errorLines = (await Deno.readTextFile(`${dir}/twice/errors.jsonl`)).trim();
    for (const line of errorLines ? errorLines.split("\n") : []) {
      assert.equal(JSON.parse(line).errorType, "validation");
    }

    fake.configure({ latency: { fixedMs: 0 } });
    const resumed = await runCli(
      ["--resume", "twice", "--checkpoint-dir", dir, "--quiet", "--json"],
      { env: envOf(fake) },
    );
    assert.equal(resumed.code, 1, resumed.stderr);
    const summary = JSON.parse(resumed.stdout);
    assert.equal(summary.totalRows, 200);
    assert.equal(summary.failures, 10);
    assert.equal(summary.usersCreated, 190);
    assert.equal(summary.membershipsCreated, 190);
    assert.equal(summary.organizationsCreated, 3);
    assert.equal(fake.state.userCount(), 190);
    assert.equal(fake.state.membershipCount(), 190);
    const lines = (await Deno.readTextFile(`${dir}/twice/errors.jsonl`)).trim().split("\n");
    assert.equal(lines.length, 10);
  },
});

Deno.test({
  name: "memberships an abandoned session sent that land after the resume began count as the job's",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // WorkOS applies a request it received although the client gave up on
    // it: here each lands 2.5 s after it was sent, after the resume opened
    // its journal and before the resume looks at its rows.
    await using fake = await startFakeWorkOS({ rateLimits: false });
    for (let i = 0; i < 3; i++) {
      fake.state.addOrganization({ name: `Org ${i}`, externalId: `org-${i}` });
    }
    const dir = await tempDir();
    const csv = await tempFile(usersCsv(40, { org: true }));
    const child = spawnCli(
      ["--csv", csv, "--job-id", "late", "--checkpoint-dir", dir, "--concurrency", "8"]
        .concat(["--rate-limit", "100000", "--quiet", "--json"]),
      { env: envOf(fake) },
    );
    const deadline = Date.now() + 30_000;
    // A quick preflight; then each request takes 2.5 s.
    while (fake.state.totalRequests === 0 && Date.now() < deadline) await delay(1);
    fake.configure({ latency: { fixedMs: 2_500 } });
    // The first users exist: their memberships are being sent.
    while (fake.state.userCount() < 1 && Date.now() < deadline) await delay(10);
    await delay(200);
    child.kill("SIGINT");
    await delay(100);
    child.kill("SIGINT");
    const stopped = await outputOf(child);
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /Abandoning requests in flight/);
    const landedBefore = fake.state.membershipCount();

    // The resume's first answer comes after the abandoned memberships landed.
    fake.configure({ latency: { fixedMs: 4_000 } });
    const resume = spawnCli(["--resume", "late", "--checkpoint-dir", dir, "--quiet", "--json"], {
      env: envOf(fake),
    });
    const requestsBefore = fake.state.totalRequests;
    while (fake.state.totalRequests === requestsBefore && Date.now() < deadline) await delay(10);
    fake.configure({ latency: { fixedMs: 0 } });
    const resumed = await outputOf(resume);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout);
    // Some memberships landed only after the first session had gone.
    assert.ok(landedBefore < 8, `${landedBefore} memberships existed when the first session ended`);
    assert.equal(fake.state.userCount(), 40);
    assert.equal(fake.state.membershipCount(), 40);
    assert.equal(summary.usersCreated, 40);
    assert.equal(summary.membershipsCreated, 40);
  },
});

Deno.test("a failed job resumes once its cause is fixed; flags that change the job are refused", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(usersCsv(20));
  const first = await runCli(
    ["--csv", csv, "--job-id", "fix", "--org-external-id", "acme", "--checkpoint-dir", dir],
    { env: envOf(fake) },
  );
  assert.equal(first.code, 1);
  assert.match(first.stderr, /Job "fix" stopped on the error below: .* --resume fix/);
  assert.match(first.stderr, /Error: Organization not found: "acme"/);
  assert.equal(fake.state.userCount(), 0);

  const changed = await runCli(
    ["--resume", "fix", "--org-external-id", "beta", "--checkpoint-dir", dir],
    { env: envOf(fake) },
  );
  assert.equal(changed.code, 2);
  assert.match(
    changed.stderr,
    /^Error: Cannot resume job "fix": --org-external-id "beta" differs from how it started \(the job's is "acme"\)/,
  );

  const organization = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const resumed = await runCli(
    ["--resume", "fix", "--checkpoint-dir", dir, "--concurrency", "3", "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /Single-org mode: every user joins organization "org_/);
  assert.match(resumed.stdout, /Users created: 20/);
  assert.equal(
    fake.state.membershipsOfUser(fake.state.listUsers()[0].id)[0].organizationId,
    organization.id,
  );
  assert.match(resumed.stdout, /Job "fix" completed/);

  const again = await runCli(["--resume", "fix", "--checkpoint-dir", dir], { env: envOf(fake) });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^Error: Cannot resume job "fix": it completed already/);
});

Deno.test("a changed input stops the resume unless --allow-changed-input is given", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(usersCsv(10));
  const args = [
    "--csv",
    csv,
    "--job-id",
    "edit",
    "--org-external-id",
    "acme",
    "--checkpoint-dir",
    dir,
  ];
  assert.equal((await runCli(args, { env: envOf(fake) })).code, 1);
  fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  await Deno.writeTextFile(csv, "someone.else@resume.test,Else\n", { append: true });

  const refused = await runCli(["--resume", "edit", "--checkpoint-dir", dir], { env: envOf(fake) });
  assert.equal(refused.code, 2);
  assert.equal(
    refused.stderr.trim(),
    'Error: Cannot resume job "edit": the input file changed: pass --allow-changed-input to continue anyway',
  );
  assert.equal(fake.state.userCount(), 0);

  const allowed = await runCli(
    ["--resume", "edit", "--checkpoint-dir", dir, "--allow-changed-input", "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /Warning: The input ".*" changed since job "edit" started/);
  assert.equal(fake.state.userCount(), 11);
});

Deno.test("bare --resume continues the most recent unfinished job; jobs, status and clean manage them", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const older = await tempFile(usersCsv(3));
  const newer = await tempFile(usersCsv(5).replaceAll("user", "other"));
  for (const [id, csv] of [["older", older], ["newer", newer]]) {
    const run = await runCli(
      ["--csv", csv, "--job-id", id, "--org-external-id", "acme", "--checkpoint-dir", dir],
      { env: envOf(fake) },
    );
    assert.equal(run.code, 1, run.stderr);
    await delay(5);
  }
  const listed = await runCli(["jobs", "--checkpoint-dir", dir]);
  assert.equal(listed.code, 0, listed.stderr);
  const table = listed.stdout.trim().split("\n");
  assert.match(table[0], /^ID\s+STATUS\s+ROWS\s+ERRORS\s+STARTED\s+UPDATED$/);
  assert.match(table[1], /^newer\s+failed\s+0\/5\s+0\s+\d{4}-\d\d-\d\dT/);
  assert.match(table[2], /^older\s+failed\s+0\/3\s+0\s/);

  fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const latest = await runCli(["--resume", "--checkpoint-dir", dir, "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(latest.code, 0, latest.stderr);
  assert.match(latest.stderr, /Resuming job "newer"/);
  assert.equal(fake.state.userCount(), 5);
  const next = await runCli(["--resume", "--checkpoint-dir", dir, "--quiet"], { env: envOf(fake) });
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /Resuming job "older"/);
  const none = await runCli(["--resume", "--checkpoint-dir", dir], { env: envOf(fake) });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Error: Cannot resume: every job in ".*" is complete or running/);

  const status = await runCli(["status", "older", "--checkpoint-dir", dir, "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const job = JSON.parse(status.stdout);
  assert.equal(job.id, "older");
  assert.equal(job.status, "completed");
  assert.equal(job.rowsDone, 3);
  assert.equal(job.totalRows, 3);
  assert.equal(job.sessions, 2);
  assert.equal(job.totals.usersCreated, 3);
  assert.equal(job.options.organizationExternalId, "acme");
  assert.equal(job.input.sha256.length, 64);
  assert.equal(job.errorsFile, `${dir}/older/errors.jsonl`);
  const text = await runCli(["status", "older", "--checkpoint-dir", dir]);
  assert.match(text.stdout, /Status: completed/);
  assert.match(text.stdout, /Rows done: 3\/3 \(100\.0%\)/);

  const cleaned = await runCli(["clean", "older", "--checkpoint-dir", dir]);
  assert.equal(cleaned.code, 0, cleaned.stderr);
  assert.match(cleaned.stdout, /^Removed job "older"/);
  await assert.rejects(() => Deno.stat(`${dir}/older`), Deno.errors.NotFound);
  const after = await runCli(["jobs", "--checkpoint-dir", dir, "--json"]);
  assert.deepEqual(JSON.parse(after.stdout).map((j: { id: string }) => j.id), ["newer"]);
  const gone = await runCli(["status", "older", "--checkpoint-dir", dir]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /^Error: Cannot show job "older": there is no such job/);
  const twice = await runCli(["clean", "older", "--checkpoint-dir", dir]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^Error: Cannot clean job "older": there is no such job/);
  const empty = await runCli(["jobs", "--checkpoint-dir", `${dir}/nothing-here`]);
  assert.match(empty.stdout, /^No jobs in /);
});

Deno.test("jobs that cannot be checkpointed are one line with exit code 2", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(usersCsv(2));
  const cases: Array<[string[], RegExp]> = [
    [["--csv", "-", "--job-id", "j"], /Cannot checkpoint standard input/],
    [["--csv", csv, "--job-id", "j", "--dry-run"], /Cannot checkpoint a dry run/],
    [["--csv", csv, "--job-id", "../up"], /Cannot use job id "\.\.\/up"/],
    [["--resume", "missing"], /Cannot resume job "missing": there is no such job/],
    [["--job-id", "j"], /Cannot import: no input given/],
    [["--resume", "a", "--job-id", "b"], /Cannot use --job-id "b" with --resume "a"/],
    [["status"], /The "status" command takes one job id/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli([...args, "--checkpoint-dir", dir], {
      env: envOf(fake),
      stdin: "",
    });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
  const done = await runCli(["--csv", csv, "--job-id", "j", "--checkpoint-dir", dir], {
    env: envOf(fake),
  });
  assert.equal(done.code, 0, done.stderr);
  const again = await runCli(["--csv", csv, "--job-id", "j", "--checkpoint-dir", dir], {
    env: envOf(fake),
  });
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /Cannot start job "j": it exists already .*: resume it with --resume j/,
  );
});
