/**
 * `validate` and `--dry-run` count one file alike: the same rows, the same
 * valid and invalid rows, the same duplicates. One email in two
 * organizations is one user with two memberships, not a duplicate row; the
 * same email twice in one organization (or, without organizations, anywhere)
 * is. The real CLI runs both commands on each file.
 */

import assert from "node:assert/strict";
import { runCli, tempFile } from "./_cli.ts";

interface Counts {
  total: number;
  valid: number;
  invalid: number;
  duplicates: number;
}

async function countsOf(path: string, flags: string[] = []): Promise<[Counts, Counts]> {
  const validate = await runCli(["validate", path, "--json", ...flags]);
  assert.ok(validate.code === 0 || validate.code === 1, validate.stderr);
  const report = JSON.parse(validate.stdout);
  const dryRun = await runCli(["--csv", path, "--dry-run", "--json", ...flags]);
  assert.ok(dryRun.code === 0 || dryRun.code === 1, dryRun.stderr);
  const summary = JSON.parse(dryRun.stdout);
  return [
    {
      total: report.total_rows,
      valid: report.valid_rows,
      invalid: report.error_rows,
      duplicates: report.duplicate_rows,
    },
    {
      total: summary.totalRows,
      valid: summary.plan.validRows,
      invalid: summary.plan.invalidRows,
      duplicates: summary.plan.duplicateRows,
    },
  ];
}

Deno.test("validate and --dry-run agree: one email in two organizations is not a duplicate", async () => {
  const csv = await tempFile(
    [
      "email,org_external_id,org_id",
      "ada@count.test,acme,",
      "ADA@count.test,beta,", // the same user in another organization: a second membership
      "ada@count.test,acme,", // the same email in the same organization: a duplicate
      "ada@count.test,,org_01HACME", // by id: another organization
      "bob@count.test,acme,",
      "not-an-email,acme,",
      "cy@count.test,,", // no organization
      "CY@count.test,,", // the same person, again without one: a duplicate
    ].join("\n") + "\n",
  );
  const [validate, dryRun] = await countsOf(csv);
  assert.deepEqual(validate, { total: 8, valid: 7, invalid: 1, duplicates: 2 });
  assert.deepEqual(dryRun, validate);
});

Deno.test("validate and --dry-run agree with one organization for every row", async () => {
  const csv = await tempFile(
    "email,org_external_id\nada@count.test,acme\nADA@count.test,beta\nbob@count.test,beta\n",
  );
  // The flag names the organization: the rows' columns are ignored, so one
  // email twice is the same membership twice.
  const [validate, dryRun] = await countsOf(csv, ["--org-external-id", "acme"]);
  assert.deepEqual(validate, { total: 3, valid: 3, invalid: 0, duplicates: 1 });
  assert.deepEqual(dryRun, validate);
});

Deno.test("validate and --dry-run agree without organizations and on NDJSON", async () => {
  const plain = await tempFile("email\nada@count.test\nADA@count.test\nbob@count.test\nbad\n");
  const [validate, dryRun] = await countsOf(plain);
  assert.deepEqual(validate, { total: 4, valid: 3, invalid: 1, duplicates: 1 });
  assert.deepEqual(dryRun, validate);

  const ndjson = await tempFile(
    [
      { email: "ada@count.test", org_external_id: "acme" },
      { email: "ada@count.test", org_external_id: "beta" },
      { email: "Ada@count.test", org_external_id: "beta" },
      { email: "bob@count.test" },
    ].map((row) => JSON.stringify(row)).join("\n") + "\n",
    ".ndjson",
  );
  const [validateNdjson, dryRunNdjson] = await countsOf(ndjson);
  assert.deepEqual(validateNdjson, { total: 4, valid: 4, invalid: 0, duplicates: 1 });
  assert.deepEqual(dryRunNdjson, validateNdjson);
});
