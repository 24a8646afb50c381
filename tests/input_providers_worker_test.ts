/**
 * A provider export read in the read worker gives exactly what the
 * in-thread reader gives: the same records (numbers, byte offsets, fields,
 * flags, row errors), the same warnings in the same place, the same resume
 * points and counts, the same one-line errors; and no worker outlives its
 * reader (these tests run with Deno's sanitizers on).
 */

import assert from "node:assert/strict";
import { openInput, type OpenInputOptions } from "../src/input/open_input.ts";
import { countRecords } from "../src/input/file_facts.ts";
import { InputError, UserError } from "../src/errors.ts";
import {
  BATCHES_PER_MESSAGE,
  type HandOver,
  readWorkerSettings,
  readWorkerStats,
  WORKER_MIN_BYTES,
} from "../src/input/providers/_worker_client.ts";
import { BatchEncoder, decodeBatch, encodeBatch } from "../src/input/providers/_batch_codec.ts";
import type { SourceRecord } from "../src/types.ts";
import { tempDir } from "./_cli.ts";
import { LARGE_FILES, writeLargeFixtures } from "./fixtures/providers/generate.ts";
import { failingWorkerModule, READ_WORKER_VARIABLE, withVariables } from "./_workers.ts";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;

interface Read {
  records: SourceRecord[];
  /** Warnings, each with how many records had been taken when it was told. */
  warnings: Array<[number, string]>;
}

/** Reads an input in the worker (`worker`) or in this thread. */
async function readAll(
  path: string,
  options: OpenInputOptions,
  worker: boolean,
  handOver: HandOver = "when-idle",
): Promise<Read> {
  readWorkerSettings.minBytes = worker ? 0 : Infinity;
  readWorkerSettings.handOver = handOver;
  try {
    // In the worker or here as `worker` says, whatever the environment says.
    return await withVariables({ [READ_WORKER_VARIABLE]: worker ? "on" : "off" }, async () => {
      const records: SourceRecord[] = [];
      const warnings: Array<[number, string]> = [];
      const opened = readWorkerStats.opened;
      const input = await openInput(path, {
        ...options,
        onWarning: (message) => warnings.push([records.length, message]),
      });
      // The worker really read it (it could fall back to this thread).
      assert.equal(readWorkerStats.opened, worker ? opened + 1 : opened);
      for await (const batch of input.records) records.push(...batch);
      return { records, warnings };
    });
  } finally {
    readWorkerSettings.minBytes = WORKER_MIN_BYTES;
    readWorkerSettings.handOver = "when-idle";
  }
}

/** The error opening and reading an input throws, in the worker or here. */
async function failure(path: string, options: OpenInputOptions, worker: boolean): Promise<unknown> {
  try {
    await readAll(path, options, worker);
  } catch (error) {
    return error;
  }
  assert.fail(`reading ${path} did not fail`);
}

const CASES: Array<[string, OpenInputOptions]> = [
  [
    "auth0_users.ndjson",
    { provider: { from: "auth0", passwordHashes: `${FIXTURES}auth0_password_hashes.ndjson` } },
  ],
  [
    "firebase_users.json",
    { provider: { from: "firebase", hashConfig: `${FIXTURES}firebase_hash_config.txt` } },
  ],
  ["firebase_users.json", { provider: { from: "firebase" } }],
  ["firebase_users.csv", { provider: { from: "firebase" } }],
  ["clerk_users.csv", { provider: { from: "clerk" } }],
  ["supabase_users.csv", { provider: { from: "supabase" } }],
  ["supabase_users.ndjson", { provider: { from: "supabase", map: { id: "org_external_id" } } }],
  ["cognito_users.json", { provider: { from: "cognito" } }],
  ["supertokens_users.json", { provider: { from: "supertokens" } }],
];

for (const [file, options] of CASES) {
  const flags = JSON.stringify(options.provider);
  Deno.test(`${file} ${flags}: read in the worker, the records and warnings are the in-thread reader's`, async () => {
    const path = `${FIXTURES}${file}`;
    const here = await readAll(path, options, false);
    const there = await readAll(path, options, true);
    assert.ok(here.records.length >= 300);
    assert.deepEqual(there.records, here.records);
    assert.deepEqual(there.warnings, here.warnings);
    // Resumed after a record, the worker seeks (or skips) to the same place.
    const n = here.records.length;
    for (const k of [1, 7, 150, n - 1]) {
      const at = here.records[k - 1];
      const resumeFrom = { byteOffset: at.byteEnd, recordNumber: at.recordNumber };
      const rest = await readAll(path, { ...options, resumeFrom }, true);
      assert.deepEqual(rest.records, here.records.slice(k), `after record ${k}`);
    }
    const counted = await withVariables(
      { [READ_WORKER_VARIABLE]: "on" },
      () => countRecords(path, { provider: options.provider }),
    );
    assert.equal(counted, n);
  });
}

Deno.test("lines the worker hands to the main thread read to the records the worker would have read, at any resume point", async () => {
  const cases: Array<[string, OpenInputOptions, boolean]> = [
    ["auth0_users.ndjson", { provider: { from: "auth0" } }, true],
    ["auth0_users.ndjson", {
      provider: { from: "auth0", map: { "app_metadata.tier": "org_external_id" } },
    }, true],
    // The password hashes are matched in one place: nothing is handed over.
    [
      "auth0_users.ndjson",
      { provider: { from: "auth0", passwordHashes: `${FIXTURES}auth0_password_hashes.ndjson` } },
      false,
    ],
    ["supabase_users.ndjson", { provider: { from: "supabase" } }, false],
  ];
  for (const [file, options, handsOver] of cases) {
    const path = `${FIXTURES}${file}`;
    const label = JSON.stringify(options.provider);
    const here = await readAll(path, options, false);
    const before = readWorkerStats.handedOver;
    const there = await readAll(path, options, true, "every-other");
    const handedOver = readWorkerStats.handedOver - before;
    assert.equal(handedOver > 0, handsOver, `${label}: ${handedOver}`);
    assert.deepEqual(there.records, here.records, label);
    assert.deepEqual(there.warnings, here.warnings, label);
    const n = here.records.length;
    for (const k of [1, 7, 150, n - 1]) {
      const at = here.records[k - 1];
      const resumeFrom = { byteOffset: at.byteEnd, recordNumber: at.recordNumber };
      const rest = await readAll(path, { ...options, resumeFrom }, true, "every-other");
      assert.deepEqual(rest.records, here.records.slice(k), `${label} after record ${k}`);
    }
  }
  // WORKOS_IMPORTER_HAND_OVER=never keeps every line in the worker.
  const path = `${FIXTURES}auth0_users.ndjson`;
  await withVariables({ WORKOS_IMPORTER_HAND_OVER: "never" }, async () => {
    const before = readWorkerStats.handedOver;
    await readAll(path, { provider: { from: "auth0" } }, true, "every-other");
    assert.equal(readWorkerStats.handedOver, before);
  });
  // Blank lines among the handed-over ones are lines, not records.
  const dir = await tempDir();
  const blanks = `${dir}/blanks.ndjson`;
  const lines = (await Deno.readTextFile(`${FIXTURES}auth0_users.ndjson`)).split("\n");
  await Deno.writeTextFile(
    blanks,
    lines.flatMap((line, i) => i % 3 === 0 ? [line, "", " \r"] : [line]).join("\n"),
  );
  const options = { provider: { from: "auth0" as const } };
  assert.deepEqual(
    (await readAll(blanks, options, true, "every-other")).records,
    (await readAll(blanks, options, false)).records,
  );
});

Deno.test("the worker's records carry every field, flag and row error the reader set", async () => {
  const path = `${FIXTURES}auth0_users.ndjson`;
  const { records } = await readAll(path, { provider: { from: "auth0" } }, true);
  // The fixture has each kind, so the comparison above covers each.
  assert.ok(records.some((record) => record.parseError !== undefined));
  assert.ok(records.some((record) => record.warnings !== undefined));
  assert.ok(records.some((record) => record.plain === true && record.tidy === true));
});

Deno.test("a file that is not the format --from names gives the same one line from the worker", async () => {
  const path = `${FIXTURES}clerk_users.csv`;
  for (const from of ["auth0", "cognito", "supertokens"] as const) {
    const here = await failure(path, { provider: { from } }, false);
    const there = await failure(path, { provider: { from } }, true);
    assert.ok(here instanceof InputError);
    assert.ok(there instanceof InputError, String(there));
    assert.equal(there.message, here.message);
    assert.equal(there.exitCode, here.exitCode);
  }
});

Deno.test("an export that goes wrong mid-way fails (or ends) the same way in the worker", async () => {
  const dir = await tempDir();
  try {
    const text = await Deno.readTextFile(`${FIXTURES}firebase_users.json`);
    // A second document without the list, after the users: an error after
    // the records before it were handed on.
    const extra = `${dir}/extra.json`;
    await Deno.writeTextFile(extra, `${text.trimEnd()}\n{"other":1}\n`);
    const here = await failure(extra, { provider: { from: "firebase" } }, false);
    const there = await failure(extra, { provider: { from: "firebase" } }, true);
    assert.ok(here instanceof InputError);
    assert.ok(there instanceof InputError, String(there));
    assert.equal(there.message, here.message);
    // Cut off inside a user: whatever the reader makes of it, the worker makes too.
    const cut = `${dir}/cut.json`;
    await Deno.writeTextFile(cut, text.slice(0, Math.floor(text.length / 2)));
    const cutHere = await readAll(cut, { provider: { from: "firebase" } }, false);
    const cutThere = await readAll(cut, { provider: { from: "firebase" } }, true);
    assert.deepEqual(cutThere, cutHere);
    const missing = await failure(`${dir}/none.json`, { provider: { from: "firebase" } }, true);
    assert.ok(missing instanceof Deno.errors.NotFound, String(missing));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reader cancelled after its first batch, or aborted, ends its worker", async () => {
  const path = `${FIXTURES}firebase_users.json`;
  const opened = readWorkerStats.opened;
  await withVariables({ [READ_WORKER_VARIABLE]: "on" }, async () => {
    const input = await openInput(path, { provider: { from: "firebase" } });
    const reader = input.records.getReader();
    const first = await reader.read();
    assert.ok((first.value?.length ?? 0) > 0);
    await reader.cancel();
    const controller = new AbortController();
    const aborted = await openInput(path, {
      provider: { from: "firebase" },
      signal: controller.signal,
    });
    const records = aborted.records.getReader();
    await records.read();
    controller.abort(new Error("stop"));
    await assert.rejects(records.read(), /stop/);
  });
  assert.equal(readWorkerStats.opened, opened + 2, "both were read in a worker");
  // The sanitizers fail this test if a worker's message op is still pending.
});

Deno.test("the batch form keeps text records (row errors and warnings too) compact, and every other record as it is", () => {
  const batch: SourceRecord[] = [
    {
      recordNumber: 1,
      fields: { email: "a@example.com", first_name: "Å" },
      byteEnd: 10,
      tidy: true,
    },
    { recordNumber: 2, fields: {}, byteEnd: 20, parseError: "Cannot parse line 2: bad" },
    { recordNumber: 3, fields: { email: "b@example.com", n: 1 }, byteEnd: 2 ** 40 },
    { recordNumber: 4, fields: { "__proto__": "x", email: "" }, byteEnd: 40 },
    { recordNumber: 5, fields: { email: "c@example.com" }, byteEnd: 50, plain: true },
    {
      recordNumber: 6,
      fields: { email: "d@example.com", first_name: "" },
      byteEnd: 60,
      warnings: ["Left out: a", "Left out: b"],
    },
  ];
  batch[3].fields = JSON.parse('{"__proto__":"x","email":""}');
  const [encoded, transfer] = encodeBatch(batch);
  // The record with a number and the one with a "__proto__" key travel as they are.
  assert.equal(encoded.others.length, 2);
  assert.equal(transfer.length, 2);
  const decoded = decodeBatch(structuredClone(encoded));
  assert.deepEqual(decoded, batch);
  assert.deepEqual(Object.keys(decoded[0].fields), ["email", "first_name"]);
});

Deno.test("a decoded record has its properties in the order the mapper gave them, so that lines handed over and batches decoded make records of one shape", async () => {
  for (
    const [from, file] of [["auth0", "auth0_users.ndjson"], [
      "firebase",
      "firebase_users.json",
    ]] as const
  ) {
    const { records } = await readAll(`${FIXTURES}${file}`, { provider: { from } }, false);
    const [encoded, transfer] = encodeBatch(records);
    const decoded = decodeBatch(structuredClone(encoded, { transfer }));
    assert.deepEqual(decoded, records);
    for (const [i, record] of records.entries()) {
      assert.deepEqual(Object.keys(decoded[i]), Object.keys(record), `${from} record ${i + 1}`);
    }
    // Each kind of record is among them.
    assert.ok(records.some((record) => record.parseError !== undefined));
    assert.ok(records.some((record) => record.checkedMetadata !== undefined));
    assert.ok(records.some((record) => record.plain === true && record.tidy === true));
  }
});

Deno.test("decoding batches one after another into one list gives their records in order, others among them", () => {
  const first: SourceRecord[] = [
    { recordNumber: 1, fields: { email: "a@example.com" }, byteEnd: 10, plain: true },
    { recordNumber: 2, fields: { email: "b@example.com", n: 2 }, byteEnd: 20 },
  ];
  const second: SourceRecord[] = [
    { recordNumber: 3, fields: {}, byteEnd: 30, parseError: "Cannot parse row 3: bad" },
    { recordNumber: 4, fields: { email: "d@example.com", n: 4 }, byteEnd: 40 },
    { recordNumber: 5, fields: { email: "e@example.com" }, byteEnd: 50, tidy: true },
  ];
  const into = decodeBatch(structuredClone(encodeBatch(first)[0]));
  const same = decodeBatch(structuredClone(encodeBatch(second)[0]), into);
  assert.equal(same, into);
  assert.deepEqual(into, [...first, ...second]);
});

Deno.test("a batch encoder takes reader batches one after another as one encoded batch, and starts afresh after each", () => {
  const first: SourceRecord[] = [
    { recordNumber: 1, fields: { email: "a@example.com", first_name: "A" }, byteEnd: 10 },
    { recordNumber: 2, fields: { email: "b@example.com", n: 2 }, byteEnd: 20 },
  ];
  const second: SourceRecord[] = [
    { recordNumber: 3, fields: {}, byteEnd: 30, parseError: "Cannot parse row 3: bad" },
    {
      recordNumber: 4,
      fields: { last_name: "D", email: "d@example.com" },
      byteEnd: 40,
      checkedMetadata: { plan: "pro" },
      plain: true,
    },
  ];
  const third: SourceRecord[] = [
    { recordNumber: 5, fields: { external_id: "e5" }, byteEnd: 50, warnings: ["Left out: x"] },
  ];
  const encoder = new BatchEncoder(1);
  encoder.add(first);
  encoder.add(second);
  assert.equal(encoder.size, 4);
  const [both, transfer] = encoder.finish();
  assert.equal(encoder.size, 0);
  assert.deepEqual(decodeBatch(structuredClone(both, { transfer })), [...first, ...second]);
  encoder.add(third);
  const [alone] = encoder.finish();
  assert.deepEqual(alone.keys, ["external_id"]);
  assert.deepEqual(alone.others, []);
  assert.deepEqual(decodeBatch(structuredClone(alone)), third);
});

Deno.test("the main thread takes a message's batches as one batch, so the stages see a few hundred users a batch, not one 32 KiB chunk's", async () => {
  const dir = await tempDir();
  await writeLargeFixtures(dir, 1_000, ["auth0"]);
  const path = `${dir}/${LARGE_FILES.auth0}`;
  const batchSizes = async (worker: boolean) => {
    readWorkerSettings.minBytes = worker ? 0 : Infinity;
    readWorkerSettings.handOver = "never";
    try {
      return await withVariables({ [READ_WORKER_VARIABLE]: worker ? "on" : "off" }, async () => {
        let warnings = 0;
        const input = await openInput(path, {
          provider: { from: "auth0" },
          onWarning: () => warnings++,
        });
        const sizes: number[] = [];
        for await (const batch of input.records) sizes.push(batch.length);
        return { sizes, warnings };
      });
    } finally {
      readWorkerSettings.minBytes = WORKER_MIN_BYTES;
      readWorkerSettings.handOver = "when-idle";
    }
  };
  const here = await batchSizes(false);
  const there = await batchSizes(true);
  const ends = (sizes: number[]) =>
    sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b));
  assert.ok(here.sizes.length > 2 * BATCHES_PER_MESSAGE, `${here.sizes.length} chunks`);
  // Every batch taken ends where a reader batch ends, and the last at the last record…
  const readerEnds = new Set(ends(here.sizes));
  for (const end of ends(there.sizes)) assert.ok(readerEnds.has(end), `a batch ends at ${end}`);
  assert.equal(ends(there.sizes).at(-1), ends(here.sizes).at(-1));
  // …and a message's reader batches are one (a warning sends a message early).
  const most = Math.ceil(here.sizes.length / BATCHES_PER_MESSAGE) + here.warnings;
  assert.ok(there.sizes.length <= most, `${there.sizes.length} batches, at most ${most}`);
});

Deno.test('the batch form carries checked metadata as keys and values, and a record whose metadata has a "__proto__" key as it is', () => {
  const withMetadata = (recordNumber: number, object: Record<string, string>): SourceRecord => ({
    recordNumber,
    fields: {
      email: `u${recordNumber}@example.com`,
      metadata: JSON.stringify(object),
      last_name: "X",
    },
    byteEnd: recordNumber * 10,
    tidy: true,
    checkedMetadata: object,
  });
  const batch: SourceRecord[] = [
    withMetadata(1, { plan: "pro" }),
    withMetadata(2, { "2": "b", "1": "a", plan: "", seats: "6" }),
    { ...withMetadata(3, { plan: "pro" }), warnings: ["Leaving metadata out: x"] },
    withMetadata(4, { quote: 'say "hi"', roles: '["member"]' }),
    withMetadata(5, JSON.parse('{"__proto__":"x","plan":"pro"}')),
    { recordNumber: 6, fields: { email: "u6@example.com" }, byteEnd: 60, parseError: "bad" },
    withMetadata(7, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`]))),
  ];
  const [encoded, transfer] = encodeBatch(batch);
  assert.deepEqual(encoded.others.map((record) => record.recordNumber), [5]);
  const decoded = decodeBatch(structuredClone(encoded, { transfer }));
  assert.deepEqual(decoded, batch);
  assert.deepEqual(Object.keys(decoded[1].checkedMetadata ?? {}), ["1", "2", "plan", "seats"]);
  assert.deepEqual(Object.keys(decoded[4].checkedMetadata ?? {}), ["__proto__", "plan"]);
});

/**
 * A read worker module that fails after its first batch: `uncaught` (an
 * error nothing in the worker catches, which the host tells), `crash` (the
 * same error thrown past the host, which the worker's `onerror` tells) or
 * `defect` (an error of the worker's own code, told as the host tells what
 * it caught).
 */
function failingReadWorker(dir: string, how: "uncaught" | "crash" | "defect"): Promise<URL> {
  return failingWorkerModule(`${dir}/failing_read_worker.js`, {
    host: new URL("../src/input/providers/_worker_host.ts", import.meta.url),
    serve: "serveReads",
    batches: 1,
    fails: how === "defect" ? "told" : "thrown",
    listeners: how !== "crash",
    who: "reader",
  });
}

for (const how of ["uncaught", "crash", "defect"] as const) {
  Deno.test(`a read worker that fails mid-export (${how}) ends the read with one line and what to do, not its stack`, async () => {
    const dir = await tempDir();
    const before = readWorkerSettings.module;
    try {
      readWorkerSettings.module = await failingReadWorker(dir, how);
      const path = `${FIXTURES}firebase_users.json`;
      const error = await failure(path, { provider: { from: "firebase" } }, true);
      assert.ok(error instanceof UserError, String((error as Error)?.stack ?? error));
      assert.equal(error.exitCode, 1);
      assert.equal(error.message.split("\n").length, 1, error.message);
      assert.match(
        error.message,
        /^Cannot read ".*firebase_users\.json": the export reader stopped \(.*reader (ran out of luck|is not a function)\): run again with WORKOS_IMPORTER_READ_WORKER=off/,
      );
    } finally {
      readWorkerSettings.module = before;
      await Deno.remove(dir, { recursive: true });
    }
  });
}
