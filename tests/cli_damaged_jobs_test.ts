/**
 * Damaged job files, through the real CLI: each case gets one line naming
 * the file, what is wrong and what is safe to do (never advice that deletes
 * data), exit 2, no stack trace, and nothing on disk is lost. One damaged
 * job shows as `damaged` in `jobs`; the others list normally.
 *
 * The tests run as root, for whom mode 000 does not stop a read: an
 * unreadable file is stood in for by a directory where the file belongs,
 * which no user can read as a file.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { type CliResult, runCli, tempDir, tempFile } from "./_cli.ts";
import { createJob, describeInput } from "../src/journal/journal.ts";
import { importUsers } from "../src/pipeline/import_users.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

/** One line on stderr, exit 2, no stack, no advice that deletes. */
function assertOneLine(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stdout + result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at |Stack backtrace|panicked/m);
  assert.doesNotMatch(lines[0], /workos-importer clean|--job-id|rm -|delete it/);
}

async function filesOf(dir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for await (const entry of Deno.readDir(dir)) {
    sizes[entry.name] = entry.isFile ? (await Deno.stat(`${dir}/${entry.name}`)).size : -1;
  }
  return sizes;
}

async function setUp(fake: FakeWorkOS, ids: string[]) {
  const dir = await tempDir();
  const checkpoints = `${dir}/checkpoints`;
  const csv = await tempFile("email\nann@damage.test\nnot-an-email\nbob@damage.test\n");
  for (const id of ids) {
    const result = await runCli(["--csv", csv, "--job-id", id, "--checkpoint-dir", checkpoints], {
      env: envOf(fake),
    });
    assert.equal(result.code, 1, result.stderr);
  }
  return { dir, checkpoints, csv };
}

Deno.test("a journal that is not a database: one line for status, resume and a new start; jobs lists the others", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const { checkpoints, csv } = await setUp(fake, ["good", "broken"]);
  await Deno.writeTextFile(`${checkpoints}/broken/journal.kv`, "not a database ".repeat(500));
  const before = await filesOf(`${checkpoints}/broken`);
  const where = ["--checkpoint-dir", checkpoints];
  const pattern =
    /^Error: Job "broken" is damaged: ".*broken\/journal\.kv" cannot be read as a Deno KV journal \(.+\): keep the job's directory as it is .*undo broken/;
  for (
    const args of [
      ["status", "broken", ...where],
      ["--resume", "broken", ...where],
      ["--csv", csv, "--job-id", "broken", ...where],
    ]
  ) {
    assertOneLine(await runCli(args, { env: envOf(fake) }), pattern);
  }
  const jobs = await runCli(["jobs", ...where], { env: envOf(fake) });
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, /^broken\s+damaged\s+-/m);
  assert.match(jobs.stdout, /^good\s+completed\s+3\/3\s+1\s/m);
  assert.match(jobs.stderr.trim(), /^Job "broken" is damaged: /);
  assert.deepEqual(await filesOf(`${checkpoints}/broken`), before, "nothing was changed");
});

Deno.test("a journal gone while its write-ahead log is still there is recognized, and never overwritten", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const { checkpoints, csv } = await setUp(fake, ["source"]);
  // While a process has the journal open, its data sits in journal.kv-wal:
  // copy the job then, and lose journal.kv of the copy.
  const kv = await Deno.openKv(`${checkpoints}/source/journal.kv`);
  await kv.set(["probe"], "in the write-ahead log");
  await Deno.mkdir(`${checkpoints}/walonly`);
  for (const name of ["journal.kv-wal", "journal.kv-shm", "errors.jsonl", "audit.jsonl.gz"]) {
    await Deno.copyFile(`${checkpoints}/source/${name}`, `${checkpoints}/walonly/${name}`);
  }
  kv.close();
  const before = await filesOf(`${checkpoints}/walonly`);
  assert.ok(before["journal.kv-wal"] > 0);
  const where = ["--checkpoint-dir", checkpoints];
  const pattern =
    /^Error: Job "walonly" is damaged: ".*walonly\/journal\.kv" is missing, but its write-ahead log "journal\.kv-wal" is still there and may hold the job's data: keep the job's directory as it is/;
  for (
    const args of [
      ["status", "walonly", ...where],
      ["--resume", "walonly", ...where],
      ["--csv", csv, "--job-id", "walonly", ...where],
    ]
  ) {
    assertOneLine(await runCli(args, { env: envOf(fake) }), pattern);
  }
  const jobs = await runCli(["jobs", ...where], { env: envOf(fake) });
  assert.match(jobs.stdout, /^walonly\s+damaged/m);
  assert.match(jobs.stdout, /^source\s+completed/m);
  assert.deepEqual(await filesOf(`${checkpoints}/walonly`), before, "the log was left alone");
});

Deno.test("a directory where a job file belongs (an unreadable file) gets its own line", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const { checkpoints } = await setUp(fake, ["dirjournal", "direrrors"]);
  await Deno.remove(`${checkpoints}/dirjournal/journal.kv`);
  await Deno.mkdir(`${checkpoints}/dirjournal/journal.kv`);
  await Deno.remove(`${checkpoints}/direrrors/errors.jsonl`);
  await Deno.mkdir(`${checkpoints}/direrrors/errors.jsonl`);
  const where = ["--checkpoint-dir", checkpoints];
  for (const [id, file] of [["dirjournal", "journal.kv"], ["direrrors", "errors.jsonl"]]) {
    const pattern = new RegExp(
      `^Error: Job "${id}" is damaged: ".*${id}/${file.replace(".", "\\.")}" is not a file`,
    );
    assertOneLine(await runCli(["status", id, ...where], { env: envOf(fake) }), pattern);
    assertOneLine(await runCli(["--resume", id, ...where], { env: envOf(fake) }), pattern);
  }
});

Deno.test("a checkpoint directory that is a file gets one line naming --checkpoint-dir", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const file = await tempFile("keep me\n", ".txt");
  const csv = await tempFile("email\nann@damage.test\n");
  const pattern =
    /^Error: Cannot (use checkpoint directory|write --checkpoint-dir) ".*": it is a file, not a directory/;
  for (
    const args of [
      ["--csv", csv, "--job-id", "j1", "--checkpoint-dir", file],
      ["--resume", "j1", "--checkpoint-dir", file],
      ["jobs", "--checkpoint-dir", file],
    ]
  ) {
    assertOneLine(await runCli(args, { env: envOf(fake) }), pattern);
  }
  assert.equal(await Deno.readTextFile(file), "keep me\n");
  assert.equal(fake.state.totalRequests, 0);
});

Deno.test("garbage in errors.jsonl: every other committed error reaches --errors-out, and the damage is said", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  await Deno.writeTextFile(csv, "email\nbad-one\nbad-two\nbad-three\nann@damage.test\n");
  // A first session commits three failed rows, then stops.
  const journal = await createJob("garbled", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: {},
  });
  const stop = new AbortController();
  await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 1,
    chunkSize: 1,
    journal,
    stop: stop.signal,
    onRow: (outcome) => outcome.recordNumber === 3 && stop.abort(),
  });
  await journal.finish("interrupted");
  const path = `${dir}/garbled/errors.jsonl`;
  const lines = (await Deno.readTextFile(path)).split("\n");
  assert.equal(lines.filter((line) => line !== "").length, 3);
  // The second record is garbled in place (same length, so still "committed").
  lines[1] = "#".repeat(lines[1].length);
  await Deno.writeTextFile(path, lines.join("\n"));

  const out = `${dir}/errors.csv`;
  const resumed = await runCli(
    ["--resume", "garbled", "--checkpoint-dir", dir, "--errors-out", out, "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(resumed.code, 2, resumed.stdout + resumed.stderr);
  const errors = resumed.stderr.trim().split("\n").filter((line) => line.startsWith("Error:"));
  assert.equal(errors.length, 1, resumed.stderr);
  assert.match(
    errors[0],
    /^Error: The job's error file ".*garbled\/errors\.jsonl" is damaged: line 2 is not an error record: every other record was copied to ".*errors\.csv"; the damaged line was left out, and the job's file was left as it is$/,
  );
  assert.doesNotMatch(resumed.stderr, /^\s+at /m);
  const copied = (await Deno.readTextFile(out)).trim().split("\n").slice(1);
  assert.deepEqual(copied.map((line) => line.split(",")[0]), ["bad-one", "bad-three"]);
  assert.equal(fake.state.findUserByEmail("ann@damage.test")?.email, "ann@damage.test");
  assert.equal((await Deno.readTextFile(path)).split("\n")[1], lines[1], "left as it was");
});
