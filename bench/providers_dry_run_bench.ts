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
 * `--same-users` also times the CSV of the same users that `convert` writes
 * from each export (conversion untimed), to split the price of the format
 * from the price of the fields. `--all-sources` also times Clerk, Supabase,
 * Cognito and SuperTokens exports of as many users (reported, not targets).
 *
 * Run: `deno run -A bench/providers_dry_run_bench.ts [--quick] [--rows 1000000] [--same-users] [--all-sources] [--keep]`.
 * `--quick` is 200,000 users; `--keep` reuses the generated files in /tmp.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { emit, isQuick, logger, round, runImporter, writeUsersCsv } from "./_harness.ts";
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
  peakRssMiB: number;
  rowsAccounted: number;
}

async function convert(from: string, input: string, out: string): Promise<void> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const run = await runImporter(["convert", "--from", from, "--input", input, "--out", out], {
    relay: () => {},
    timeoutMs: 900_000,
  });
  if (run.code > 1) throw new Error(`convert --from ${from} failed with exit code ${run.code}`);
}

async function dryRun(args: string[]): Promise<Measured> {
  const run = await runImporter([...args, "--dry-run", "--quiet"], {
    relay: (line) => log(`  ${line}`),
    timeoutMs: 900_000,
  });
  const plan = run.summary?.plan as Record<string, number> | undefined;
  return {
    seconds: run.wallMs / 1000,
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
      keep: { type: "boolean", default: false },
      "same-users": { type: "boolean", default: false },
      "all-sources": { type: "boolean", default: false },
    },
  });
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
    // The floor first and last: the machine's speed drifts under load, and
    // the ratio uses the mean of the two.
    const plainBefore = await dryRun(["--csv", csv]);
    log(`plain csv: ${round(plainBefore.seconds, 1)} s, peak ${plainBefore.peakRssMiB} MiB`);
    const firebase = await dryRun(["--from", "firebase", "--input", `${dir}/firebase_users.json`]);
    log(`firebase: ${round(firebase.seconds, 1)} s, peak ${firebase.peakRssMiB} MiB`);
    const auth0 = await dryRun(["--from", "auth0", "--input", `${dir}/auth0_users.ndjson`]);
    log(`auth0: ${round(auth0.seconds, 1)} s, peak ${auth0.peakRssMiB} MiB`);
    const plainAfter = await dryRun(["--csv", csv]);
    log(`plain csv again: ${round(plainAfter.seconds, 1)} s`);
    const plainSeconds = (plainBefore.seconds + plainAfter.seconds) / 2;
    const firebaseRatio = firebase.seconds / plainSeconds;
    const auth0Ratio = auth0.seconds / plainSeconds;
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
    emit({
      name: NAME,
      rows,
      plainCsvSeconds: [round(plainBefore.seconds, 2), round(plainAfter.seconds, 2)],
      firebaseSeconds: round(firebase.seconds, 2),
      auth0Seconds: round(auth0.seconds, 2),
      firebaseRatio: round(firebaseRatio, 2),
      auth0Ratio: round(auth0Ratio, 2),
      ...same,
      ...(others.length > 0 ? { otherSources } : {}),
      firebaseRowsPerSecond: Math.round(rows / firebase.seconds),
      auth0RowsPerSecond: Math.round(rows / auth0.seconds),
      plainCsvPeakRssMiB: plainBefore.peakRssMiB,
      firebasePeakRssMiB: firebase.peakRssMiB,
      auth0PeakRssMiB: auth0.peakRssMiB,
      loadAverage: Deno.loadavg(),
      target: { ratio: TARGET_RATIO, peakRssMiB: TARGET_RSS_MIB, rowsAccounted: rows },
      passed: [plainBefore, firebase, auth0].every((run) =>
        run.rowsAccounted === rows && run.peakRssMiB < TARGET_RSS_MIB
      ) && firebaseRatio <= TARGET_RATIO && auth0Ratio <= TARGET_RATIO,
    });
  } finally {
    if (!values.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
