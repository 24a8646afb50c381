/**
 * The outcome sinks on their own: the fan-out's order and failure rules, a
 * job's error file cut back and measured, progress counted job-wide, and the
 * journal keeping what it is given (it neither counts nor writes errors).
 */

import assert from "node:assert/strict";
import {
  callbackSink,
  OutcomeFanOut,
  type OutcomeSink,
  type RowOutcome,
} from "../src/outcome/mod.ts";
import { openErrorFileSink } from "../src/report/error_file_sink.ts";
import { ProgressSink } from "../src/report/progress_sink.ts";
import { createJob, describeInput } from "../src/journal/journal.ts";
import { totalsOf } from "../src/journal/_records.ts";
import { tempDir } from "./_cli.ts";

function failed(n: number): RowOutcome {
  return {
    recordNumber: n,
    byteEnd: n * 10,
    email: `user${n}@sinks.test`,
    error: {
      recordNumber: n,
      email: `user${n}@sinks.test`,
      errorType: "user_create",
      errorMessage: "Cannot create user: email not available",
      timestamp: "2025-01-01T00:00:00.000Z",
    },
  };
}

function failing(name: string, calls: string[]): OutcomeSink {
  return {
    write: () => {
      calls.push(`write ${name}`);
      return Promise.reject(new Error(`${name} is full`));
    },
    close: () => {
      calls.push(`close ${name}`);
      return Promise.reject(new Error(`${name} cannot close`));
    },
  };
}

Deno.test("the fan-out writes each batch to its sinks in order, stops at a failure, and closes all", async () => {
  const calls: string[] = [];
  const recording = (name: string): OutcomeSink => ({
    write: (batch) => {
      calls.push(`write ${name} ${batch.length}`);
      return Promise.resolve();
    },
    close: () => {
      calls.push(`close ${name}`);
      return Promise.resolve();
    },
  });
  const sinks = new OutcomeFanOut([recording("errors"), undefined, recording("audit")]);
  sinks.add(failing("journal", calls));
  sinks.add(recording("progress"));
  await sinks.write([], undefined).catch(() => {});
  await assert.rejects(sinks.write([failed(1)], undefined), /journal is full/);
  const failures = await sinks.closeAll();
  assert.deepEqual(calls, [
    "write errors 0",
    "write audit 0",
    "write journal",
    "write errors 1",
    "write audit 1",
    "write journal",
    "close errors",
    "close audit",
    "close journal",
    "close progress",
  ]);
  assert.equal(failures.length, 1);
  assert.match(String(failures[0]), /journal cannot close/);
  const seen: number[] = [];
  await callbackSink((outcome) => seen.push(outcome.recordNumber)).write([failed(4)], undefined);
  assert.deepEqual(seen, [4]);
});

Deno.test("a job's error file is cut back to its committed length, synced, and measured", async () => {
  const dir = await tempDir();
  const path = `${dir}/errors.jsonl`;
  await Deno.writeTextFile(path, '{"recordNumber":1}\n{"recordNumber":2,"torn');
  const warnings: string[] = [];
  const sink = await openErrorFileSink(path, {
    format: "jsonl",
    append: true,
    committedBytes: 19,
    onWarning: (message) => warnings.push(message),
  });
  try {
    assert.equal(sink.bytes, 19);
    await sink.write([{ recordNumber: 3, byteEnd: 30, email: "fine@sinks.test" }, failed(4)]);
    assert.equal(sink.count, 1);
    assert.equal(sink.bytes, (await Deno.stat(path)).size);
  } finally {
    await sink.close();
  }
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.equal(lines.length, 2, "the torn line of a cut-off batch is gone");
  assert.equal(JSON.parse(lines[1]).recordNumber, 4);
  assert.equal(warnings.length, 0);

  const short = await openErrorFileSink(path, {
    format: "jsonl",
    append: true,
    committedBytes: 10_000,
    onWarning: (message) => warnings.push(message),
  });
  await short.close();
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /is shorter than its journal says: errors of earlier sessions were lost/,
  );
});

Deno.test("progress counts rows and users job-wide, from where the job was", async () => {
  const start = {
    ...totalsOf(),
    totalRows: 10,
    usersCreated: 6,
    usersExisting: 2,
    usersUpdated: 1,
  };
  const reports: Array<{ rowsDone: number; usersDone: number; requests: number }> = [];
  const sink = new ProgressSink((figures) => reports.push(figures), {
    start,
    counters: () => ({ requests: 7, writes: 3, retries: 1, rateLimited: 0 }),
  });
  await sink.write([
    { recordNumber: 11, byteEnd: 1, email: "a@sinks.test", user: "created" },
    { recordNumber: 12, byteEnd: 2, email: "A@sinks.test", user: "repeat" },
    { recordNumber: 13, byteEnd: 3, email: "b@sinks.test", user: "created", deletedUserId: "u" },
    failed(14),
  ]);
  assert.deepEqual(reports, [{
    rowsDone: 14,
    usersDone: 10,
    requests: 7,
    writes: 3,
    retries: 1,
    rateLimited: 0,
  }]);
});

Deno.test("the journal keeps the totals it is given and writes no error file", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/users.csv`, "email\nuser1@sinks.test\n");
  const journal = await createJob("store", {
    checkpointDir: dir,
    input: await describeInput(`${dir}/users.csv`),
    options: {},
  });
  try {
    const { durationMs: _, ...given } = { ...totalsOf(), totalRows: 41, failures: 41 };
    await journal.commit([failed(1)], { recordNumber: 1, byteEnd: 10 }, {
      totals: given,
      organizationCache: [],
    });
    const { durationMs, ...kept } = journal.progress.totals;
    assert.deepEqual(kept, given, "not counted again from the outcomes");
    assert.ok(durationMs >= 0);
    assert.equal(
      (await Deno.stat(journal.paths.errors)).size,
      0,
      "errors are the import's to write",
    );
    assert.equal(journal.progress.errorsBytes, 0);
  } finally {
    await journal.finish("completed");
  }
});
