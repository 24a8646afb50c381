/**
 * `convert` end to end: the real CLI writes a migration package from a
 * provider's export; the package passes `import-package --dry-run`, and its
 * rows, imported by `import-package` and by the CSV reader file by file,
 * give the end state `--from` gives.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { envOf, runCli, tempDir } from "./_cli.ts";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;

type Fake = Awaited<ReturnType<typeof startFakeWorkOS>>;

function endState(fake: Fake): unknown {
  const organizations = new Map(
    fake.state.listOrganizations().map((org) => [org.id, `${org.externalId}/${org.name}`]),
  );
  return fake.state.listUsers().map((user) => ({
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    emailVerified: user.emailVerified,
    externalId: user.externalId,
    metadata: user.metadata,
    hasPassword: user.hasPassword,
    passwordHashType: user.passwordHashType,
    memberships: fake.state.membershipsOfUser(user.id).map((membership) => ({
      organization: organizations.get(membership.organizationId),
      roles: membership.roleSlugs,
    })).sort((a, b) => String(a.organization).localeCompare(String(b.organization))),
  })).sort((a, b) => a.email.localeCompare(b.email));
}

Deno.test("convert --from supertokens writes a package whose rows import to the --from end state", async () => {
  const dir = await tempDir();
  const out = `${dir}/package`;
  const input = `${FIXTURES}supertokens_users.json`;
  const converted = await runCli([
    "convert",
    "--from",
    "supertokens",
    "--input",
    input,
    "--out",
    out,
    "--json",
  ]);
  assert.equal(converted.code, 1, converted.stderr);
  const result = JSON.parse(converted.stdout.trim().split("\n").at(-1) as string);
  const manifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
  assert.equal(manifest.schemaVersion, 1);
  assert.equal(manifest.provider, "supertokens");
  assert.equal(manifest.entitiesExported.users, result.users);
  assert.equal(manifest.entitiesExported.memberships, result.memberships);
  assert.equal(manifest.entitiesExported.skippedUsers, result.skippedUsers);
  for (const file of Object.values(manifest.files) as string[]) {
    const info = await Deno.stat(`${out}/${file}`);
    assert.equal((info.mode ?? 0) & 0o077, 0, `${file} is owner-only`);
  }
  const skipped = (await Deno.readTextFile(`${out}/skipped_users.jsonl`)).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.equal(skipped.length, result.skippedUsers);
  assert.ok(
    skipped.every((line) => line.reasons[0].startsWith(`Cannot import row ${line.recordNumber}:`)),
  );

  await using viaFrom = await startFakeWorkOS({
    rateLimits: false,
    roles: ["admin", "member", "billing"],
    multipleRoles: true,
  });
  const direct = await runCli(["--from", "supertokens", "--input", input, "--quiet"], {
    env: envOf(viaFrom),
  });
  assert.equal(direct.code, 1, direct.stderr);

  await using viaPackage = await startFakeWorkOS({
    rateLimits: false,
    roles: ["admin", "member", "billing"],
    multipleRoles: true,
  });
  const users = await runCli(["--csv", `${out}/users.csv`, "--quiet"], { env: envOf(viaPackage) });
  assert.equal(users.code, 0, users.stderr);
  const memberships = await runCli(["--csv", `${out}/organization_memberships.csv`, "--quiet"], {
    env: envOf(viaPackage),
  });
  assert.equal(memberships.code, 0, memberships.stderr);

  assert.equal(viaPackage.state.userCount(), result.users);
  assert.equal(viaPackage.state.membershipCount(), result.memberships);
  assert.deepEqual(endState(viaPackage), endState(viaFrom));

  const dry = await runCli(["import-package", out, "--dry-run", "--quiet"]);
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, new RegExp(`Memberships to create: ${result.memberships}\\b`));
  await using viaImportPackage = await startFakeWorkOS({
    rateLimits: false,
    roles: ["admin", "member", "billing"],
    multipleRoles: true,
  });
  const imported = await runCli(["import-package", out, "--quiet"], {
    env: envOf(viaImportPackage),
  });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.deepEqual(endState(viaImportPackage), endState(viaFrom));
});

Deno.test("convert refuses a directory that holds a package, and needs --out", async () => {
  const dir = await tempDir();
  const input = `${FIXTURES}auth0_users.ndjson`;
  const first = await runCli(["convert", "--from", "auth0", "--input", input, "--out", dir]);
  assert.equal(first.code, 1, first.stderr);
  const again = await runCli(["convert", "--from", "auth0", "--input", input, "--out", dir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /holds a package already/);
  const none = await runCli(["convert", "--from", "auth0", "--input", input]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /add --out <dir>/);
});
