/**
 * What the import's chain of streams costs per row, in process, with no
 * network: the same CSV read by the plain reader and validated (`openInput`
 * and `validateRecord` in a loop: the floor), and run through `runImport`
 * (read → validate → the concurrency stage at `--concurrency` → batches →
 * the sink) with a row runner that answers each row at once. The chain's
 * cost beyond the floor — admission, the semaphore, the stream hops, the
 * watermark, batching — is what a limits-off import pays on top of its
 * requests; it is what grew when the pipeline became streams (issue 13), so
 * it is reported as µs per row and as the ratio of the chain to the floor.
 * Runs alternate, `--pairs` times; medians are reported. Both are measured
 * in CPU time (user + system, `process.cpuUsage`), which other work on a
 * shared machine disturbs far less than wall time; wall time is reported
 * too.
 *
 * Target: the chain at most 2× the floor (the plain reader and validation
 * alone), so that the stages never cost more than reading the rows.
 *
 * Run: `deno run -A bench/pipeline_overhead_bench.ts [--quick] [--rows 200000]
 * [--pairs 5] [--concurrency 20]`. `--quick`: 50,000 rows, 3 pairs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { generateCsv } from "../examples/gen_csv.ts";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { runImport } from "../src/pipeline/run_import.ts";
import type { UserRow } from "../src/types.ts";
import type { RowOutcome } from "../src/outcome/mod.ts";
import { emit, isQuick, logger, round } from "./_harness.ts";

const NAME = "pipeline_overhead";
const TARGET_RATIO = 2;
const log = logger(NAME);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Cost {
  cpuMs: number;
  wallMs: number;
}

/** Runs `work` and returns what it cost. */
async function measure(work: () => Promise<void>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs };
}

/** The floor: read and validate every record, nothing else. */
async function readAndValidate(path: string): Promise<void> {
  const input = await openInput(path);
  let valid = 0;
  for await (const batch of input.records) {
    for (const record of batch) if (validateRecord(record).ok) valid++;
  }
  if (valid === 0) throw new Error("No valid row");
}

/** The chain, with a runner that answers each row at once. */
async function runChain(path: string, concurrency: number, rows: number): Promise<void> {
  const input = await openInput(path);
  let batches = 0;
  const runner = {
    process(row: UserRow): Promise<RowOutcome> {
      return Promise.resolve({
        recordNumber: row.recordNumber,
        byteEnd: row.byteEnd,
        email: row.email,
        userId: "user_bench",
        user: "created",
      });
    },
  };
  const result = await runImport(input.records, {
    concurrency,
    processor: runner,
    onOutcomes: () => {
      batches++;
    },
  });
  if (result.tally.successes !== rows) {
    throw new Error(`Expected ${rows} rows done, got ${result.tally.successes}`);
  }
  if (batches === 0) throw new Error("No batch reached the sink");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      pairs: { type: "string" },
      concurrency: { type: "string", default: "20" },
    },
  });
  const quick = isQuick();
  const rows = Number(values.rows ?? (quick ? 50_000 : 200_000));
  const pairs = Number(values.pairs ?? (quick ? 3 : 5));
  const concurrency = Number(values.concurrency);
  const dir = await Deno.makeTempDir({ prefix: "pipeline_overhead_" });
  try {
    const path = `${dir}/users.csv`;
    await generateCsv(path, { rows, orgs: 50, seed: 7 });
    // One of each first: module and file caches, and the JIT.
    await readAndValidate(path);
    await runChain(path, concurrency, rows);
    const floor: Cost[] = [];
    const chain: Cost[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const order = pair % 2 === 0 ? ["floor", "chain"] : ["chain", "floor"];
      for (const kind of order) {
        if (kind === "floor") floor.push(await measure(() => readAndValidate(path)));
        else chain.push(await measure(() => runChain(path, concurrency, rows)));
      }
      const [f, c] = [floor[pair], chain[pair]];
      log(
        `pair ${pair + 1}: floor ${round(f.cpuMs)} ms CPU (${round(f.wallMs)} wall), ` +
          `chain ${round(c.cpuMs)} ms CPU (${round(c.wallMs)} wall)`,
      );
    }
    const floorMs = median(floor.map((cost) => cost.cpuMs));
    const chainMs = median(chain.map((cost) => cost.cpuMs));
    const ratio = chainMs / floorMs;
    const pairedRatio = median(chain.map((cost, i) => cost.cpuMs / floor[i].cpuMs));
    emit({
      name: NAME,
      ratio: round(ratio, 2),
      pairedRatio: round(pairedRatio, 2),
      chainUsPerRow: round((chainMs * 1000) / rows, 1),
      floorUsPerRow: round((floorMs * 1000) / rows, 1),
      stagesUsPerRow: round(((chainMs - floorMs) * 1000) / rows, 1),
      wallRatio: round(
        median(chain.map((cost) => cost.wallMs)) / median(floor.map((cost) => cost.wallMs)),
        2,
      ),
      rows,
      pairs,
      concurrency,
      floorCpuMs: floor.map((cost) => round(cost.cpuMs)),
      chainCpuMs: chain.map((cost) => round(cost.cpuMs)),
      target: `the chain at most ${TARGET_RATIO}× the plain reader and validation`,
      passed: ratio <= TARGET_RATIO,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
