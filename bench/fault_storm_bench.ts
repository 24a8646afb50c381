/**
 * Fault storm: the real CLI imports a multi-organization CSV (with 1 %
 * invalid rows) into a fake that answers 5 % of requests with 500, 502 or
 * 503, drops 1 % of connections, applies 1 % of writes but answers them
 * with a 500 or a drop (ghost successes), and, once a quarter of the users
 * exist, answers everything with 429 for 30 seconds; once half exist, an
 * outage of 60 seconds (half of it 503 pages, half a closed port) that the
 * run waits out; once three quarters exist, a burst of 401s (a revoked key)
 * that stops the job with exit 2, after which it is resumed. Passed when
 * every valid row ends imported exactly once, with its membership in its own
 * organization, no row is lost and none failed but the invalid ones:
 * checked against the fake's state and the CLI's summary and error file.
 *
 * Run: `deno run -A bench/fault_storm_bench.ts [--quick] [--rows 6000]
 * [--storm-seconds 30] [--outage-seconds 60] [--refusal-seconds 5]`. The
 * fake runs in this process, the CLI in its own.
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
      "outage-seconds": { type: "string", default: "60" },
      "refusal-seconds": { type: "string", default: "5" },
      seed: { type: "string", default: "7" },
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 3_000 : 6_000));
  const invalidRows = Math.floor(rows / 100);
  const stormMs = Number(values["storm-seconds"]) * 1000;
  const outageMs = Number(values["outage-seconds"]) * 1000;
  const refusalMs = Number(values["refusal-seconds"]) * 1000;
  const dir = await Deno.makeTempDir();
  const jobs = `${dir}/jobs`;
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
    // The 429 storm at a quarter of the users, the outage at half (once the
    // storm is over), the 401 burst at three quarters (once the outage is).
    let stormAt: number | undefined;
    let outageAt: number | undefined;
    let refusalAt: number | undefined;
    const started = performance.now();
    const since = (at: number | undefined) =>
      at === undefined ? Infinity : performance.now() - started - at;
    const watcher = setInterval(() => {
      const users = fake.state.userCount();
      if (stormAt === undefined && users >= rows / 4) {
        stormAt = performance.now() - started;
        log(`429 storm for ${stormMs / 1000} s at ${users} users`);
        fake.rateLimitStorm(stormMs);
      } else if (outageAt === undefined && users >= rows / 2 && since(stormAt) > stormMs) {
        outageAt = performance.now() - started;
        log(`outage for ${outageMs / 1000} s (503 pages, then a closed port) at ${users} users`);
        fake.outage("unavailable");
        setTimeout(() => fake.outage("refuse", { durationMs: outageMs / 2 }), outageMs / 2);
      } else if (
        refusalAt === undefined && users >= rows * 3 / 4 && since(outageAt) > outageMs + 1_000
      ) {
        refusalAt = performance.now() - started;
        log(`401 burst for ${refusalMs / 1000} s at ${users} users`);
        fake.outage("unauthorized", { durationMs: refusalMs });
      }
    }, 20);
    log(`${rows} rows (${invalidRows} invalid) over ${ORGS} organizations`);
    const importFlags = [
      "--errors-out",
      errorsOut,
      "--checkpoint-dir",
      jobs,
      "--concurrency",
      "32",
      "--rate-limit",
      "2000",
      "--quiet",
    ];
    const relay = { api: fake, relay: (line: string) => log(`  ${line}`), timeoutMs: 900_000 };
    const first = await runImporter(["--csv", csv, "--job-id", "storm", ...importFlags], relay);
    const refusedAfterMs = refusalAt === undefined
      ? null
      : round(performance.now() - started - refusalAt, 0);
    log(`first session: exit ${first.code}, ${refusedAfterMs} ms after the 401 burst began`);
    // The key works again once the burst is over: resume with it.
    while (since(refusalAt) < refusalMs + 500) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    clearInterval(watcher);
    fake.outage("none");
    const run = first.code === 2
      ? await runImporter(["--resume", "storm", ...importFlags], relay)
      : first;

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
    if (outageAt === undefined) problems.push("the outage never started");
    if (refusalAt === undefined) problems.push("the 401 burst never started");
    if (first.code !== 2) problems.push(`first session: exit ${first.code}, not 2 (refused key)`);
    if (refusedAfterMs !== null && refusedAfterMs > 10_000) {
      problems.push(`the refused key stopped the run only after ${refusedAfterMs} ms`);
    }
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
      outageSeconds: outageMs / 1000,
      outageStartedAtSeconds: outageAt === undefined ? null : round(outageAt / 1000, 1),
      refusalSeconds: refusalMs / 1000,
      refusedExitCode: first.code,
      refusedStopMs: refusedAfterMs,
      requestsMetOutage: fake.outageRequests,
      failedForRunConditions: nonValidation.length,
      retries: summary.retries ?? null,
      usersCreated: summary.usersCreated ?? null,
      exitCode: run.code,
      durationMs: summary.durationMs ?? null,
      peakRssMiB: run.peakRssMiB,
      target:
        "every valid row imported exactly once with its membership through 5xx, drops, ghosts, a 429 storm, a 60 s outage and a 401 burst; zero rows lost, none failed for them",
      passed: problems.length === 0 && run.code === 1,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
