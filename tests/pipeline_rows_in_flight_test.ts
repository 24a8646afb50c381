/**
 * The concurrency stage keeps a count of the rows it has started, not a
 * promise per row, and its end waits for that count to reach zero: every
 * row still running when the input ends is handed on before the run ends,
 * and a row stopped by a run condition is counted out as well, so a stop
 * never leaves the run waiting. Real imports against the fake.
 */

import assert from "node:assert/strict";
import { importUsers } from "../mod.ts";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { tempFile } from "./_cli.ts";

function usersCsv(count: number, domain: string): string {
  const lines = ["email"];
  for (let i = 1; i <= count; i++) lines.push(`user${i}@${domain}`);
  return lines.join("\n") + "\n";
}

/** Fails instead of hanging when the run never ends. */
async function withinSeconds<T>(seconds: number, run: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The run had not ended after ${seconds} s`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports `csv` with one batch and a slot for every row, so all of them are
 * running when the input ends; `seen` holds the rows whose outcome was
 * handed on.
 */
async function importAllAtOnce(fake: FakeWorkOS, csv: string, rows: number) {
  const seen = new Set<number>();
  const result = await withinSeconds(
    30,
    importUsers(csv, {
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      concurrency: rows,
      chunkSize: rows,
      onRow: (outcome) => seen.add(outcome.recordNumber),
    }),
  );
  return { result, seen };
}

Deno.test("every row still running when the input ends is handed on before the run ends", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    latency: { fixedMs: 20, jitterMs: 30 },
  });
  const rows = 60;
  // One batch, and a slot for every row: all of them are running when the
  // input ends, and they end in no particular order.
  const csv = await tempFile(usersCsv(rows, "flight.test"));
  const { result, seen } = await importAllAtOnce(fake, csv, rows);
  assert.equal(fake.state.userCount(), rows);
  assert.equal(seen.size, rows, "each row's outcome was handed on");
  assert.equal(result.usersCreated, rows);
  assert.equal(result.interrupted, false);
  assert.equal(result.watermark?.recordNumber, rows);
});

Deno.test("rows a run condition stops after the input has ended are counted out: the run ends", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 40 } });
  const rows = 40;
  const lines = ["email,org_external_id,org_name"];
  for (let i = 1; i <= rows; i++) lines.push(`user${i}@refused.test,org-1,Org 1`);
  const csv = await tempFile(lines.join("\n") + "\n");
  // Every row has asked for its user when the first user exists; the key is
  // then refused, so each row meets the refusal at its membership.
  const refusal = (async () => {
    while (fake.state.userCount() === 0) await new Promise((ok) => setTimeout(ok, 2));
    fake.outage("unauthorized");
  })();
  const { result, seen } = await importAllAtOnce(fake, csv, rows);
  await refusal;
  assert.equal(result.stopped?.kind, "refused_key");
  assert.equal(fake.state.userCount(), rows, "every row was running");
  // The first row or two may ask for their membership before the refusal.
  assert.ok(seen.size < rows / 2, `${seen.size} rows ended: the stop cut the others off`);
  assert.equal(result.failures, 0, "a refused key fails no row");
  const watermark = result.watermark?.recordNumber ?? 0;
  for (let n = 1; n <= watermark; n++) assert.ok(seen.has(n), `row ${n} is below the watermark`);
});
