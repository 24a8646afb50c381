/**
 * `--invite` end to end: the real CLI against the fake WorkOS sends
 * invitations instead of creating users, with the row's role, never twice
 * for one email and organization, also when a stopped run is run again.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { runCliInterrupted } from "./_interrupted_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

async function readJsonLines(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await Deno.readTextFile(path);
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

const DAY_MS = 86_400_000;

Deno.test("--invite sends invitations with the row's role instead of creating users; an unknown role fails its row", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const csv = await tempFile(
    [
      "email,org_external_id,org_name,role_slug",
      "Ann@Invite.test,acme,,admin",
      "bob@invite.test,acme,,",
      "cy@invite.test,beta,Beta Co,member",
      "dee@invite.test,acme,,boss",
      // The same email and organization again: one invitation.
      "ann@invite.test,acme,,admin",
    ].join("\n") + "\n",
  );
  const dir = await tempDir();
  const result = await runCli(
    [
      "--csv",
      csv,
      "--invite",
      "--invite-expires-days",
      "3",
      "--invite-rate",
      "100",
      "--errors-out",
      `${dir}/errors.jsonl`,
      "--audit-out",
      `${dir}/audit.jsonl`,
    ],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /Invitations sent: 3/);
  assert.equal(fake.state.userCount(), 0, "no user is created");
  assert.equal(fake.state.membershipCount(), 0);

  const invitations = fake.state.listInvitations();
  const beta = fake.state.findOrganizationByExternalId("beta");
  assert.ok(beta, "an organization a row names is created as in an import");
  const byEmail = Object.fromEntries(invitations.map((i) => [i.email, i]));
  assert.deepEqual(Object.keys(byEmail).sort(), [
    "ann@invite.test",
    "bob@invite.test",
    "cy@invite.test",
  ]);
  assert.equal(invitations.length, 3);
  assert.equal(byEmail["ann@invite.test"].roleSlug, "admin");
  assert.equal(byEmail["ann@invite.test"].organizationId, acme.id);
  assert.equal(byEmail["bob@invite.test"].roleSlug, null, "no role: the default");
  assert.equal(byEmail["cy@invite.test"].organizationId, beta.id);
  for (const invitation of invitations) {
    assert.equal(invitation.state, "pending");
    const days = (Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)) / DAY_MS;
    assert.equal(Math.round(days), 3);
  }

  const errors = await readJsonLines(`${dir}/errors.jsonl`);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].recordNumber, 4);
  assert.equal(errors[0].errorType, "invitation");
  assert.equal(errors[0].httpStatus, 422);
  assert.match(String(errors[0].errorMessage), /Role 'boss' does not exist/);

  const audit = await readAuditLog(`${dir}/audit.jsonl`);
  const sent = audit.filter((entry) => entry.action === "invitation_sent");
  assert.deepEqual(sent.map((entry) => entry.id).sort(), invitations.map((i) => i.id).sort());
  const annEntry = sent.find((entry) => entry.id === byEmail["ann@invite.test"].id);
  assert.equal(annEntry?.roleSlug, "admin");
  assert.equal(annEntry?.organizationId, acme.id);
  assert.match(String(annEntry?.requestId), /\S/);
  assert.ok(audit.some((entry) => entry.action === "organization_created" && entry.id === beta.id));
});

Deno.test("--invite skips emails with an invitation already pending for the organization", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const other = fake.state.addOrganization({ name: "Other", externalId: "other" });
  fake.state.addInvitation({ email: "ann@invite.test", organizationId: acme.id });
  // Pending for another organization, and expired for this one: neither counts.
  fake.state.addInvitation({ email: "bob@invite.test", organizationId: other.id });
  fake.state.addInvitation({
    email: "bob@invite.test",
    organizationId: acme.id,
    expiresInDays: 1,
    createdAt: new Date(Date.now() - 3 * DAY_MS),
  });
  const csv = await tempFile("email\nann@invite.test\nbob@invite.test\n");
  const result = await runCli(
    ["--csv", csv, "--invite", "--org-id", acme.id, "--invite-rate", "100"],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /Invitations sent: 1/);
  const toAcme = fake.state.listInvitations().filter((i) => i.organizationId === acme.id);
  assert.equal(toAcme.filter((i) => i.email === "ann@invite.test").length, 1);
  assert.deepEqual(
    toAcme.filter((i) => i.email === "bob@invite.test").map((i) => i.state).sort(),
    ["expired", "pending"],
  );
});

Deno.test("--invite stopped with Ctrl+C and run again sends every invitation exactly once", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 15 } });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const beta = fake.state.addOrganization({ name: "Beta", externalId: "beta" });
  const lines = ["email,org_external_id,role_slug"];
  for (let i = 0; i < 60; i++) {
    lines.push(
      `person${i}@invite.test,${i % 2 === 0 ? "acme" : "beta"},${i % 3 ? "member" : "admin"}`,
    );
  }
  const csv = await tempFile(lines.join("\n") + "\n");
  const args = ["--csv", csv, "--invite", "--invite-rate", "40", "--quiet"];

  const stopped = await runCliInterrupted(args, {
    env: envOf(fake),
    when: () => fake.state.invitationCount() >= 10,
  });
  assert.equal(stopped.code, 130, stopped.stdout + stopped.stderr);
  const sentBefore = fake.state.invitationCount();
  assert.ok(sentBefore >= 10 && sentBefore < 60, `stopped mid-way at ${sentBefore}`);

  const again = await runCli(args, { env: envOf(fake) });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, new RegExp(`Invitations sent: ${60 - sentBefore}\\b`));
  const invitations = fake.state.listInvitations();
  assert.equal(invitations.length, 60);
  const pairs = new Set(invitations.map((i) => `${i.email} ${i.organizationId}`));
  assert.equal(pairs.size, 60, "no email was invited twice to one organization");
  for (const invitation of invitations) {
    const n = Number(invitation.email.match(/person(\d+)@/)?.[1]);
    assert.equal(invitation.organizationId, n % 2 === 0 ? acme.id : beta.id);
    assert.equal(invitation.roleSlug, n % 3 ? "member" : "admin");
  }
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("role_slug sets the membership role in an import; an unknown role fails its row with WorkOS's message", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const csv = await tempFile(
    "email,org_external_id,role_slug\nboss@role.test,acme,admin\nodd@role.test,acme,boss\n",
  );
  const dir = await tempDir();
  const result = await runCli(["--csv", csv, "--errors-out", `${dir}/errors.jsonl`], {
    env: envOf(fake),
  });
  assert.equal(result.code, 1);
  const boss = fake.state.findUserByEmail("boss@role.test");
  assert.equal(fake.state.membershipsOfUser(boss?.id ?? "")[0]?.roleSlug, "admin");
  assert.equal(fake.state.membershipsOfUser(boss?.id ?? "")[0]?.organizationId, acme.id);
  const errors = await readJsonLines(`${dir}/errors.jsonl`);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].errorType, "membership_create");
  assert.equal(errors[0].httpStatus, 422);
  assert.match(String(errors[0].errorMessage), /Role 'boss' does not exist in this environment/);
});
