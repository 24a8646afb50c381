/**
 * Several roles per membership through the real CLI against the fake
 * WorkOS: `role_slugs` (comma-separated, JSON array, NDJSON array), WorkOS's
 * Multiple Roles switch reported once for the run, unknown and malformed
 * roles as row errors, `--on-existing update` changing an existing
 * membership's roles, and `undo` putting them back.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

interface ErrorLine {
  recordNumber: number;
  errorType: string;
  errorMessage: string;
  workosCode?: string;
}

async function readErrors(path: string): Promise<ErrorLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line));
}

function rolesOf(fake: FakeWorkOS, email: string, externalId: string): string[] {
  const user = fake.state.findUserByEmail(email);
  const organization = fake.state.findOrganizationByExternalId(externalId);
  assert.ok(user && organization, `${email} in ${externalId}`);
  const membership = fake.state.membershipsOfUser(user.id)
    .find((candidate) => candidate.organizationId === organization.id);
  assert.ok(membership, `membership of ${email} in ${externalId}`);
  return membership.roleSlugs;
}

Deno.test("role_slugs gives a membership two roles (comma list, JSON array, NDJSON array)", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    multipleRoles: true,
    roles: ["member", "admin", "billing"],
  });
  const csv = [
    "email,org_external_id,org_name,role_slugs",
    'ann@roles.test,acme,Acme,"admin, billing"',
    'bob@roles.test,acme,Acme,"[""billing"",""member""]"',
    "cat@roles.test,acme,Acme,admin",
  ].join("\n") + "\n";
  const result = await runCli(["--csv", await tempFile(csv), "--quiet"], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(rolesOf(fake, "ann@roles.test", "acme"), ["admin", "billing"]);
  assert.deepEqual(rolesOf(fake, "bob@roles.test", "acme"), ["billing", "member"]);
  assert.deepEqual(rolesOf(fake, "cat@roles.test", "acme"), ["admin"]);

  const ndjson = [
    JSON.stringify({
      email: "dan@roles.test",
      org_external_id: "acme",
      role_slugs: ["admin", "billing"],
    }),
  ].join("\n") + "\n";
  const second = await runCli(["--input", await tempFile(ndjson, ".ndjson"), "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.deepEqual(rolesOf(fake, "dan@roles.test", "acme"), ["admin", "billing"]);
});

Deno.test("without Multiple Roles, WorkOS's refusal is reported once for the run and each row fails with its fix", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    roles: ["member", "admin", "billing"],
  });
  const lines = ["email,org_external_id,org_name,role_slugs"];
  for (let i = 1; i <= 6; i++) lines.push(`p${i}@roles.test,acme,Acme,"admin,billing"`);
  lines.push("solo@roles.test,acme,Acme,billing");
  const dir = await tempDir();
  const errorsOut = `${dir}/errors.jsonl`;
  const result = await runCli(
    [
      "--csv",
      await tempFile(lines.join("\n") + "\n"),
      "--errors-out",
      errorsOut,
      "--quiet",
      "--concurrency",
      "1",
    ],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const notices = result.stderr.match(/Multiple Roles is not enabled in this environment/g) ?? [];
  assert.equal(notices.length, 1, result.stderr);
  assert.match(
    result.stderr,
    /enable it in the WorkOS dashboard \(Authorization > Configuration\)/,
  );
  const errors = await readErrors(errorsOut);
  assert.deepEqual(errors.map((error) => error.recordNumber), [1, 2, 3, 4, 5, 6]);
  for (const error of errors) {
    assert.equal(error.errorType, "membership_create");
    assert.equal(error.workosCode, "multiple_roles_not_enabled");
    assert.match(
      error.errorMessage,
      new RegExp(
        `^Cannot import row ${error.recordNumber}: "role_slugs" has 2 roles \\("admin", "billing"\\) but Multiple Roles is not enabled.*: enable it .* or keep one role$`,
      ),
    );
  }
  // The row with one role is imported; after the first refusal no request is spent on a sure one.
  assert.deepEqual(rolesOf(fake, "solo@roles.test", "acme"), ["billing"]);
  assert.equal(fake.state.requestCounts["POST /user_management/organization_memberships"], 2);
});

Deno.test("an unknown role, a malformed slug and both role columns are row errors naming the column and the fix", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = [
    "email,org_external_id,org_name,role_slug,role_slugs",
    "ann@roles.test,acme,Acme,boss,",
    "bob@roles.test,acme,Acme,Admin,",
    "cat@roles.test,acme,Acme,,billing admin!",
    "dan@roles.test,acme,Acme,admin,member",
    "eve@roles.test,acme,Acme,admin,",
  ].join("\n") + "\n";
  const dir = await tempDir();
  const errorsOut = `${dir}/errors.jsonl`;
  const result = await runCli(
    ["--csv", await tempFile(csv), "--errors-out", errorsOut, "--quiet"],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const errors = new Map((await readErrors(errorsOut)).map((error) => [error.recordNumber, error]));
  assert.equal(errors.size, 4);
  const unknown = errors.get(1);
  assert.equal(unknown?.errorType, "membership_create");
  assert.equal(unknown?.workosCode, "invalid_role");
  assert.match(
    unknown?.errorMessage ?? "",
    /^Cannot import row 1: "role_slug" names a role WorkOS does not have \("boss"\): .*: create the role first \("workos-importer roles apply <file>"\) or correct "role_slug"$/,
  );
  assert.equal(errors.get(2)?.errorType, "validation");
  assert.equal(
    errors.get(2)?.errorMessage,
    'Cannot import row 2: "role_slug" has "Admin", which is not a role slug: slugs are lower case: use "admin"',
  );
  assert.match(
    errors.get(3)?.errorMessage ?? "",
    /^Cannot import row 3: "role_slugs" has "billing admin!", which is not a role slug: use only lowercase letters, digits, "-" and "_"/,
  );
  assert.equal(
    errors.get(4)?.errorMessage,
    'Cannot import row 4: "role_slug" and "role_slugs" are both set: keep one (put every role in "role_slugs")',
  );
  // No valid row lost.
  assert.deepEqual(rolesOf(fake, "eve@roles.test", "acme"), ["admin"]);
  // The unknown role's user exists without a membership; the invalid rows made nothing.
  assert.equal(fake.state.userCount(), 2);
});

Deno.test("a re-run keeps an existing membership's other roles; --on-existing update changes them and undo puts them back", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    multipleRoles: true,
    roles: ["member", "admin", "billing"],
  });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const ann = fake.state.addUser({ email: "ann@roles.test", createdAt: "2024-01-01" });
  fake.state.addMembership({
    userId: ann.id,
    organizationId: acme.id,
    roleSlug: "member",
    createdAt: "2024-01-01",
  });
  const before = fake.state.snapshot();
  const csv = 'email,org_external_id,role_slugs\nann@roles.test,acme,"admin,billing"\n';
  const input = await tempFile(csv);

  const skipped = await runCli(["--csv", input], { env: envOf(fake) });
  assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);
  assert.match(
    skipped.stderr,
    /Row 1: membership in "org_\w+" already exists with roles "member", not "admin", "billing": left as is \(use --on-existing update to change its roles\)/,
  );
  assert.deepEqual(rolesOf(fake, "ann@roles.test", "acme"), ["member"]);

  const checkpoints = await tempDir();
  await Deno.mkdir(`${checkpoints}/roles-1`);
  const audit = `${checkpoints}/roles-1/audit.jsonl`;
  const updated = await runCli(["--csv", input, "--on-existing", "update", "--audit-out", audit], {
    env: envOf(fake),
  });
  assert.equal(updated.code, 0, updated.stdout + updated.stderr);
  assert.match(updated.stdout, /roles member → admin,billing/);
  assert.deepEqual(rolesOf(fake, "ann@roles.test", "acme"), ["admin", "billing"]);
  const entries = await readAuditLog(audit);
  const entry = entries.find((candidate) => candidate.action === "membership_roles_updated");
  assert.deepEqual(entry?.previousRoleSlugs, ["member"]);
  assert.deepEqual(entry?.roleSlugs, ["admin", "billing"]);

  // Running the update again changes nothing more.
  const again = await runCli(["--csv", input, "--on-existing", "update", "--json", "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fake.state.requestCounts["PUT /user_management/organization_memberships/:id"], 1);

  const undone = await runCli(["undo", "roles-1", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, /Restored the roles of membership om_\w+: roles "member"/);
  assert.match(undone.stdout, /Membership roles restored: 1/);
  const after = fake.state.snapshot();
  assert.deepEqual(
    after.memberships.map((m) => m.roleSlugs),
    before.memberships.map((m) => m.roleSlugs),
  );
  assert.deepEqual(rolesOf(fake, "ann@roles.test", "acme"), ["member"]);
});
