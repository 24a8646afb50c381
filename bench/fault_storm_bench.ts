/**
 * Fault storm: the real CLI imports a multi-organization CSV (with 1 %
 * invalid rows) into a fake that answers 5 % of requests with 500, 502 or
 * 503, drops 1 % of connections, applies 1 % of writes but answers them
 * with a 500 or a drop (ghost successes), and, once a third of the users
 * exist, answers everything with 429 for 30 seconds. Passed when every valid
 * row ends imported exactly once, with its membership in its own
 * organization, and no row is lost: checked against the fake's state and
 * the CLI's summary and error file.
 *
 * Run: `deno run -A bench/fault_storm_bench.ts [--quick] [--rows 6000]
 * [--storm-seconds 30]`. The fake runs in this process, the CLI in its own.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import { emit, isQuick, logger, round, runImporter, writeMultiOrgCsv } from "./_harness.ts";

const NAME = "fault_storm";
const ORGS = 25;
const log = logger(NAME);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      "storm-seconds": { type: "string", default: "30" },
      seed: { type: "string", default: "7" },
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 3_000 : 6_000));
  const invalidRows = Math.floor(rows / 100);
  const stormMs = Number(values["storm-seconds"]) * 1000;
  const dir = await Deno.makeTempDir();
  const csv = `${dir}/users.csv`;
  const errorsOut = `${dir}/errors.jsonl`;
  try {
    await writeMultiOrgCsv(csv, rows, { orgs: ORGS, invalidRows });
    await using fake = await startFakeWorkOS({
      rateLimits: false,
      latency: { fixedMs: 5, jitterMs: 10 },
      faults: { failureRate: 0.05, dropRate: 0.01, ghostRate: 0.01 },
      seed: Number(values.seed),
    });
    // The storm starts once a third of the users exist.
    let stormAt: number | undefined;
    const started = performance.now();
    const watcher = setInterval(() => {
      if (stormAt === undefined && fake.state.userCount() >= rows / 3) {
        stormAt = performance.now() - started;
        log(`429 storm for ${stormMs / 1000} s at ${fake.state.userCount()} users`);
        fake.rateLimitStorm(stormMs);
      }
    }, 20);
    log(`${rows} rows (${invalidRows} invalid) over ${ORGS} organizations`);
    const run = await runImporter([
      "--csv",
      csv,
      "--errors-out",
      errorsOut,
      "--concurrency",
      "32",
      "--rate-limit",
      "2000",
      "--quiet",
    ], { api: fake, relay: (line) => log(`  ${line}`), timeoutMs: 600_000 });
    clearInterval(watcher);

    // Check the end state row by row against the input.
    const problems: string[] = [];
    const organizations = new Map(
      fake.state.listOrganizations().map((org) => [org.id, org.externalId]),
    );
    for (let i = 1; i <= rows; i++) {
      const email = `bench.user${i}@example.com`;
      const user = fake.state.findUserByEmail(email);
      if (!user) {
        problems.push(`${email}: missing`);
        continue;
      }
      const memberships = fake.state.membershipsOfUser(user.id);
      const expected = `bench-org-${(i - 1) % ORGS + 1}`;
      if (
        memberships.length !== 1 || organizations.get(memberships[0].organizationId) !== expected
      ) {
        problems.push(`${email}: ${memberships.length} memberships`);
      }
    }
    if (fake.state.userCount() !== rows) {
      problems.push(`${fake.state.userCount()} users for ${rows} valid rows`);
    }
    if (fake.state.organizationCount() !== ORGS) {
      problems.push(`${fake.state.organizationCount()} organizations for ${ORGS}`);
    }
    const summary = run.summary ?? {};
    const errorLines = (await Deno.readTextFile(errorsOut).catch(() => "")).trim().split("\n")
      .filter(Boolean).map((line) => JSON.parse(line) as { errorType: string });
    const nonValidation = errorLines.filter((error) => error.errorType !== "validation");
    if (summary.successes !== rows) problems.push(`summary: ${summary.successes} successes`);
    if (summary.failures !== invalidRows) problems.push(`summary: ${summary.failures} failures`);
    if (summary.usersCreated !== rows) problems.push(`summary: ${summary.usersCreated} created`);
    if (summary.membershipsCreated !== rows) {
      problems.push(`summary: ${summary.membershipsCreated} memberships created`);
    }
    if (errorLines.length !== invalidRows || nonValidation.length > 0) {
      problems.push(
        `error file: ${errorLines.length} rows, ${nonValidation.length} not validation`,
      );
    }
    if (stormAt === undefined) problems.push("the storm never started");
    for (const problem of problems.slice(0, 20)) log(`problem: ${problem}`);

    const faults = fake.state.faultCounts;
    log(
      `faults ${JSON.stringify(faults)}, ${fake.state.rateLimitedCount} 429s, ` +
        `${summary.retries} retries, ${problems.length} problems`,
    );
    emit({
      name: NAME,
      rowsLost: Math.max(0, rows - fake.state.userCount()),
      duplicates: Math.max(0, fake.state.membershipCount() - rows),
      problems: problems.length,
      rows,
      invalidRows,
      users: fake.state.userCount(),
      memberships: fake.state.membershipCount(),
      organizations: fake.state.organizationCount(),
      faults,
      rateLimited: fake.state.rateLimitedCount,
      stormSeconds: stormMs / 1000,
      stormStartedAtSeconds: stormAt === undefined ? null : round(stormAt / 1000, 1),
      retries: summary.retries ?? null,
      usersCreated: summary.usersCreated ?? null,
      exitCode: run.code,
      durationMs: summary.durationMs ?? null,
      peakRssMiB: run.peakRssMiB,
      target: "every valid row imported exactly once with its membership; zero rows lost",
      passed: problems.length === 0 && run.code === 1,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
