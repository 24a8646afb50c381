/**
 * A job written by an earlier build resumes with this one: the fixture in
 * tests/fixtures/jobs/journal_v2 is a job of 30 rows (two invalid among the
 * first 16) that a build from before the journal became a store
 * (commit b9b7e77) interrupted after row 16, with a torn error line a crash
 * left behind; its audit log is the plain `audit.jsonl` of that build.
 */

import assert from "node:assert/strict";
import { importUsers, resumeJob } from "../mod.ts";
import { startFakeWorkOS } from "../testing.ts";
import { readAuditLog } from "../src/report/audit_log.ts";
import { envOf, runCli, tempDir } from "./_cli.ts";

const FIXTURE = new URL("./fixtures/jobs/journal_v2/", import.meta.url).pathname;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("a job an earlier build interrupted resumes where it stopped and ends as one clean run", async () => {
  const dir = await tempDir();
  await copyDir(FIXTURE, dir);
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const journal = await resumeJob("compat-v2", {
    checkpointDir: `${dir}/checkpoints`,
    inputPath: `${dir}/users.csv`,
  });
  let result;
  try {
    assert.deepEqual(journal.resumeFrom, { byteOffset: 425, recordNumber: 16 });
    result = await importUsers(journal.job.input.path, {
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      journal,
      auditLog: journal.paths.audit,
      concurrency: 1,
    });
    await journal.finish(result.interrupted ? "interrupted" : "completed");
  } finally {
    await journal.finish("interrupted");
  }
  // The whole job's numbers: the earlier session's 16 rows and this one's 14.
  assert.equal(result.status, "completed_with_errors");
  assert.equal(result.totalRows, 30);
  assert.equal(result.successes, 26);
  assert.equal(result.failures, 4);
  assert.equal(result.usersCreated, 26);
  assert.equal(journal.progress.status, "completed");
  // The last row ends the file (797 bytes).
  assert.deepEqual(journal.progress.watermark, { recordNumber: 30, byteEnd: 797 });
  // Only rows after the watermark ran (this fake never saw the first 16).
  assert.equal(fake.state.userCount(), 12);
  for (let i = 1; i <= 16; i++) {
    assert.equal(fake.state.findUserByEmail(`user${i}@compat.test`), undefined, `row ${i}`);
  }
  for (const i of [17, 20, 29, 30]) {
    assert.ok(fake.state.findUserByEmail(`user${i}@compat.test`), `row ${i}`);
  }
  // Every failed row once; the torn line of the cut-off batch is gone.
  const errors = (await Deno.readTextFile(journal.paths.errors)).trimEnd().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(errors.map((error) => error.recordNumber), [7, 14, 21, 28]);
  // The earlier build's lines and this one's, one entry a user either way.
  const audit = await readAuditLog(journal.paths.audit);
  assert.equal(audit.filter((entry) => entry.action === "user_created").length, 26);
});

Deno.test("the claims an earlier build wrote are found, and the job continues in this build's format", async () => {
  const dir = await tempDir();
  await copyDir(FIXTURE, dir);
  const journal = await resumeJob("compat-v2", {
    checkpointDir: `${dir}/checkpoints`,
    inputPath: `${dir}/users.csv`,
  });
  try {
    // Rows 1 and 16 created their users in that session (JSON-line claims).
    assert.deepEqual(await journal.claimsOf("user_01M8S47HKPMHZRB700C4KB9JJV"), [
      { recordNumber: 1, user: "created", membershipCreated: false },
    ]);
    assert.deepEqual(await journal.claimsOf("user_01M8S47HMGMHZRB700C4KB9JK8"), [
      { recordNumber: 16, user: "created", membershipCreated: false },
    ]);
    assert.deepEqual(await journal.claimsOf("user_01M8S47HMGMHZRB700C4KB9JK9"), []);
    // Version 4 from here on: a build that reads only version 2 must refuse it.
    assert.equal(journal.job.version, 4);
  } finally {
    await journal.finish("interrupted");
  }
});

Deno.test("a job an earlier build started goes on in its plain audit.jsonl, and undo takes back what it holds", async () => {
  const dir = await tempDir();
  await copyDir(FIXTURE, dir);
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const where = ["--checkpoint-dir", `${dir}/checkpoints`];
  const resumed = await runCli(
    ["--resume", "compat-v2", "--csv", `${dir}/users.csv`, ...where, "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.equal(fake.state.userCount(), 12);
  const job = `${dir}/checkpoints/compat-v2`;
  // No second log beside it: the job's whole history stays in one file, in one form.
  await assert.rejects(Deno.stat(`${job}/audit.jsonl.gz`), Deno.errors.NotFound);
  const lines = (await Deno.readTextFile(`${job}/audit.jsonl`)).trimEnd().split("\n");
  assert.equal(lines.filter((line) => line.includes('"uc"')).length, 12, "this build's lines");
  const undone = await runCli(["undo", "compat-v2", ...where, "--quiet"], { env: envOf(fake) });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.equal(fake.state.userCount(), 0);
});
