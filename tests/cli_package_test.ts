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
import { killRepeatedly, readableText, runCli, tempDir } from "./_cli.ts";
import { seededRandom } from "./_random.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

const FIXTURE = new URL("./fixtures/package", import.meta.url).pathname;

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
}

/** A copy of the fixture package to change. */
async function copyOfFixture(): Promise<string> {
  const dir = await tempDir();
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
  assert.match(plan.stdout, /TOTP factors to enroll: 2/);
  assert.match(plan.stdout, /Users to create: 5/);
  assert.deepEqual(tenantOf(fake), before);
  const writes = Object.keys(fake.state.requestCounts).filter((key) => !key.startsWith("GET "));
  assert.deepEqual(writes, []);

  // A user who has a TOTP factor already gets none: the plan says so.
  const cat = fake.state.addUser({ email: "cat@pkg.test", createdAt: "2024-01-01" });
  fake.state.addAuthFactor({ userId: cat.id, createdAt: "2024-01-01" });
  const again = await runCli(["import-package", FIXTURE, "--plan", "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /TOTP factors to enroll: 1\n/);
  assert.match(again.stdout, /TOTP factors already there: 1/);
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

Deno.test("validate <package-dir> checks the package, its rows and its role definitions, calling no API", async () => {
  const ok = await runCli(["validate", FIXTURE]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Package from auth0/);
  assert.match(ok.stdout, /users\.csv": 7 rows, 7 valid, 0 with errors/);
  assert.match(ok.stdout, /Can proceed/);

  const dir = await copyOfFixture();
  const path = `${dir}/role_definitions.csv`;
  await Deno.writeTextFile(
    path,
    (await Deno.readTextFile(path)).replace("org-initech-auditor,", "initech-auditor,"),
  );
  const bad = await runCli(["validate", dir]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(
    bad.stdout,
    /✗ role_definitions\.csv row 4: Cannot apply row 4: "role_slug" is "initech-auditor": an organization role's slug begins with "org-" in WorkOS: use "org-initech-auditor"/,
  );
});

Deno.test("SSO files with the header of the published contract or of the official exporters are hand-off only", async () => {
  const dir = await copyOfFixture();
  // docs/migration-package.md orders the SAML columns differently from the exporters' code.
  await Deno.writeTextFile(
    `${dir}/sso/saml_connections.csv`,
    "organizationName,organizationId,organizationExternalId,domains,idpEntityId,idpUrl,x509Cert,idpMetadataUrl,customEntityId,customAcsUrl,idpIdAttribute,emailAttribute,firstNameAttribute,lastNameAttribute,name,customAttributes,idpInitiatedEnabled,requestSigningKey,assertionEncryptionKey,nameIdEncryptionKey,externalId\n" +
      "Acme Inc,,org_acme,acme.test,http://www.okta.com/exk1,https://acme.okta.test/app/sso/saml,,,,,,email,given_name,family_name,Acme Okta,,false,,,,con_acme\n",
  );
  const dry = await runCli(["import-package", dir, "--dry-run", "--quiet"]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /SSO hand-off, not imported: sso\/saml_connections\.csv: 1 row/);
  assert.match(dry.stdout, /Rows that would import: 7\/7/);
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

/** A package written from the published contract, with `users` users in six organizations. */
async function writePackage(dir: string, users: number, seed: number): Promise<string[]> {
  const next = seededRandom(seed);
  const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const csv = (rows: string[][]) => rows.map((row) => row.join(",")).join("\n") + "\n";
  const userRows = [[
    "email",
    "password",
    "password_hash",
    "password_hash_type",
    "first_name",
    "last_name",
    "email_verified",
    "external_id",
    "metadata",
    "org_id",
    "org_external_id",
    "org_name",
    "role_slugs",
  ]];
  const memberships = [[
    "email",
    "external_id",
    "user_id",
    "org_id",
    "org_external_id",
    "org_name",
    "role_slugs",
    "metadata",
  ]];
  const assignments = [[
    "email",
    "user_id",
    "external_id",
    "role_slug",
    "org_id",
    "org_external_id",
  ]];
  const secrets = [["email", "totp_secret", "totp_issuer", "totp_user"]];
  const totp: string[] = [];
  for (let i = 1; i <= users; i++) {
    const email = `u${i}@crash.pkg`;
    const org = i % 6;
    userRows.push([
      email,
      "",
      "",
      "",
      `First${i}`,
      `Last${i}`,
      "true",
      `src|${i}`,
      "",
      "",
      `org_${org}`,
      `Org ${org}`,
      "viewer",
    ]);
    if (i % 4 === 0) {
      const other = (i + 1) % 6;
      memberships.push([email, `src|${i}`, "", "", `org_${other}`, `Org ${other}`, "editor", ""]);
    }
    if (i % 5 === 0) assignments.push([email, "", `src|${i}`, "org-lead", "", `org_${org}`]);
    if (i % 3 === 0) {
      const secret = Array.from({ length: 32 }, () => base32[Math.floor(next() * 32)]).join("");
      totp.push(secret);
      secrets.push([email, secret, "Crash Co", ""]);
    }
  }
  const organizations = [["org_id", "org_external_id", "org_name", "domains", "metadata"]];
  const definitions = [
    ["role_slug", "role_name", "role_type", "permissions", "org_id", "org_external_id"],
    ["viewer", "Viewer", "environment", "docs:read", "", ""],
    ["editor", "Editor", "environment", '"docs:read,docs:write"', "", ""],
  ];
  for (let k = 0; k < 6; k++) {
    organizations.push(["", `org_${k}`, `Org ${k}`, "", ""]);
    definitions.push(["org-lead", "Lead", "organization", "docs:approve", "", `org_${k}`]);
  }
  const files: Record<string, [string, string[][]]> = {
    users: ["users.csv", userRows],
    organizations: ["organizations.csv", organizations],
    memberships: ["organization_memberships.csv", memberships],
    roleDefinitions: ["role_definitions.csv", definitions],
    userRoleAssignments: ["user_role_assignments.csv", assignments],
    totpSecrets: ["totp_secrets.csv", secrets],
  };
  for (const [name, rows] of Object.values(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, csv(rows));
  }
  const manifest = {
    schemaVersion: 1,
    provider: "csv",
    generatedAt: "2026-04-29T00:00:00.000Z",
    entitiesRequested: ["users", "organizations", "memberships", "roles", "totp"],
    entitiesExported: Object.fromEntries(
      Object.entries(files).map(([key, [, rows]]) => [key, rows.length - 1]),
    ),
    files: {
      manifest: "manifest.json",
      ...Object.fromEntries(Object.entries(files).map(([key, [name]]) => [key, name])),
    },
    importability: { users: "automatic", roles: "automatic", totpSecrets: "automatic" },
    secretsRedacted: false,
    warnings: [],
  };
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest, null, 2));
  return totp;
}

/** Every file under `dir`, as text. */
async function textsUnder(dir: string): Promise<Array<[string, string]>> {
  const texts: Array<[string, string]> = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) texts.push(...await textsUnder(path));
    else texts.push([path, await readableText(path)]);
  }
  return texts;
}

Deno.test({
  name:
    "import-package as one job survives SIGKILL during its organizations, its roles and its users: the tenant is what one clean run makes, and undo takes it back",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const USERS = 150;
    const dir = await tempDir();
    const pkg = `${dir}/package`;
    await Deno.mkdir(pkg);
    const secrets = await writePackage(pkg, USERS, 14);

    // The truth: one clean run into another tenant.
    await using clean = await startFakeWorkOS({ rateLimits: false, multipleRoles: true });
    const once = await runCli(["import-package", pkg, "--quiet", "--json"], { env: envOf(clean) });
    assert.equal(once.code, 0, once.stdout + once.stderr);
    const cleanSummary = JSON.parse(once.stdout.trim().split("\n").at(-1) as string);
    const truth = tenantOf(clean);
    assert.equal(truth.users.length, USERS);
    assert.equal(truth.factors.length, USERS / 3);
    assert.equal(truth.roles.length, 2 + 2 + 6);

    await using fake = await startFakeWorkOS({
      rateLimits: false,
      multipleRoles: true,
      latency: { fixedMs: 2, jitterMs: 4 },
      faults: { failureRate: 0.03, dropRate: 0.01, ghostRate: 0.03 },
      seed: 14,
    });
    const initial = tenantOf(fake);
    const common = [
      "--checkpoint-dir",
      `${dir}/checkpoints`,
      "--concurrency",
      "4",
      "--rate-limit",
      "100000",
      "--quiet",
      "--json",
    ];
    const next = seededRandom(14);
    const requests = (endpoint: string) => fake.state.requestCounts[endpoint] ?? 0;
    const kills = await killRepeatedly({
      sessions: 5,
      args: (session) => [
        ...(session === 0
          ? ["import-package", pkg, "--job-id", "pkg-crash"]
          : ["import-package", pkg, "--resume", "pkg-crash"]),
        ...common,
      ],
      env: envOf(fake),
      progress: () => fake.state.totalRequests,
      // Inside the organizations, inside the role definitions, then among the users.
      killAt: (session) =>
        session === 0
          ? { progress: () => requests("POST /organizations"), afterProgress: 2 }
          : session === 1
          ? { progress: () => requests("POST /authorization/roles"), afterProgress: 1 }
          : {
            progress: () => requests("POST /user_management/users"),
            afterProgress: 10 + Math.floor(next() * 30),
          },
    });
    assert.equal(kills, 5, "every session was killed mid-run");
    assert.ok(fake.state.userCount() < USERS, "the kills left users to import");

    // The command the job prints: the package's steps run again on their own.
    const final = await runCli(["--resume", "pkg-crash", ...common], { env: envOf(fake) });
    assert.equal(final.code, 0, final.stdout + final.stderr);
    const summary = JSON.parse(final.stdout.trim().split("\n").at(-1) as string);
    assert.equal(summary.status, "success");
    // A user in two organizations is two rows, as in the importer's CSV.
    assert.equal(summary.totalRows, cleanSummary.totalRows);
    assert.equal(summary.successes, cleanSummary.totalRows);
    assert.equal(summary.usersCreated, USERS);
    assert.equal(summary.membershipsCreated, truth.memberships.length);
    assert.equal(summary.organizationsCreated, 6);
    assert.equal(summary.package.rolesCreated, 2 + 6);
    assert.equal(summary.package.permissionsCreated, 3);
    assert.equal(summary.package.failures, 0);
    assert.deepEqual(tenantOf(fake), truth);
    assert.ok(fake.state.faultCounts.ghost > 0 && fake.state.faultCounts.failure > 0);
    for (const [where, text] of await textsUnder(`${dir}/checkpoints`)) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a TOTP secret in ${where}`);
    }

    // Every organization, role and permission the job made is in its audit log once at
    // least, those a SIGKILL cut off before they were recorded too (the setup ledger).
    const audit = await readAuditLog(`${dir}/checkpoints/pkg-crash/audit.jsonl.gz`);
    const made = (action: string) =>
      new Set(audit.filter((entry) => entry.action === action).map((entry) => entry.id)).size;
    assert.equal(made("organization_created"), 6);
    assert.equal(made("role_created"), 8);
    assert.equal(made("permission_created"), 3);

    // Rows a SIGKILL cut off are uncertain (docs/undo.md): --include-uncertain takes them back too.
    const undone = await runCli(
      ["undo", "pkg-crash", "--checkpoint-dir", `${dir}/checkpoints`, "--include-uncertain"],
      { env: envOf(fake) },
    );
    assert.equal(undone.code, 0, undone.stdout + undone.stderr);
    assert.match(undone.stdout, /Organization roles deleted: 6/);
    assert.match(undone.stdout, /Permissions deleted: 3/);
    assert.match(undone.stdout, /Environment roles kept \(no delete API\): 2/);
    // WorkOS cannot delete an environment role: viewer and editor stay, without their permissions.
    assert.deepEqual(tenantOf(fake), {
      ...initial,
      roles: [...initial.roles, ["-", "editor", "Editor", []], ["-", "viewer", "Viewer", []]].sort(
        (a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)),
      ),
    });
  },
});

Deno.test("undo of a package job deletes what it created and the factors it enrolled, and puts back the roles and values of what it changed", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, multipleRoles: true });
  // Before the import: Acme with Bob as a member, and Cat with a factor of her own.
  const acme = fake.state.addOrganization({ name: "Acme Inc", externalId: "org_acme" });
  const bob = fake.state.addUser({
    email: "bob@pkg.test",
    firstName: "Robert",
    externalId: "auth0|bob",
    createdAt: "2024-01-01",
  });
  fake.state.addMembership({
    userId: bob.id,
    organizationId: acme.id,
    roleSlug: "member",
    createdAt: "2024-01-01",
  });
  const cat = fake.state.addUser({ email: "cat@pkg.test", createdAt: "2024-01-01" });
  fake.state.addAuthFactor({ userId: cat.id, createdAt: "2024-01-01" });
  const before = tenantOf(fake);
  const checkpoints = await tempDir();

  const imported = await runCli([
    "import-package",
    FIXTURE,
    "--job-id",
    "pkg-undo",
    "--checkpoint-dir",
    checkpoints,
    "--on-existing",
    "update",
    "--totp-issuer",
    "Acme",
  ], { env: envOf(fake) });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.match(
    imported.stdout,
    /Row 4 bob@pkg\.test: user \w+; membership already existed in organization "org_acme" \(roles member → billing\)/,
  );
  const during = tenantOf(fake);
  assert.ok(
    during.memberships.some(([email, org, roles]) =>
      email === "bob@pkg.test" && org === "org_acme" && JSON.stringify(roles) === '["billing"]'
    ),
  );
  assert.equal(fake.state.findUserByEmail("bob@pkg.test")?.firstName, "Bob");
  assert.equal(
    fake.state.authFactorsOfUser(cat.id).length,
    1,
    "Cat's own factor is kept, none added",
  );
  assert.equal(during.organizations.length, 3);

  const undone = await runCli(["undo", "pkg-undo", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, /Restored the roles of membership om_\w+: roles "member"/);
  assert.match(undone.stdout, /Deleted organization role "org-initech-auditor" of org_\w+/);
  assert.match(undone.stdout, /Deleted permission "invoices:read"/);
  assert.match(
    undone.stdout,
    /• Kept environment role "billing": WorkOS has no API that deletes an environment role: delete it in the WorkOS dashboard if needed/,
  );
  assert.match(undone.stdout, /TOTP factors deleted: 1/);
  assert.match(undone.stdout, /Organizations deleted: 2/);
  assert.match(undone.stdout, /Membership roles restored: 1/);
  // The tenant as it was, but for the environment role WorkOS cannot delete (its permission is gone).
  assert.deepEqual(tenantOf(fake), {
    ...before,
    roles: [...before.roles, ["-", "billing", "Billing", []]].sort((a, b) =>
      JSON.stringify(a).localeCompare(JSON.stringify(b))
    ),
  });
});
