/**
 * `workos-importer undo` end to end: the real CLI imports into the fake
 * WorkOS, then takes the import back from its audit log. The fake's
 * snapshot before the import is the bar: undo must return to it exactly,
 * with every pre-existing user, organization and membership untouched.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { runCliInterrupted } from "./_interrupted_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

function writes(fake: FakeWorkOS): number {
  return Object.entries(fake.state.requestCounts)
    .filter(([key]) => !key.startsWith("GET "))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** A tenant that was there before: users, organizations and memberships undo must not touch. */
function seed(fake: FakeWorkOS): { beta: string; member: string; outsider: string } {
  const beta = fake.state.addOrganization({ name: "Beta", externalId: "beta" });
  fake.state.addOrganization({ name: "Untouched", externalId: "untouched" });
  const member = fake.state.addUser({ email: "member@undo.test", firstName: "Member" });
  fake.state.addMembership({ userId: member.id, organizationId: beta.id, roleSlug: "admin" });
  const outsider = fake.state.addUser({ email: "outsider@undo.test", metadata: { a: "1" } });
  return { beta: beta.id, member: member.id, outsider: outsider.id };
}

const MULTI_ORG = [
  "email,first_name,org_external_id,org_name,role_slug",
  // New users in a new organization and in an existing one.
  "ann@undo.test,Ann,acme,Acme Inc.,admin",
  "bob@undo.test,Bob,beta,,",
  // One person in three organizations.
  "pat@undo.test,Pat,acme,,",
  "PAT@undo.test,Pat,beta,,member",
  "pat@undo.test,Pat,gamma,Gamma LLC,",
  // Pre-existing users: adopted, and joined to organizations.
  "member@undo.test,Changed,beta,,",
  "member@undo.test,Changed,acme,,",
  "outsider@undo.test,Changed,gamma,,",
].join("\n") + "\n";

Deno.test("undo after a multi-org import returns the tenant to its exact prior state", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const seeded = seed(fake);
  const before = fake.state.snapshot();
  const checkpoints = await tempDir();
  await Deno.mkdir(`${checkpoints}/migration-1`);
  const audit = `${checkpoints}/migration-1/audit.jsonl`;

  const imported = await runCli(["--csv", await tempFile(MULTI_ORG), "--audit-out", audit], {
    env: envOf(fake),
  });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.equal(fake.state.organizationCount(), 4);
  assert.equal(fake.state.userCount(), 5);
  assert.equal(fake.state.membershipCount(), 8);
  const afterImport = fake.state.snapshot();

  // A dry run lists the steps and changes nothing.
  const dry = await runCli(
    ["undo", "migration-1", "--checkpoint-dir", checkpoints, "--dry-run"],
    { env: envOf(fake) },
  );
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.deepEqual(fake.state.snapshot(), afterImport);
  assert.match(dry.stdout, /Would delete organization org_\w+ \(acme\)/);
  assert.match(dry.stdout, /Would delete user user_\w+ \(ann@undo\.test\)/);
  assert.match(dry.stdout, /Memberships to delete: 7/);
  assert.match(dry.stdout, /Users to delete: 3/);
  assert.match(dry.stdout, /Organizations to delete: 2/);
  assert.doesNotMatch(dry.stdout, new RegExp(`${seeded.member}|${seeded.outsider}`));

  const undone = await runCli(["undo", "migration-1", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.deepEqual(fake.state.snapshot(), before);
  assert.match(undone.stdout, /Memberships deleted: 7/);
  assert.match(undone.stdout, /Users deleted: 3/);
  assert.match(undone.stdout, /Organizations deleted: 2/);
  assert.match(undone.stdout, /Failures: 0/);
  // Newest first: an organization goes after its memberships.
  const lines = undone.stdout.split("\n");
  const acmeLine = lines.findIndex((line) => /Deleted organization .*\(acme\)/.test(line));
  const lastMembership = lines.findLastIndex((line) => /Deleted membership/.test(line));
  assert.ok(acmeLine > lastMembership, undone.stdout);

  // Undo is recorded: running it again does nothing and says so.
  const writesBefore = writes(fake);
  const again = await runCli(["undo", "migration-1", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /Already undone earlier: 12/);
  assert.equal(writes(fake), writesBefore);
  assert.deepEqual(fake.state.snapshot(), before);
});

Deno.test("undo after an import stopped with Ctrl+C returns the tenant to its prior state", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 20 } });
  seed(fake);
  const before = fake.state.snapshot();
  const lines = ["email,org_external_id,org_name"];
  for (let i = 0; i < 300; i++) {
    const organization = i % 3 === 0 ? "beta," : `org-${i % 7},Org ${i % 7}`;
    lines.push(`user${i}@undo.test,${organization}`);
  }
  lines.push("member@undo.test,org-1,Org 1");
  const dir = await tempDir();
  const audit = `${dir}/audit.jsonl`;

  const stopped = await runCliInterrupted(
    ["--csv", await tempFile(lines.join("\n") + "\n"), "--audit-out", audit, "--quiet"],
    { env: envOf(fake), when: () => fake.state.userCount() >= 25 },
  );
  assert.equal(stopped.code, 130, stopped.stdout + stopped.stderr);
  const created = fake.state.userCount() - 2;
  assert.ok(created >= 23 && created < 300, `stopped mid-way after ${created} users`);

  const undone = await runCli(["undo", "--audit-file", audit, "--quiet"], { env: envOf(fake) });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, new RegExp(`Users deleted: ${created}\\b`));
  assert.deepEqual(fake.state.snapshot(), before);
});

Deno.test("undo stopped with Ctrl+C continues where it stopped when run again", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  seed(fake);
  const before = fake.state.snapshot();
  const lines = ["email,org_external_id,org_name"];
  for (let i = 0; i < 120; i++) lines.push(`user${i}@undo.test,org-${i % 4},Org ${i % 4}`);
  const dir = await tempDir();
  const audit = `${dir}/audit.jsonl`;
  const imported = await runCli(
    ["--csv", await tempFile(lines.join("\n") + "\n"), "--audit-out", audit, "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);

  fake.configure({ latency: { fixedMs: 25 } });
  const stopped = await runCliInterrupted(["undo", "--audit-file", audit, "--quiet"], {
    env: envOf(fake),
    when: () => fake.state.userCount() <= 100,
  });
  assert.equal(stopped.code, 130, stopped.stdout + stopped.stderr);
  assert.match(stopped.stdout, /run the same command again to continue/);
  assert.ok(fake.state.userCount() > 2, "stopped before the end");
  const progress = await Deno.readTextFile(`${dir}/audit.undo.jsonl`);
  assert.ok(progress.trim().split("\n").length > 0);

  fake.configure({ latency: { fixedMs: 0 } });
  const resumed = await runCli(["undo", "--audit-file", audit, "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /Already undone earlier: \d+/);
  assert.deepEqual(fake.state.snapshot(), before);
});

Deno.test("undo leaves users --require-membership already deleted, and keeps an organization others joined", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const { member } = seed(fake);
  const dir = await tempDir();
  const audit = `${dir}/audit.jsonl`;
  const csv = await tempFile(
    [
      "email,org_external_id,org_name,role_slug",
      "fine@undo.test,acme,Acme,",
      "rolled-back@undo.test,acme,Acme,boss",
    ].join("\n") + "\n",
  );
  const imported = await runCli(
    ["--csv", csv, "--require-membership", "--audit-out", audit],
    { env: envOf(fake) },
  );
  assert.equal(imported.code, 1);
  const entries = await readAuditLog(audit);
  const rolledBack = entries.filter((entry) => entry.email === "rolled-back@undo.test");
  assert.deepEqual(rolledBack.map((entry) => entry.action), ["user_created", "user_deleted"]);

  // Someone adds a pre-existing user to the organization the import created.
  const acme = fake.state.findOrganizationByExternalId("acme");
  assert.ok(acme);
  fake.state.addMembership({ userId: member, organizationId: acme.id });

  const undone = await runCli(["undo", "--audit-file", audit], { env: envOf(fake) });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(
    undone.stdout,
    /Nothing to undo for user .*rolled-back@undo\.test.*deleted this user itself/,
  );
  assert.match(undone.stdout, /Kept organization .*\(acme\): it has members this job did not add/);
  assert.equal(fake.state.findUserByEmail("fine@undo.test"), undefined);
  assert.ok(fake.state.findOrganizationByExternalId("acme"), "kept");
  assert.equal(fake.state.membershipsOfUser(member).length, 2, "its memberships untouched");
});

Deno.test("undo of an unknown job, or without one, fails in one line", async () => {
  const dir = await tempDir();
  const env = { WORKOS_SECRET_KEY: "sk_test_x", WORKOS_API_URL: "http://127.0.0.1:9" };
  const unknown = await runCli(["undo", "nope", "--checkpoint-dir", dir], { env });
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr.trim(),
    `Error: Cannot undo job "nope": no audit log at "${dir}/nope/audit.jsonl.gz": check the job id and --checkpoint-dir`,
  );
  const none = await runCli(["undo"], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Error: Cannot undo: no job given/);
  const path = await runCli(["undo", "../etc"], { env });
  assert.equal(path.code, 2);
  assert.match(path.stderr, /a job id is a name, not a path/);
});
