/**
 * The real CLI against a misbehaving fake WorkOS: 500s, dropped connections,
 * ghost successes, slow answers and 429 storms. What a user sees must hold
 * whatever the network does: every valid row imported exactly once with its
 * membership, transient failures retried and never counted as failed rows
 * (past its retries a run condition waits for WorkOS, never fails a row),
 * other 4xx failed at once, and the request ID of every failed request in
 * the error file.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, type FakeWorkOSOptions, startFakeWorkOS } from "../testing.ts";
import { outputOf, runCli, spawnCli, tempDir, tempFile } from "./_cli.ts";
import { type ProxyStep, startFaultProxy } from "./_fault_proxy.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

/** A multi-organization CSV: `rows` people over `orgs` organizations, plus invalid rows. */
function multiOrgCsv(rows: number, orgs: number, invalid = 0): string {
  const lines = ["email,first_name,org_external_id,org_name"];
  for (let i = 1; i <= rows; i++) {
    lines.push(`person${i}@example.com,Person${i},org-${i % orgs},Org ${i % orgs}`);
    if (i <= invalid) lines.push(`broken-${i},Broken,org-${i % orgs},Org ${i % orgs}`);
  }
  return lines.join("\n") + "\n";
}

interface ErrorLine {
  recordNumber: number;
  email: string;
  errorType: string;
  errorMessage: string;
  httpStatus?: number;
  workosRequestId?: string;
}

async function readErrors(path: string): Promise<ErrorLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

function summaryOf(stdout: string): Record<string, number> {
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

/** Every user has exactly one membership, and every organization is there once. */
function assertImportedOnce(fake: FakeWorkOS, rows: number, orgs: number): void {
  assert.equal(fake.state.userCount(), rows);
  assert.equal(fake.state.organizationCount(), orgs);
  assert.equal(fake.state.membershipCount(), rows);
  for (const user of fake.state.listUsers()) {
    assert.equal(fake.state.membershipsOfUser(user.id).length, 1, user.email);
  }
}

async function importWith(
  faults: FakeWorkOSOptions,
  csv: string,
  flags: string[],
): Promise<{
  fake: FakeWorkOS;
  code: number;
  stdout: string;
  stderr: string;
  errors: ErrorLine[];
}> {
  const fake = await startFakeWorkOS({ rateLimits: false, ...faults });
  const dir = await tempDir();
  const input = await tempFile(csv);
  const errorsOut = `${dir}/errors.jsonl`;
  const result = await runCli(
    ["--csv", input, "--errors-out", errorsOut, "--quiet", "--json", ...flags],
    { env: envOf(fake) },
  );
  return { fake, ...result, errors: await readErrors(errorsOut) };
}

Deno.test("every valid row is imported exactly once, with its membership, through 500s, drops and ghost successes", async () => {
  const run = await importWith(
    { faults: { failureRate: 0.1, dropRate: 0.03, ghostRate: 0.1 }, seed: 42 },
    multiOrgCsv(120, 4, 3),
    ["--concurrency", "8", "--max-retries", "8"],
  );
  await using fake = run.fake;
  assert.equal(run.code, 1, "completed with the three invalid rows as errors");
  const faults = fake.state.faultCounts;
  assert.ok(faults.failure > 0 && faults.drop > 0 && faults.ghost > 0, JSON.stringify(faults));
  assertImportedOnce(fake, 120, 4);
  const summary = summaryOf(run.stdout);
  assert.equal(summary.successes, 120);
  assert.equal(summary.failures, 3);
  // No ghost success passed for a user that existed before the import.
  assert.equal(summary.usersCreated, 120);
  assert.equal(summary.usersExisting, 0);
  assert.equal(summary.membershipsCreated, 120);
  assert.equal(summary.organizationsCreated, 4);
  assert.ok(summary.retries > 0);
  assert.deepEqual(run.errors.map((error) => error.errorType), Array(3).fill("validation"));
});

Deno.test("a 429 storm pauses the whole import; its rows are retried, never failed", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 20 } });
  const input = await tempFile(multiOrgCsv(40, 2));
  const child = spawnCli(["--csv", input, "--quiet", "--json", "--concurrency", "10"], {
    env: envOf(fake),
  });
  // The storm starts with the run's first request (the preflight, answered
  // 20 ms later), not before the CLI: under load its start-up alone can
  // outlast a storm started at once, and then no row meets it.
  const deadline = Date.now() + 30_000;
  while (fake.state.totalRequests === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  fake.rateLimitStorm(3_000);
  const result = await outputOf(child);
  assert.equal(result.code, 0, result.stderr);
  assertImportedOnce(fake, 40, 2);
  const summary = summaryOf(result.stdout);
  assert.equal(summary.failures, 0);
  assert.ok(summary.rateLimited >= 1);
  // Only requests already in flight when the first 429 came back can get
  // one: the others waited out the pause instead of joining the storm.
  assert.ok(fake.state.rateLimitedCount <= 10, `${fake.state.rateLimitedCount} 429s`);
  assert.equal(summary.rateLimited, fake.state.rateLimitedCount);
  assert.ok(summary.retries >= summary.rateLimited);
  assert.match(result.stderr, /Rate limited \(429\)/);
});

Deno.test("a 4xx that is not transient fails its row at once, with the request ID in the error file", async () => {
  const csv = [
    "email,org_external_id,org_name,role_slug",
    "ann@example.com,acme,Acme,admin",
    "bob@example.com,acme,Acme,no-such-role",
    "cid@example.com,acme,Acme,member",
  ].join("\n") + "\n";
  const run = await importWith({}, csv, []);
  await using fake = run.fake;
  assert.equal(run.code, 1);
  assert.equal(fake.state.membershipCount(), 2);
  // One create per row: the refused one was not retried.
  assert.equal(fake.state.requestCounts["POST /user_management/organization_memberships"], 3);
  assert.equal(run.errors.length, 1);
  const [error] = run.errors;
  assert.equal(error.email, "bob@example.com");
  assert.equal(error.errorType, "membership_create");
  assert.ok(error.httpStatus === 400 || error.httpStatus === 422, `${error.httpStatus}`);
  assert.match(error.workosRequestId ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(summaryOf(run.stdout).retries, 0);
});

Deno.test("--max-retries bounds the attempts before the run waits for WorkOS; no row fails for a 5xx", async () => {
  for (const [maxRetries, attempts] of [["0", 1], ["2", 3]] as const) {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    // The preflight read goes through; then every attempt of the row's
    // create (and the lookups after it) gets a 500 until its retries run out.
    await using proxy = startFaultProxy(fake.url, [
      "forward",
      ...Array<ProxyStep>(attempts).fill({ status: 500 }),
    ]);
    const dir = await tempDir();
    const input = await tempFile("email\nann@example.com\n");
    const errorsOut = `${dir}/errors.jsonl`;
    const result = await runCli(
      ["--csv", input, "--errors-out", errorsOut, "--quiet", "--json", "--max-retries", maxRetries],
      { env: { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: proxy.url } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(proxy.ownRequestIds.length, attempts, `--max-retries ${maxRetries}`);
    // Then one probe finds WorkOS up, and the row looks before it creates.
    assert.deepEqual(proxy.received.slice(1 + attempts), [
      "GET /user_management/users",
      "GET /user_management/users",
      "POST /user_management/users",
    ]);
    assert.match(
      result.stderr,
      /WorkOS unreachable since \d\d:\d\d:\d\d \(500 Internal Server Error\): retrying in \d+ s/,
    );
    assert.match(result.stderr, /WorkOS answers again after/);
    assert.equal(fake.state.userCount(), 1);
    assert.deepEqual(await readErrors(errorsOut), []);
    assert.equal(summaryOf(result.stdout).failures, 0);
  }
});

Deno.test("--request-timeout: answers slower than it are retried, and no row is imported twice", async () => {
  const run = await importWith(
    { faults: { slowRate: 0.3, slowMs: 1_500 }, seed: 8 },
    multiOrgCsv(30, 2),
    ["--request-timeout", "0.4", "--max-retries", "10", "--concurrency", "10"],
  );
  await using fake = run.fake;
  assert.equal(run.code, 0, run.stderr);
  assert.ok(fake.state.faultCounts.slow > 0);
  assertImportedOnce(fake, 30, 2);
  const summary = summaryOf(run.stdout);
  // A slow create lands after its own timeout: made outside its window, it
  // cannot be told from someone else's and counts as existing (see
  // docs/undo.md), so only the sums are exact.
  assert.equal(summary.usersCreated + summary.usersExisting, 30);
  assert.equal(summary.membershipsCreated + summary.membershipsExisting, 30);
  assert.ok(summary.retries >= fake.state.faultCounts.slow);
});

Deno.test("--request-timeout: a WorkOS that always answers too slowly stops the run at its preflight (exit 75), no row failed", async () => {
  const started = performance.now();
  const run = await importWith(
    { faults: { slowRate: 1, slowMs: 5_000 } },
    "email\nann@example.com\n",
    ["--request-timeout", "0.2", "--max-retries", "1"],
  );
  await using fake = run.fake;
  assert.equal(run.code, 75, run.stderr);
  assert.ok(performance.now() - started < 10_000);
  assert.match(
    run.stderr,
    /Error: Cannot reach WorkOS at "http:\/\/127\.0\.0\.1:\d+": timed out after 200 ms: check --api-url/,
  );
  assert.equal(fake.state.requestCounts["POST /user_management/users"] ?? 0, 0);
  assert.equal(fake.state.userCount(), 0);
  assert.deepEqual(run.errors, []);
});
