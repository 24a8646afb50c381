/**
 * Dry run at scale: the real CLI validates and plans a generated 1M-row
 * multi-organization CSV (1,000 organizations, about 1 % invalid rows, some
 * people in three organizations) with `--dry-run`. Reported: the wall time
 * as a ratio to a plain Deno line scan of the same file measured in the same
 * run (best of three, in its own process like the importer), and the
 * importer's peak RSS, next to its memory floor measured in the same run
 * (the same command on the file's first 1,000 rows, plus the fingerprint
 * sets' bytes for the whole file). Target (issue 16): at most 5× the line scan, at most
 * 100 MB (10^8 bytes, 95.4 MiB), and the plan accounts for every row.
 *
 * Run: `deno run -A bench/dry_run_bench.ts [--quick] [--rows 1000000]
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

const NAME = "dry_run";
const log = logger(NAME);

async function main(): Promise<void> {
  const { rows, path, keep, invalidRows, denoFlags } = await largeCsvInput(NAME, log);
  try {
    const size = (await Deno.stat(path)).size;
    log(`dry run of ${rows} rows (${round(size / 2 ** 20, 1)} MiB)`);
    const floor = await lineScanProcess(path);
    log(`line scan floor: ${floor.ms} ms (best of ${floor.runs.join(", ")})`);
    const run = await runImporter(["--csv", path, "--dry-run", "--quiet"], {
      relay: (line) => log(`  ${line}`),
      timeoutMs: 600_000,
      denoFlags,
    });
    const plan = run.summary?.plan as Record<string, number> | undefined;
    const seconds = run.wallMs / 1000;
    const accounted = plan ? plan.validRows + plan.invalidRows : 0;
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
    // bytes the people set and the pairs set must hold for the whole file.
    const memory = await measureMemoryFloor(path, ["--csv", "{file}", "--dry-run", "--quiet"], {
      // The people set keeps each person's first organization; the pairs
      // set only the pairs of a person and a later organization.
      setBytes: fingerprintSetBytes(plan?.distinctUsers ?? 0, true) +
        fingerprintSetBytes(
          Math.max(
            0,
            (plan?.validRows ?? 0) - (plan?.duplicateRows ?? 0) - (plan?.distinctUsers ?? 0),
          ),
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
      validRows: plan?.validRows ?? null,
      invalidRows: plan?.invalidRows ?? null,
      generatedInvalidRows: invalidRows ?? null,
      distinctUsers: plan?.distinctUsers ?? null,
      distinctOrganizations: plan?.distinctOrganizations ?? null,
      fileMiB: round(size / 2 ** 20, 1),
      exitCode: run.code,
      target: offlineGoal(rows),
      passed: accounted === rows && peakBytes <= OFFLINE_GOAL.peakRssBytes &&
        ratio <= OFFLINE_GOAL.ratioToLineScan &&
        (invalidRows === undefined || plan?.invalidRows === invalidRows),
    });
  } finally {
    if (!keep) await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
