/**
 * `validate` at scale: the real CLI checks a generated 1M-row
 * multi-organization CSV (1,000 organizations, about 1 % invalid rows, some
 * people in three organizations) and writes its report. Reported: wall time,
 * rows per second, the importer's peak RSS and the report's counts. Target:
 * every row accounted for, the generated invalid rows all found, and memory
 * bounded (peak RSS under 512 MiB: rows stream, only the hashes of email and
 * organization pairs are kept, and the lists of issues are capped).
 *
 * Run: `deno run -A bench/validate_bench.ts [--quick] [--rows 1000000]
 * [--file /tmp/x.csv --keep]`. `--keep` reuses an existing file of that name.
 *
 * @module
 */

import { emit, largeCsvInput, logger, round, runImporter } from "./_harness.ts";

const NAME = "validate";
const TARGET_RSS_MIB = 512;
const log = logger(NAME);

async function main(): Promise<void> {
  const { rows, path, keep, invalidRows } = await largeCsvInput(NAME, log);
  const report = `${path}.report.json`;
  try {
    const size = (await Deno.stat(path)).size;
    log(`validating ${rows} rows (${round(size / 2 ** 20, 1)} MiB)`);
    const run = await runImporter(["validate", path, "--report", report], {
      relay: (line) => log(`  ${line}`),
      timeoutMs: 600_000,
    });
    const result = run.summary as Record<string, number> | undefined;
    const seconds = run.wallMs / 1000;
    const accounted = result ? result.valid_rows + result.error_rows : 0;
    log(`${round(seconds, 1)} s, ${Math.round(rows / seconds)} rows/s, peak ${run.peakRssMiB} MiB`);
    emit({
      name: NAME,
      rows,
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(rows / seconds),
      peakRssMiB: run.peakRssMiB,
      validRows: result?.valid_rows ?? null,
      errorRows: result?.error_rows ?? null,
      duplicateRows: result?.duplicate_rows ?? null,
      generatedInvalidRows: invalidRows ?? null,
      fileMiB: round(size / 2 ** 20, 1),
      exitCode: run.code,
      target: { peakRssMiB: TARGET_RSS_MIB, rowsAccounted: rows },
      passed: accounted === rows && run.peakRssMiB < TARGET_RSS_MIB &&
        (invalidRows === undefined || result?.error_rows === invalidRows),
    });
  } finally {
    await Deno.remove(report).catch(() => {});
    if (!keep) await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
