/**
 * Budget use: does the importer run at WorkOS's write limit without ever
 * tripping it? The real CLI imports a multi-organization CSV (a user and a
 * membership per row: two writes) into the fake with its rate limits on,
 * both scaled up tenfold so a run takes well under a minute: the fake allows
 * 5,000 user-management writes per 10 s and the CLI runs at
 * `--rate-limit 500`. Reported: achieved writes/s ÷ the write limit over the
 * steady state, and the 429s received. Target: ≥ 0.98 and zero 429s (the
 * budget keeps a 1 % window margin, so 0.99 is the ceiling).
 *
 * Run: `deno run -A bench/budget_use_bench.ts [--quick] [--rows 12000]`.
 *
 * Writes are counted where WorkOS counts them, at the fake, every 10 ms.
 * "Steady state" is every 10 s window that ends between 10 s after the
 * first write and the last write: the first window is excluded because the
 * sliding window lets the whole budget go at once at the start (what the
 * server allows), which no longer run can repeat.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import {
  CounterSampler,
  emit,
  isQuick,
  logger,
  round,
  runImporter,
  writeMultiOrgCsv,
} from "./_harness.ts";

const NAME = "budget_use";
const SCALE = 10;
const RATE_LIMIT = 50 * SCALE;
const WINDOW_MS = 10_000;
const TARGET = 0.98;
const log = logger(NAME);

function isWrite(endpoint: string): boolean {
  const [method, path] = endpoint.split(" ");
  return path.startsWith("/user_management/") && method !== "GET";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      concurrency: { type: "string", default: "64" },
    },
  });
  // Two writes per row at 500/s: 12,000 rows are about 48 s.
  const rows = Number(values.rows ?? (isQuick() ? 6_000 : 12_000));
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await writeMultiOrgCsv(path, rows, { orgs: 20 });
    await using fake = await startFakeWorkOS({
      rateLimits: { scale: SCALE },
      latency: { fixedMs: 20, jitterMs: 10 },
    });
    const writes = new CounterSampler(() => {
      let total = 0;
      for (const [endpoint, count] of Object.entries(fake.state.requestCounts)) {
        if (isWrite(endpoint)) total += count;
      }
      return total;
    });
    log(`${rows} rows, --rate-limit ${RATE_LIMIT}, fake limits ×${SCALE}`);
    const run = await runImporter([
      "--csv",
      path,
      "--rate-limit",
      String(RATE_LIMIT),
      "--concurrency",
      values.concurrency,
      "--quiet",
    ], { api: fake, relay: (line) => log(`  ${line}`), timeoutMs: 300_000 });
    writes.stop();

    const total = writes.samples.at(-1)?.[1] ?? 0;
    const first = writes.timeOf(1) ?? 0;
    const last = writes.timeOf(total) ?? 0;
    // Every 10 s window ending in [first + 10 s, last], 100 ms apart.
    const perWindow: number[] = [];
    for (let end = first + WINDOW_MS; end <= last; end += 100) {
      perWindow.push(writes.valueAt(end) - writes.valueAt(end - WINDOW_MS));
    }
    const limitPerWindow = RATE_LIMIT * WINDOW_MS / 1000;
    const mean = perWindow.reduce((sum, n) => sum + n, 0) / Math.max(1, perWindow.length);
    const ratio = perWindow.length > 0 ? mean / limitPerWindow : 0;
    const rateLimited = fake.state.rateLimitedCount;
    const summary = run.summary ?? {};
    const imported = fake.state.userCount() === rows && fake.state.membershipCount() === rows;
    log(
      `${total} writes; steady state ${round(mean / 10, 1)} writes/s of ${RATE_LIMIT} ` +
        `(ratio ${round(ratio, 4)}), ${rateLimited} 429s, exit ${run.code}`,
    );
    emit({
      name: NAME,
      ratio: round(ratio, 4),
      writesPerSecond: round(mean / (WINDOW_MS / 1000), 1),
      writeLimitPerSecond: RATE_LIMIT,
      rateLimited,
      rateLimitedSeenByImporter: summary.rateLimited ?? null,
      busiestWindow: Math.max(0, ...perWindow),
      limitPerWindow,
      steadyWindows: perWindow.length,
      steadySeconds: round((last - first - WINDOW_MS) / 1000, 1),
      writes: total,
      rows,
      exitCode: run.code,
      imported,
      durationMs: summary.durationMs ?? null,
      peakRssMiB: run.peakRssMiB,
      target: { ratio: TARGET, rateLimited: 0 },
      passed: ratio >= TARGET && rateLimited === 0 && run.code === 0 && imported,
    });
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
