/**
 * The import's chain of web streams keeps the pipeline's guarantees: a run
 * condition a sink throws stops the run and no later batch is handed on; a
 * stop leaves every row it did not finish above the watermark; a dry run's
 * watermark ends at the input's last byte; a record is admitted (and so
 * looked up on resume) only as it starts. Real imports against the fake.
 */

import assert from "node:assert/strict";
import { importUsers, RunStopError } from "../mod.ts";
import { startFakeWorkOS } from "../testing.ts";
import { tempDir, tempFile } from "./_cli.ts";
import { createJob, describeInput, resumeJob } from "../src/journal/journal.ts";

function usersCsv(count: number, domain: string): string {
  const lines = ["email"];
  for (let i = 1; i <= count; i++) lines.push(`user${i}@${domain}`);
  return lines.join("\n") + "\n";
}

Deno.test("a run condition from a sink stops the run, and no batch after the failed one is handed on", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(usersCsv(60, "sink.test"));
  let calls = 0;
  const result = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 4,
    chunkSize: 5,
    onRow: () => {
      if (++calls === 12) throw new RunStopError("local_io", 'Cannot write "x": disk full');
    },
  });
  assert.equal(result.stopped?.kind, "local_io");
  assert.equal(result.interrupted, true);
  assert.equal(calls, 12, "the batch that failed was the last one handed on");
  assert.ok(fake.state.userCount() < 60, "no new row started after the stop");
});

Deno.test("a stop leaves every row it did not finish above the watermark", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 5 } });
  const csv = await tempFile(usersCsv(200, "stop.test"));
  const stop = new AbortController();
  const finished = new Set<number>();
  const result = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency: 3,
    chunkSize: 1,
    stop: stop.signal,
    onRow: (outcome) => {
      finished.add(outcome.recordNumber);
      if (finished.size === 5) stop.abort();
    },
  });
  assert.equal(result.interrupted, true);
  assert.ok(finished.size < 200, "the stop ended the run early");
  assert.equal(result.totalRows, finished.size);
  const watermark = result.watermark?.recordNumber ?? 0;
  assert.ok(watermark >= 1);
  for (let n = 1; n <= watermark; n++) {
    assert.ok(finished.has(n), `row ${n} is below the watermark`);
  }
  assert.equal(finished.has(watermark + 1), false, "the row after the watermark did not finish");
});

Deno.test("a dry run's watermark is the input's last record and last byte", async () => {
  const text = usersCsv(3_000, "dry.test");
  const csv = await tempFile(text);
  const result = await importUsers(csv, { dryRun: true, chunkSize: 7 });
  assert.equal(result.plan?.validRows, 3_000);
  assert.deepEqual(result.watermark, {
    recordNumber: 3_000,
    byteEnd: new TextEncoder().encode(text).length,
  });
});

Deno.test("a stopped job's resume looks up only the rows it had admitted: never more than one record ahead of the rows started", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 2 } });
  const dir = await tempDir();
  const csv = `${dir}/users.csv`;
  // One input batch: a stage admitting whole batches would admit all 300.
  await Deno.writeTextFile(csv, usersCsv(300, "admit.test"));
  const concurrency = 3;
  const journal = await createJob("admit", {
    checkpointDir: dir,
    input: await describeInput(csv),
    options: { concurrency },
  });
  const stop = new AbortController();
  let finished = 0;
  const first = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency,
    chunkSize: 5,
    journal,
    stop: stop.signal,
    onRow: () => {
      if (++finished === 20) stop.abort();
    },
  });
  await journal.finish("interrupted");
  assert.equal(first.interrupted, true);
  const created = fake.state.userCount();
  const lookupsBefore = fake.state.requestCounts["GET /user_management/users"] ?? 0;

  const resumed = await resumeJob("admit", { checkpointDir: dir });
  const second = await importUsers(csv, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    concurrency,
    chunkSize: 5,
    journal: resumed,
  });
  await resumed.finish("completed");
  assert.equal(fake.state.userCount(), 300, "every row once");
  assert.equal(second.totalRows, 300, "job-wide");
  const lookups = (fake.state.requestCounts["GET /user_management/users"] ?? 0) - lookupsBefore;
  // Rows admitted but not finished before the stop: at most the one that
  // waited for a slot (rows in flight finish before a stop ends the run).
  assert.ok(lookups <= concurrency, `${lookups} lookups on resume after ${created} users`);
});

Deno.test("a failed row's timestamp is the time it was validated, to the millisecond, however many rows fail in one", async () => {
  const { validateRecords } = await import("../src/pipeline/stages/validate_records.ts");
  const bad = (recordNumber: number) => ({
    recordNumber,
    fields: { email: "not-an-email" },
    byteEnd: recordNumber * 10,
  });
  const stamps = async (from: number, count: number) => {
    const before = Date.now();
    const batch = Array.from({ length: count }, (_, i) => bad(from + i));
    const [checked] = await Array.fromAsync(
      ReadableStream.from([batch]).pipeThrough(validateRecords()),
    );
    const after = Date.now();
    const times = checked.map((record) => record.outcome?.error?.timestamp ?? "");
    for (const time of times) {
      const at = Date.parse(time);
      assert.equal(new Date(at).toISOString(), time);
      assert.ok(at >= before && at <= after, `${time} is not within the batch's validation`);
    }
    return times;
  };
  const first = await stamps(1, 1_000);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = await stamps(1_001, 3);
  const last = first[first.length - 1];
  assert.ok(second[0] > last, `${second[0]} after ${last}`);
});
