/**
 * What the importer benchmarks share: input files, running the real CLI as a
 * subprocess (so the importer and the in-process fake never share an event
 * loop) while watching its peak memory, and the one JSON line each benchmark
 * prints.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateCsv } from "../examples/gen_csv.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Writes progress of a benchmark to stderr. */
export function logger(name: string): (message: string) => void {
  return (message) => console.error(`[${name}] ${message}`);
}

/**
 * Writes a users-only CSV (no organization columns): `rows` distinct,
 * valid users.
 */
export async function writeUsersCsv(path: string, rows: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let text = "email,first_name,last_name,external_id\n";
  for (let i = 1; i <= rows; i++) {
    text += `bench.user${i}@example.com,Bench,User ${i},bench-${i}\n`;
    if (text.length > 1 << 16) {
      await file.write(encoder.encode(text));
      text = "";
    }
  }
  await file.write(encoder.encode(text));
}

/**
 * Writes a multi-organization CSV: `rows` distinct users spread round-robin
 * over `orgs` organizations named so the importer creates them, plus
 * `invalidRows` rows with a bad email spread through the file.
 */
export async function writeMultiOrgCsv(
  path: string,
  rows: number,
  options: { orgs: number; invalidRows?: number },
): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const invalidEvery = options.invalidRows ? Math.floor(rows / options.invalidRows) : 0;
  let text = "email,first_name,last_name,org_external_id,org_name,role_slug\n";
  let invalid = 0;
  for (let i = 1; i <= rows; i++) {
    const org = (i - 1) % options.orgs + 1;
    text += `bench.user${i}@example.com,Bench,User ${i},bench-org-${org},Bench Org ${org},member\n`;
    if (invalidEvery && i % invalidEvery === 0 && invalid < (options.invalidRows ?? 0)) {
      invalid++;
      text += `not-an-email-${invalid},Bad,Row,bench-org-${org},Bench Org ${org},\n`;
    }
    if (text.length > 1 << 16) {
      await file.write(encoder.encode(text));
      text = "";
    }
  }
  await file.write(encoder.encode(text));
}

/** What one importer run printed and used. */
export interface ImporterRun {
  code: number;
  /** The `--json` summary, when the run printed one. */
  summary?: Record<string, unknown>;
  /** Peak resident memory of the importer process, in MiB (Linux; 0 elsewhere). */
  peakRssMiB: number;
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
  /**
   * CPU time (user + system) of the importer process, in ms, as last read
   * from `/proc` while it ran (Linux; 0 elsewhere): up to 50 ms short.
   */
  cpuMs: number;
  /** The last stderr lines, for diagnosis. */
  stderrTail: string[];
}

/** Options for {@linkcode runImporter}. */
export interface RunImporterOptions {
  /** The fake (or real) API the importer talks to; absent for a dry run. */
  api?: { url: string; apiKey: string };
  /** Prefix for relayed stderr lines (progress, warnings). */
  relay?: (line: string) => void;
  /** Extra V8 or Deno flags before the script, e.g. `--cpu-prof`. */
  denoFlags?: string[];
  /** Kill the run after this many ms. */
  timeoutMs?: number;
}

/**
 * Peak resident memory of a process, from Linux's `VmHWM`; `undefined`
 * when it cannot be read (another OS, or the process is gone).
 */
export async function peakRssOf(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = status.match(/^VmHWM:\s+(\d+) kB/m);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of a process so far, in ms, from `/proc/<pid>/stat`. */
async function cpuMsOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of `/proc/<pid>/stat` times. */
const CLOCK_TICKS = 100;

const warmed = new Set<string>();

/**
 * Has Deno transpile `modules` into its cache before a measured run, once
 * per benchmark process. Why: the first run of a changed source tree
 * transpiles its TypeScript on worker threads, whose malloc arenas glibc
 * then keeps resident for the whole run: a 20,000-row import peaked at
 * 132-141 MiB with 19-20 MiB of thread arenas on the first run of a fresh
 * copy of the tree, 108-113 MiB with 1 MiB of them on the next runs (V8's
 * code cache was not it: `--no-code-cache` gave the same pair), and that
 * CPU counted in the run's time too. The binary never transpiles.
 */
async function warmModuleCache(modules: string[]): Promise<void> {
  const cold = modules.filter((module) => !warmed.has(module));
  if (cold.length === 0) return;
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--quiet", ...cold],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`Deno could not cache ${cold.join(", ")}`);
  for (const module of cold) warmed.add(module);
}

/**
 * Runs `deno run main.ts <args> --json` and collects the summary, the exit
 * code and the peak RSS (polled from `/proc` while it runs: `VmHWM` only
 * grows, so the last reading before exit is the peak).
 */
export async function runImporter(
  args: string[],
  options: RunImporterOptions = {},
): Promise<ImporterRun> {
  const preloads = (options.denoFlags ?? []).flatMap((flag, i, flags) =>
    flag === "--preload" && flags[i + 1] !== undefined ? [flags[i + 1]] : []
  );
  await warmModuleCache([MAIN, ...preloads]);
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (options.api) {
    env.WORKOS_SECRET_KEY = options.api.apiKey;
    env.WORKOS_API_URL = options.api.url;
  }
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", ...(options.denoFlags ?? []), MAIN, ...args, "--json"],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  let cpuMs = 0;
  const poll = setInterval(async () => {
    const rss = await peakRssOf(child.pid);
    if (rss !== undefined && rss > peak) peak = rss;
    const cpu = await cpuMsOf(child.pid);
    if (cpu !== undefined && cpu > cpuMs) cpuMs = cpu;
  }, 50);
  const timeout = options.timeoutMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  const tail: string[] = [];
  const stderrDone = (async () => {
    let pending = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.relay?.(line);
      }
    }
    if (pending) tail.push(pending);
  })();
  const stdoutText = new Response(child.stdout).text();
  const status = await child.status;
  const wallMs = performance.now() - started;
  clearInterval(poll);
  clearTimeout(timeout);
  const [stdout] = await Promise.all([stdoutText, stderrDone]);
  let summary: Record<string, unknown> | undefined;
  const last = stdout.trim().split("\n").at(-1);
  if (last?.startsWith("{")) {
    try {
      summary = JSON.parse(last);
    } catch {
      summary = undefined;
    }
  }
  return {
    code: status.code,
    summary,
    peakRssMiB: round(peak / 2 ** 20, 1),
    wallMs,
    cpuMs,
    stderrTail: tail,
  };
}

/** The input of a benchmark that reads one big generated CSV. */
export interface LargeCsv {
  rows: number;
  path: string;
  /** `--keep`: leave the file for the next run, and reuse one left by the last. */
  keep: boolean;
  /** Invalid rows generated; `undefined` when a kept file was reused. */
  invalidRows?: number;
  /**
   * The Deno flags to run the CLI with: the CLI's V8 flags
   * (`src/cli/v8_flags.ts`), as every launcher of it passes them, or none
   * with `--v8-defaults`.
   */
  denoFlags: string[];
}

/**
 * Reads `--rows` (1M; 200,000 with `--quick`), `--file`, `--keep` and
 * `--v8-defaults`, and
 * writes the multi-organization CSV with errors and people in three
 * organizations that the dry-run and validate benchmarks read.
 */
export async function largeCsvInput(
  name: string,
  log: (message: string) => void,
): Promise<LargeCsv> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      file: { type: "string" },
      keep: { type: "boolean", default: false },
      "v8-defaults": { type: "boolean", default: false },
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 200_000 : 1_000_000));
  const path = values.file ?? `/tmp/workos_importer_${name}_bench_${rows}.csv`;
  const denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const existing = values.keep ? await Deno.stat(path).catch(() => null) : null;
  if (existing !== null) return { rows, path, keep: values.keep, denoFlags };
  log(`generating ${rows} rows`);
  const { invalidRows } = await generateCsv(path, {
    rows,
    orgs: 1_000,
    withErrors: true,
    personsInOrgs: 3,
  });
  return { rows, path, keep: values.keep, invalidRows, denoFlags };
}

/** What the rate-budget benchmarks (`budget_use`, `budget_overload`) take from their arguments. */
export interface BudgetArgs {
  /** Rows to import (`--rows`). */
  rows: number;
  /** The CLI's `--concurrency` (`--concurrency`, 64). */
  concurrency: string;
  /** Busy processes per CPU core during the run (`--overload`). */
  overloadPerCore: number;
}

/**
 * Reads the rate-budget benchmarks' `--rows`, `--concurrency`,
 * `--overload` and `--quick`: one parser, each benchmark's own defaults.
 */
export function budgetArgs(
  defaults: { rows: number; quickRows: number; overload: number },
  args: readonly string[] = Deno.args,
): BudgetArgs {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      concurrency: { type: "string", default: "64" },
      overload: { type: "string", default: String(defaults.overload) },
    },
  });
  return {
    rows: Number(values.rows ?? (values.quick ? defaults.quickRows : defaults.rows)),
    concurrency: values.concurrency,
    overloadPerCore: Number(values.overload),
  };
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Whether the benchmark was asked for its short form. */
export function isQuick(args: readonly string[] = Deno.args): boolean {
  return args.includes("--quick");
}

/** Prints the benchmark's one JSON line on stdout. */
export function emit(result: Record<string, unknown> & { name: string; passed: boolean }): void {
  console.log(JSON.stringify(result));
}

/**
 * Samples a counter every `everyMs` as `[ms since start, value]` pairs,
 * until stopped.
 */
export class CounterSampler {
  readonly samples: Array<[number, number]> = [];
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #read: () => number;
  readonly #start = performance.now();

  constructor(read: () => number, everyMs = 10) {
    this.#read = read;
    this.samples.push([0, read()]);
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    this.samples.push([performance.now() - this.#start, this.#read()]);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  /** The first sample time at which the counter reached `value`. */
  timeOf(value: number): number | undefined {
    return this.samples.find(([, count]) => count >= value)?.[0];
  }

  /** The counter's value at time `t` (the last sample at or before it). */
  valueAt(t: number): number {
    let lo = 0;
    let hi = this.samples.length - 1;
    if (t < this.samples[0][0]) return this.samples[0][1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.samples[mid][0] <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.samples[lo][1];
  }
}

/**
 * The floor every reading benchmark is measured against: a plain Deno line
 * scan of the same file (read it in chunks, decode UTF-8, split lines, count
 * them), nothing the importer could do with less.
 *
 * @returns The number of lines.
 */
export async function lineScan(path: string): Promise<number> {
  using file = await Deno.open(path);
  const decoder = new TextDecoder();
  let lines = 0;
  let rest = "";
  for await (const chunk of file.readable) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = parts.pop() ?? "";
    lines += parts.length;
  }
  return lines + (rest === "" ? 0 : 1);
}

/** The line-scan floor, measured in the same run. */
export interface LineScanFloor {
  /** Best wall time of the runs, in ms. */
  ms: number;
  /** Best CPU time (user + system, start-up included) of the runs, in ms. */
  cpuMs: number;
  /** Every run's wall time, in ms. */
  runs: number[];
  lines: number;
}

/**
 * Times {@linkcode lineScan} of `path` in a process of its own, the way the
 * importer runs (its start-up included): the best of `times` runs, since
 * a busy machine only ever adds to it.
 */
export async function lineScanProcess(path: string, times = 3): Promise<LineScanFloor> {
  const script = `import { lineScan } from ${JSON.stringify(import.meta.url)};\n` +
    `import process from "node:process";\n` +
    `const lines = await lineScan(${JSON.stringify(path)});\n` +
    `const { user, system } = process.cpuUsage();\n` +
    `console.log(lines, (user + system) / 1000);`;
  const runs: number[] = [];
  const cpu: number[] = [];
  let lines = 0;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
    runs.push(round(performance.now() - started));
    if (!output.success) throw new Error("The line scan failed");
    const [count, cpuMs] = new TextDecoder().decode(output.stdout).trim().split(" ");
    lines = Number(count);
    cpu.push(round(Number(cpuMs)));
  }
  return { ms: Math.min(...runs), cpuMs: Math.min(...cpu), runs, lines };
}
