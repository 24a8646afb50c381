/**
 * The memory floor of the offline passes (dry run, validate): the peak RSS
 * of the same command on the first 1,000 rows of the same file (the
 * runtime, the modules, the first batches), measured in the same run, and
 * the bytes the fingerprint sets must hold for the whole file.
 *
 * @module
 */

import { FingerprintSet } from "../src/validation/fingerprint_set.ts";
import { round, runImporter } from "./_harness.ts";

/**
 * Issue 16's goals for an offline pass (dry run, validate): at most 5× a
 * plain line scan of the same file, measured in the same run, and 100 MB of
 * peak RSS: 10^8 bytes, 95.4 MiB (judged in bytes; both units printed).
 */
export const OFFLINE_GOAL = { ratioToLineScan: 5, peakRssBytes: 100e6 } as const;

/** The goal as a benchmark's result states it, with the rows it must account for. */
export function offlineGoal(rows: number): Record<string, number> {
  return {
    ratioToLineScan: OFFLINE_GOAL.ratioToLineScan,
    peakRssMB: OFFLINE_GOAL.peakRssBytes / 1e6,
    peakRssMiB: round(OFFLINE_GOAL.peakRssBytes / 2 ** 20, 1),
    rowsAccounted: rows,
  };
}

/** A peak in both units, beside the goal: `(104.0 MB; goal 100 MB = 95.4 MiB)`. */
export function peakBesideGoal(peakRssMiB: number): string {
  const goal = OFFLINE_GOAL.peakRssBytes;
  return `(${round(peakRssMiB * 2 ** 20 / 1e6, 1)} MB; goal ${goal / 1e6} MB = ${
    round(goal / 2 ** 20, 1)
  } MiB)`;
}

/**
 * Writes the header and the first `rows` data rows of a CSV to a temporary
 * file (rows are one line each in the benchmarks' files).
 */
async function headOf(path: string, rows: number): Promise<string> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  const count = (await file.read(buffer)) ?? 0;
  let lines = 0;
  let end = 0;
  while (end < count && lines <= rows) if (buffer[end++] === 0x0a) lines++;
  const head = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeFile(head, buffer.subarray(0, end));
  return head;
}

/**
 * Peak RSS in MiB of the importer run with `args`, where `{file}` stands for
 * the first 1,000 rows of `path`.
 */
export async function smallRunPeakMiB(
  path: string,
  args: string[],
  options: { denoFlags?: string[] } = {},
): Promise<number> {
  const head = await headOf(path, 1_000);
  try {
    const run = await runImporter(args.map((arg) => arg === "{file}" ? head : arg), {
      timeoutMs: 60_000,
      denoFlags: options.denoFlags,
    });
    return run.peakRssMiB;
  } finally {
    await Deno.remove(head).catch(() => {});
  }
}

/**
 * Bytes of a `FingerprintSet` holding `entries` fingerprints (with a value
 * each, or not): the typed arrays of a set filled with that many distinct
 * fingerprints, so the figure follows the set's layout as it is.
 */
export function fingerprintSetBytes(entries: number, values = false): number {
  const set = new FingerprintSet({ values });
  for (let i = 0; i < entries; i++) {
    // Distinct lower halves (an odd multiplier is a bijection), spread uppers.
    set.addFingerprint(Math.imul(i ^ (i >>> 15), 0x85ebca6b), Math.imul(i, 0x9e3779b1), i);
  }
  return set.bytes;
}

/** An offline pass's memory floor, as {@linkcode measureMemoryFloor} found it. */
export interface MemoryFloor {
  /** One log line: the floor, its two parts, and the peak as a multiple of it. */
  line: string;
  /** The figures a benchmark emits, in the order it emits them. */
  fields: {
    memoryFloorMiB: number;
    memoryFloorMB: number;
    smallRunPeakRssMiB: number;
    fingerprintSetsMiB: number;
    peakRssRatioToMemoryFloor: number;
  };
}

/**
 * The memory floor of an offline pass over `path`, measured in the same run:
 * the peak of the same command (`args`, with `{file}` for the file) on the
 * file's first 1,000 rows, plus `setBytes` for the whole file's fingerprint
 * sets; set against the pass's own `peakRssMiB`.
 */
export async function measureMemoryFloor(
  path: string,
  args: string[],
  options: { setBytes: number; peakRssMiB: number; denoFlags?: string[] },
): Promise<MemoryFloor> {
  // The small run takes the same Deno flags as the pass it is the floor of.
  const smallPeak = await smallRunPeakMiB(path, args, { denoFlags: options.denoFlags });
  const setsMiB = options.setBytes / 2 ** 20;
  const floor = smallPeak + setsMiB;
  const ratio = round(options.peakRssMiB / floor, 2);
  return {
    line: `memory floor ${round(floor, 1)} MiB (${
      round(floor * 2 ** 20 / 1e6, 1)
    } MB): ${smallPeak} MiB for 1,000 rows + ${
      round(setsMiB, 1)
    } MiB of fingerprints; peak ${ratio}× that`,
    fields: {
      memoryFloorMiB: round(floor, 1),
      memoryFloorMB: round(floor * 2 ** 20 / 1e6, 1),
      smallRunPeakRssMiB: smallPeak,
      fingerprintSetsMiB: round(setsMiB, 1),
      peakRssRatioToMemoryFloor: ratio,
    },
  };
}
