/**
 * `workos-importer roles apply <file>` through the real CLI against the fake
 * WorkOS: roles and permissions created from the migration package's
 * role_definitions.csv (and JSON), re-applied as a no-op, differences
 * reported and left alone, `--plan` and `--dry-run` writing nothing, bad
 * rows refused with their row and column, and organization roles usable by
 * the import that follows.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempFile } from "./_cli.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

function writes(fake: FakeWorkOS): number {
  return Object.entries(fake.state.requestCounts)
    .filter(([key]) => !key.startsWith("GET "))
    .reduce((sum, [, count]) => sum + count, 0);
}

const DEFINITIONS = [
  "role_slug,role_name,role_type,permissions,org_id,org_external_id",
  'billing-admin,Billing Admin,environment,"invoices:read,invoices:write",,',
  "viewer,Viewer,environment,invoices:read,,",
  "org-auditor,Auditor,organization,reports:read,,acme",
  "member,Member,environment,,,",
].join("\n") + "\n";

Deno.test("roles apply creates roles and permissions from role_definitions.csv; applying again is a no-op", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const file = await tempFile(DEFINITIONS);

  const plan = await runCli(["roles", "apply", file, "--plan"], { env: envOf(fake) });
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.equal(writes(fake), 0, "a plan writes nothing");
  assert.match(
    plan.stdout,
    /· Row 1: would create environment role "billing-admin" \(2 permissions\) with new permissions "invoices:read", "invoices:write"/,
  );
  assert.match(plan.stdout, /= Row 4: environment role "member" matches/);
  assert.match(plan.stdout, /Roles to create: 3/);
  assert.match(plan.stdout, /Permissions to create: 3/);

  const applied = await runCli(["roles", "apply", file], { env: envOf(fake) });
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  assert.match(applied.stdout, /✓ Row 3: created organization role "org-auditor" in org_\w+/);
  assert.match(applied.stdout, /Roles created: 3/);
  assert.deepEqual(fake.state.listPermissions(), [
    "invoices:read",
    "invoices:write",
    "reports:read",
  ]);
  const roles = new Map(fake.state.listRoles().map((role) => [role.slug, role]));
  assert.equal(roles.get("billing-admin")?.name, "Billing Admin");
  assert.deepEqual(roles.get("billing-admin")?.permissions, ["invoices:read", "invoices:write"]);
  assert.deepEqual(roles.get("viewer")?.permissions, ["invoices:read"]);
  const [auditor] = fake.state.listRoles(acme.id);
  assert.deepEqual([auditor.slug, auditor.name, auditor.permissions], [
    "org-auditor",
    "Auditor",
    ["reports:read"],
  ]);

  const before = writes(fake);
  const again = await runCli(["roles", "apply", file, "--json", "--quiet"], { env: envOf(fake) });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(writes(fake), before, "re-applying writes nothing");
  const summary = JSON.parse(again.stdout.trim().split("\n").at(-1) as string);
  assert.equal(summary.rolesCreated, 0);
  assert.equal(summary.rolesMatching, 4);
  assert.equal(summary.permissionsCreated, 0);

  // The organization role is now one the import can give.
  const users = "email,org_external_id,role_slugs\nann@apply.test,acme,org-auditor\n";
  const imported = await runCli(["--csv", await tempFile(users), "--quiet"], { env: envOf(fake) });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  const ann = fake.state.findUserByEmail("ann@apply.test");
  assert.ok(ann);
  assert.deepEqual(fake.state.membershipsOfUser(ann.id)[0].roleSlugs, ["org-auditor"]);
});

Deno.test("roles apply reports a role that differs and leaves it; bad rows fail with row, column and fix", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, roles: ["member", "admin"] });
  const json = JSON.stringify({
    roles: [
      {
        role_slug: "admin",
        role_name: "Administrator",
        role_type: "environment",
        permissions: ["all:*"],
      },
      { role_slug: "Support", role_name: "Support", role_type: "environment" },
      {
        role_slug: "auditor",
        role_name: "Auditor",
        role_type: "organization",
        org_external_id: "acme",
      },
      { role_slug: "ops", role_name: "Ops", role_type: "tenant" },
      {
        role_slug: "support",
        role_name: "Support",
        role_type: "environment",
        permissions: "tickets:read",
      },
    ],
  });
  const file = await tempFile(json, ".json");
  const result = await runCli(["roles", "apply", file], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /≠ Row 1: environment role "admin" differs: name is "Admin" in WorkOS, "Administrator" in the file; permissions missing in WorkOS: "all:\*": left as is/,
  );
  assert.match(
    result.stdout,
    /✗ Row 2: Cannot apply row 2: "role_slug" has "Support", which is not a role slug: slugs are lower case: use "support"/,
  );
  assert.match(
    result.stdout,
    /✗ Row 3: Cannot apply row 3: "role_slug" is "auditor": an organization role's slug begins with "org-" in WorkOS: use "org-auditor"/,
  );
  assert.match(
    result.stdout,
    /✗ Row 4: Cannot apply row 4: "role_type" is "tenant": use environment or organization/,
  );
  assert.match(result.stdout, /✓ Row 5: created environment role "support" \(1 permission\)/);
  const admin = fake.state.listRoles().find((role) => role.slug === "admin");
  assert.deepEqual(
    [admin?.name, admin?.permissions],
    ["Admin", []],
    "a differing role is left as is",
  );
  assert.deepEqual(fake.state.listPermissions(), ["tickets:read"]);

  const dry = await runCli(["roles", "apply", file, "--dry-run"], { env: {} });
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stdout, /Definitions valid: 2/);
  assert.match(dry.stdout, /Definitions invalid: 3/);
});

Deno.test("roles apply creates every role exactly once through ghost successes and 500s", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const lines = ["role_slug,role_name,role_type,permissions,org_id,org_external_id"];
  for (let i = 1; i <= 15; i++) lines.push(`role-${i},Role ${i},environment,perm:${i},,`);
  fake.configure({ faults: { ghostRate: 0.3, failureRate: 0.1 }, seed: 3 });
  const result = await runCli(
    ["roles", "apply", await tempFile(lines.join("\n") + "\n"), "--max-retries", "10", "--json"],
    { env: envOf(fake) },
  );
  fake.configure({ faults: { ghostRate: 0, failureRate: 0 } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.ok(fake.state.faultCounts.ghost > 0, "ghost successes happened");
  const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
  assert.equal(summary.rolesCreated, 15);
  assert.ok(summary.retries > 0);
  const roles = fake.state.listRoles().filter((role) => role.slug.startsWith("role-"));
  assert.equal(roles.length, 15);
  for (const role of roles) assert.deepEqual(role.permissions, [`perm:${role.slug.slice(5)}`]);
  assert.equal(fake.state.listPermissions().length, 15);
});
