/**
 * `workos-importer validate`: the real CLI on files with every kind of
 * problem, asserting the report file, the printed lines and the exit code.
 * No WorkOS is needed: validate makes no API call.
 */

import assert from "node:assert/strict";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { validateFile } from "../mod.ts";

const LONG_LOCAL = "a".repeat(65);
const LONG_ID = "x".repeat(65);

/** One row per kind of error, then warnings and duplicates. */
const EVERY_PROBLEM = [
  "email,first_name,last_name,password,password_hash,password_hash_type,email_verified,external_id,metadata,org_id,org_external_id,org_name,role_slug,department",
  // 1: fine
  "ada@example.com,Ada,Lovelace,,,,true,ada-1,,,acme,Acme,admin,math",
  // 2: missing email
  ",No,Email,,,,,,,,,,,",
  // 3: an address that cannot be valid
  "not-an-email,Bad,Address,,,,,,,,,,,",
  // 4: local part over RFC 5321's 64 octets
  `${LONG_LOCAL}@example.com,Long,Local,,,,,,,,,,,`,
  // 5: email_verified that is not a boolean
  "ev@example.com,,,,,,maybe,,,,,,,",
  // 6: unknown hash type (the hash itself never reaches the report)
  "hash@example.com,,,,$2b$10$SECRETHASHVALUE,md5,,,,,,,,",
  // 7: a hash without its type, in no format the type can be told from
  "notype@example.com,,,,SECRETHASHVALUE,,,,,,,,,",
  // 8: metadata that is not JSON
  'meta@example.com,,,,,,,,"{not json}",,,,,',
  // 9: both org_id and org_external_id
  "both@example.com,,,,,,,,,org_123,acme,,,",
  // 10: external_id too long
  `ext@example.com,,,,,,,${LONG_ID},,,,,,`,
  // 11: wrong number of values
  "short@example.com,Short",
  // 12: duplicate of row 1 (same email, any case, same organization)
  "ADA@example.com,Ada,,,,,,,,,acme,,,",
  // 13: same person in another organization: not a duplicate
  "ada@example.com,Ada,,,,,,,,,beta,Beta,,",
  // 14: a warning: password and hash both set
  `pw@example.com,,,hunter2-SECRET,$2b$10$SECRETHASHVALUE${"x".repeat(38)},bcrypt,,,,,,,,`,
  // 15: a warning: org_name without org_external_id
  "orgname@example.com,,,,,,,,,,,Lonely Org,,",
].join("\n") + "\n";

Deno.test("validate reports every kind of error, duplicates and unknown columns, and exits 1", async () => {
  const csv = await tempFile(EVERY_PROBLEM);
  const dir = await tempDir();
  const reportPath = `${dir}/report.json`;
  const result = await runCli(["validate", csv, "--report", reportPath]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const report = JSON.parse(await Deno.readTextFile(reportPath));
  assert.equal(((await Deno.stat(reportPath)).mode ?? 0) & 0o777, 0o600);

  assert.equal(report.file_name, csv);
  assert.equal(report.total_rows, 15);
  assert.equal(report.error_rows, 10);
  assert.equal(report.valid_rows, 5);
  assert.equal(report.duplicate_rows, 1);
  assert.equal(report.can_proceed, false);
  const errorsByRow = new Map<number, Array<{ column: string | null; error: string }>>();
  for (const error of report.errors) {
    assert.deepEqual(Object.keys(error).sort(), ["column", "error", "row"]);
    errorsByRow.set(error.row, [...(errorsByRow.get(error.row) ?? []), error]);
  }
  assert.deepEqual([...errorsByRow.keys()], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const columnOf = (row: number) => errorsByRow.get(row)?.map((e) => e.column);
  assert.deepEqual(columnOf(2), ["email"]);
  assert.deepEqual(columnOf(3), ["email"]);
  assert.deepEqual(columnOf(4), ["email"]);
  assert.match(errorsByRow.get(4)?.[0].error ?? "", /64/);
  assert.deepEqual(columnOf(5), ["email_verified"]);
  assert.deepEqual(columnOf(6), ["password_hash_type"]);
  assert.deepEqual(columnOf(7), ["password_hash_type"]);
  assert.deepEqual(columnOf(8), ["metadata"]);
  assert.deepEqual(columnOf(9), ["org_external_id"]);
  assert.deepEqual(columnOf(10), ["external_id"]);
  assert.deepEqual(columnOf(11), [null], "a row that cannot be parsed has no column");

  const warnings: Array<{ row: number | null; column: string | null; warning: string }> =
    report.warnings;
  for (const warning of warnings) {
    assert.deepEqual(Object.keys(warning).sort(), ["column", "row", "warning"]);
  }
  const unknown = warnings.find((w) => w.row === null);
  assert.equal(unknown?.column, "department");
  assert.match(unknown?.warning ?? "", /Unknown column "department"/);
  const duplicate = warnings.find((w) => w.row === 12);
  assert.equal(duplicate?.column, "email");
  assert.match(duplicate?.warning ?? "", /Duplicate of row 1/);
  assert.ok(!warnings.some((w) => w.row === 13), "another organization is not a duplicate");
  assert.ok(warnings.some((w) => w.row === 14 && w.column === "password"));
  assert.ok(warnings.some((w) => w.row === 15 && w.column === "org_name"));

  // Secrets never reach the report or the terminal.
  const everything = JSON.stringify(report) + result.stdout + result.stderr;
  assert.doesNotMatch(everything, /SECRETHASHVALUE|hunter2/);
  assert.match(result.stdout, /✗ Row 2 \(email\)/);
  assert.match(result.stdout, /15 rows, 5 valid, 10 with errors, 1 duplicates/);
  assert.match(result.stdout, /Cannot proceed/);
});

Deno.test("validate exits 0 with can_proceed for a clean file, and writes nothing to WorkOS", async () => {
  const csv = await tempFile("email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n");
  const dir = await tempDir();
  // No key and no API: validate must not need either.
  const result = await runCli(["validate", csv, "--report", `${dir}/report.json`], {
    env: { WORKOS_API_URL: "http://127.0.0.1:9" },
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
  assert.deepEqual(report, {
    file_name: csv,
    total_rows: 2,
    valid_rows: 2,
    error_rows: 0,
    duplicate_rows: 0,
    errors: [],
    warnings: [],
    can_proceed: true,
    errors_omitted: 0,
    warnings_omitted: 0,
  });
  assert.match(result.stdout, /Can proceed/);
});

Deno.test("validate reads NDJSON: a malformed line is an error with its line number", async () => {
  const ndjson = await tempFile(
    '{"_mode":"upsert"}\n{"email":"a@example.com","org_external_id":"acme"}\n{oops\n' +
      '{"email":"A@example.com","org_external_id":"acme","team":"x"}\n',
    ".ndjson",
  );
  const result = await runCli(["validate", ndjson, "--json"]);
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout);
  assert.equal(report.total_rows, 3);
  assert.equal(report.error_rows, 1);
  assert.equal(report.errors[0].row, 3);
  assert.equal(report.errors[0].column, null);
  assert.equal(report.duplicate_rows, 1);
  assert.ok(
    report.warnings.some((w: { row: number; column: string }) =>
      w.row === 4 && w.column === "team"
    ),
    "an unknown NDJSON field is a warning",
  );
});

Deno.test("validate with --org-external-id counts the same email twice as a duplicate", async () => {
  const csv = await tempFile("email,org_external_id\nx@example.com,a\nX@example.com,b\n");
  const plain = await validateFile(csv);
  assert.equal(plain.duplicate_rows, 0);
  const single = await runCli(["validate", csv, "--org-external-id", "acme", "--json"]);
  assert.equal(JSON.parse(single.stdout).duplicate_rows, 1);
});

Deno.test("validate without a file, or with a missing one, fails in one line", async () => {
  const none = await runCli(["validate"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Error: Cannot validate: no file given/);
  const missing = await runCli(["validate", "/nonexistent/users.csv"]);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr.trim(),
    'Error: Cannot validate: no file "/nonexistent/users.csv": check the path',
  );
});

Deno.test("validateFile() caps the listed errors and counts the rest", async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `bad-${i}`).join("\n");
  const report = await validateFile(new Blob([`email\n${rows}\n`]).stream(), {
    fileName: "many.csv",
    maxIssues: 10,
  });
  assert.equal(report.file_name, "many.csv");
  assert.equal(report.error_rows, 30);
  assert.equal(report.errors.length, 10);
  assert.equal(report.errors_omitted, 20);
});
