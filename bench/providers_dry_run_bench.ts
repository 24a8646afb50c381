/**
 * Provider exports at scale: the real CLI runs a dry run of 1M generated
 * Firebase users (`firebase auth:export` JSON, one document read by the
 * streaming list scanner) and 1M Auth0 users (bulk export NDJSON). The floor,
 * measured in the same run, is the dry run of a plain CSV of as many users
 * (the bench harness's four short columns), so the ratio is the whole price
 * of reading an export instead of a CSV: its bytes (400–500 per user), its
 * JSON, its mapping and the fields it fills. Targets: every user accounted
 * for, time within 2× of the plain CSV dry run, peak RSS under 512 MiB
 * (users stream; only the plan's per-person set grows).
 *
 * One untimed CSV dry run warms the machine up (a first run after the files
 * are written is up to twice as slow); then `--rounds` rounds each time the
 * plain CSV, Firebase and Auth0 one after another, and each source's ratio is
 * the median over the rounds of its time over the CSV's of the same round.
 * Each run's CPU time (user + system) and the same ratios of it are printed
 * too: under load they scatter less than wall time (the target is wall's).
 *
 * The floor of reading an export at all, timed in this process after the
 * rounds: the file read in 1 MiB chunks, decoded, and each user's line given
 * to `JSON.parse` (no mapping, no validation, no plan), as a share of the
 * plain CSV dry run: what is left of 2× for everything else.
 *
 * An export file of 32 MiB or more is read, parsed and mapped in a worker
 * (src/input/providers/_worker_client.ts), so the run's CPU time is the
 * main thread's and the worker's together, and the `JSON.parse` floor above
 * is a floor of that CPU time, no longer of the wall time. `--in-thread`
 * also times each export with the worker off
 * (`WORKOS_IMPORTER_READ_WORKER=off`) in every round: the worker's gain in
 * the same round. `--no-hand-over` also times the Auth0 export with the
 * worker keeping every line (`WORKOS_IMPORTER_HAND_OVER=never`: no lines
 * handed to an idle main thread) in every round.
 *
 * `--same-users` also times the CSV of the same users that `convert` writes
 * from each export (conversion untimed), to split the price of the format
 * from the price of the fields. `--all-sources` also times Clerk, Supabase,
 * Cognito and SuperTokens exports of as many users (reported, not targets).
 *
 * Run: `deno run -A bench/providers_dry_run_bench.ts [--quick] [--rows 1000000] [--rounds 3] [--same-users] [--all-sources] [--in-thread] [--no-hand-over] [--keep] [--v8-defaults]`.
 * `--quick` is 200,000 users; `--keep` reuses the generated files in /tmp.
 * The CLI runs with its V8 flags (`src/cli/v8_flags.ts`), as every launcher
 * of it does; `--v8-defaults` runs it without them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { emit, isQuick, logger, round, runImporter, writeUsersCsv } from "./_harness.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";
import {
  LARGE_FILES,
  LARGE_SOURCES,
  writeLargeFixtures,
} from "../tests/fixtures/providers/generate.ts";

const NAME = "providers_dry_run";
const TARGET_RATIO = 2;
const TARGET_RSS_MIB = 512;
const log = logger(NAME);

interface Measured {
  seconds: number;
  /** The child's CPU time (user + system, sampled every 50 ms). */
  cpuSeconds: number;
  peakRssMiB: number;
  rowsAccounted: number;
}

/** The Deno flags every run of the CLI takes: its V8 flags, or none with `--v8-defaults`. */
let denoFlags: string[] = [];

async function convert(from: string, input: string, out: string): Promise<void> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const run = await runImporter(["convert", "--from", from, "--input", input, "--out", out], {
    relay: () => {},
    timeoutMs: 900_000,
    denoFlags,
  });
  if (run.code > 1) throw new Error(`convert --from ${from} failed with exit code ${run.code}`);
}

/** A dry run with the export read in the main thread (the read worker off). */
async function inThread(args: string[]): Promise<Measured> {
  return await withVariable("WORKOS_IMPORTER_READ_WORKER", "off", args);
}

/** A dry run with the read worker keeping every line (none handed to the main thread). */
async function noHandOver(args: string[]): Promise<Measured> {
  return await withVariable("WORKOS_IMPORTER_HAND_OVER", "never", args);
}

async function withVariable(name: string, value: string, args: string[]): Promise<Measured> {
  Deno.env.set(name, value);
  try {
    return await dryRun(args);
  } finally {
    Deno.env.delete(name);
  }
}

async function dryRun(args: string[]): Promise<Measured> {
  const run = await runImporter([...args, "--dry-run", "--quiet"], {
    relay: (line) => log(`  ${line}`),
    timeoutMs: 900_000,
    denoFlags,
  });
  const plan = run.summary?.plan as Record<string, number> | undefined;
  return {
    seconds: run.wallMs / 1000,
    cpuSeconds: run.cpuMs / 1000,
    peakRssMiB: run.peakRssMiB,
    rowsAccounted: plan ? plan.validRows + plan.invalidRows : 0,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      rounds: { type: "string", default: "3" },
      keep: { type: "boolean", default: false },
      "same-users": { type: "boolean", default: false },
      "all-sources": { type: "boolean", default: false },
      "v8-defaults": { type: "boolean", default: false },
      "in-thread": { type: "boolean", default: false },
      "no-hand-over": { type: "boolean", default: false },
    },
  });
  denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const rows = Number(values.rows ?? (isQuick() ? 200_000 : 1_000_000));
  const sameUsers = values["same-users"];
  const dir = `/tmp/workos_importer_${NAME}_${rows}`;
  const csv = `${dir}/users.csv`;
  const ready = values.keep && await Deno.stat(csv).then(() => true, () => false);
  if (!ready) {
    log(`generating ${rows} users per source in ${dir}`);
    await writeLargeFixtures(dir, rows);
    await writeUsersCsv(csv, rows);
  }
  const others = values["all-sources"]
    ? LARGE_SOURCES.filter((source) => source !== "auth0" && source !== "firebase")
    : [];
  for (const source of others) {
    const path = `${dir}/${LARGE_FILES[source]}`;
    if (!await Deno.stat(path).then(() => true, () => false)) {
      log(`generating ${rows} ${source} users`);
      await writeLargeFixtures(dir, rows, [source]);
    }
  }
  if (
    sameUsers && !(ready && await Deno.stat(`${dir}/auth0_package`).then(() => true, () => false))
  ) {
    log("converting each export to the importer's CSV (the same users)");
    await convert("firebase", `${dir}/firebase_users.json`, `${dir}/firebase_package`);
    await convert("auth0", `${dir}/auth0_users.ndjson`, `${dir}/auth0_package`);
  }
  try {
    await dryRun(["--csv", csv]);
    log("warmed up: one untimed plain CSV dry run");
    const plain: Measured[] = [];
    const firebaseRuns: Measured[] = [];
    const auth0Runs: Measured[] = [];
    const inThreadRuns: { firebase: Measured[]; auth0: Measured[] } = { firebase: [], auth0: [] };
    const noHandOverRuns: Measured[] = [];
    const rounds = Math.max(1, Number(values.rounds));
    for (let round = 1; round <= rounds; round++) {
      // The floor next to each source in every round: the machine's speed
      // drifts under load, and each ratio compares runs of one round.
      const csvRun = await dryRun(["--csv", csv]);
      log(
        `round ${round}: plain csv ${round1(csvRun.seconds)} s (CPU ${
          round1(csvRun.cpuSeconds)
        } s), peak ${csvRun.peakRssMiB} MiB`,
      );
      const firebaseRun = await dryRun([
        "--from",
        "firebase",
        "--input",
        `${dir}/firebase_users.json`,
      ]);
      log(
        `round ${round}: firebase ${round1(firebaseRun.seconds)} s (CPU ${
          round1(firebaseRun.cpuSeconds)
        } s), peak ${firebaseRun.peakRssMiB} MiB`,
      );
      const auth0Run = await dryRun(["--from", "auth0", "--input", `${dir}/auth0_users.ndjson`]);
      log(
        `round ${round}: auth0 ${round1(auth0Run.seconds)} s (CPU ${
          round1(auth0Run.cpuSeconds)
        } s), peak ${auth0Run.peakRssMiB} MiB`,
      );
      if (values["in-thread"]) {
        for (const source of ["firebase", "auth0"] as const) {
          const file = source === "firebase" ? "firebase_users.json" : "auth0_users.ndjson";
          const run = await inThread(["--from", source, "--input", `${dir}/${file}`]);
          log(
            `round ${round}: ${source} in-thread ${round1(run.seconds)} s (CPU ${
              round1(run.cpuSeconds)
            } s), peak ${run.peakRssMiB} MiB`,
          );
          inThreadRuns[source].push(run);
        }
      }
      if (values["no-hand-over"]) {
        const run = await noHandOver(["--from", "auth0", "--input", `${dir}/auth0_users.ndjson`]);
        log(
          `round ${round}: auth0 without lines handed over ${round1(run.seconds)} s (CPU ${
            round1(run.cpuSeconds)
          } s), peak ${run.peakRssMiB} MiB`,
        );
        noHandOverRuns.push(run);
      }
      plain.push(csvRun);
      firebaseRuns.push(firebaseRun);
      auth0Runs.push(auth0Run);
    }
    const ratios = (runs: Measured[]) => runs.map((run, i) => run.seconds / plain[i].seconds);
    const firebaseRatio = median(ratios(firebaseRuns));
    const auth0Ratio = median(ratios(auth0Runs));
    // Under load wall times scatter; CPU time is the steadier A/B measure (reported, not the target).
    const cpuRatios = (runs: Measured[]) =>
      runs.map((run, i) => run.cpuSeconds / Math.max(0.001, plain[i].cpuSeconds));
    const plainSeconds = median(plain.map((run) => run.seconds));
    const firebase = firebaseRuns[0];
    const auth0 = auth0Runs[0];
    const firebaseParse = parseFloorSeconds(`${dir}/firebase_users.json`);
    const auth0Parse = parseFloorSeconds(`${dir}/auth0_users.ndjson`);
    log(
      `floor: JSON.parse of each user, firebase ${round1(firebaseParse)} s, auth0 ${
        round1(auth0Parse)
      } s`,
    );
    const otherSources: Record<string, Record<string, number>> = {};
    for (const source of others) {
      const run = await dryRun(["--from", source, "--input", `${dir}/${LARGE_FILES[source]}`]);
      log(`${source}: ${round(run.seconds, 1)} s, peak ${run.peakRssMiB} MiB`);
      otherSources[source] = {
        seconds: round(run.seconds, 2),
        ratio: round(run.seconds / plainSeconds, 2),
        rowsAccounted: run.rowsAccounted,
        peakRssMiB: run.peakRssMiB,
      };
    }
    const same: Record<string, number> = {};
    if (sameUsers) {
      const perRow = (run: Measured) => run.seconds / Math.max(1, run.rowsAccounted);
      const firebaseCsv = await dryRun(["--csv", `${dir}/firebase_package/users.csv`]);
      const auth0Csv = await dryRun(["--csv", `${dir}/auth0_package/users.csv`]);
      same.firebaseAsCsvSeconds = round(firebaseCsv.seconds, 2);
      same.auth0AsCsvSeconds = round(auth0Csv.seconds, 2);
      same.firebaseRatioToSameUsersCsv = round(perRow(firebase) / perRow(firebaseCsv), 2);
      same.auth0RatioToSameUsersCsv = round(perRow(auth0) / perRow(auth0Csv), 2);
    }
    const seconds = (runs: Measured[]) => runs.map((run) => round(run.seconds, 2));
    const peak = (runs: Measured[]) => Math.max(...runs.map((run) => run.peakRssMiB));
    emit({
      name: NAME,
      rows,
      rounds,
      v8Flags: denoFlags.length > 0 ? "cli" : "defaults",
      plainCsvSeconds: seconds(plain),
      firebaseSeconds: seconds(firebaseRuns),
      auth0Seconds: seconds(auth0Runs),
      firebaseRatios: ratios(firebaseRuns).map((ratio) => round(ratio, 2)),
      auth0Ratios: ratios(auth0Runs).map((ratio) => round(ratio, 2)),
      firebaseRatio: round(firebaseRatio, 2),
      auth0Ratio: round(auth0Ratio, 2),
      cpuSeconds: {
        plainCsv: plain.map((run) => round(run.cpuSeconds, 2)),
        firebase: firebaseRuns.map((run) => round(run.cpuSeconds, 2)),
        auth0: auth0Runs.map((run) => round(run.cpuSeconds, 2)),
        firebaseRatio: round(median(cpuRatios(firebaseRuns)), 2),
        auth0Ratio: round(median(cpuRatios(auth0Runs)), 2),
      },
      parseFloor: {
        firebaseSeconds: round(firebaseParse, 2),
        auth0Seconds: round(auth0Parse, 2),
        firebaseVsPlainCsv: round(firebaseParse / plainSeconds, 2),
        auth0VsPlainCsv: round(auth0Parse / plainSeconds, 2),
      },
      ...same,
      ...(values["in-thread"]
        ? {
          inThread: {
            firebaseSeconds: seconds(inThreadRuns.firebase),
            auth0Seconds: seconds(inThreadRuns.auth0),
            firebaseRatio: round(median(ratios(inThreadRuns.firebase)), 2),
            auth0Ratio: round(median(ratios(inThreadRuns.auth0)), 2),
          },
        }
        : {}),
      ...(values["no-hand-over"]
        ? {
          noHandOver: {
            auth0Seconds: seconds(noHandOverRuns),
            auth0Ratio: round(median(ratios(noHandOverRuns)), 2),
            auth0CpuSeconds: noHandOverRuns.map((run) => round(run.cpuSeconds, 2)),
          },
        }
        : {}),
      ...(others.length > 0 ? { otherSources } : {}),
      firebaseRowsPerSecond: Math.round(rows / median(firebaseRuns.map((run) => run.seconds))),
      auth0RowsPerSecond: Math.round(rows / median(auth0Runs.map((run) => run.seconds))),
      plainCsvPeakRssMiB: peak(plain),
      firebasePeakRssMiB: peak(firebaseRuns),
      auth0PeakRssMiB: peak(auth0Runs),
      loadAverage: Deno.loadavg(),
      target: { ratio: TARGET_RATIO, peakRssMiB: TARGET_RSS_MIB, rowsAccounted: rows },
      passed: [...plain, ...firebaseRuns, ...auth0Runs].every((run) =>
        run.rowsAccounted === rows && run.peakRssMiB < TARGET_RSS_MIB
      ) && firebaseRatio <= TARGET_RATIO && auth0Ratio <= TARGET_RATIO,
    });
  } finally {
    if (!values.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Seconds to read a file of one user a line (an NDJSON export, or a JSON
 * list as `auth:export` writes it) in 1 MiB chunks, decode it, and parse
 * each user's line: the least any reader of the export does.
 */
function parseFloorSeconds(path: string): number {
  const started = performance.now();
  using file = Deno.openSync(path, { read: true });
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(1024 * 1024);
  let pending = "";
  let users = 0;
  const parseLine = (line: string) => {
    let text = line.trim();
    if (text.endsWith(",")) text = text.slice(0, -1);
    if (text.startsWith("{") && text.endsWith("}")) {
      JSON.parse(text);
      users++;
    }
  };
  for (;;) {
    const count = file.readSync(buffer);
    if (count === null) break;
    const text = pending + decoder.decode(buffer.subarray(0, count), { stream: true });
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      parseLine(text.slice(start, newline));
      start = newline + 1;
    }
    pending = text.slice(start);
  }
  parseLine(pending + decoder.decode());
  if (users === 0) throw new Error(`No user lines in ${path}`);
  return (performance.now() - started) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round1(value: number): number {
  return round(value, 1);
}

if (import.meta.main) await main();
