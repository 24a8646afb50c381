/**
 * How fast a big job picks up again: a 1,000,000-row job stopped at row
 * 900,000 is resumed with `--resume`, and the time from process start to
 * the first request the fake WorkOS receives is measured. Target: at most
 * 1 s. The resume must seek to the watermark's byte offset (not re-parse
 * 900,000 rows), read only the journal entries above it, and check the
 * input's SHA-256.
 *
 * The job's state is built directly through the journal (900 commits of
 * 1,000 rows, each row with its claim, as an import would leave them),
 * rather than by importing 900,000 rows over HTTP.
 *
 * The CLI runs with its V8 flags (`src/cli/v8_flags.ts`), as the `import`
 * task and the binary run it; `--v8-defaults` runs it without them.
 *
 * Run: `deno run -A bench/resume_latency_bench.ts [--rows 1000000]
 * [--stop-at 900000] [--runs 5] [--quick] [--v8-defaults]`. Progress goes to stderr; stdout
 * gets exactly one JSON line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import { generateCsv } from "../examples/gen_csv.ts";
import { openInput } from "../src/input/open_input.ts";
import { createJob, describeInput } from "../src/journal/journal.ts";
import type { RowOutcome } from "../src/outcome/mod.ts";
import { openJournalSink } from "../src/pipeline/journal_sink.ts";
import type { CachedOrganization } from "../src/organizations/organization_resolver.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TARGET_MS = 1_000;
const ORGS = 1_000;
const FIRST_REQUEST_TIMEOUT_MS = 30_000;

function log(message: string): void {
  console.error(`[resume_latency_bench] ${message}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The byte offset just past record `stopAt`, as the importer's own reader sees it. */
async function byteEndOf(csv: string, stopAt: number): Promise<number> {
  const input = await openInput(csv);
  const reader = input.records.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The input has fewer than ${stopAt} records`);
      const last = value[value.length - 1];
      if (last.recordNumber >= stopAt) {
        return value.find((record) => record.recordNumber === stopAt)?.byteEnd as number;
      }
    }
  } finally {
    await reader.cancel();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string" },
      "stop-at": { type: "string" },
      runs: { type: "string" },
      quick: { type: "boolean", default: false },
      "v8-defaults": { type: "boolean", default: false },
    },
  });
  const denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const rows = Number(values.rows ?? (values.quick ? 100_000 : 1_000_000));
  const stopAt = Number(values["stop-at"] ?? Math.floor(rows * 0.9));
  const runs = Number(values.runs ?? (values.quick ? 2 : 5));
  const dir = await Deno.makeTempDir({ prefix: "resume_bench_" });
  try {
    const csv = `${dir}/users.csv`;
    let started = performance.now();
    await generateCsv(csv, { rows, orgs: ORGS, seed: 9 });
    const byteEnd = await byteEndOf(csv, stopAt);
    log(
      `${rows} rows generated; row ${stopAt} ends at byte ${byteEnd} (${
        Math.round(performance.now() - started)
      } ms)`,
    );

    await using fake = await startFakeWorkOS({ rateLimits: false });
    const cache: Array<[string, CachedOrganization]> = [];
    for (let i = 1; i <= ORGS; i++) {
      const externalId = `org-${String(i).padStart(5, "0")}`;
      const organization = fake.state.addOrganization({ name: externalId, externalId });
      cache.push([`ext:${externalId}`, { id: organization.id }]);
    }

    started = performance.now();
    const checkpointDir = `${dir}/checkpoints`;
    const journal = await createJob("big", {
      checkpointDir,
      input: await describeInput(csv),
      options: { concurrency: 10, rateLimit: 1_000_000, chunkSize: 1_000 },
    });
    const chunk = 1_000;
    let organizationCache = cache;
    const sink = await openJournalSink(journal, {
      state: () => ({ organizationCache, organizationsCreated: 0 }),
    });
    for (let first = 1; first <= stopAt; first += chunk) {
      const outcomes: RowOutcome[] = [];
      const last = Math.min(stopAt, first + chunk - 1);
      for (let n = first; n <= last; n++) {
        const id = String(n).padStart(26, "0");
        outcomes.push({
          recordNumber: n,
          byteEnd: 0,
          email: `person${n}@bench.test`,
          userId: `user_${id}`,
          user: "created",
          membership: {
            id: `om_${id}`,
            organizationId: cache[n % ORGS][1]?.id as string,
            created: true,
          },
        });
      }
      const watermark = last === stopAt ? { recordNumber: stopAt, byteEnd } : undefined;
      organizationCache = first === 1 ? cache : [];
      await sink.write(outcomes, watermark);
      if (first % 100_000 === 1) log(`journal at row ${last}`);
    }
    await sink.close();
    await journal.finish("interrupted");
    const kvBytes = (await Deno.stat(journal.paths.journal)).size;
    log(
      `journal of ${stopAt} rows built: ${Math.round(kvBytes / 2 ** 20)} MiB (${
        Math.round(performance.now() - started)
      } ms)`,
    );

    const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
    const latencies: number[] = [];
    // The first run warms Deno's module cache; it is not counted.
    for (let run = 0; run <= runs; run++) {
      const before = fake.state.totalRequests;
      const spawned = performance.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "-A",
          ...denoFlags,
          MAIN,
          "--resume",
          "big",
          "--checkpoint-dir",
          checkpointDir,
          "--quiet",
        ],
        env,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      let firstRequestMs: number | undefined;
      while (performance.now() - spawned < FIRST_REQUEST_TIMEOUT_MS) {
        if (fake.state.totalRequests > before) {
          firstRequestMs = performance.now() - spawned;
          break;
        }
        await delay(1);
      }
      child.kill("SIGKILL");
      await child.status;
      if (firstRequestMs === undefined) {
        throw new Error(
          `No request within ${FIRST_REQUEST_TIMEOUT_MS} ms: ${(await stderr).slice(-500)}`,
        );
      }
      const resumedAt = (await stderr).match(/Resuming job "big": after row ([\d,]+)/)?.[1];
      log(
        `run ${run}${run === 0 ? " (warm-up)" : ""}: first request after ${
          Math.round(firstRequestMs)
        } ms (resumed after row ${resumedAt})`,
      );
      if (run > 0) latencies.push(firstRequestMs);
      await delay(100);
    }
    const result = median(latencies);
    console.log(JSON.stringify({
      name: "resume_latency",
      rows,
      stoppedAt: stopAt,
      journalMiB: Math.round(kvBytes / 2 ** 20),
      v8Flags: denoFlags.length > 0 ? "cli" : "defaults",
      runs: latencies.map((ms) => Math.round(ms)),
      medianMs: Math.round(result),
      target: "at most 1000 ms from process start to the first request",
      passed: result <= TARGET_MS,
    }));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
