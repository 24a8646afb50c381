/**
 * A checkpointed import through the library, as a user's own test suite
 * drives it: stop a job part-way, resume it, and see job-wide progress and a
 * job-wide summary.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { importUsers } from "../src/pipeline/import_users.ts";
import type { ImportProgress } from "../src/pipeline/import_users.ts";
import { createJob, describeInput, resumeJob } from "../src/journal/journal.ts";
import { ProgressReporter } from "../src/report/progress.ts";
import { tempDir } from "./_cli.ts";

Deno.test("a resumed import reports job-wide progress, ETA and summary", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  let text = "email,org_external_id,org_name\n";
  for (let i = 1; i <= 60; i++) text += `user${i}@progress.test,org-${i % 4},Org ${i % 4}\n`;
  await Deno.writeTextFile(csv, text);

  const journal = await createJob("lib", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: { concurrency: 2 },
  });
  const stop = new AbortController();
  let rows = 0;
  const first = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 2,
    chunkSize: 5,
    journal,
    stop: stop.signal,
    onRow: () => {
      if (++rows >= 20) stop.abort();
    },
  });
  await journal.finish(first.interrupted ? "interrupted" : "completed");
  assert.equal(first.interrupted, true);
  const doneBefore = first.totalRows;
  assert.ok(doneBefore >= 20 && doneBefore < 60, `${doneBefore} rows in the first session`);

  const resumed = await resumeJob("lib", { checkpointDir: dir });
  const progress: ImportProgress[] = [];
  const lines: string[] = [];
  let now = 0;
  const reporter = new ProgressReporter({
    write: (line) => lines.push(line),
    isTerminal: false,
    intervalMs: 1,
    now: () => now,
    rowsDoneAtStart: resumed.tallyAtStart.totalRows,
  });
  const result = await importUsers(resumed.job.input.path, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 2,
    chunkSize: 5,
    journal: resumed,
    onProgress: (numbers) => {
      progress.push(numbers);
      now += 1_000;
      reporter.update({
        rowsDone: numbers.rowsDone,
        totalRows: resumed.job.input.totalRows,
        usersDone: numbers.usersDone,
        writes: numbers.writes,
        writesPerSecondLimit: 50,
        rateLimited: 0,
        retries: 0,
      });
    },
  });
  await resumed.finish("completed");

  // Job-wide from the first update on: the earlier session's rows are counted.
  assert.ok(progress[0].rowsDone > doneBefore);
  assert.equal(progress.at(-1)?.rowsDone, 60);
  assert.equal(progress.at(-1)?.usersDone, 60);
  assert.match(lines[0], new RegExp(`^Progress: \\d+/60 rows \\(\\d+\\.\\d%\\) .* ETA `));
  // The summary covers both sessions.
  assert.equal(result.totalRows, 60);
  assert.equal(result.usersCreated, 60);
  assert.equal(result.membershipsCreated, 60);
  assert.equal(result.organizationsCreated, 4);
  assert.equal(fake.state.userCount(), 60);
  assert.ok(result.durationMs >= first.durationMs);
});
