/**
 * `import-package` through the real CLI against the fake WorkOS: the fixture
 * package (tests/fixtures/package, written from the published contract)
 * imports exactly — organizations, role definitions, users, memberships with
 * their roles, TOTP factors — as one job that survives SIGKILL/resume and
 * that `undo` takes back; a plan predicts the roles and factors; a package
 * with a missing or inconsistent manifest is one line and exit 2.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { killRepeatedly, runCli } from "./_cli.ts";
import { seededRandom } from "./_random.ts";

const FIXTURE = new URL("./fixtures/package", import.meta.url).pathname;

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
}

/** A copy of the fixture package to change. */
async function copyOfFixture(): Promise<string> {
  const dir = await Deno.makeTempDir();
  async function copy(from: string, to: string): Promise<void> {
    for await (const entry of Deno.readDir(from)) {
      if (entry.isDirectory) {
        await Deno.mkdir(`${to}/${entry.name}`);
        await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
      } else {
        await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
      }
    }
  }
  await copy(FIXTURE, dir);
  return dir;
}

/** The tenant as the fixture package should leave it. */
export function assertFixtureImported(fake: FakeWorkOS): void {
  const orgs = fake.state.listOrganizations().map((org) => [org.externalId, org.name]).sort();
  assert.deepEqual(orgs, [
    ["org_acme", "Acme Inc"],
    ["org_globex", "Globex"],
    ["org_initech", "Initech"],
  ]);
  const users = fake.state.listUsers().map((user) => [
    user.email,
    user.externalId,
    user.firstName,
    user.lastName,
    user.emailVerified,
    user.metadata,
  ]).sort();
  assert.deepEqual(users, [
    ["ada@pkg.test", "auth0|ada", "Ada", "Lovelace", true, { team: "eng" }],
    ["bob@pkg.test", "auth0|bob", "Bob", "Builder, Jr.", false, {}],
    ["cat@pkg.test", "auth0|cat", "Cat", null, true, {}],
    ["dan@pkg.test", "auth0|dan", "Dan", "Dare", true, {}],
    ["eve@pkg.test", "auth0|eve", "Eve", null, true, {}],
  ]);
  const ada = fake.state.findUserByEmail("ada@pkg.test");
  assert.equal(ada?.passwordHashType, "bcrypt");
  const orgName = new Map(fake.state.listOrganizations().map((org) => [org.id, org.externalId]));
  const email = new Map(fake.state.listUsers().map((user) => [user.id, user.email]));
  const memberships = fake.state.listMemberships().map((membership) => [
    email.get(membership.userId),
    orgName.get(membership.organizationId),
    [...membership.roleSlugs].sort(),
  ]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  assert.deepEqual(memberships, [
    ["ada@pkg.test", "org_acme", ["admin"]],
    ["ada@pkg.test", "org_globex", ["member"]],
    ["bob@pkg.test", "org_acme", ["billing"]],
    ["dan@pkg.test", "org_initech", ["admin", "member"]],
    ["eve@pkg.test", "org_initech", ["org-initech-auditor"]],
  ]);
  // role_definitions.csv: the missing roles and permissions created; the
  // environment's own admin and member (no permissions) differ and are left.
  const roles = tenantOf(fake).roles;
  assert.deepEqual(roles, [
    ["-", "admin", "Admin", []],
    ["-", "billing", "Billing", ["invoices:read"]],
    ["-", "member", "Member", []],
    ["org_initech", "org-initech-auditor", "Initech auditor", ["users:read"]],
  ]);
  assert.deepEqual(fake.state.listPermissions().sort(), ["invoices:read", "users:read"]);
  const factors = fake.state.listUsers().flatMap((user) =>
    fake.state.authFactorsOfUser(user.id).map((factor) => [
      user.email,
      factor.secret,
      factor.issuer,
      factor.user,
    ])
  ).sort();
  assert.deepEqual(factors, [
    ["ada@pkg.test", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "Acme Auth0", "ada"],
    ["cat@pkg.test", "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TF", "Acme", "cat@pkg.test"],
  ]);
}

/** The tenant by natural keys (emails, external ids, slugs), to compare two tenants. */
function tenantOf(fake: FakeWorkOS) {
  const state = fake.state;
  const orgKey = new Map(
    state.listOrganizations().map((org) => [org.id, org.externalId ?? org.id]),
  );
  const email = new Map(state.listUsers().map((user) => [user.id, user.email]));
  const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  return {
    users: state.listUsers().map((user) => [
      user.email,
      user.externalId,
      user.firstName,
      user.lastName,
      user.emailVerified,
      user.metadata,
      user.passwordHashType ?? null,
    ]).sort(byJson),
    organizations: state.listOrganizations().map((org) => [org.externalId, org.name]).sort(byJson),
    memberships: state.listMemberships().map((membership) => [
      email.get(membership.userId),
      orgKey.get(membership.organizationId),
      [...membership.roleSlugs].sort(),
    ]).sort(byJson),
    roles: [
      ...state.listRoles().map((role) => ["-", role.slug, role.name, [...role.permissions].sort()]),
      ...state.listOrganizations().flatMap((org) =>
        state.listRoles(org.id).map((role) => [
          org.externalId,
          role.slug,
          role.name,
          [...role.permissions].sort(),
        ])
      ),
    ].sort(byJson),
    permissions: state.listPermissions().sort(),
    factors: state.listUsers().flatMap((user) =>
      state.authFactorsOfUser(user.id).map((factor) => [
        user.email,
        factor.secret,
        factor.issuer,
        factor.user,
      ])
    ).sort(byJson),
  };
}

Deno.test("import-package imports the fixture package exactly: organizations, role definitions, users, memberships with roles, TOTP", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, multipleRoles: true });
  const result = await runCli(["import-package", FIXTURE, "--totp-issuer", "Acme"], {
    env: envOf(fake),
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assertFixtureImported(fake);
  assert.match(result.stdout, /Package from auth0 \(example\.us\.auth0\.com\)/);
  assert.match(result.stdout, /SSO hand-off, not imported: sso\/saml_connections\.csv: 1 row/);
  assert.match(result.stdout, /Exporter warnings: 1 \(warnings\.jsonl\)/);
  assert.match(result.stdout, /Users the exporter skipped: 1 \(skipped_users\.jsonl\)/);
  assert.doesNotMatch(result.stdout + result.stderr, /JBSWY3DP|KRUGS4ZA/, "no secret printed");
  // Organizations, then role definitions, then the users that hold the roles.
  const out = result.stdout;
  assert.ok(
    out.indexOf('created organization "org_initech"') <
      out.indexOf('created organization role "org-initech-auditor"'),
  );
  assert.ok(out.indexOf('created environment role "billing"') < out.indexOf("Row 4 bob@pkg.test"));
  assert.match(
    out,
    /≠ Row 1: environment role "admin" differs: permissions missing in WorkOS: "users:read", "users:write": left as is/,
  );
  assert.match(out, /│ Organizations created: 3 /);
  assert.match(out, /│ Roles created: 2 /);
  assert.match(out, /│ Roles differing \(left as is\): 2 /);
  assert.match(out, /│ Permissions created: 2 /);

  // A second run changes nothing.
  const writes = fake.state.totalRequests;
  const again = await runCli(["import-package", FIXTURE, "--quiet", "--totp-issuer", "Acme"], {
    env: envOf(fake),
  });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assertFixtureImported(fake);
  assert.ok(fake.state.totalRequests > writes);
  assert.match(again.stdout, /│ Roles created: 0 /);
  assert.match(again.stdout, /│ Roles matching: 2 /);
  assert.equal(fake.state.requestCounts["POST /authorization/roles"], 1);
  assert.equal(fake.state.requestCounts["POST /authorization/organizations/:id/roles"], 1);
  assert.equal(fake.state.requestCounts["POST /authorization/permissions"], 2);
});

Deno.test("import-package --dry-run reads the package, plans it and writes nothing", async () => {
  const dry = await runCli(["import-package", FIXTURE, "--dry-run", "--quiet"]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /Rows that would import: 7\/7/);
  assert.match(dry.stdout, /Memberships to create: 5/);
  assert.match(dry.stdout, /Organizations named: 3/);
  assert.match(dry.stdout, /Role definitions valid: 4/);
  assert.match(dry.stdout, /TOTP factors to enroll: 2/);
});

Deno.test("import-package --plan predicts the organizations, roles, permissions and factors, and writes nothing", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, multipleRoles: true });
  const before = tenantOf(fake);
  const plan = await runCli(["import-package", FIXTURE, "--plan"], { env: envOf(fake) });
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /· organizations\.csv row 3: would create organization "org_initech"/);
  assert.match(
    plan.stdout,
    /· Row 4: would create organization role "org-initech-auditor" in "org_initech" \(1 permission\) with new permissions "users:read"/,
  );
  assert.match(plan.stdout, /Organizations to create: 3/);
  assert.match(plan.stdout, /Roles to create: 2/);
  assert.match(plan.stdout, /Roles differing \(left as is\): 2/);
  assert.match(plan.stdout, /Permissions to create: 2/);
  assert.match(plan.stdout, /TOTP factors to enroll \(at most\): 2/);
  assert.match(plan.stdout, /Users to create: 5/);
  assert.deepEqual(tenantOf(fake), before);
  const writes = Object.keys(fake.state.requestCounts).filter((key) => !key.startsWith("GET "));
  assert.deepEqual(writes, []);
});

Deno.test("a bad role definition in a package is a row error naming the row and the fix; the other roles and every user are imported", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, multipleRoles: true });
  const dir = await copyOfFixture();
  await Deno.writeTextFile(
    `${dir}/role_definitions.csv`,
    (await Deno.readTextFile(`${dir}/role_definitions.csv`)).replace(
      "billing,Billing,environment",
      "billing,Billing,tenant",
    ),
  );
  const result = await runCli(["import-package", dir, "--quiet"], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /✗ role_definitions\.csv row 3: Cannot apply row 3: "role_type" is "tenant": use environment or organization/,
  );
  assert.match(result.stdout, /│ Organizations and role definitions failed: 1 /);
  assert.deepEqual(fake.state.listRoles().map((role) => role.slug).sort(), ["admin", "member"]);
  assert.deepEqual(
    fake.state.listRoles(fake.state.findOrganizationByExternalId("org_initech")?.id).map((role) =>
      role.slug
    ),
    [
      "org-initech-auditor",
    ],
  );
  // Bob's role was never defined: his row fails as an unknown role; no other row is lost.
  assert.equal(fake.state.userCount(), 5);
  assert.equal(tenantOf(fake).memberships.length, 4);
});

Deno.test("a package with a missing or inconsistent manifest is one line and exit 2", async (t) => {
  const cases: Array<[string, (dir: string) => Promise<void>, RegExp]> = [
    [
      "no manifest",
      (dir) => Deno.remove(`${dir}/manifest.json`),
      /it has no manifest\.json: give the directory an exporter wrote/,
    ],
    [
      "not JSON",
      (dir) => Deno.writeTextFile(`${dir}/manifest.json`, "{ nope"),
      /manifest\.json is not JSON/,
    ],
    [
      "a count that does not match its file",
      (dir) => edit(dir, (m) => (m.entitiesExported as Record<string, number>).users = 9),
      /"entitiesExported\.users" is 9, but users\.csv has 6: correct the count or the file/,
    ],
    [
      "a non-canonical path",
      (dir) => edit(dir, (m) => (m.files as Record<string, string>).users = "people.csv"),
      /"files\.users" is "people\.csv", not "users\.csv": use the canonical path/,
    ],
    [
      "a file it names that is missing",
      (dir) => Deno.remove(`${dir}/totp_secrets.csv`),
      /it names "totp_secrets\.csv", which is not in the package/,
    ],
    [
      "a header that is not the contract's",
      (dir) => Deno.writeTextFile(`${dir}/organizations.csv`, "id,name\n1,a\n2,b\n3,c\n"),
      /organizations\.csv has the header "id,name", not "org_id,org_external_id,org_name,domains,metadata"/,
    ],
    [
      "another schema version",
      (dir) => edit(dir, (m) => m.schemaVersion = 2),
      /"schemaVersion" is 2, not 1/,
    ],
  ];
  for (const [name, spoil, message] of cases) {
    await t.step(name, async () => {
      const dir = await copyOfFixture();
      await spoil(dir);
      const result = await runCli(["import-package", dir, "--dry-run"]);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^Error: Cannot import package "/);
      assert.match(lines[0], message);
      assert.equal(result.stdout, "");
    });
  }
});

async function edit(dir: string, change: (manifest: Record<string, unknown>) => void) {
  const path = `${dir}/manifest.json`;
  const manifest = JSON.parse(await Deno.readTextFile(path));
  change(manifest);
  await Deno.writeTextFile(path, JSON.stringify(manifest));
}
