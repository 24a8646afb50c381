/**
 * `import-package` through the real CLI against the fake WorkOS: the fixture
 * package (tests/fixtures/package, written from the published contract)
 * imports exactly — organizations, users, memberships with their roles, TOTP
 * factors — and a package with a missing or inconsistent manifest is one
 * line and exit 2.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli } from "./_cli.ts";

const FIXTURE = new URL("./fixtures/package", import.meta.url).pathname;
const ROLES = ["admin", "member", "billing", "initech-auditor"];

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
    ["eve@pkg.test", "org_initech", ["initech-auditor"]],
  ]);
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

Deno.test("import-package imports the fixture package exactly: organizations, users, memberships with roles, TOTP", async () => {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    multipleRoles: true,
    roles: ROLES,
  });
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

  // A second run changes nothing.
  const writes = fake.state.totalRequests;
  const again = await runCli(["import-package", FIXTURE, "--quiet", "--totp-issuer", "Acme"], {
    env: envOf(fake),
  });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assertFixtureImported(fake);
  assert.ok(fake.state.totalRequests > writes);
});

Deno.test("import-package --dry-run reads the package, plans it and writes nothing", async () => {
  const dry = await runCli(["import-package", FIXTURE, "--dry-run", "--quiet"]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /Rows that would import: 7\/7/);
  assert.match(dry.stdout, /Memberships to create: 5/);
  assert.match(dry.stdout, /Organizations named: 3/);
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
