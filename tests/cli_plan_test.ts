/**
 * `--plan`: a read-only prediction against the live tenant. The predictions
 * must be what the import then does: per row (at concurrency 1, where the
 * order of rows decides which row of a person creates it) and in the counts
 * (at any concurrency).
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import {
  importUsers,
  type OnExisting,
  planTenant,
  type RowOutcome,
  type RowPrediction,
} from "../mod.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

/** A tenant with something of everything: users in and out of organizations. */
function seed(fake: FakeWorkOS): { beta: string } {
  const beta = fake.state.addOrganization({ name: "Beta", externalId: "beta" });
  fake.state.addOrganization({ name: "Late", externalId: "late" });
  const member = fake.state.addUser({ email: "member@plan.test", firstName: "Member" });
  fake.state.addMembership({ userId: member.id, organizationId: beta.id });
  fake.state.addUser({ email: "outsider@plan.test", firstName: "Out", metadata: { tier: "a" } });
  return { beta: beta.id };
}

/** One row per case the plan must predict. */
function rows(beta: string): string {
  return [
    "email,first_name,org_id,org_external_id,org_name,metadata",
    // a new user in an organization the row creates
    "new@plan.test,New,,acme,Acme Inc.,",
    // an existing member: adopted (or updated), membership exists
    "member@plan.test,Member,,beta,,",
    // an existing user joining an existing organization (by id)
    `outsider@plan.test,Changed,${beta},,,"{""tier"":""b""}"`,
    // the same person again, in the organization an earlier row creates
    "NEW@plan.test,New,,acme,,",
    // the same person and organization twice: the membership exists by then
    "new@plan.test,New,,acme,,",
    // an organization that is missing and unnamed: the row fails first
    "lost@plan.test,Lost,,ghost,,",
    // ...and the same person with a named one afterwards: created here
    "lost@plan.test,Lost,,ghost,Ghost Co,",
    // an organization id that does not exist: user created, membership fails
    "orphan@plan.test,Orphan,org_01NOPE0000000000000000000,,,",
    // an invalid row
    "not-an-email,Bad,,acme,,",
    // an existing organization named again
    "late@plan.test,Late,,late,,",
  ].join("\n") + "\n";
}

/** The import's outcome in the plan's words. */
function asPrediction(outcome: RowOutcome): Partial<RowPrediction> {
  const user = outcome.user === "created"
    ? "create"
    : outcome.user === "existing"
    ? "exists"
    : outcome.user === "updated"
    ? "update"
    : outcome.user;
  return {
    row: outcome.recordNumber,
    user: outcome.error?.errorType === "user_create" && outcome.user === undefined
      ? "conflict"
      : user,
    membership: outcome.membership ? (outcome.membership.created ? "create" : "exists") : undefined,
    errorType: outcome.error?.errorType,
  };
}

function comparable(prediction: RowPrediction): Partial<RowPrediction> {
  return {
    row: prediction.row,
    user: prediction.user,
    membership: prediction.membership,
    errorType: prediction.errorType,
  };
}

for (const onExisting of ["skip", "update", "error"] as OnExisting[]) {
  Deno.test(`--plan predicts each row as the import then does it (--on-existing ${onExisting})`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const { beta } = seed(fake);
    const path = await tempFile(rows(beta));
    const before = fake.state.snapshot();

    const predictions: RowPrediction[] = [];
    const plan = await planTenant(path, {
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      onExisting,
      onRow: (prediction) => {
        predictions.push(prediction);
      },
    });
    assert.deepEqual(fake.state.snapshot(), before, "the plan wrote nothing");
    assert.ok(
      Object.keys(fake.state.requestCounts).every((key) => key.startsWith("GET ")),
      `only reads: ${JSON.stringify(fake.state.requestCounts)}`,
    );
    assert.equal(plan.requests, fake.state.totalRequests);

    const outcomes: RowOutcome[] = [];
    const summary = await importUsers(path, {
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      onExisting,
      concurrency: 1,
      onRow: (outcome) => outcomes.push(outcome),
    });
    outcomes.sort((a, b) => a.recordNumber - b.recordNumber);
    assert.deepEqual(predictions.map(comparable), outcomes.map(asPrediction));

    assert.equal(plan.totalRows, summary.totalRows);
    assert.equal(plan.failingRows, summary.failures);
    assert.equal(plan.usersToCreate, summary.usersCreated);
    assert.equal(plan.usersExisting, summary.usersExisting);
    assert.equal(plan.usersToUpdate, summary.usersUpdated);
    assert.equal(plan.membershipsToCreate, summary.membershipsCreated);
    assert.equal(plan.membershipsExisting, summary.membershipsExisting);
    assert.equal(plan.organizationsToCreate, summary.organizationsCreated);
    assert.equal(plan.organizationsExisting, 2);
    assert.equal(plan.organizationsMissing, 1, "the org_id that does not exist");
  });
}

Deno.test("--plan prints the counts the real import then reports, and writes per-row predictions", async () => {
  await using fake = await startFakeWorkOS();
  const { beta } = seed(fake);
  const path = await tempFile(rows(beta));
  const dir = await tempDir();
  const before = fake.state.snapshot();

  const planned = await runCli(
    ["--csv", path, "--plan", "--report", `${dir}/plan.json`, "--json"],
    { env: envOf(fake) },
  );
  assert.equal(planned.code, 1, "some rows will fail: " + planned.stderr);
  assert.deepEqual(fake.state.snapshot(), before, "read-only");
  assert.equal(fake.state.rateLimitedCount, 0, "within the read budget");
  assert.match(planned.stderr, /Users to create: 4/);
  assert.match(planned.stderr, /Organization "acme": will be created/);
  assert.match(planned.stderr, /Organization "ghost": will be created/);
  assert.match(planned.stderr, /Organization "beta": exists/);
  const totals = JSON.parse(planned.stdout);

  const report = JSON.parse(await Deno.readTextFile(`${dir}/plan.json`));
  assert.equal(report.file_name, path);
  assert.equal(report.rows.length, 10);
  assert.deepEqual(report.rows[0], {
    row: 1,
    email: "new@plan.test",
    organization: { ref: "acme", status: "create" },
    user: "create",
    membership: "create",
  });
  assert.equal(report.rows[8].errorType, "validation");
  assert.deepEqual(report.summary, totals);

  const imported = await runCli(["--csv", path, "--json", "--quiet"], { env: envOf(fake) });
  const summary = JSON.parse(imported.stdout);
  assert.equal(totals.usersToCreate, summary.usersCreated);
  assert.equal(totals.usersExisting, summary.usersExisting);
  assert.equal(totals.usersToUpdate, summary.usersUpdated);
  assert.equal(totals.membershipsToCreate, summary.membershipsCreated);
  assert.equal(totals.membershipsExisting, summary.membershipsExisting);
  assert.equal(totals.organizationsToCreate, summary.organizationsCreated);
  assert.equal(totals.failingRows, summary.failures);

  // Planning again now predicts that everything exists.
  const again = await runCli(["--csv", path, "--plan", "--json"], { env: envOf(fake) });
  const after = JSON.parse(again.stdout);
  assert.equal(after.usersToCreate, 0);
  assert.equal(after.organizationsToCreate, 0);
  assert.equal(after.membershipsToCreate, 0);
});

Deno.test("--plan in single-org mode predicts the organization the flags create", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const existing = fake.state.addUser({ email: "old@single.test" });
  const path = await tempFile("email\nold@single.test\nnew@single.test\n");
  const flags = ["--org-external-id", "acme", "--create-org-if-missing", "--org-name", "Acme"];
  const planned = await runCli(["--csv", path, "--plan", ...flags, "--json"], {
    env: envOf(fake),
  });
  assert.equal(planned.code, 0, planned.stderr);
  const totals = JSON.parse(planned.stdout);
  assert.equal(totals.organizationsToCreate, 1);
  assert.equal(totals.usersToCreate, 1);
  assert.equal(totals.usersExisting, 1);
  assert.equal(totals.membershipsToCreate, 2);
  assert.equal(fake.state.organizationCount(), 0);
  assert.ok(fake.state.getUser(existing.id));
});

Deno.test("--plan refuses --dry-run and --invite in one line", async () => {
  const path = await tempFile("email\na@b.test\n");
  const env = { WORKOS_SECRET_KEY: "sk_test_x", WORKOS_API_URL: "http://127.0.0.1:9" };
  const dry = await runCli(["--csv", path, "--plan", "--dry-run"], { env });
  assert.equal(dry.code, 2);
  assert.match(dry.stderr, /^Error: Cannot use --plan with --dry-run/);
  const invite = await runCli(["--csv", path, "--plan", "--invite"], { env });
  assert.equal(invite.code, 2);
  assert.match(invite.stderr, /^Error: Cannot use --plan with --invite/);
});
