/**
 * Budget use: does the importer run at WorkOS's write limit without ever
 * tripping it? The real CLI imports a multi-organization CSV (a user and a
 * membership per row: two writes) into the fake with its rate limits on,
 * both scaled up tenfold so a run takes well under a minute: the fake allows
 * 5,000 user-management writes per 10 s and the CLI runs at
 * `--rate-limit 500`. Reported: achieved writes/s ÷ the write limit over the
 * steady state, and the 429s received. Target: ≥ 0.98 and zero 429s (the
 * budget keeps a 0.5 % window margin and holds each slot until the answer,
 * so about 0.993 is the ceiling at 25 ms latency).
 *
 * Run: `deno run -A bench/budget_use_bench.ts [--quick] [--rows 12000] [--concurrency 64] [--overload 4]`
 * (`--quick`: 6,000 rows)
 * (`--overload N`: N busy processes per core for the whole run; see
 * `budget_overload_bench.ts`).
 *
 * Writes are counted where WorkOS counts them, at the fake, every 10 ms.
 * "Steady state" is every 10 s window that ends between 10 s after the
 * first write and the last write: the first window is excluded because the
 * sliding window lets the whole budget go at once at the start (what the
 * server allows), which no longer run can repeat.
 *
 * @module
 */

import { startFakeWorkOS } from "../testing.ts";
import {
  budgetArgs,
  CounterSampler,
  emit,
  logger,
  round,
  runImporter,
  writeMultiOrgCsv,
} from "./_harness.ts";

const NAME = "budget_use";
const SCALE = 10;
const WINDOW_MS = 10_000;
const TARGET = 0.98;
const log = logger(NAME);

function isWrite(endpoint: string): boolean {
  const [method, path] = endpoint.split(" ");
  return path.startsWith("/user_management/") && method !== "GET";
}

/** Options for {@linkcode measureBudgetUse}. */
export interface BudgetUseOptions {
  /** The benchmark's name in its JSON line. */
  name: string;
  rows: number;
  concurrency: string;
  /** Busy processes per CPU core running through the import (0: none). */
  overloadPerCore: number;
  /** The fake's limits as a multiple of WorkOS's; the CLI runs at `50 × scale` writes/s. */
  scale?: number;
  log: (message: string) => void;
}

/**
 * Spawns `count` processes that each spin one core until `untilMs` (epoch
 * ms) or until killed: the run queue of an overloaded machine, bounded in
 * time even if this process dies.
 */
function spawnBusyWorkers(count: number, untilMs: number): Deno.ChildProcess[] {
  const spin =
    `const end = ${untilMs}; let x = 0; while (Date.now() < end) { x = (x * 31 + 7) | 0; }`;
  return Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", spin],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn());
}

/**
 * Runs the CLI at `--rate-limit 50 × scale` against the fake's limits × scale and
 * prints the benchmark's JSON line: the steady-state ratio of writes to the
 * limit, the 429s, and with `overloadPerCore` the load average reached.
 */
export async function measureBudgetUse(options: BudgetUseOptions): Promise<void> {
  const { rows, log, scale = SCALE } = options;
  const RATE_LIMIT = 50 * scale;
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  let busy: Deno.ChildProcess[] = [];
  try {
    await writeMultiOrgCsv(path, rows, { orgs: 20 });
    await using fake = await startFakeWorkOS({
      rateLimits: { scale },
      latency: { fixedMs: 20, jitterMs: 10 },
    });
    const writes = new CounterSampler(() => {
      let total = 0;
      for (const [endpoint, count] of Object.entries(fake.state.requestCounts)) {
        if (isWrite(endpoint)) total += count;
      }
      return total;
    });
    const cores = navigator.hardwareConcurrency;
    const busyCount = Math.round(options.overloadPerCore * cores);
    // Two writes per row at 500/s, plus a minute's slack; the busy workers
    // stop by then on their own.
    const expectedMs = (2 * rows / RATE_LIMIT) * 1000;
    busy = spawnBusyWorkers(busyCount, Date.now() + expectedMs * 3 + 60_000);
    const loads: number[] = [];
    const loadTimer = setInterval(() => loads.push(Deno.loadavg()[0]), 1_000);
    log(
      `${rows} rows, --rate-limit ${RATE_LIMIT}, fake limits ×${scale}` +
        (busyCount ? `, ${busyCount} busy processes on ${cores} cores` : ""),
    );
    const run = await runImporter([
      "--csv",
      path,
      "--rate-limit",
      String(RATE_LIMIT),
      "--concurrency",
      options.concurrency,
      "--quiet",
    ], { api: fake, relay: (line) => log(`  ${line}`), timeoutMs: 300_000 });
    writes.stop();
    clearInterval(loadTimer);
    for (const child of busy) child.kill("SIGKILL");

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
    const peakLoad = Math.max(0, ...loads);
    log(
      `${total} writes; steady state ${round(mean / 10, 1)} writes/s of ${RATE_LIMIT} ` +
        `(ratio ${round(ratio, 4)}), ${rateLimited} 429s, exit ${run.code}` +
        (busyCount ? `, 1-min load average up to ${round(peakLoad, 1)}` : ""),
    );
    const overloaded = busyCount > 0;
    emit({
      name: options.name,
      ratio: round(ratio, 4),
      writesPerSecond: round(mean / (WINDOW_MS / 1000), 1),
      writeLimitPerSecond: RATE_LIMIT,
      rateLimited,
      rateLimitedSeenByImporter: summary.rateLimited ?? null,
      busiestWindow: Math.max(0, ...perWindow),
      limitPerWindow,
      ...(overloaded
        ? { busyProcesses: busyCount, cores, peakLoadAverage: round(peakLoad, 1) }
        : {}),
      steadyWindows: perWindow.length,
      steadySeconds: round((last - first - WINDOW_MS) / 1000, 1),
      writes: total,
      rows,
      exitCode: run.code,
      imported,
      durationMs: summary.durationMs ?? null,
      peakRssMiB: run.peakRssMiB,
      // Overloaded, the budget may only slow down: no 429, whatever the ratio.
      target: overloaded ? { rateLimited: 0 } : { ratio: TARGET, rateLimited: 0 },
      passed: (overloaded || ratio >= TARGET) && rateLimited === 0 && run.code === 0 && imported,
    });
  } finally {
    for (const child of busy) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await Promise.all(busy.map((child) => child.status));
    await Deno.remove(path).catch(() => {});
  }
}

async function main(): Promise<void> {
  // Two writes per row at 500/s: 12,000 rows are about 48 s (6,000 with --quick: 24 s).
  await measureBudgetUse({
    name: NAME,
    ...budgetArgs({ rows: 12_000, quickRows: 6_000, overload: 0 }),
    log,
  });
}

if (import.meta.main) await main();
