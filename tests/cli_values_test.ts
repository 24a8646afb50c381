/**
 * Values WorkOS accepts are imported as given, and what the CLI says about a
 * run is what happened: through the real CLI against the fake WorkOS, with
 * the fake's end state asserted.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { runCliInterrupted } from "./_interrupted_cli.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

Deno.test("line breaks, tabs and control characters in names import as given, with a warning; a NUL fails its row", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    [
      "email,first_name,last_name,metadata",
      'crm@values.test,Ann,"Line1\nLine2",',
      "tab@values.test,Bo\tb,Lee,",
      "bell@values.test,Cy\u0007,Ray,",
      'meta@values.test,Di,Oz,"{""note"":""two\\nlines""}"',
      "nul@values.test,Ed\u0000,Nul,",
    ].join("\n") + "\n",
  );
  const errors = `${await tempDir()}/errors.jsonl`;
  const result = await runCli(["--csv", csv, "--errors-out", errors], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(fake.state.findUserByEmail("crm@values.test")?.lastName, "Line1\nLine2");
  assert.equal(fake.state.findUserByEmail("tab@values.test")?.firstName, "Bo\tb");
  assert.equal(fake.state.findUserByEmail("bell@values.test")?.firstName, "Cy\u0007");
  assert.deepEqual(fake.state.findUserByEmail("meta@values.test")?.metadata, {
    note: "two\nlines",
  });
  assert.equal(fake.state.findUserByEmail("nul@values.test"), undefined);
  assert.equal(fake.state.userCount(), 4);
  for (
    const warning of [
      'Warning: Row 1: "last_name" contains a line break: imported as given',
      'Warning: Row 2: "first_name" contains a tab: imported as given',
      'Warning: Row 3: "first_name" contains the control character U+0007: imported as given',
      'Warning: Row 4: "metadata" key "note" has a value with a line break: imported as given',
    ]
  ) {
    assert.ok(result.stderr.includes(warning), `${warning}\n${result.stderr}`);
  }
  assert.match(result.stdout, /Warnings: 4/);
  const [failed] = (await Deno.readTextFile(errors)).trim().split("\n").map((line) =>
    JSON.parse(line)
  );
  assert.equal(failed.recordNumber, 5);
  assert.equal(
    failed.errorMessage,
    'Cannot import row 5: "first_name" contains a NUL character (U+0000), which WorkOS cannot store: remove it',
  );
});

Deno.test("a taken external id says which id and what to do", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addUser({ email: "first@ids.test", externalId: "emp-42" });
  const csv = await tempFile("email,external_id\nsecond@ids.test,emp-42\n");
  const result = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stdout,
    /✗ Row 1 second@ids\.test: user_create: Cannot create user "second@ids\.test": external_id "emp-42" belongs to another WorkOS user: give this row another external_id, or leave it empty to import the user without one/,
  );
});

Deno.test("per-row lines name the organization by the external id the row gave", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const beta = fake.state.addOrganization({ name: "Beta" });
  const csv = await tempFile(
    `email,org_external_id,org_id\nann@orgs.test,acme,\nbob@orgs.test,,${beta.id}\n`,
  );
  const result = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /Row 1 ann@orgs\.test: user created; membership created in organization "acme"/,
  );
  assert.doesNotMatch(result.stdout, new RegExp(acme.id));
  assert.match(result.stdout, new RegExp(`Row 2 bob@orgs\\.test: .* in ${beta.id}`));
});

Deno.test("a dry run's box says what it would do and its plan has thousands separators", async () => {
  const rows = ["email,org_external_id"];
  for (let i = 0; i < 1_200; i++) rows.push(`user${i}@dry.test,org-${i % 3}`);
  rows.push("broken,org-1");
  const csv = await tempFile(rows.join("\n") + "\n");
  const result = await runCli(["--csv", csv, "--dry-run", "--quiet"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /Rows valid: 1,200\n/);
  assert.match(result.stdout, /Memberships that would be created: 1,200\n/);
  assert.match(result.stdout, /│ DRY RUN +│/);
  assert.match(result.stdout, /│ Status: Would complete with errors: nothing was written +│/);
  assert.match(result.stdout, /│ Rows that would import: 1,200\/1,201 +│/);
  assert.match(result.stdout, /│ Rows that would fail: 1 +│/);
  assert.match(result.stdout, /│ Memberships to create: 1,200 +│/);
  assert.doesNotMatch(result.stdout, /Users imported|Users created|Status: Success/);
});

Deno.test("after Ctrl+C the box says Interrupted and counts against the whole file", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 40 } });
  const rows = Array.from({ length: 2_000 }, (_, i) => `stop${i}@box.test`);
  const csv = await tempFile(`email\n${rows.join("\n")}\n`);
  const result = await runCliInterrupted(["--csv", csv, "--quiet"], {
    env: envOf(fake),
    when: () => fake.state.userCount() >= 20,
  });
  assert.equal(result.code, 130, result.stderr);
  const imported = fake.state.userCount();
  assert.ok(imported < rows.length);
  assert.match(result.stdout, /│ Status: Interrupted +│/);
  assert.match(result.stdout, new RegExp(`│ Users imported: ${imported}/2,000 +│`));
  assert.match(result.stdout, /│ Rows not done: [\d,]+ +│/);
  assert.doesNotMatch(result.stdout, /Status: Success/);
});

Deno.test("clean warns that undo is no longer possible once a job's audit log is gone", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile("email\na@clean.test\nb@clean.test\n");
  const run = await runCli(["--csv", csv, "--job-id", "gone", "--checkpoint-dir", dir, "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(run.code, 0, run.stderr);
  const help = await runCli(["clean", "--help"]);
  assert.match(help.stdout, /"undo <job-id>" is impossible afterwards/);
  const cleaned = await runCli(["clean", "gone", "--checkpoint-dir", dir]);
  assert.equal(cleaned.code, 0, cleaned.stderr);
  assert.match(cleaned.stdout, /^Removed job "gone"/);
  assert.equal(
    cleaned.stderr.trim(),
    'Warning: the audit log of 2 changes in WorkOS is gone: "workos-importer undo gone" can no longer take them back',
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("clean counts every write of the audit log, a row's several included", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(
    "email,org_external_id,org_name\na@clean.test,acme,Acme\nb@clean.test,acme,Acme\n",
  );
  const run = await runCli(["--csv", csv, "--job-id", "rows", "--checkpoint-dir", dir, "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(run.code, 0, run.stderr);
  const cleaned = await runCli(["clean", "rows", "--checkpoint-dir", dir]);
  assert.equal(cleaned.code, 0, cleaned.stderr);
  // The organization, and each row's user and membership.
  assert.match(cleaned.stderr, /^Warning: the audit log of 5 changes in WorkOS is gone: /);
  await Deno.remove(dir, { recursive: true });
});
