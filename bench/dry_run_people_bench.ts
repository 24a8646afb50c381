/**
 * A whole dry run of 10M distinct people (1M with `--quick`): the real CLI
 * runs `--csv - --dry-run` while this process writes a users-only CSV of
 * that many distinct people into its standard input as fast as it reads
 * (nothing on disk). Reported: the importer's peak RSS against issue 16's
 * goal (150 MB), next to its two floors measured in the same run: the peak
 * RSS of the same dry run of 1,000 people (the runtime and the modules) and
 * the bytes the people set must hold (`FingerprintSet`'s tables for that
 * many people, about 6.2 bytes a person at 10M). Also the wall time, bounded: the run is killed after
 * `--timeout` seconds (600).
 *
 * The CLI runs with its V8 flags (`src/cli/v8_flags.ts`), as every
 * launcher of it does; `--v8-defaults` measures it without them.
 *
 * Run: `deno run -A bench/dry_run_people_bench.ts [--quick] [--people 10000000] [--timeout 600]
 * [--v8-defaults]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { emit, isQuick, logger, round } from "./_harness.ts";
import { fingerprintSetBytes } from "./_offline_floor.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const NAME = "dry_run_people";
// Issue 16's goal: 150 MB, 10^6 bytes each (143.1 MiB).
const TARGET_MB = 150;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const log = logger(NAME);

/** The CSV text of people `from` to `to - 1`: one distinct email each. */
function rowsOf(from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) {
    text += `person.${i}@example${i % 1_000}.com,Person,Number ${i},p-${i}\n`;
  }
  return text;
}

/** What one dry run on standard input printed and used. */
interface StdinRun {
  code: number;
  plan?: Record<string, number>;
  peakBytes: number;
  wallMs: number;
}

/** Peak resident memory of a process (Linux `VmHWM`), or 0 when unreadable. */
async function peakOf(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = status.match(/^VmHWM:\s+(\d+) kB/m);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs the CLI's dry run on `people` generated rows written to its stdin. */
async function dryRunOnStdin(
  people: number,
  timeoutMs: number,
  denoFlags: string[],
): Promise<StdinRun> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      ...denoFlags,
      MAIN,
      "--csv",
      "-",
      "--dry-run",
      "--quiet",
      "--json",
    ],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peak = 0;
  const poll = setInterval(async () => {
    peak = Math.max(peak, await peakOf(child.pid));
  }, 50);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const stdout = new Response(child.stdout).text();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  try {
    await writer.write(encoder.encode("email,first_name,last_name,external_id\n"));
    for (let from = 0; from < people; from += 2_000) {
      await writer.write(encoder.encode(rowsOf(from, Math.min(people, from + 2_000))));
    }
    await writer.close();
  } catch {
    // The importer stopped reading (killed at the timeout): its exit code tells.
  }
  const status = await child.status;
  const wallMs = performance.now() - started;
  clearInterval(poll);
  clearTimeout(timer);
  peak = Math.max(peak, await peakOf(child.pid));
  const last = (await stdout).trim().split("\n").at(-1) ?? "";
  let plan: Record<string, number> | undefined;
  try {
    plan = JSON.parse(last).plan;
  } catch {
    plan = undefined;
  }
  return { code: status.code, plan, peakBytes: peak, wallMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      people: { type: "string" },
      timeout: { type: "string", default: "600" },
      "v8-defaults": { type: "boolean", default: false },
    },
  });
  const people = Number(values.people ?? (isQuick() ? 1_000_000 : 10_000_000));
  const timeoutMs = Number(values.timeout) * 1000;

  const denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const floor = await dryRunOnStdin(1_000, 60_000, denoFlags);
  log(`floor: a dry run of 1,000 people peaks at ${round(floor.peakBytes / 1e6, 1)} MB`);
  const run = await dryRunOnStdin(people, timeoutMs, denoFlags);
  const mb = run.peakBytes / 1e6;
  const setMb = fingerprintSetBytes(people) / 1e6;
  log(
    `${people} distinct people on stdin: ${round(run.wallMs / 1000, 1)} s, peak ${
      round(mb, 1)
    } MB = ${round(run.peakBytes / 2 ** 20, 1)} MiB (goal ${TARGET_MB} MB = ${
      round(TARGET_MB * 1e6 / 2 ** 20, 1)
    } MiB; the people set alone ${round(setMb, 1)} MB, the runtime ${
      round(floor.peakBytes / 1e6, 1)
    } MB), distinct ${run.plan?.distinctUsers ?? "?"}`,
  );
  emit({
    name: NAME,
    people,
    peakMB: round(mb, 1),
    peakMiB: round(run.peakBytes / 2 ** 20, 1),
    floorPeakMB: round(floor.peakBytes / 1e6, 1),
    peopleSetMB: round(setMb, 1),
    floorsMB: round(floor.peakBytes / 1e6 + setMb, 1),
    ratioToFloors: round(mb / (floor.peakBytes / 1e6 + setMb), 2),
    seconds: round(run.wallMs / 1000, 1),
    rowsPerSecond: Math.round(people / (run.wallMs / 1000)),
    distinctUsers: run.plan?.distinctUsers ?? null,
    validRows: run.plan?.validRows ?? null,
    exitCode: run.code,
    v8Flags: values["v8-defaults"] ? "defaults" : "cli",
    target: { peakMB: TARGET_MB, peakMiB: round(TARGET_MB * 1e6 / 2 ** 20, 1) },
    passed: run.code === 0 && run.plan?.distinctUsers === people &&
      run.plan?.validRows === people && mb <= TARGET_MB,
  });
}

if (import.meta.main) await main();
