/**
 * Who created what, through the real CLI against the fake over HTTP: only
 * what a job's own create returned is the job's. People who sign up while a
 * job runs, and what another job made, are existing: never counted as
 * created, never in the audit log, never deleted by `undo`.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";
import type { AuditEntry } from "../src/report/audit_log.ts";
import { createJob, describeInput } from "../src/journal/journal.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

function auditOf(path: string): Promise<AuditEntry[]> {
  return readAuditLog(path);
}

function summaryOf(stdout: string): Record<string, number | string> {
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

/**
 * A proxy in front of the fake that can hold requests: while it is shut, a
 * request waits in it and reaches the fake once it opens. It lets a test stop
 * one process's traffic while another process starts, however slowly.
 */
function startGate(target: string) {
  let open: Promise<void> = Promise.resolve();
  let release = () => {};
  let forwarding = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      await open;
      const url = new URL(request.url);
      forwarding++;
      try {
        return await fetch(new URL(url.pathname + url.search, target), {
          method: request.method,
          headers: request.headers,
          body: request.body === null ? undefined : await request.arrayBuffer(),
        });
      } finally {
        forwarding--;
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    /** Requests it forwarded that the fake has not answered yet. */
    get forwarding(): number {
      return forwarding;
    },
    shut(): void {
      open = new Promise((resolve) => release = resolve);
    },
    open(): void {
      release();
    },
    async [Symbol.asyncDispose](): Promise<void> {
      release();
      await server.shutdown();
    },
  };
}

/** Waits until `done()` holds, polling; fails naming `what` after 60 s. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ROWS = 120;
const SIGN_UPS = [60, 80, 100].map((n) => `person${n}@signup.test`);

function signUpCsv(): string {
  const lines = ["email,first_name"];
  for (let n = 0; n < ROWS; n++) lines.push(`person${n}@signup.test,Person ${n}`);
  return lines.join("\n") + "\n";
}

for (const mode of ["job", "audit-out"] as const) {
  Deno.test(`three people who sign up during an import (${mode}) are existing, not audited, and survive undo`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
    const dir = await tempDir();
    const csv = await tempFile(signUpCsv());
    // They sign up on their own once the import has made 20 users: their
    // rows come later in the file.
    const signedUp = fake.signUpDuring(SIGN_UPS.map((email) => ({ email })), {
      afterUserCreates: 20,
    });
    const audit = mode === "job"
      ? `${dir}/checkpoints/signups/audit.jsonl.gz`
      : `${dir}/audit.jsonl`;
    const target = mode === "job"
      ? ["--job-id", "signups", "--checkpoint-dir", `${dir}/checkpoints`]
      : ["--audit-out", audit];
    const imported = await runCli(
      ["--csv", csv, ...target, "--concurrency", "2", "--json", "--quiet"],
      { env: envOf(fake) },
    );
    assert.equal(imported.code, 0, imported.stderr);
    const people = await signedUp;
    assert.equal(people.length, 3, "the sign-ups happened while the import ran");

    const summary = summaryOf(imported.stdout);
    assert.equal(summary.usersCreated, ROWS - 3);
    assert.equal(summary.usersExisting, 3, "people who signed up are existing");
    const entries = await auditOf(audit);
    assert.equal(entries.length, ROWS - 3);
    const audited = new Set(entries.map((entry) => entry.id));
    for (const person of people) assert.ok(!audited.has(person.id), `${person.email} not audited`);
    assert.ok(entries.every((entry) => entry.action === "user_created" && !entry.uncertain));

    const undone = await runCli(
      mode === "job"
        ? ["undo", "signups", "--checkpoint-dir", `${dir}/checkpoints`, "--quiet"]
        : ["undo", "--audit-file", audit, "--quiet"],
      { env: envOf(fake) },
    );
    assert.equal(undone.code, 0, undone.stdout + undone.stderr);
    assert.equal(fake.state.userCount(), 3, "undo deleted what the import made, only that");
    for (const person of people) {
      assert.equal(fake.state.findUserByEmail(person.email)?.id, person.id, person.email);
    }
  });
}

Deno.test("two jobs on one file at once: created counts add up to the truth, each object in one audit log", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    latency: { fixedMs: 1, jitterMs: 4 },
    seed: 3,
  });
  const dir = await tempDir();
  const lines = ["email,org_external_id,org_name"];
  const organizations = ["acme", "beta", "gamma"];
  for (let n = 0; n < 150; n++) {
    const organization = organizations[n % 3];
    lines.push(`twin${n}@jobs.test,${organization},${organization.toUpperCase()} Inc.`);
  }
  const csv = await tempFile(lines.join("\n") + "\n");
  const run = (jobId: string, rateLimit: number, apiUrl = fake.url) =>
    runCli(
      [
        "--csv",
        csv,
        "--job-id",
        jobId,
        "--checkpoint-dir",
        `${dir}/checkpoints`,
        "--concurrency",
        "4",
        "--rate-limit",
        String(rateLimit),
        "--json",
        "--quiet",
      ],
      { env: { ...envOf(fake), WORKOS_API_URL: apiUrl } },
    );
  // The second starts once the first has made users, and overtakes it. The
  // first waits at a gate while the second starts, until the second has made
  // a user: both make some, however long a loaded machine takes to start it.
  await using gate = startGate(fake.url);
  const firstRun = run("first", 25, gate.url);
  await until("the first job made 3 users", () => fake.state.userCount() >= 3);
  gate.shut();
  await until("the first job's requests in flight are answered", () => gate.forwarding === 0);
  const madeByFirst = fake.state.userCount();
  const secondRun = run("second", 250);
  await until("the second job made a user", () => fake.state.userCount() > madeByFirst);
  gate.open();
  const [first, second] = await Promise.all([firstRun, secondRun]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  const a = summaryOf(first.stdout);
  const b = summaryOf(second.stdout);

  assert.equal(fake.state.userCount(), 150);
  assert.equal(fake.state.membershipCount(), 150);
  assert.equal(fake.state.organizationCount(), 3);
  assert.equal(Number(a.usersCreated) + Number(b.usersCreated), 150);
  assert.equal(Number(a.usersExisting) + Number(b.usersExisting), 150);
  assert.equal(Number(a.membershipsCreated) + Number(b.membershipsCreated), 150);
  assert.equal(Number(a.organizationsCreated) + Number(b.organizationsCreated), 3);
  assert.ok(Number(a.usersCreated) > 0 && Number(b.usersCreated) > 0, "the jobs really raced");

  const logs = await Promise.all(
    ["first", "second"].map((job) => auditOf(`${dir}/checkpoints/${job}/audit.jsonl.gz`)),
  );
  const owners = new Map<string, string[]>();
  logs.forEach((entries, index) => {
    for (const entry of entries) {
      owners.set(entry.id, [...owners.get(entry.id) ?? [], index === 0 ? "first" : "second"]);
    }
  });
  const snapshot = fake.state.snapshot();
  const everything = [
    ...snapshot.users.map((user) => user.id),
    ...snapshot.memberships.map((membership) => membership.id),
    ...snapshot.organizations.map((organization) => organization.id),
  ];
  assert.equal(owners.size, everything.length, "every object is in an audit log");
  for (const id of everything) assert.equal(owners.get(id)?.length, 1, `${id} in exactly one log`);
});

Deno.test("a ghost success, made inside its own create's window, is the job's: undo deletes it", async () => {
  // Every create is applied but answered 500: each user is found by the
  // lookup after it, made inside that create's window.
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    faults: { ghostRate: 1, ghostStyle: "error" },
  });
  const dir = await tempDir();
  const csv = await tempFile("email\nann@ghost.test\nbob@ghost.test\n");
  const checkpoints = ["--checkpoint-dir", `${dir}/checkpoints`];
  const imported = await runCli(
    ["--csv", csv, "--job-id", "ghosts", ...checkpoints, "--json", "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(summaryOf(imported.stdout).usersCreated, 2);
  const entries = await auditOf(`${dir}/checkpoints/ghosts/audit.jsonl.gz`);
  assert.deepEqual(entries.map((entry) => [entry.email, entry.uncertain]).sort(), [
    ["ann@ghost.test", undefined],
    ["bob@ghost.test", undefined],
  ]);
  fake.configure({ faults: { ghostRate: 0 } });
  const undone = await runCli(["undo", "ghosts", ...checkpoints], { env: envOf(fake) });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("what a resumed row finds made while its session was cut off is uncertain: undo keeps it unless --include-uncertain", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  await Deno.writeTextFile(csv, "email\nann@cut.test\nbob@cut.test\n");
  // A session that died before its first commit (its status is "failed")...
  const journal = await createJob("cut", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
  });
  await journal.finish("failed", { error: "killed" });
  // ...may have made Ann before it died: no request window can tell.
  const ann = fake.state.addUser({ email: "ann@cut.test" });
  const checkpoints = ["--checkpoint-dir", dir];
  const resumed = await runCli(["--resume", "cut", ...checkpoints, "--json", "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(summaryOf(resumed.stdout).usersCreated, 2, "most likely the job's: counted");
  const entries = await auditOf(`${dir}/cut/audit.jsonl.gz`);
  assert.deepEqual(entries.map((entry) => [entry.email, entry.uncertain]).sort(), [
    ["ann@cut.test", true],
    ["bob@cut.test", undefined],
  ]);

  const kept = await runCli(["undo", "cut", ...checkpoints], { env: envOf(fake) });
  assert.equal(kept.code, 0, kept.stdout + kept.stderr);
  assert.match(kept.stdout, /• Kept user user_\w+ \(ann@cut\.test\): .*--include-uncertain/);
  assert.match(kept.stdout, /Uncertain, kept \(see --include-uncertain\): 1/);
  assert.deepEqual(fake.state.snapshot().users.map((user) => user.id), [ann.id]);

  const all = await runCli(["undo", "cut", ...checkpoints, "--include-uncertain"], {
    env: envOf(fake),
  });
  assert.equal(all.code, 0, all.stdout + all.stderr);
  assert.equal(fake.state.userCount(), 0);
});
