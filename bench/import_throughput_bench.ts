/**
 * Import throughput: the real CLI imports 10,000 users into 100
 * organizations (each row: a user and a membership; each organization
 * looked up and created once) against the fake with rate limits off and no
 * added latency, so only the importer (and the machine) sets the pace.
 * Reported: users/s and the importer's peak RSS. Target: at least 250
 * users/s, ten times what WorkOS's write limit allows (25 users/s with a
 * membership each), so the importer never slows a real migration down.
 *
 * Run: `deno run -A bench/import_throughput_bench.ts [--quick] [--rows 10000]
 * [--concurrency 50]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import { emit, isQuick, logger, round, runImporter, writeMultiOrgCsv } from "./_harness.ts";

const NAME = "import_throughput";
const ORGS = 100;
const TARGET_USERS_PER_SECOND = 250;
const log = logger(NAME);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      concurrency: { type: "string", default: "50" },
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 3_000 : 10_000));
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await writeMultiOrgCsv(path, rows, { orgs: ORGS });
    await using fake = await startFakeWorkOS({ rateLimits: false });
    log(`${rows} users into ${ORGS} organizations, concurrency ${values.concurrency}`);
    const run = await runImporter([
      "--csv",
      path,
      "--concurrency",
      values.concurrency,
      // Far above what this run can reach: the budget must not bind.
      "--rate-limit",
      "10000",
      "--quiet",
    ], { api: fake, relay: (line) => log(`  ${line}`), timeoutMs: 600_000 });
    const summary = run.summary ?? {};
    const seconds = Number(summary.durationMs ?? run.wallMs) / 1000;
    const usersPerSecond = rows / seconds;
    const imported = fake.state.userCount() === rows && fake.state.membershipCount() === rows &&
      fake.state.organizationCount() === ORGS;
    log(`${round(usersPerSecond)} users/s, peak ${run.peakRssMiB} MiB, exit ${run.code}`);
    emit({
      name: NAME,
      usersPerSecond: round(usersPerSecond),
      requestsPerSecond: round(fake.state.totalRequests / seconds),
      peakRssMiB: run.peakRssMiB,
      rows,
      organizations: ORGS,
      requests: fake.state.totalRequests,
      seconds: round(seconds, 2),
      concurrency: Number(values.concurrency),
      exitCode: run.code,
      imported,
      target: { usersPerSecond: TARGET_USERS_PER_SECOND },
      passed: imported && run.code === 0 && usersPerSecond >= TARGET_USERS_PER_SECOND,
    });
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
