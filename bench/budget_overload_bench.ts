/**
 * Budget under CPU overload: the budget_use run while busy processes keep
 * the run queue at four times the cores, so the importer's and the fake's
 * event loops are starved. The limits are scaled twofold, not tenfold (the
 * fake allows 1,000 writes per 10 s, the CLI runs at `--rate-limit 100`),
 * so that a starved importer still reaches the limit and the budget binds. Target: zero 429s — an
 * overloaded machine slows the import down, it never trips the limit. The
 * ratio of writes to the limit is reported for what the overload cost.
 *
 * Run: `deno run -A bench/budget_overload_bench.ts [--quick] [--rows 3000] [--concurrency 64]
 * [--overload 4]` (`--quick`: 750 rows).
 *
 * @module
 */

import { budgetArgs, logger } from "./_harness.ts";
import { measureBudgetUse } from "./budget_use_bench.ts";

const NAME = "budget_overload";

async function main(): Promise<void> {
  await measureBudgetUse({
    name: NAME,
    // Two writes per row at 100/s: 3,000 rows are about 60 s (750 with --quick: 15 s).
    ...budgetArgs({ rows: 3_000, quickRows: 750, overload: 4 }),
    scale: 2,
    log: logger(NAME),
  });
}

if (import.meta.main) await main();
