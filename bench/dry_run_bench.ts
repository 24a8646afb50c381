/**
 * Dry run at scale: the real CLI validates and plans a generated 1M-row
 * multi-organization CSV (1,000 organizations, about 1 % invalid rows, some
 * people in three organizations) with `--dry-run`. Reported: wall time, rows
 * per second and the importer's peak RSS. Target: the plan accounts for
 * every row, and memory stays bounded (peak RSS under 512 MiB: rows stream,
 * only the per-person and per-organization sets of the plan grow).
 *
 * Run: `deno run -A bench/dry_run_bench.ts [--quick] [--rows 1000000]
 * [--file /tmp/x.csv --keep]`. `--keep` reuses an existing file of that name.
 *
 * @module
 */

import { emit, largeCsvInput, logger, round, runImporter } from "./_harness.ts";

const NAME = "dry_run";
const TARGET_RSS_MIB = 512;
const log = logger(NAME);

async function main(): Promise<void> {
  const { rows, path, keep, invalidRows } = await largeCsvInput(NAME, log);
  try {
    const size = (await Deno.stat(path)).size;
    log(`dry run of ${rows} rows (${round(size / 2 ** 20, 1)} MiB)`);
    const run = await runImporter(["--csv", path, "--dry-run", "--quiet"], {
      relay: (line) => log(`  ${line}`),
      timeoutMs: 600_000,
    });
    const plan = run.summary?.plan as Record<string, number> | undefined;
    const seconds = run.wallMs / 1000;
    const accounted = plan ? plan.validRows + plan.invalidRows : 0;
    log(`${round(seconds, 1)} s, ${Math.round(rows / seconds)} rows/s, peak ${run.peakRssMiB} MiB`);
    emit({
      name: NAME,
      rows,
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(rows / seconds),
      peakRssMiB: run.peakRssMiB,
      validRows: plan?.validRows ?? null,
      invalidRows: plan?.invalidRows ?? null,
      generatedInvalidRows: invalidRows ?? null,
      distinctUsers: plan?.distinctUsers ?? null,
      distinctOrganizations: plan?.distinctOrganizations ?? null,
      fileMiB: round(size / 2 ** 20, 1),
      exitCode: run.code,
      target: { peakRssMiB: TARGET_RSS_MIB, rowsAccounted: rows },
      passed: accounted === rows && run.peakRssMiB < TARGET_RSS_MIB &&
        (invalidRows === undefined || plan?.invalidRows === invalidRows),
    });
  } finally {
    if (!keep) await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
