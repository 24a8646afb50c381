/**
 * Provider exports at scale: the real CLI runs a dry run of 1M generated
 * Firebase users (`firebase auth:export` JSON, one document read by the
 * streaming list scanner) and 1M Auth0 users (bulk export NDJSON), and of
 * 1M users of the importer's own CSV as the floor, measured in the same run.
 * Reported: wall time, rows per second, peak RSS, and each export's time as
 * a ratio to the CSV floor. Targets: every user accounted for, time within
 * 2× of the CSV dry run, peak RSS under 512 MiB (users stream; only the
 * plan's per-person set grows).
 *
 * Run: `deno run -A bench/providers_dry_run_bench.ts [--quick] [--rows 1000000] [--keep]`.
 * `--keep` reuses the generated files in /tmp from an earlier run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { emit, isQuick, logger, round, runImporter, writeUsersCsv } from "./_harness.ts";
import { writeLargeFixtures } from "../tests/fixtures/providers/generate.ts";

const NAME = "providers_dry_run";
const TARGET_RATIO = 2;
const TARGET_RSS_MIB = 512;
const log = logger(NAME);

interface Measured {
  seconds: number;
  peakRssMiB: number;
  rowsAccounted: number;
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
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 200_000 : 1_000_000));
  const dir = `/tmp/workos_importer_${NAME}_${rows}`;
  const csv = `${dir}/users.csv`;
  const ready = values.keep && await Deno.stat(csv).then(() => true, () => false);
  if (!ready) {
    log(`generating ${rows} users per source in ${dir}`);
    await writeLargeFixtures(dir, rows);
    await writeUsersCsv(csv, rows);
  }
  try {
    const floor = await dryRun(["--csv", csv]);
    log(`csv: ${round(floor.seconds, 1)} s, peak ${floor.peakRssMiB} MiB`);
    const firebase = await dryRun(["--from", "firebase", "--input", `${dir}/firebase_users.json`]);
    log(`firebase: ${round(firebase.seconds, 1)} s, peak ${firebase.peakRssMiB} MiB`);
    const auth0 = await dryRun(["--from", "auth0", "--input", `${dir}/auth0_users.ndjson`]);
    log(`auth0: ${round(auth0.seconds, 1)} s, peak ${auth0.peakRssMiB} MiB`);
    const firebaseRatio = firebase.seconds / floor.seconds;
    const auth0Ratio = auth0.seconds / floor.seconds;
    emit({
      name: NAME,
      rows,
      csvSeconds: round(floor.seconds, 2),
      firebaseSeconds: round(firebase.seconds, 2),
      auth0Seconds: round(auth0.seconds, 2),
      firebaseRatio: round(firebaseRatio, 2),
      auth0Ratio: round(auth0Ratio, 2),
      firebaseRowsPerSecond: Math.round(rows / firebase.seconds),
      auth0RowsPerSecond: Math.round(rows / auth0.seconds),
      csvPeakRssMiB: floor.peakRssMiB,
      firebasePeakRssMiB: firebase.peakRssMiB,
      auth0PeakRssMiB: auth0.peakRssMiB,
      loadAverage: Deno.loadavg(),
      target: { ratio: TARGET_RATIO, peakRssMiB: TARGET_RSS_MIB, rowsAccounted: rows },
      passed: [floor, firebase, auth0].every((run) =>
        run.rowsAccounted === rows && run.peakRssMiB < TARGET_RSS_MIB
      ) && firebaseRatio <= TARGET_RATIO && auth0Ratio <= TARGET_RATIO,
    });
  } finally {
    if (!values.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
