import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { tempDir } from "./_cli.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  errorsCsv: string;
}

/** Imports through the real command line into a fresh fake, as the examples README says. */
async function importExample(fake: FakeWorkOS, args: string[]): Promise<Run> {
  const dir = await tempDir({ prefix: "report_examples_import_" });
  try {
    const errorsOut = `${dir}/errors.csv`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        "main.ts",
        ...args,
        "--quiet",
        "--api-url",
        fake.url,
        "--errors-out",
        errorsOut,
      ],
      cwd: ROOT,
      env: { WORKOS_SECRET_KEY: fake.apiKey, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      errorsCsv: await Deno.readTextFile(errorsOut).catch(() => ""),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertClean(run: Run): void {
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /│ Status: Success +│/);
  assert.match(run.stdout, /│ Errors: 0 +│/);
  // The error file holds at most its header.
  assert.ok(run.errorsCsv.trim().split("\n").length <= 1, run.errorsCsv);
}

Deno.test("example-input.csv imports cleanly: users only, passwords, hash and metadata", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const run = await importExample(fake, ["--csv", "examples/example-input.csv"]);
  assertClean(run);
  assert.equal(fake.state.userCount(), 6);
  assert.equal(fake.state.organizationCount(), 0);
  assert.equal(fake.state.membershipCount(), 0);
  assert.equal(fake.state.findUserByEmail("ada.lovelace@example.com")?.emailVerified, true);
  assert.equal(fake.state.findUserByEmail("grace.hopper@example.com")?.hasPassword, true);
  const alan = fake.state.findUserByEmail("alan.turing@example.com");
  assert.equal(alan?.hasPassword, true);
  assert.equal(alan?.passwordHashType, "bcrypt");
  assert.deepEqual(fake.state.findUserByEmail("katherine.johnson@example.com")?.metadata, {
    department: "Engineering",
    team: "Flight Dynamics",
  });
});

Deno.test("single-org.csv imports cleanly into one organization created on the way", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const run = await importExample(fake, [
    "--csv",
    "examples/single-org.csv",
    "--org-external-id",
    "acme",
    "--create-org-if-missing",
    "--org-name",
    "Acme Inc.",
  ]);
  assertClean(run);
  const acme = fake.state.findOrganizationByExternalId("acme");
  assert.equal(acme?.name, "Acme Inc.");
  assert.equal(fake.state.organizationCount(), 1);
  assert.equal(fake.state.userCount(), 5);
  assert.ok(fake.state.listMemberships().every((m) => m.organizationId === acme?.id));
  assert.equal(fake.state.membershipCount(), 5);
});

Deno.test("multi-org-simple.csv imports cleanly: 10 users, 4 organizations, 4 misses and 6 hits", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const run = await importExample(fake, ["--csv", "examples/multi-org-simple.csv"]);
  assertClean(run);
  assert.equal(fake.state.userCount(), 10);
  assert.equal(fake.state.organizationCount(), 4);
  assert.equal(fake.state.membershipCount(), 10);
  assert.match(run.stdout, /│ Cache hits: 6 +│/);
  assert.match(run.stdout, /│ Cache misses: 4 +│/);
});

Deno.test("multi-org-mixed.csv imports cleanly: one person in three organizations with roles", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const run = await importExample(fake, ["--csv", "examples/multi-org-mixed.csv"]);
  assertClean(run);
  assert.equal(fake.state.userCount(), 5);
  assert.equal(fake.state.organizationCount(), 3);
  assert.equal(fake.state.membershipCount(), 8);
  const alex = fake.state.findUserByEmail("alex.rivera@consultants.example.com");
  assert.ok(alex);
  const roles = Object.fromEntries(
    fake.state.membershipsOfUser(alex.id).map((membership) => [
      fake.state.listOrganizations().find((org) => org.id === membership.organizationId)
        ?.externalId,
      membership.roleSlug,
    ]),
  );
  assert.deepEqual(roles, { northwind: "admin", contoso: "member", globex: "admin" });
});

Deno.test("users.ndjson imports cleanly with metadata objects and a split name", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const run = await importExample(fake, ["--input", "examples/users.ndjson"]);
  assertClean(run);
  assert.equal(fake.state.userCount(), 5);
  assert.deepEqual(fake.state.findUserByEmail("niels.bohr@ndjson.example.com")?.metadata, {
    department: "Research",
    office: "Copenhagen",
  });
  const enrico = fake.state.findUserByEmail("enrico.fermi@ndjson.example.com");
  assert.equal(enrico?.firstName, "Enrico");
  assert.equal(enrico?.lastName, "Fermi");
});
