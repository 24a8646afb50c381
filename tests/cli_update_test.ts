/**
 * `--on-existing skip|update|error` end to end: the real CLI against the
 * fake WorkOS, asserting the users' fields, the audit log's previous values
 * and that undo puts them back.
 */

import assert from "node:assert/strict";
import { type FakeUser, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

async function readJsonLines(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await Deno.readTextFile(path);
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

/** A user's fields without the time of its last change. */
function profile(user: FakeUser | undefined): Omit<FakeUser, "updatedAt"> | undefined {
  if (!user) return undefined;
  const { updatedAt: _, ...rest } = user;
  return rest;
}

const CSV = [
  "email,first_name,last_name,email_verified,external_id,metadata,password,org_external_id",
  // Every updatable field changes; the password must never be sent.
  'OLD@update.test,Ada,Lovelace,true,ada-1,"{""team"":""math"",""tier"":""gold""}",Secret-Pw-123,acme',
  // Nothing differs: adopted unchanged.
  "same@update.test,Same,,,,,,acme",
  // A new user.
  "new@update.test,New,,,,,,acme",
].join("\n") + "\n";

Deno.test("--on-existing update changes names, verification, external id and metadata, and the audit log keeps the previous values", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const old = fake.state.addUser({
    email: "old@update.test",
    firstName: "A.",
    metadata: { team: "eng", keep: "yes" },
  });
  const same = fake.state.addUser({ email: "same@update.test", firstName: "Same" });
  const before = { old: fake.state.getUser(old.id), same: fake.state.getUser(same.id) };
  const dir = await tempDir();
  const audit = `${dir}/audit.jsonl`;

  const result = await runCli(
    ["--csv", await tempFile(CSV), "--on-existing", "update", "--audit-out", audit],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /Users updated: 1/);
  assert.match(result.stdout, /Already existed: 1/);
  assert.match(result.stdout, /Users created: 1/);

  const updated = fake.state.getUser(old.id);
  assert.equal(updated?.email, "old@update.test", "the email is an identity, never changed");
  assert.equal(updated?.firstName, "Ada");
  assert.equal(updated?.lastName, "Lovelace");
  assert.equal(updated?.emailVerified, true);
  assert.equal(updated?.externalId, "ada-1");
  assert.deepEqual(updated?.metadata, { team: "math", tier: "gold", keep: "yes" });
  assert.equal(updated?.hasPassword, false, "an update never sends a password");
  assert.deepEqual(profile(fake.state.getUser(same.id)), profile(before.same));
  assert.equal(fake.state.getUser(same.id)?.updatedAt, before.same?.updatedAt, "not written");
  // Adopted or updated, every user joins the organization.
  assert.equal(fake.state.membershipsOfUser(same.id)[0]?.organizationId, acme.id);

  const entries = await readAuditLog(audit);
  const update = entries.find((entry) => entry.action === "user_updated");
  assert.deepEqual(update?.previous, {
    firstName: "A.",
    lastName: null,
    emailVerified: false,
    externalId: null,
    metadata: { team: "eng", tier: null },
  });
  assert.deepEqual(update?.changes, {
    firstName: "Ada",
    lastName: "Lovelace",
    emailVerified: true,
    externalId: "ada-1",
    metadata: { team: "math", tier: "gold" },
  });
  assert.equal(update?.id, old.id);
  assert.equal(update?.row, 1);
  assert.match(String(update?.requestId), /\S/);
  assert.ok(!entries.some((entry) => entry.id === same.id), "an adopted user is not audited");
  assert.deepEqual(
    entries.map((entry) => entry.action).sort(),
    [
      "membership_created",
      "membership_created",
      "membership_created",
      "user_created",
      "user_updated",
    ],
  );
  const auditText = await Deno.readTextFile(audit);
  assert.doesNotMatch(auditText, /Secret-Pw-123|password/i);
  assert.equal(((await Deno.stat(audit)).mode ?? 0) & 0o777, 0o600);

  // Undo puts the previous values back and leaves the adopted user alone.
  const undone = await runCli(["undo", "--audit-file", audit], { env: envOf(fake) });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, /Restored user .*old@update\.test.*first_name, last_name/i);
  assert.deepEqual(profile(fake.state.getUser(old.id)), profile(before.old));
  assert.deepEqual(profile(fake.state.getUser(same.id)), profile(before.same));
  assert.equal(fake.state.findUserByEmail("new@update.test"), undefined);
  assert.equal(fake.state.membershipCount(), 0);
  assert.ok(fake.state.findOrganizationByExternalId("acme"), "a pre-existing organization stays");
});

Deno.test("--on-existing skip (the default) adopts existing users unchanged but ensures their memberships", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const old = fake.state.addUser({ email: "old@update.test", firstName: "A." });
  const before = fake.state.getUser(old.id);
  const dir = await tempDir();
  const result = await runCli(
    ["--csv", await tempFile(CSV), "--audit-out", `${dir}/audit.jsonl`],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(fake.state.getUser(old.id), before);
  assert.equal(fake.state.membershipsOfUser(old.id)[0]?.organizationId, acme.id);
  const entries = await readAuditLog(`${dir}/audit.jsonl`);
  assert.ok(!entries.some((entry) => entry.action === "user_updated"));
  assert.ok(entries.some((e) => e.action === "membership_created" && e.userId === old.id));
});

Deno.test("--on-existing error fails the rows of existing users and imports the others", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const old = fake.state.addUser({ email: "old@update.test", firstName: "A." });
  const before = fake.state.getUser(old.id);
  const dir = await tempDir();
  const result = await runCli(
    ["--csv", await tempFile(CSV), "--on-existing", "error", "--errors-out", `${dir}/e.jsonl`],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1);
  assert.deepEqual(fake.state.getUser(old.id), before);
  assert.equal(fake.state.membershipsOfUser(old.id).length, 0);
  assert.ok(fake.state.findUserByEmail("new@update.test"));
  const errors = await readJsonLines(`${dir}/e.jsonl`);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].recordNumber, 1);
  assert.equal(errors[0].errorType, "user_create");
  assert.match(String(errors[0].errorMessage), /already exists: use --on-existing skip or update/);
});

Deno.test("an update WorkOS refuses fails the row as user_update with WorkOS's message", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addUser({ email: "holder@update.test", externalId: "taken" });
  const old = fake.state.addUser({ email: "old@update.test", firstName: "A." });
  const dir = await tempDir();
  const csv = await tempFile("email,first_name,external_id\nold@update.test,Ada,taken\n");
  const result = await runCli(
    ["--csv", csv, "--on-existing", "update", "--errors-out", `${dir}/e.jsonl`],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1);
  const errors = await readJsonLines(`${dir}/e.jsonl`);
  assert.equal(errors[0].errorType, "user_update");
  assert.equal(errors[0].httpStatus, 400);
  assert.match(String(errors[0].workosRequestId), /\S/);
  assert.equal(fake.state.getUser(old.id)?.firstName, "A.", "nothing applied");
});
