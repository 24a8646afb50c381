/**
 * Import memory: the peak RSS of the importer process (the real CLI) while it
 * imports 100,000, 200,000 and 400,000 distinct users against the fake with
 * rate limits off at `--concurrency 50`, without and with a job. The fake
 * runs in a process of its own (`src/fake_workos/serve.ts`), so its memory —
 * it keeps every user it was sent — is not counted; its peak is reported
 * beside the importer's. The floor, measured in the same run: a bare fetch
 * loop (50 in flight, one user create per request, no SDK) against the same
 * fake, with the same V8 flags. Target (issue 16's, in MB of 10^6 bytes):
 * every importer peak at most 150 MB (143.1 MiB), and the largest peak
 * within 10 % of the smallest, job or not. Peaks are printed in both units.
 *
 * The importer runs with the CLI's V8 flags (`src/cli/v8_flags.ts`), as the
 * `import` task, the installed command and the binary run it;
 * `--v8-defaults` measures it without them.
 *
 * Run: `deno run -A bench/import_memory_bench.ts [--quick] [--sizes 100000,200000,400000]
 * [--rows 1000000] [--modes plain,job] [--floor-requests 50000] [--v8-defaults]
 * [--probe DIR]`. `--rows N`
 * measures 100,000 and N rows; `--quick` is a tiny smoke run (its peaks say
 * nothing about the target). The default imports 1.4M rows in all: at about
 * 1,500 users/s on a quiet 2-core machine (the importer's pace; the fake
 * keeps up with twice that) it takes about 15 minutes, `--modes plain` half.
 * `--probe DIR` loads `bench/_memory_probe.ts` into each importer run, which
 * writes a sample of its memory by kind every second to
 * `DIR/<mode>_<rows>.jsonl` (a diagnosis: it costs a little CPU), and each
 * run's line and JSON then give the median RSS of its second half beside
 * its peak.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { emit, isQuick, logger, peakRssOf, round, runImporter, writeUsersCsv } from "./_harness.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const NAME = "import_memory";
/** Issue 16's goal is in MB (10^6 bytes): 150 MB is 143.1 MiB. */
const TARGET_PEAK_MB = 150;
const TARGET_PEAK_MIB = round(TARGET_PEAK_MB * 1e6 / 2 ** 20, 1);
const TARGET_SPREAD = 1.1;
const CONCURRENCY = 50;
const API_KEY = "sk_test_fake_workos";
const SERVE = new URL("../src/fake_workos/serve.ts", import.meta.url).pathname;
const PROBE = new URL("./_memory_probe.ts", import.meta.url).pathname;
const log = logger(NAME);

/** The fake in a process of its own, so that its memory is not the importer's. */
class FakeProcess {
  readonly url: string;
  readonly apiKey = API_KEY;
  readonly #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess, port: number) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(): Promise<FakeProcess> {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "--allow-env", SERVE, "--port", String(port)]
        .concat(["--no-rate-limits", "--api-key", API_KEY]),
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const fake = new FakeProcess(child, port);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await fake.status().catch(() => undefined)) return fake;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await fake.stop();
    throw new Error("The fake did not start within 30 s");
  }

  async status(): Promise<{ users: number; totalRequests: number }> {
    const response = await fetch(`${this.url}/__fake/status`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    if (!response.ok) throw new Error(`The fake answered ${response.status}`);
    return await response.json();
  }

  /** The fake's own peak RSS, in MiB. */
  async peakRssMiB(): Promise<number> {
    return round((await peakRssOf(this.#child.pid) ?? 0) / 2 ** 20, 1);
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.#child.status;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * The floor: a bare fetch loop creating `requests` users, 50 at a time, in a
 * process of its own, with the same V8 flags as the importer (the loop's own
 * heap is sized by them as much as the importer's is).
 */
async function floorPeakMiB(
  url: string,
  options: { requests: number; denoFlags: string[] },
): Promise<number> {
  const { requests, denoFlags } = options;
  const script = `
    const [url, total, concurrency] = [${JSON.stringify(url)}, ${requests}, ${CONCURRENCY}];
    let next = 0;
    async function worker() {
      while (next < total) {
        const i = ++next;
        const response = await fetch(url + "/user_management/users", {
          method: "POST",
          headers: { authorization: "Bearer ${API_KEY}", "content-type": "application/json" },
          body: JSON.stringify({ email: "floor.user" + i + "@example.com", first_name: "Floor", last_name: "User " + i }),
        });
        await response.json();
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", ...denoFlags, script],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  let peak = 0;
  const poll = setInterval(async () => {
    const rss = await peakRssOf(child.pid);
    if (rss !== undefined && rss > peak) peak = rss;
  }, 50);
  const status = await child.status;
  clearInterval(poll);
  if (!status.success) throw new Error("The bare fetch loop failed");
  return round(peak / 2 ** 20, 1);
}

/** MiB as MB (10^6 bytes), the unit. */
function mb(mib: number): number {
  return round(mib * 2 ** 20 / 1e6, 1);
}

interface Measurement {
  mode: "plain" | "job";
  rows: number;
  peakRssMiB: number;
  /** With `--probe`: the median of the probe's RSS samples over the run's second half. */
  secondHalfMedianRssMiB?: number;
  peakRssMB: number;
  fakePeakRssMiB: number;
  seconds: number;
  imported: boolean;
}

async function measure(
  mode: "plain" | "job",
  rows: number,
  csv: string,
  options: { dir: string; denoFlags: string[]; probe?: string },
): Promise<Measurement> {
  const { dir, probe } = options;
  let denoFlags = options.denoFlags;
  if (probe !== undefined) {
    // The child inherits the environment; the probe reads where to write from it.
    // The probe appends: a file left by an earlier run would mix into this one's median.
    await Deno.remove(`${probe}/${mode}_${rows}.jsonl`).catch(() => {});
    Deno.env.set("IMPORT_MEMORY_PROBE", `${probe}/${mode}_${rows}.jsonl`);
    denoFlags = [...denoFlags, "--preload", PROBE];
  }
  // A fresh fake for every run: it keeps every user, which would slow the next run.
  const fake = await FakeProcess.start();
  try {
    const args = [
      "--csv",
      csv,
      "--concurrency",
      String(CONCURRENCY),
      "--rate-limit",
      "100000",
      "--quiet",
    ];
    if (mode === "job") {
      args.push("--job-id", `memory-${rows}`, "--checkpoint-dir", `${dir}/jobs-${rows}`);
    }
    const run = await runImporter(args, {
      api: fake,
      denoFlags,
      relay: (line) => log(`  ${line}`),
      timeoutMs: 3_600_000,
    });
    const status = await fake.status();
    const imported = run.code === 0 && status.users === rows &&
      run.summary?.usersCreated === rows;
    const seconds = round(run.wallMs / 1000, 1);
    const fakePeakRssMiB = await fake.peakRssMiB();
    const secondHalfMedianRssMiB = probe === undefined
      ? undefined
      : await secondHalfMedianMiB(`${probe}/${mode}_${rows}.jsonl`);
    log(
      `${mode} ${rows} rows: importer peak ${run.peakRssMiB} MiB (${mb(run.peakRssMiB)} MB), ` +
        (secondHalfMedianRssMiB === undefined
          ? ""
          : `second-half median ${secondHalfMedianRssMiB} MiB, `) +
        `fake ${fakePeakRssMiB} MiB, ` +
        `${seconds} s (${round(rows / seconds)} rows/s), exit ${run.code}`,
    );
    if (!imported) log(`  not imported: ${run.stderrTail.slice(-5).join(" | ")}`);
    return {
      mode,
      rows,
      peakRssMiB: run.peakRssMiB,
      peakRssMB: mb(run.peakRssMiB),
      ...(secondHalfMedianRssMiB === undefined ? {} : { secondHalfMedianRssMiB }),
      fakePeakRssMiB,
      seconds,
      imported,
    };
  } finally {
    await fake.stop();
  }
}

/**
 * The median RSS of a probe file's samples over the run's second half, in
 * MiB. Why beside the peak: a peak is the largest of a run's V8 excursions,
 * and a 1M-row run has ten times the chances of a 100K one to catch a large
 * one, so two peaks can differ by more than what each run keeps (BENCHMARKS.md,
 * "Import memory, 2026-12-03 (branch impmem7b)").
 */
async function secondHalfMedianMiB(path: string): Promise<number | undefined> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const samples = text.split("\n").filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { t: number; rssKiB: number });
  if (samples.length < 4) return undefined;
  const end = samples[samples.length - 1].t;
  const late = samples.filter((sample) => sample.t >= end / 2).map((sample) => sample.rssKiB)
    .sort((a, b) => a - b);
  return round(late[late.length >> 1] / 1024, 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      sizes: { type: "string" },
      rows: { type: "string" },
      modes: { type: "string", default: "plain,job" },
      "floor-requests": { type: "string" },
      "v8-defaults": { type: "boolean", default: false },
      probe: { type: "string" },
    },
  });
  const quick = isQuick();
  const sizes = values.rows !== undefined
    ? [100_000, Number(values.rows)]
    : (values.sizes ?? (quick ? "3000,6000" : "100000,200000,400000")).split(",").map(Number);
  const modes = values.modes.split(",").map((mode) => mode.trim()) as Array<"plain" | "job">;
  const floorRequests = Number(values["floor-requests"] ?? (quick ? 3_000 : 50_000));
  const denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const probe = values.probe;
  if (probe !== undefined) await Deno.mkdir(probe, { recursive: true });
  const dir = await Deno.makeTempDir({ prefix: "import_memory_bench_" });
  try {
    const fake = await FakeProcess.start();
    let floorMiB: number;
    try {
      log(`floor: a bare fetch loop of ${floorRequests} creates, ${CONCURRENCY} in flight`);
      floorMiB = await floorPeakMiB(fake.url, { requests: floorRequests, denoFlags });
      log(`floor peak ${floorMiB} MiB`);
    } finally {
      await fake.stop();
    }
    const measurements: Measurement[] = [];
    for (const rows of sizes) {
      const csv = `${dir}/users_${rows}.csv`;
      await writeUsersCsv(csv, rows);
      // Interleaved, so that a change of load on a shared machine hits both modes alike.
      for (const mode of modes) {
        measurements.push(await measure(mode, rows, csv, { dir, denoFlags, probe }));
      }
      await Deno.remove(csv);
    }
    const byMode: Record<string, Record<string, number>> = {};
    let withinTarget = true;
    for (const mode of modes) {
      const runs = measurements.filter((m) => m.mode === mode);
      const peaks = runs.map((m) => m.peakRssMiB);
      const spread = round(Math.max(...peaks) / Math.min(...peaks), 3);
      const largest = Math.max(...peaks);
      // Four numbers, so that the results table shows them; every run is in `runs`.
      byMode[mode] = {
        largestPeakMiB: largest,
        largestPeakMB: mb(largest),
        smallestPeakMiB: Math.min(...peaks),
        largestToSmallest: spread,
        largestToFloor: round(largest / floorMiB, 2),
      };
      if (mb(largest) > TARGET_PEAK_MB || spread > TARGET_SPREAD) withinTarget = false;
    }
    const imported = measurements.every((m) => m.imported);
    for (const [mode, numbers] of Object.entries(byMode)) {
      log(
        `${mode}: largest/smallest ${numbers.largestToSmallest} (target ≤ ${TARGET_SPREAD}), ` +
          `largest ${numbers.largestPeakMiB} MiB = ${numbers.largestPeakMB} MB (target ≤ ` +
          `${TARGET_PEAK_MB} MB = ${TARGET_PEAK_MIB} MiB) = ${numbers.largestToFloor}× the floor ` +
          `(${floorMiB} MiB = ${mb(floorMiB)} MB)`,
      );
    }
    emit({
      name: NAME,
      floorPeakMiB: floorMiB,
      floorPeakMB: mb(floorMiB),
      ...byMode,
      runs: measurements,
      concurrency: CONCURRENCY,
      v8Flags: values["v8-defaults"] ? "defaults" : "cli",
      loadAverage: Deno.loadavg().map((n) => round(n, 2)),
      target: {
        peakRssMB: TARGET_PEAK_MB,
        peakRssMiB: TARGET_PEAK_MIB,
        largestToSmallest: TARGET_SPREAD,
      },
      // A quick run is a smoke test: its sizes are too small to say anything about the target.
      passed: imported && (quick || withinTarget),
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
