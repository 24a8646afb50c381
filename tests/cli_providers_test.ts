/**
 * Provider exports end to end: the real CLI imports each source's fixture
 * (tests/fixtures/providers, made by generate.ts there) with --from into the
 * fake WorkOS. Every user's mapped fields are checked against the mapping
 * the docs/sources pages document, applied here to the raw export on its
 * own; the row errors are checked by row and reason.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli } from "./_cli.ts";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

async function readLines(path: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

interface Expected {
  row: number;
  email?: string;
  firstName: string | null;
  lastName: string | null;
  emailVerified: boolean;
  externalId: string;
  metadata: Record<string, string>;
  passwordHashType: string | null;
  /** A row error's reason instead of a user. */
  error?: RegExp;
}

function splitName(name: unknown): [string | null, string | null] {
  if (typeof name !== "string" || name.includes("@")) return [null, null];
  const space = name.indexOf(" ");
  return space === -1 ? [name, null] : [name.slice(0, space), name.slice(space + 1)];
}

function metadataOf(entries: Array<[string, unknown]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of entries.slice(0, 10)) {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

async function readErrors(path: string): Promise<Map<number, string>> {
  const lines = await readLines(path);
  return new Map(lines.map((line) => [line.recordNumber as number, line.errorMessage as string]));
}

async function assertImported(
  fake: Awaited<ReturnType<typeof startFakeWorkOS>>,
  expected: Expected[],
  errorsPath: string,
): Promise<void> {
  const errors = await readErrors(errorsPath);
  const failing = expected.filter((user) => user.error !== undefined);
  assert.deepEqual([...errors.keys()].sort((a, b) => a - b), failing.map((user) => user.row));
  for (const user of failing) assert.match(errors.get(user.row) ?? "", user.error as RegExp);
  const users = expected.filter((user) => user.error === undefined);
  assert.equal(fake.state.userCount(), users.length);
  for (const want of users) {
    const got = fake.state.findUserByExternalId(want.externalId);
    assert.ok(got, `row ${want.row}: user ${want.externalId}`);
    const actual = {
      row: want.row,
      email: got.email,
      firstName: got.firstName,
      lastName: got.lastName,
      emailVerified: got.emailVerified,
      externalId: got.externalId,
      metadata: got.metadata,
      passwordHashType: got.passwordHashType,
    };
    assert.deepEqual(actual, { ...want, email: want.email?.toLowerCase() });
    assert.equal(got.hasPassword, want.passwordHashType !== null, `row ${want.row} password`);
  }
}

// -------------------------------------------------------------- Auth0

async function auth0Truth(): Promise<Expected[]> {
  const users = await readLines(`${FIXTURES}auth0_users.ndjson`);
  const hashes = await readLines(`${FIXTURES}auth0_password_hashes.ndjson`);
  const byId = new Map(hashes.map((line) => [(line._id as { $oid: string }).$oid, line]));
  const byEmail = new Map(hashes.map((line) => [line.email as string, line]));
  return users.map((user, index) => {
    const row = index + 1;
    const id = user.user_id as string;
    const email = user.email as string | undefined;
    const hash = (id.startsWith("auth0|") ? byId.get(id.slice(6)) : undefined) ??
      (email ? byEmail.get(email.toLowerCase()) : undefined);
    const [splitFirst, splitLast] = splitName(user.name);
    const hasGiven = user.given_name !== undefined || user.family_name !== undefined;
    const expected: Expected = {
      row,
      email,
      firstName: hasGiven ? (user.given_name as string) ?? null : splitFirst,
      lastName: hasGiven ? (user.family_name as string) ?? null : splitLast,
      emailVerified: user.email_verified === true,
      externalId: id,
      metadata: metadataOf([
        ...Object.entries(user.user_metadata as Record<string, unknown> ?? {}),
        ...Object.entries(user.app_metadata as Record<string, unknown> ?? {}),
      ]),
      passwordHashType: hash ? "bcrypt" : null,
    };
    if (email === undefined) expected.error = /has no email \(signs in with a phone number\)/;
    else if (hash && !/^\$2[aby]\$/.test(hash.passwordHash as string)) {
      expected.error = /password hash of user "auth0\|\w+" is not bcrypt: .*--invite/;
    }
    return expected;
  });
}

Deno.test("--from auth0 imports the export with its password hashes: every mapped field, the row errors, the unmatched hashes", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await Deno.makeTempDir();
  const result = await runCli([
    "--from",
    "auth0",
    "--input",
    `${FIXTURES}auth0_users.ndjson`,
    "--password-hashes",
    `${FIXTURES}auth0_password_hashes.ndjson`,
    "--errors-out",
    `${dir}/errors.jsonl`,
    "--quiet",
    "--concurrency",
    "8",
  ], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stderr);
  const expected = await auth0Truth();
  await assertImported(fake, expected, `${dir}/errors.jsonl`);

  // The awkward cases are in the fixture, and came out as documented.
  const social = fake.state.findUserByEmail("ada.10@example.com");
  assert.equal(social?.externalId, "google-oauth2|100000000000000000010");
  assert.equal(social?.hasPassword, false, "a social-only user has no password");
  const nameOnly = fake.state.findUserByEmail("grace.11@example.com");
  assert.deepEqual([nameOnly?.firstName, nameOnly?.lastName], ["Grace", "Thompson"]);
  const nameIsEmail = fake.state.findUserByEmail("edsger.13@example.com");
  assert.deepEqual([nameIsEmail?.firstName, nameIsEmail?.lastName], [null, null]);
  assert.equal(fake.state.findUserByEmail("ken.7@example.com")?.emailVerified, false);
  const byEmail = fake.state.findUserByEmail("edsger.43@example.com");
  assert.equal(byEmail?.passwordHashType, "bcrypt", "a hash whose _id differs matches by email");
  assert.equal(
    Object.keys(fake.state.findUserByEmail("linus.19@example.com")?.metadata ?? {}).length,
    10,
  );
  assert.ok(expected.filter((user) => user.error).length >= 10);

  // Said once, with the count: the hash lines that match no user.
  assert.match(result.stderr, /Warning: 3 of 257 password hashes match no user of the export/);
  assert.match(
    result.stderr,
    /Row 19: Leaving metadata out: "pref_9", "pref_10" \(WorkOS keeps 10 keys\)/,
  );
  assert.match(result.stderr, /Row 31: user "auth0\|\w+" is blocked in Auth0/);
  assert.doesNotMatch(result.stdout + result.stderr, /\$2[aby]\$/, "no hash is printed");
  assert.doesNotMatch(await Deno.readTextFile(`${dir}/errors.jsonl`), /\$2[aby]\$|\$1\$/);
});

// ----------------------------------------------------------- Firebase

async function firebaseTruth(): Promise<Expected[]> {
  const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}firebase_users.json`));
  return (json.users as Record<string, unknown>[]).map((user, index) => {
    const row = index + 1;
    const [firstName, lastName] = splitName(user.displayName);
    let custom: Record<string, unknown> = {};
    if (typeof user.customAttributes === "string") custom = JSON.parse(user.customAttributes);
    const expected: Expected = {
      row,
      email: user.email as string | undefined,
      firstName,
      lastName,
      emailVerified: user.emailVerified === true,
      externalId: user.localId as string,
      metadata: metadataOf(Object.entries(custom)),
      // Without --hash-config the hashes are left out (said once).
      passwordHashType: null,
    };
    if (user.email === undefined) {
      expected.error = user.phoneNumber
        ? /has a phone number and no email: WorkOS users sign in with an email/
        : /has no email \(an anonymous user\?\)/;
    } else if (user.passwordHash !== undefined && user.salt === undefined) {
      expected.error = /has a "passwordHash" but no "salt"/;
    }
    return expected;
  });
}

for (const file of ["firebase_users.json", "firebase_users.csv"]) {
  Deno.test(`--from firebase imports ${file}: every mapped field, phone-only and anonymous users as row errors`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const dir = await Deno.makeTempDir();
    const result = await runCli([
      "--from",
      "firebase",
      "--input",
      `${FIXTURES}${file}`,
      "--errors-out",
      `${dir}/errors.jsonl`,
      "--quiet",
      "--concurrency",
      "8",
    ], { env: envOf(fake) });
    assert.equal(result.code, 1, result.stderr);
    const expected = await firebaseTruth();
    if (file.endsWith(".csv")) {
      // The CSV export has no custom attributes or disabled flag.
      for (const user of expected) user.metadata = {};
    }
    await assertImported(fake, expected, `${dir}/errors.jsonl`);
    const vanName = expected.find((user) => user.row === 5);
    assert.equal(
      vanName?.lastName?.startsWith("van "),
      true,
      "the rest of the name is the last name",
    );
    assert.match(
      result.stderr,
      /Warning: \d+ users have a Firebase password hash, left out without --hash-config/,
    );
    assert.equal(result.stderr.match(/left out without --hash-config/g)?.length, 1, "said once");
  });
}

// ---------------------------------------------------------- Bad input

Deno.test("--from names a source the file is not: one line saying what it looks like, exit 2", async () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "firebase",
      "auth0_users.ndjson",
      /as a Firebase "auth:export" file: it looks like an Auth0 user export: use --from auth0/,
    ],
    [
      "auth0",
      "firebase_users.json",
      /as an Auth0 user export: it looks like a Firebase "auth:export" file: use --from firebase/,
    ],
    ["auth0", "firebase_users.csv", /as an Auth0 user export: it looks like a CSV file/],
  ];
  for (const [from, file, message] of cases) {
    const result = await runCli(["--from", from, "--input", `${FIXTURES}${file}`, "--dry-run"]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
  const own = await runCli(["--from", "auth0", "--input", "examples/single-org.csv", "--dry-run"], {
    cwd: new URL("..", import.meta.url).pathname,
  });
  assert.equal(own.code, 2);
  assert.match(own.stderr, /it looks like the importer's own CSV: leave out --from/);
  const unknown = await runCli(["--from", "okta", "--input", `${FIXTURES}auth0_users.ndjson`]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /"okta" is not a source the importer reads: use csv, ndjson, auth0/);
  const stray = await runCli([
    "--input",
    `${FIXTURES}auth0_users.ndjson`,
    "--password-hashes",
    `${FIXTURES}auth0_password_hashes.ndjson`,
  ]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /"--password-hashes" without --from auth0/);
});

Deno.test("a Firebase export cut off mid-user keeps every whole user and reports the cut one", async () => {
  const text = await Deno.readTextFile(`${FIXTURES}firebase_users.json`);
  const cut = text.slice(0, text.indexOf('"localId"', text.length / 2) + 20);
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, cut);
  const result = await runCli([
    "--from",
    "firebase",
    "--input",
    path,
    "--dry-run",
    "--json",
    "--quiet",
  ]);
  assert.equal(result.code, 1, result.stderr);
  const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
  const whole = (cut.match(/"localId"/g)?.length ?? 0) - 1;
  assert.equal(summary.totalRows, whole + 1);
  assert.ok(summary.plan.invalidRows >= 1);
});
