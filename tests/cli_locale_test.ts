/**
 * The `locale` column through the real CLI against the fake WorkOS: a user
 * the import creates gets its locale (WorkOS's create takes none, so by an
 * update), NDJSON too; an unusual one is imported with a warning;
 * `--on-existing update` changes an existing user's and `undo` puts it back;
 * `--invite` sends it with the invitation.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
}

Deno.test("a locale column gives the users the import creates their locale, from CSV and NDJSON; an unusual one warns", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    "email,first_name,locale\nada@locale.test,Ada,en-GB\nbob@locale.test,Bob,fr_CA\ncy@locale.test,Cy,\n",
  );
  const result = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(fake.state.findUserByEmail("ada@locale.test")?.locale, "en-GB");
  assert.equal(fake.state.findUserByEmail("bob@locale.test")?.locale, "fr_CA");
  assert.equal(fake.state.findUserByEmail("cy@locale.test")?.locale, undefined);
  assert.match(
    result.stderr,
    /"locale" is "fr_CA", which is not a language tag like "en-GB": did you mean "fr-CA"\?: imported as given/,
  );
  assert.doesNotMatch(result.stderr, /Ignoring unknown/);
  // One update per user with a locale, none for the others.
  assert.equal(fake.state.requestCounts["PUT /user_management/users/:id"], 2);

  // A second run finds the users with their locale: nothing more to write.
  const again = await runCli(["--csv", csv, "--quiet"], { env: envOf(fake) });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fake.state.requestCounts["PUT /user_management/users/:id"], 2);

  const ndjson = await tempFile(
    JSON.stringify({ email: "dee@locale.test", locale: "pt-BR" }) + "\n",
    ".ndjson",
  );
  const fromNdjson = await runCli(["--input", ndjson], { env: envOf(fake) });
  assert.equal(fromNdjson.code, 0, fromNdjson.stdout + fromNdjson.stderr);
  assert.equal(fake.state.findUserByEmail("dee@locale.test")?.locale, "pt-BR");
});

Deno.test("--on-existing update changes an existing user's locale and undo puts the old one back; skip leaves it", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addUser({ email: "old@locale.test", locale: "de", createdAt: "2024-01-01" });
  fake.state.addUser({ email: "none@locale.test", createdAt: "2024-01-01" });
  const csv = await tempFile("email,locale\nold@locale.test,en-US\nnone@locale.test,es-419\n");

  const skipped = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal(fake.state.findUserByEmail("old@locale.test")?.locale, "de");
  assert.equal(fake.state.findUserByEmail("none@locale.test")?.locale, undefined);

  const checkpoints = await tempDir();
  const updated = await runCli(
    [
      "--csv",
      csv,
      "--on-existing",
      "update",
      "--job-id",
      "locale",
      "--checkpoint-dir",
      checkpoints,
    ],
    { env: envOf(fake) },
  );
  assert.equal(updated.code, 0, updated.stdout + updated.stderr);
  assert.equal(fake.state.findUserByEmail("old@locale.test")?.locale, "en-US");
  assert.equal(fake.state.findUserByEmail("none@locale.test")?.locale, "es-419");
  const audit = await readAuditLog(`${checkpoints}/locale/audit.jsonl.gz`);
  const old = audit.find((entry) => entry.email === "old@locale.test");
  assert.deepEqual(old?.previous, { locale: "de" });
  assert.deepEqual(old?.changes, { locale: "en-US" });

  const undone = await runCli(["undo", "locale", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, /Restored user \S+ \(old@locale\.test\): locale/);
  assert.equal(fake.state.findUserByEmail("old@locale.test")?.locale, "de");
  assert.equal(fake.state.findUserByEmail("none@locale.test")?.locale, undefined);
});

Deno.test("--invite sends the row's locale with the invitation", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const csv = await tempFile(
    "email,org_external_id,locale\nann@locale.test,acme,ja\nbo@locale.test,acme,\n",
  );
  const result = await runCli(["--csv", csv, "--invite", "--invite-rate", "100"], {
    env: envOf(fake),
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const invitations = new Map(fake.state.listInvitations().map((i) => [i.email, i]));
  assert.equal(invitations.get("ann@locale.test")?.locale, "ja");
  assert.equal(invitations.get("bo@locale.test")?.locale, undefined);
  assert.equal(fake.state.userCount(), 0);
});
