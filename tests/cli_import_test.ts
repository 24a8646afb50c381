/**
 * End-to-end tests of the import as a user runs it: the real CLI in a
 * subprocess, against the fake WorkOS over HTTP, asserting the fake's final
 * state, the exit code, the summary and the error file.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

Deno.test("user-only mode imports every user of the example file", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const result = await runCli(["--csv", `${EXAMPLES}example-input.csv`], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  const lines = (await Deno.readTextFile(`${EXAMPLES}example-input.csv`)).trim().split("\n");
  assert.equal(fake.state.userCount(), lines.length - 1);
  assert.equal(fake.state.membershipCount(), 0);
  assert.match(result.stdout, /User-only mode/);
  assert.match(result.stdout, /Status: Success/);
  assert.match(
    result.stdout,
    new RegExp(`Users imported: ${lines.length - 1}/${lines.length - 1}`),
  );
  // Hash beats password, and secrets never reach the output.
  const hashed = fake.state.listUsers().find((user) => user.passwordHashType !== null);
  assert.ok(hashed, "a user created from a password hash");
  assert.doesNotMatch(result.stdout + result.stderr, /\$2[aby]\$/);
});

Deno.test("single-org mode creates the organization once and adds every user", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email,first_name\nann@acme.test,Ann\nbob@acme.test,Bob\n");
  const args = [
    "--csv",
    csv,
    "--org-external-id",
    "acme",
    "--create-org-if-missing",
    "--org-name",
    "Acme Inc.",
  ];
  const result = await runCli(args, { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  const organizations = fake.state.listOrganizations();
  assert.equal(organizations.length, 1);
  assert.equal(organizations[0].externalId, "acme");
  assert.equal(organizations[0].name, "Acme Inc.");
  assert.equal(fake.state.membershipCount(), 2);
  assert.match(result.stdout, /Organizations created: 1/);

  // Run again: nothing new, everything adopted.
  const again = await runCli(args, { env: envOf(fake) });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fake.state.organizationCount(), 1);
  assert.equal(fake.state.userCount(), 2);
  assert.equal(fake.state.membershipCount(), 2);
  assert.match(again.stdout, /Already existed: 2/);
});

Deno.test("single-org mode with a missing organization and no create flag fails in one line", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email\nann@acme.test\n");
  const result = await runCli(["--csv", csv, "--org-external-id", "nope"], { env: envOf(fake) });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^Error: Organization not found: "nope": add --create-org-if-missing/,
  );
  assert.equal(result.stderr.trim().split("\n").length, 1);
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("multi-org mode creates missing organizations and one user for an email in three organizations", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const existing = fake.state.addOrganization({ name: "Beta", externalId: "beta" });
  const csv = await tempFile(
    [
      "email,first_name,org_external_id,org_name,role_slug",
      "pat@multi.test,Pat,acme,Acme Inc.,admin",
      "lee@multi.test,Lee,beta,,",
      "PAT@multi.test,Pat,beta,,member",
      "kim@multi.test,Kim,gamma,Gamma LLC,",
      "pat@Multi.test,Pat,gamma,Gamma LLC,",
    ].join("\n"),
  );
  const result = await runCli(["--csv", csv, "--concurrency", "5"], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /Multi-org mode: Organizations will be resolved per-row from CSV/);
  assert.equal(fake.state.userCount(), 3);
  assert.equal(fake.state.organizationCount(), 3);
  const pat = fake.state.findUserByEmail("pat@multi.test");
  assert.ok(pat);
  const patOrganizations = fake.state.membershipsOfUser(pat.id).map((m) => m.organizationId);
  assert.equal(patOrganizations.length, 3);
  assert.ok(patOrganizations.includes(existing.id));
  const acme = fake.state.findOrganizationByExternalId("acme");
  const patInAcme = fake.state.membershipsOfUser(pat.id).find((m) => m.organizationId === acme?.id);
  assert.equal(patInAcme?.roleSlug, "admin");
  assert.equal(fake.state.membershipCount(), 5);
  assert.match(result.stdout, /Users created: 3/);
  assert.match(result.stdout, /Memberships created: 5/);
  assert.match(result.stdout, /Organizations created: 2/);
  assert.match(result.stdout, /Errors: 0/);
});

Deno.test("a row whose organization is missing and unnamed fails with org_resolution; the others import", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(
    "email,org_external_id,org_name\nok@x.test,acme,Acme\nlost@x.test,ghost,\n",
  );
  const result = await runCli(["--csv", csv, "--errors-out", `${dir}/errors.json`], {
    env: envOf(fake),
  });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /Status: Completed with errors/);
  assert.ok(fake.state.findUserByEmail("ok@x.test"));
  assert.equal(fake.state.findUserByEmail("lost@x.test"), undefined);
  const errors = JSON.parse(await Deno.readTextFile(`${dir}/errors.json`));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].errorType, "org_resolution");
  assert.equal(errors[0].recordNumber, 2);
  assert.equal(errors[0].email, "lost@x.test");
  assert.match(errors[0].errorMessage, /Organization not found: "ghost"/);
});

Deno.test("pre-existing users are adopted and their memberships ensured", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, duplicateEmailStatus: 409 });
  const organization = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const old = fake.state.addUser({ email: "old@acme.test", firstName: "Old" });
  const member = fake.state.addUser({ email: "member@acme.test" });
  fake.state.addMembership({ userId: member.id, organizationId: organization.id });
  const csv = await tempFile(
    "email,first_name\nOld@acme.test,Changed\nmember@acme.test,\nnew@acme.test,New\n",
  );
  const result = await runCli(["--csv", csv, "--org-id", organization.id], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(fake.state.userCount(), 3);
  assert.equal(fake.state.membershipCount(), 3);
  // Adopted, not changed (--on-existing defaults to skip).
  assert.equal(fake.state.getUser(old.id)?.firstName, "Old");
  assert.equal(fake.state.membershipsOfUser(old.id).length, 1);
  assert.match(result.stdout, /Users created: 1/);
  assert.match(result.stdout, /Already existed: 2/);
  assert.match(result.stdout, /Memberships created: 2/);
});

Deno.test("--require-membership deletes a user this run created, never an adopted one", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, roles: ["member"] });
  const organization = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const adopted = fake.state.addUser({ email: "adopted@acme.test" });
  const csv = await tempFile(
    "email,role_slug\nfresh@acme.test,boss\nadopted@acme.test,boss\nfine@acme.test,member\n",
  );
  const dir = await tempDir();
  const result = await runCli(
    [
      "--csv",
      csv,
      "--org-id",
      organization.id,
      "--require-membership",
      "--errors-out",
      `${dir}/errors.jsonl`,
    ],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1);
  assert.equal(fake.state.findUserByEmail("fresh@acme.test"), undefined, "rolled back");
  assert.ok(fake.state.getUser(adopted.id), "adopted user kept");
  assert.ok(fake.state.findUserByEmail("fine@acme.test"));
  assert.equal(fake.state.membershipCount(), 1);
  const errors = (await Deno.readTextFile(`${dir}/errors.jsonl`)).trim().split("\n").map((
    line,
  ) => JSON.parse(line));
  assert.deepEqual(errors.map((e) => e.errorType).sort(), [
    "membership_create",
    "membership_create",
  ]);
  for (const error of errors) {
    assert.ok(error.httpStatus >= 400 && error.httpStatus < 500);
    assert.ok(error.workosRequestId, "request id captured");
  }
});

Deno.test("a CSV with BOM, CRLF, quoted newlines and stray spaces imports cleanly", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    "\uFEFFEmail , First_Name,Last_Name,METADATA\r\n" +
      '  ann@crlf.test ,"Ann, the first","O""Neil","{""team"":""a""}"\r\n' +
      "\r\n" +
      'bob@crlf.test,Bob,Smith,"{""team"":\r\n""b""}"\r\n',
  );
  const result = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const ann = fake.state.findUserByEmail("ann@crlf.test");
  assert.equal(ann?.firstName, "Ann, the first");
  assert.equal(ann?.lastName, 'O"Neil');
  assert.deepEqual(ann?.metadata, { team: "a" });
  assert.deepEqual(fake.state.findUserByEmail("bob@crlf.test")?.metadata, { team: "b" });
});

Deno.test("invalid rows fail alone: every valid row imports and the error CSV can be fixed and fed back", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile(
    [
      "email,first_name,password,metadata,email_verified",
      "good1@mix.test,=cmd(),Secret123!,,yes",
      "not-an-email,Bad,Secret123!,,",
      "good2@mix.test,Two,,,0",
      "meta@mix.test,Meta,,{broken,",
      "verified@mix.test,V,,,perhaps",
      "good3@mix.test,Three,,,",
    ].join("\n"),
  );
  const result = await runCli(["--csv", csv, "--errors-out", `${dir}/errors.csv`], {
    env: envOf(fake),
  });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /Status: Completed with errors/);
  assert.deepEqual(
    fake.state.listUsers().map((user) => user.email).sort(),
    ["good1@mix.test", "good2@mix.test", "good3@mix.test"],
  );
  const errorCsv = await Deno.readTextFile(`${dir}/errors.csv`);
  assert.doesNotMatch(errorCsv, /Secret123/);
  const [header, ...rows] = errorCsv.trim().split(/\r?\n/);
  assert.ok(header.startsWith("email,first_name,metadata,email_verified"), header);
  assert.equal(rows.length, 3);
  assert.match(errorCsv, /not-an-email/);
  assert.match(errorCsv, /validation/);
  // Per-row lines name the row and what is wrong.
  assert.match(result.stdout, /Row 2 not-an-email/);
  assert.match(result.stdout, /Row 4 meta@mix.test.*metadata/);
  assert.match(result.stdout, /Row 5 verified@mix.test.*email_verified/);
});

Deno.test("flags and org columns together: the flags win with a warning", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const organization = fake.state.addOrganization({ name: "Flag Org" });
  const csv = await tempFile("email,org_external_id,org_name\nann@flag.test,other,Other\n");
  const result = await runCli(["--csv", csv, "--org-id", organization.id], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /CSV contains org columns but CLI flags provided/);
  assert.equal(fake.state.organizationCount(), 1);
  const ann = fake.state.findUserByEmail("ann@flag.test");
  assert.deepEqual(
    fake.state.membershipsOfUser(ann?.id ?? "").map((m) => m.organizationId),
    [organization.id],
  );
});

Deno.test("--dry-run makes zero requests and prints the plan", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    [
      "email,org_external_id,org_name",
      "a@dry.test,acme,Acme",
      "b@dry.test,acme,Acme",
      "A@dry.test,beta,Beta",
      "a@dry.test,acme,Acme",
      "broken,acme,Acme",
    ].join("\n"),
  );
  const result = await runCli(["--csv", csv, "--dry-run"], { env: envOf(fake) });
  assert.equal(fake.state.totalRequests, 0);
  assert.match(result.stdout, /Multi-org mode: Organizations will be resolved per-row from CSV/);
  assert.match(result.stdout, /Rows valid: 4/);
  assert.match(result.stdout, /Rows invalid: 1/);
  assert.match(result.stdout, /Organizations referenced: 2/);
  assert.match(result.stdout, /Memberships that would be created: 3/);
  // A@dry.test in beta is a second membership of one user, not a duplicate row.
  assert.match(
    result.stdout,
    /Duplicate rows \(same email and organization as an earlier row\): 1/,
  );
  assert.match(result.stdout, /Distinct users: 2/);
  assert.equal(result.code, 1, "an invalid row makes the dry run fail too");
});

Deno.test("--dry-run needs no key and no network", async () => {
  const result = await runCli(["--csv", `${EXAMPLES}multi-org-simple.csv`, "--dry-run"], {
    permissions: ["--allow-read", "--allow-env"],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Multi-org mode/);
});

Deno.test("a missing key is one clear line, not a stack trace", async () => {
  const dir = await tempDir();
  const result = await runCli(["--csv", `${EXAMPLES}example-input.csv`], { cwd: dir });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr.trim(),
    "Error: WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file, or use --dry-run",
  );
});

Deno.test("the key is read from .env in the working directory", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/.env`, `WORKOS_SECRET_KEY=${fake.apiKey}\n`);
  await Deno.writeTextFile(`${dir}/users.csv`, "email\nenv@file.test\n");
  const result = await runCli(["--csv", "users.csv", "--api-url", fake.url], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(fake.state.findUserByEmail("env@file.test"));
});

Deno.test("standard input works with --csv -, and --user-export warns once", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const piped = await runCli(["--csv", "-", "--quiet"], {
    env: envOf(fake),
    stdin: "email\npiped@stdin.test\n",
  });
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(fake.state.findUserByEmail("piped@stdin.test"));
  const csv = await tempFile("email\nalias@old.test\n");
  const aliased = await runCli(["--user-export", csv, "--quiet"], { env: envOf(fake) });
  assert.equal(aliased.code, 0, aliased.stderr);
  assert.equal(aliased.stderr.match(/--user-export" is deprecated/g)?.length, 1);
  assert.ok(fake.state.findUserByEmail("alias@old.test"));
});

Deno.test("bad flags are one line with exit code 2", async () => {
  for (
    const [args, message] of [
      [["--csv", "x.csv", "--concurrency", "ten"], /"--concurrency": "ten" is not a whole number/],
      [["--csv", "x.csv", "--bogus"], /Unknown flag "--bogus"/],
      [["--csv", "x.csv", "--create-org-if-missing", "--org-external-id", "a"], /--org-name/],
      [[], /no input given/],
      [["--csv", "/nonexistent/users.csv", "--dry-run"], /Cannot find input file/],
    ] as Array<[string[], RegExp]>
  ) {
    const result = await runCli(args, { env: { WORKOS_SECRET_KEY: "sk_test_x" } });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("the organization cache looks each organization up exactly once under concurrency 20", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 20 } });
  const organizations = 7;
  for (let i = 0; i < organizations; i++) {
    fake.state.addOrganization({ name: `Org ${i}`, externalId: `org-${i}` });
  }
  const rows = ["email,org_external_id"];
  for (let i = 0; i < 140; i++) rows.push(`user${i}@cache.test,org-${i % organizations}`);
  const csv = await tempFile(rows.join("\n"));
  const result = await runCli(["--csv", csv, "--concurrency", "20", "--quiet"], {
    env: envOf(fake),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    fake.state.requestCounts["GET /organizations/external_id/:external_id"],
    organizations,
  );
  assert.equal(fake.state.requestCounts["POST /organizations"] ?? 0, 0);
  assert.equal(fake.state.membershipCount(), 140);
  assert.match(result.stdout, /Cache hits: 133/);
  assert.match(result.stdout, /Cache misses: 7/);
});
