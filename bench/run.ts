/**
 * `deno task bench`: runs every `bench/*_bench.ts` in its own process, one
 * after the other (so they never compete for the CPU), collects the one
 * JSON line each prints, writes them all to `bench/results/latest.json`
 * with the machine they ran on, and prints a table.
 *
 * ```sh
 * deno task bench                      # everything (about 10 minutes on a busy 2-core machine)
 * deno task bench --quick              # smaller inputs (under 3 minutes)
 * deno task bench --only budget_use    # one benchmark (comma-separate several)
 * deno task bench --json               # the results as JSON on stdout
 * deno task bench --out /tmp/r.json     # results elsewhere than bench/results/latest.json
 * deno task bench --markdown BENCHMARKS.md   # also refresh the results table there
 * ```
 *
 * Benchmarks print progress to stderr (passed through here) and exactly one
 * JSON line to stdout: `{"name": ..., metrics..., "target": ..., "passed": bool}`.
 * The exit code is 1 when any benchmark failed its target or crashed.
 *
 * @module
 */

import { parseArgs } from "node:util";

const BENCH_DIR = new URL("./", import.meta.url);
const DEFAULT_RESULTS = new URL("./results/latest.json", BENCH_DIR);
const TIMEOUT_MS = 15 * 60_000;
const START_MARKER = "<!-- bench:results:start -->";
const END_MARKER = "<!-- bench:results:end -->";

/**
 * Arguments for `--quick`, for benchmarks that take sizes rather than a
 * `--quick` flag, or whose `--quick` alone would take too long of the
 * suite's 3 minutes. Others get `--quick` when their source mentions it.
 * One line each.
 */
const QUICK_ARGS: Record<string, string[]> = {
  fake_server: ["--requests", "10000", "--users", "200000"],
  input: ["--rows", "200000"],
  // Every fault still strikes, for less time: the run waits out each phase.
  fault_storm: "--quick --storm-seconds 5 --outage-seconds 6 --refusal-seconds 2".split(" "),
  import_memory: ["--quick", "--sizes", "3000"],
  // The ends of the range (10 and 200 in flight) for 2 s each; the full run also measures 50.
  littles_law: "--quick --concurrency 10,200 --seconds 2".split(" "),
  providers_dry_run: "--quick --rows 100000 --rounds 2".split(" "),
};

/** One benchmark's outcome. */
interface BenchResult {
  /** File name without `_bench.ts`. */
  bench: string;
  /** The exact command that ran it. */
  command: string;
  /** Wall time of the whole process, in ms. */
  wallMs: number;
  exitCode: number;
  /** The benchmark's JSON line, when it printed one. */
  result?: Record<string, unknown>;
  /** Whether it met its target (a crash counts as not). */
  passed: boolean;
  /** When it ran (ISO 8601), and on what. */
  ranAt: string;
  commit: string | null;
  loadAverage: string;
  quick: boolean;
}

async function benches(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(BENCH_DIR)) {
    if (entry.isFile && entry.name.endsWith("_bench.ts")) {
      names.push(entry.name.slice(0, -"_bench.ts".length));
    }
  }
  return names.sort();
}

async function argsFor(bench: string, quick: boolean): Promise<string[]> {
  if (!quick) return [];
  if (QUICK_ARGS[bench]) return QUICK_ARGS[bench];
  const source = await Deno.readTextFile(new URL(`${bench}_bench.ts`, BENCH_DIR));
  return /quick/.test(source) ? ["--quick"] : [];
}

async function runOne(
  bench: string,
  quick: boolean,
  commit: string | null,
): Promise<BenchResult> {
  const file = `bench/${bench}_bench.ts`;
  const args = await argsFor(bench, quick);
  const command = ["deno", "run", "-A", file, ...args].join(" ");
  console.error(`\n=== ${bench}: ${command}`);
  const ranAt = new Date().toISOString();
  const loadAverage = loadAverageText();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`${bench}_bench.ts`, BENCH_DIR).pathname, ...args],
    cwd: new URL("../", BENCH_DIR).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
  clearTimeout(timer);
  const wallMs = Math.round(performance.now() - started);
  let result: Record<string, unknown> | undefined;
  for (const line of stdout.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      result = JSON.parse(line);
      break;
    } catch {
      // Not the result line.
    }
  }
  // Older benchmarks print no verdict; having printed their numbers counts.
  const passed = status.code === 0 && result !== undefined && result.passed !== false;
  return {
    bench,
    command,
    wallMs,
    exitCode: status.code,
    result,
    passed,
    ranAt,
    commit,
    loadAverage,
    quick,
  };
}

function loadAverageText(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/** Results of an earlier run, so `--only` updates its rows and keeps the others. */
async function previousResults(path: string | URL): Promise<BenchResult[]> {
  try {
    const report = JSON.parse(await Deno.readTextFile(path));
    return Array.isArray(report.results)
      ? report.results.filter((r: Partial<BenchResult>) => typeof r.ranAt === "string")
      : [];
  } catch {
    return [];
  }
}

async function gitCommit(): Promise<string | null> {
  try {
    const output = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: new URL("../", BENCH_DIR).pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** The few numbers of a result worth a table cell: scalars, not the verdict or target. */
function headline(result: Record<string, unknown> | undefined): string {
  if (!result) return "(no result)";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    if (key === "name" || key === "passed" || key === "target") continue;
    if (typeof value === "number" || typeof value === "boolean") parts.push(`${key}=${value}`);
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length <= 4 && entries.every(([, v]) => typeof v === "number")) {
        parts.push(`${key}=${entries.map(([k, v]) => `${k}:${v}`).join(",")}`);
      }
    }
    if (parts.length >= 6) break;
  }
  return parts.join(" ");
}

function targetText(result: Record<string, unknown> | undefined): string {
  const target = result?.target;
  if (target === undefined) return "";
  return typeof target === "object" ? JSON.stringify(target) : String(target);
}

function table(results: BenchResult[]): string {
  const rows = results.map((r) => [
    r.bench,
    r.passed ? "pass" : r.result ? "FAIL" : "CRASH",
    `${(r.wallMs / 1000).toFixed(1)} s`,
    headline(r.result),
    targetText(r.result),
  ]);
  const header = ["benchmark", "result", "time", "numbers", "target"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function markdown(results: BenchResult[], meta: Record<string, unknown>): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const lines = [
    START_MARKER,
    "",
    `Last run: ${meta.date}, commit ${meta.commit ?? "?"}, Deno ${meta.deno}, ` +
    `${meta.cpus} CPUs${meta.quick ? ", `--quick`" : ""}. Rows of benchmarks not in that run ` +
    "come from earlier runs (see their date).",
    "",
    "| Benchmark | Result | Numbers | Target | Command | Ran (UTC), load average |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map((r) =>
      `| ${r.bench} | ${r.passed ? "pass" : r.result ? "**fail**" : "**crash**"} | ${
        escape(headline(r.result))
      } | ${escape(targetText(r.result))} | \`${r.command}\` | ${
        r.ranAt.slice(0, 16).replace("T", " ")
      }, ${r.loadAverage} |`
    ),
    "",
    END_MARKER,
  ];
  return lines.join("\n");
}

async function updateMarkdown(path: string, section: string): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  const next = start >= 0 && end > start
    ? text.slice(0, start) + section + text.slice(end + END_MARKER.length)
    : `${text.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(path, next);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      markdown: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const all = await benches();
  if (values.help) {
    console.log(
      `Usage: deno task bench [--quick] [--only <name,...>] [--json] [--markdown <file>] ` +
        `[--out <file>]\n` +
        `Benchmarks: ${all.join(", ")}`,
    );
    return 0;
  }
  const only = values.only?.split(",").map((name) => name.trim().replace(/_bench(\.ts)?$/, ""));
  const unknown = only?.filter((name) => !all.includes(name)) ?? [];
  if (unknown.length > 0) {
    console.error(
      `Cannot run "${unknown.join('", "')}": no such benchmark: pick from ${all.join(", ")}`,
    );
    return 2;
  }
  const selected = only ? all.filter((name) => only.includes(name)) : all;
  const meta = {
    date: new Date().toISOString(),
    command: ["deno task bench", ...Deno.args].join(" "),
    quick: values.quick,
    commit: await gitCommit(),
    deno: Deno.version.deno,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    cpus: navigator.hardwareConcurrency,
    loadAverage: loadAverageText(),
  };
  const fresh: BenchResult[] = [];
  for (const bench of selected) fresh.push(await runOne(bench, values.quick, meta.commit));

  // Earlier results of benchmarks not run now are kept, so `--only` composes.
  const out = values.out ?? DEFAULT_RESULTS;
  const kept = (await previousResults(out)).filter((r) =>
    all.includes(r.bench) && !selected.includes(r.bench)
  );
  const results = [...fresh, ...kept].sort((a, b) => a.bench.localeCompare(b.bench));
  const report = { ...meta, results };
  if (!values.out) await Deno.mkdir(new URL("./results/", BENCH_DIR), { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
  if (values.markdown) {
    await updateMarkdown(values.markdown, markdown(results, meta));
    // The table is written unaligned; let deno fmt align it as it expects.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", values.markdown] })
      .output().catch(() => undefined);
  }
  const text = `\n${table(fresh)}\n\nResults: ${out instanceof URL ? out.pathname : out}`;
  if (values.json) {
    console.error(text);
    console.log(JSON.stringify(report));
  } else {
    console.log(text);
  }
  return fresh.every((r) => r.passed) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
