/**
 * The library as a user's own `deno test` suite sees it: only `mod.ts` and
 * the `testing` export are imported, exactly as `@workos-importer/cli` and
 * `@workos-importer/cli/testing` would be.
 */

import assert from "node:assert/strict";
import {
  type ErrorRecord,
  type ImportProgress,
  type ImportResult,
  importUsers,
  type ImportUsersOptions,
  type RowOutcome,
  validateFile,
} from "../mod.ts";
import { startFakeWorkOS } from "../testing.ts";
import { tempPath } from "./_cli.ts";

const CSV = [
  "email,first_name,last_name,org_external_id,org_name,role_slug",
  "ada@lib.test,Ada,Lovelace,acme,Acme Inc.,admin",
  "grace@lib.test,Grace,Hopper,acme,Acme Inc.,",
  "ADA@lib.test,Ada,Lovelace,beta,Beta LLC,",
  "not-an-email,Bad,Row,acme,Acme Inc.,",
].join("\n");

Deno.test("importUsers imports a CSV file into the fake", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const path = await tempPath({ suffix: ".csv" });
  await Deno.writeTextFile(path, CSV);
  const outcomes: RowOutcome[] = [];
  const progress: ImportProgress[] = [];
  const options: ImportUsersOptions = {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    onRow: (outcome) => outcomes.push(outcome),
    onProgress: (numbers) => progress.push(numbers),
  };
  const summary: ImportResult = await importUsers(path, options);

  assert.equal(summary.status, "completed_with_errors");
  assert.equal(summary.totalRows, 4);
  assert.equal(summary.successes, 3);
  assert.equal(summary.failures, 1);
  assert.equal(summary.usersCreated, 2);
  assert.equal(summary.membershipsCreated, 3);
  assert.equal(summary.organizationsCreated, 2);
  assert.equal(summary.interrupted, false);

  // The end state in the fake: two people, Ada in two organizations with her role.
  assert.equal(fake.state.userCount(), 2);
  assert.equal(fake.state.organizationCount(), 2);
  const ada = fake.state.findUserByEmail("ada@lib.test");
  assert.ok(ada);
  assert.equal(ada.firstName, "Ada");
  const memberships = fake.state.membershipsOfUser(ada.id);
  assert.equal(memberships.length, 2);
  const acme = fake.state.findOrganizationByExternalId("acme");
  assert.equal(memberships.find((m) => m.organizationId === acme?.id)?.roleSlug, "admin");

  // What the callbacks saw.
  assert.equal(outcomes.length, 4);
  const failed: ErrorRecord | undefined = outcomes.find((outcome) => outcome.error)?.error;
  assert.equal(failed?.errorType, "validation");
  assert.equal(failed?.recordNumber, 4);
  assert.equal(progress.at(-1)?.rowsDone, 4);
});

Deno.test("importUsers takes a byte stream and row objects too", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const options = { apiKey: fake.apiKey, apiUrl: fake.url };

  const stream = new Blob(["email\nstream@lib.test\n"]).stream();
  const fromStream = await importUsers(stream, options);
  assert.equal(fromStream.status, "success");
  assert.ok(fake.state.findUserByEmail("stream@lib.test"));

  async function* rows() {
    yield { email: "rows1@lib.test", first_name: "One" };
    yield { email: "rows2@lib.test", org_external_id: "gamma", org_name: "Gamma" };
  }
  const fromRows = await importUsers(rows(), options);
  assert.equal(fromRows.status, "success");
  assert.equal(fromRows.usersCreated, 2);
  assert.equal(fake.state.findUserByEmail("rows1@lib.test")?.firstName, "One");
  assert.equal(fake.state.findOrganizationByExternalId("gamma")?.name, "Gamma");
});

Deno.test("importing the same CSV twice creates nobody twice", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const path = await tempPath({ suffix: ".csv" });
  await Deno.writeTextFile(path, CSV);
  const options = { apiKey: fake.apiKey, apiUrl: fake.url };
  await importUsers(path, options);
  const again = await importUsers(path, options);
  assert.equal(again.usersCreated, 0);
  assert.equal(again.usersExisting, 2);
  assert.equal(fake.state.userCount(), 2);
  assert.equal(fake.state.membershipCount(), 3);
});

Deno.test("validateFile reports what an import would reject, without a server", async () => {
  const report = await validateFile(new Blob([CSV]).stream(), { fileName: "users.csv" });
  assert.equal(report.total_rows, 4);
  assert.equal(report.error_rows, 1);
  assert.equal(report.can_proceed, false);
  assert.equal(report.errors[0].column, "email");
});

Deno.test("mod.ts exports the library API and no internals", async () => {
  const mod = await import("../mod.ts");
  // Values only: types leave no trace at run time.
  const values = Object.keys(mod).sort();
  assert.ok(values.includes("importUsers"));
  assert.ok(values.includes("validateFile"));
  for (const name of values) {
    assert.equal(typeof (mod as Record<string, unknown>)[name], "function", name);
  }
  for (const internal of ["runImport", "RowProcessor", "WorkOSClient", "openInput", "main"]) {
    assert.ok(!values.includes(internal), `mod.ts does not export "${internal}"`);
  }
});

Deno.test("importUsers's onRow outcomes name the request of each write the row made", async () => {
  // Without an audit log the request ids are collected for onRow alone: a
  // caller who reads them gets them.
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const path = await tempPath({ suffix: ".csv" });
  await Deno.writeTextFile(path, CSV);
  const outcomes: RowOutcome[] = [];
  await importUsers(path, {
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    onRow: (outcome) => outcomes.push(outcome),
  });
  const created = outcomes.filter((outcome) => outcome.user === "created");
  assert.equal(created.length, 2);
  for (const outcome of created) {
    assert.match(outcome.requestIds?.user ?? "", /\S/);
    assert.match(outcome.requestIds?.membership ?? "", /\S/);
    assert.notEqual(outcome.requestIds?.user, outcome.requestIds?.membership);
  }
});
