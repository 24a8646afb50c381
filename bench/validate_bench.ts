/**
 * `validate` at scale: the real CLI checks a generated 1M-row
 * multi-organization CSV (1,000 organizations, about 1 % invalid rows, some
 * people in three organizations) and writes its report. Reported: the wall
 * time as a ratio to a plain Deno line scan of the same file measured in the
 * same run (best of three, in its own process like the importer), the
 * importer's peak RSS (next to its memory floor measured in the same run:
 * the same command on the file's first 1,000 rows, plus the fingerprint
 * set's bytes for the whole file) and the report's counts. Target (issue 16): at most 5×
 * the line scan, at most 100 MB (10^8 bytes, 95.4 MiB), every row accounted for and the generated
 * invalid rows all found (rows stream; only the fingerprints of email and
 * organization pairs are kept, and the lists of issues are capped).
 *
 * Run: `deno run -A bench/validate_bench.ts [--quick] [--rows 1000000]
 * [--file /tmp/x.csv --keep] [--v8-defaults]`. `--keep` reuses an existing file of that
 * name. The CLI runs with its V8 flags (`src/cli/v8_flags.ts`), as every
 * launcher of it does; `--v8-defaults` runs it, and its floor, without them.
 *
 * @module
 */

import { emit, largeCsvInput, lineScanProcess, logger, round, runImporter } from "./_harness.ts";
import {
  fingerprintSetBytes,
  measureMemoryFloor,
  OFFLINE_GOAL,
  offlineGoal,
  peakBesideGoal,
} from "./_offline_floor.ts";

const NAME = "validate";
const log = logger(NAME);

async function main(): Promise<void> {
  const { rows, path, keep, invalidRows, denoFlags } = await largeCsvInput(NAME, log);
  const report = `${path}.report.json`;
  try {
    const size = (await Deno.stat(path)).size;
    log(`validating ${rows} rows (${round(size / 2 ** 20, 1)} MiB)`);
    const floor = await lineScanProcess(path);
    log(`line scan floor: ${floor.ms} ms (best of ${floor.runs.join(", ")})`);
    const run = await runImporter(["validate", path, "--report", report], {
      relay: (line) => log(`  ${line}`),
      timeoutMs: 600_000,
      denoFlags,
    });
    const result = run.summary as Record<string, number> | undefined;
    const seconds = run.wallMs / 1000;
    const accounted = result ? result.valid_rows + result.error_rows : 0;
    const peakBytes = run.peakRssMiB * 2 ** 20;
    log(
      `${round(seconds, 1)} s, ${Math.round(rows / seconds)} rows/s, peak ${run.peakRssMiB} MiB ${
        peakBesideGoal(run.peakRssMiB)
      }`,
    );
    const ratio = run.wallMs / floor.ms;
    // CPU time against CPU time: what a busy machine's waiting leaves out.
    const cpuRatio = run.cpuMs / floor.cpuMs;
    log(`${round(ratio, 2)}× the line scan (CPU time: ${round(cpuRatio, 2)}×)`);
    // The memory floor, measured in the same run: the same command on the
    // file's first 1,000 rows (runtime, modules, first batches), plus the
    // bytes the pairs set with first rows must hold for the whole file.
    const memory = await measureMemoryFloor(path, ["validate", "{file}"], {
      setBytes: fingerprintSetBytes(
        (result?.valid_rows ?? 0) - (result?.duplicate_rows ?? 0),
        true,
      ),
      peakRssMiB: run.peakRssMiB,
      denoFlags,
    });
    log(memory.line);
    emit({
      name: NAME,
      ratioToLineScan: round(ratio, 2),
      peakRssMiB: run.peakRssMiB,
      peakRssMB: round(peakBytes / 1e6, 1),
      v8Flags: denoFlags.length > 0 ? "cli" : "defaults",
      cpuRatioToLineScan: round(cpuRatio, 2),
      ...memory.fields,
      rows,
      lineScanSeconds: round(floor.ms / 1000, 2),
      cpuSeconds: round(run.cpuMs / 1000, 2),
      lineScanCpuSeconds: round(floor.cpuMs / 1000, 2),
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(rows / seconds),
      validRows: result?.valid_rows ?? null,
      errorRows: result?.error_rows ?? null,
      duplicateRows: result?.duplicate_rows ?? null,
      generatedInvalidRows: invalidRows ?? null,
      fileMiB: round(size / 2 ** 20, 1),
      exitCode: run.code,
      target: offlineGoal(rows),
      passed: accounted === rows && peakBytes <= OFFLINE_GOAL.peakRssBytes &&
        ratio <= OFFLINE_GOAL.ratioToLineScan &&
        (invalidRows === undefined || result?.error_rows === invalidRows),
    });
  } finally {
    await Deno.remove(report).catch(() => {});
    if (!keep) await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
