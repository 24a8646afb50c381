/**
 * Provider exports end to end: the real CLI imports each source's fixture
 * (tests/fixtures/providers, made by generate.ts there) with --from into the
 * fake WorkOS. Every user's mapped fields are checked against the mapping
 * the docs/sources pages document, applied here to the raw export on its
 * own; the row errors are checked by row and reason.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, type FakeWorkOSOptions, startFakeWorkOS } from "../testing.ts";
import { type CliResult, envOf, runCli, tempDir, tempFile, tempPath } from "./_cli.ts";
import { CLERK_WEAK_PBKDF2_USER, passwordOf } from "./fixtures/providers/generate.ts";
import { parse } from "csv-parse/stream";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;

/** A fixture imported into a fresh fake; disposing of it stops the fake. */
interface Imported extends AsyncDisposable {
  fake: FakeWorkOS;
  result: CliResult;
  /** The run's error file (JSON lines). */
  errors: string;
}

/** Imports `file` of the fixtures with `--from <from>` into a fresh fake. */
async function importFixture(
  from: string,
  file: string,
  options: { args?: string[]; fake?: FakeWorkOSOptions } = {},
): Promise<Imported> {
  const fake = await startFakeWorkOS({ rateLimits: false, ...options.fake });
  const errors = `${await tempDir()}/errors.jsonl`;
  const result = await runCli([
    "--from",
    from,
    "--input",
    `${FIXTURES}${file}`,
    "--errors-out",
    errors,
    "--quiet",
    "--concurrency",
    "8",
    ...options.args ?? [],
  ], { env: envOf(fake) });
  return { fake, result, errors, [Symbol.asyncDispose]: () => fake[Symbol.asyncDispose]() };
}

/** `verify-login` against the fake, with the accounts of a CSV text. */
async function verifyLogin(fake: FakeWorkOS, csv: string): Promise<CliResult> {
  const canary = await tempFile(`email,password\n${csv}`);
  return await runCli([
    "verify-login",
    canary,
    "--client-id",
    "client_test",
    "--rate-limit",
    "1000",
  ], { env: envOf(fake) });
}

/**
 * Signs each account in through the fake with `verify-login`: every one
 * signs in; then one with a wrong password does not.
 */
async function assertSignIn(
  fake: FakeWorkOS,
  accounts: Array<{ email: string; password: string }>,
): Promise<void> {
  assert.ok(accounts.length > 0);
  const lines = accounts.map((account) => `${account.email},${account.password}\n`);
  const signIn = await verifyLogin(fake, lines.join(""));
  assert.equal(signIn.code, 0, signIn.stdout + signIn.stderr);
  assert.match(
    signIn.stdout,
    new RegExp(`\\b${accounts.length} of ${accounts.length} accounts signed in`),
  );
  const wrong = await verifyLogin(fake, `${accounts[0].email},not the password\n`);
  assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /✗ Row 1 [^:]+: WorkOS refused the password/);
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
  await using run = await importFixture("auth0", "auth0_users.ndjson", {
    args: ["--password-hashes", `${FIXTURES}auth0_password_hashes.ndjson`],
  });
  const { fake, result } = run;
  assert.equal(result.code, 1, result.stderr);
  const expected = await auth0Truth();
  await assertImported(fake, expected, run.errors);

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
  assert.doesNotMatch(await Deno.readTextFile(run.errors), /\$2[aby]\$|\$1\$/);

  // Every converted hash signs in with its original password: each variant
  // and cost, and those matched by email; a wrong password does not.
  await assertSignIn(fake, signInAccounts(expected));
  assert.ok(expected[42].passwordHashType === "bcrypt", "user 43's hash is matched by email");
});

/** The fixture users imported with a hash, with the password it was made from. */
function signInAccounts(
  expected: Expected[],
): Array<{ row: number; email: string; password: string }> {
  return expected.filter((user) => user.error === undefined && user.passwordHashType !== null)
    .map((user) => ({
      row: user.row,
      email: user.email as string,
      password: passwordOf(user.row),
    }));
}

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
    await using run = await importFixture("firebase", file);
    const { fake, result } = run;
    assert.equal(result.code, 1, result.stderr);
    const expected = await firebaseTruth();
    if (file.endsWith(".csv")) {
      // The CSV export has no custom attributes or disabled flag.
      for (const user of expected) user.metadata = {};
    }
    await assertImported(fake, expected, run.errors);
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

Deno.test("--from firebase --hash-config converts each hash to firebase-scrypt, and it signs in with its password", async () => {
  await using run = await importFixture("firebase", "firebase_users.json", {
    args: ["--hash-config", `${FIXTURES}firebase_hash_config.txt`],
  });
  const { fake, result } = run;
  assert.equal(result.code, 1, result.stderr);
  const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}firebase_users.json`));
  const expected = (await firebaseTruth()).map((user, index) => {
    const raw = json.users[index];
    const hashed = raw.passwordHash !== undefined && raw.salt !== undefined;
    return { ...user, passwordHashType: hashed ? "firebase-scrypt" : null };
  });
  await assertImported(fake, expected, run.errors);
  assert.doesNotMatch(result.stderr, /left out without --hash-config/);
  // Standard and URL-safe base64 (user 9), a name-less user (11): every hash signs in.
  assert.equal(expected[8].passwordHashType, "firebase-scrypt");
  assert.equal(expected[10].passwordHashType, "firebase-scrypt");
  // Scrypt with the project's parameters is slow: the standard and URL-safe
  // encodings (every ninth user) and the first dozen sign in.
  await assertSignIn(
    fake,
    signInAccounts(expected).filter((account) => account.row <= 12 || account.row % 9 === 0),
  );
  assert.ok(!result.stderr.includes(json.users[0].passwordHash), "no hash is printed");

  const bad = await tempFile("hash_config {\n  algorithm: SCRYPT,\n  rounds: 8,\n}\n", ".txt");
  const refused = await runCli([
    "--from",
    "firebase",
    "--input",
    `${FIXTURES}firebase_users.json`,
    "--hash-config",
    bad,
    "--dry-run",
  ]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /"base64_signer_key" is missing: copy it from the Firebase console/);
  assert.equal(refused.stderr.trim().split("\n").length, 1);
});

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
    [
      "cognito",
      "supertokens_users.json",
      /it looks like a SuperTokens bulk-import file: use --from supertokens/,
    ],
    [
      "supertokens",
      "cognito_users.json",
      /it looks like an "aws cognito-idp list-users" file: use --from cognito/,
    ],
    [
      "clerk",
      "supabase_users.csv",
      /it looks like a Supabase "auth.users" export: use --from supabase/,
    ],
    ["supabase", "clerk_users.csv", /it looks like a Clerk user export: use --from clerk/],
    [
      "clerk",
      "cognito_users.json",
      /as a Clerk user export: it looks like an "aws cognito-idp list-users" file/,
    ],
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
  const path = await tempPath({ suffix: ".json" });
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

// -------------------------------------------------------------- Clerk

/** The WorkOS hash type of each Clerk hasher the importer converts (docs/sources/clerk.md). */
const CLERK_HASH_TYPES: Record<string, string> = {
  bcrypt: "bcrypt",
  argon2id: "argon2",
  argon2i: "argon2",
  pbkdf2_sha256: "pbkdf2",
  pbkdf2_sha256_django: "pbkdf2",
  scrypt_firebase: "firebase-scrypt",
};

function splitList(value: string | undefined): string[] {
  return (value ?? "").split(/[|,;\s]+/).filter((item) => item !== "");
}

async function readCsv(path: string): Promise<Record<string, string>[]> {
  const file = await Deno.open(path);
  const rows: Record<string, string>[] = [];
  for await (const row of file.readable.pipeThrough(parse({ columns: true }))) {
    rows.push(row as Record<string, string>);
  }
  return rows;
}

Deno.test("--from clerk imports the user export CSV: every mapped field, each convertible hasher signs in, the others are row errors", async () => {
  await using run = await importFixture("clerk", "clerk_users.csv");
  const { fake, result } = run;
  assert.equal(result.code, 1, result.stderr);
  const rows = await readCsv(`${FIXTURES}clerk_users.csv`);
  const expected = rows.map((row, index): Expected => {
    const verified = splitList(row.verified_email_addresses);
    const unverified = splitList(row.unverified_email_addresses);
    const email = row.primary_email_address || verified[0] || unverified[0];
    const metadata: Record<string, string> = {};
    if (row.username) metadata.username = row.username;
    if (row.primary_phone_number) metadata.phone_number = row.primary_phone_number;
    const type = CLERK_HASH_TYPES[row.password_hasher] ?? null;
    const out: Expected = {
      row: index + 1,
      email,
      firstName: row.first_name || null,
      lastName: row.last_name || null,
      emailVerified: verified.includes(email),
      externalId: row.id,
      metadata,
      passwordHashType: row.password_digest ? type : null,
    };
    if (!email) out.error = /has no email \(signs in with a phone number\)/;
    else if (row.password_digest && type === null) {
      out.error = new RegExp(
        `is hashed with "${row.password_hasher}", which WorkOS does not take: .*--invite`,
      );
    } else if (index + 1 === CLERK_WEAK_PBKDF2_USER) {
      out.error = /"password_hash" is a pbkdf2 hash with i=100000: WorkOS accepts i from 600,000/;
    }
    return out;
  });
  await assertImported(fake, expected, run.errors);
  // Every hasher of the fixture came out as documented.
  const hashers = new Map<string, number>();
  for (const [index, row] of rows.entries()) {
    if (!expected[index].error) {
      hashers.set(row.password_hasher, (hashers.get(row.password_hasher) ?? 0) + 1);
    }
  }
  assert.deepEqual(
    [...hashers.keys()].filter(Boolean).sort(),
    Object.keys(CLERK_HASH_TYPES).sort(),
  );
  for (const hasher of ["md5", "sha256", "pbkdf2_sha1"]) {
    assert.ok(rows.some((row) => row.password_hasher === hasher), `a user hashed with ${hasher}`);
  }
  // Every converted hash signs in with its original password.
  await assertSignIn(fake, signInAccounts(expected));
  // TOTP secrets become TOTP factors.
  const withTotp = rows.filter((row, index) => row.totp_secret && !expected[index].error);
  assert.ok(withTotp.length > 0);
  for (const row of withTotp) {
    const user = fake.state.findUserByExternalId(row.id);
    assert.deepEqual(fake.state.authFactorsOfUser(user?.id ?? "").map((f) => f.secret), [
      row.totp_secret,
    ]);
  }
  const withoutTotp = fake.state.listUsers().filter((user) =>
    !withTotp.some((row) => row.id === user.externalId)
  );
  for (const user of withoutTotp) assert.deepEqual(fake.state.authFactorsOfUser(user.id), []);
  assert.doesNotMatch(await Deno.readTextFile(run.errors), /\$2[ab]\$|\$argon2|JBSWY3DP/);
  assert.doesNotMatch(result.stderr, /\$2[ab]\$|\$argon2|\$pbkdf2/);
});

// ----------------------------------------------------------- Supabase

const SUPABASE_SKIPPED = new Set([
  "first_name",
  "last_name",
  "given_name",
  "family_name",
  "full_name",
  "name",
  "email",
  "email_verified",
  "phone_verified",
  "sub",
  "iss",
]);

async function supabaseTruth(): Promise<Expected[]> {
  const users = await readLines(`${FIXTURES}supabase_users.ndjson`);
  return users.map((user, index) => {
    const meta = user.raw_user_meta_data as Record<string, unknown>;
    const [splitFirst, splitLast] = splitName(meta.full_name);
    const hasNames = meta.first_name !== undefined || meta.last_name !== undefined;
    const out: Expected = {
      row: index + 1,
      email: (user.email as string | null) ?? undefined,
      firstName: hasNames ? meta.first_name as string : splitFirst,
      lastName: hasNames ? meta.last_name as string : splitLast,
      emailVerified: user.email_confirmed_at !== null,
      externalId: user.id as string,
      metadata: metadataOf(Object.entries(meta).filter(([key]) => !SUPABASE_SKIPPED.has(key))),
      passwordHashType: user.encrypted_password ? "bcrypt" : null,
    };
    if (user.deleted_at !== null) out.error = /was deleted in Supabase/;
    else if (user.email === null) {
      out.error = user.is_anonymous
        ? /is an anonymous Supabase user/
        : /has no email \(signs in with a phone number\)/;
    }
    return out;
  });
}

for (const file of ["supabase_users.csv", "supabase_users.ndjson"]) {
  Deno.test(`--from supabase imports ${file}: every mapped field, deleted and anonymous users as row errors`, async () => {
    await using run = await importFixture("supabase", file);
    const { fake, result } = run;
    assert.equal(result.code, 1, result.stderr);
    const expected = await supabaseTruth();
    await assertImported(fake, expected, run.errors);
    assert.ok(expected.some((user) => user.firstName === null && user.error === undefined));
    assert.match(result.stderr, /is banned in Supabase/);
    // Every bcrypt hash signs in with its original password.
    await assertSignIn(fake, signInAccounts(expected));
  });
}

// ------------------------------------------------------------ Cognito

Deno.test("--from cognito imports list-users pages: every mapped field, says once that there are no hashes", async () => {
  await using run = await importFixture("cognito", "cognito_users.json");
  const { fake, result } = run;
  assert.equal(result.code, 1, result.stderr);
  const text = await Deno.readTextFile(`${FIXTURES}cognito_users.json`);
  const pages = text.split(/\n(?=\{)/).map((page) => JSON.parse(page));
  assert.ok(pages.length > 1, "the fixture has several pages");
  const users = pages.flatMap((page) => page.Users as Record<string, unknown>[]);
  const expected = users.map((user, index): Expected => {
    const attributes = new Map(
      (user.Attributes as Array<{ Name: string; Value: string }>).map((a) => [a.Name, a.Value]),
    );
    const sub = attributes.get("sub") as string;
    const [splitFirst, splitLast] = splitName(attributes.get("name"));
    const hasNames = attributes.has("given_name") || attributes.has("family_name");
    const custom: Array<[string, unknown]> = [];
    if (user.Username !== sub) custom.push(["cognito_username", user.Username]);
    for (const [name, value] of attributes) {
      if (name.startsWith("custom:")) custom.push([name.slice(7), value]);
    }
    const out: Expected = {
      row: index + 1,
      email: attributes.get("email"),
      firstName: hasNames ? attributes.get("given_name") ?? null : splitFirst,
      lastName: hasNames ? attributes.get("family_name") ?? null : splitLast,
      emailVerified: attributes.get("email_verified") === "true",
      externalId: sub,
      metadata: metadataOf(custom),
      passwordHashType: null,
    };
    if (!attributes.has("email")) {
      out.error = /has no "email" attribute \(signs in with a phone number\)/;
    }
    return out;
  });
  await assertImported(fake, expected, run.errors);
  const valid = expected.filter((user) => !user.error).length;
  assert.equal(
    result.stderr.match(/Cognito exports no password hashes/g)?.length,
    1,
    "said once",
  );
  assert.match(
    result.stderr,
    new RegExp(`${valid} users are imported without a password: .*--invite`),
  );
});

// -------------------------------------------------------- SuperTokens

Deno.test("--from supertokens imports the bulk-import file: users, a membership per tenant with its role, row errors", async () => {
  await using run = await importFixture("supertokens", "supertokens_users.json", {
    fake: { roles: ["admin", "member", "billing"], multipleRoles: true },
  });
  const { fake, result } = run;
  assert.equal(result.code, 1, result.stderr);
  const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}supertokens_users.json`));
  const errors = await readErrors(run.errors);
  const accounts: Array<{ email: string; password: string }> = [];
  let row = 0;
  const failedRows: number[] = [];
  let users = 0;
  let memberships = 0;
  let factors = 0;
  for (const user of json.users as Record<string, unknown>[]) {
    const methods = user.loginMethods as Record<string, unknown>[];
    const withEmail = methods.filter((method) => method.email !== undefined);
    const password = methods.find((method) => method.passwordHash !== undefined);
    const tenants = [...new Set(methods.flatMap((method) => method.tenantIds as string[]))]
      .filter((tenant) => tenant !== "public");
    if (withEmail.length === 0 || password?.hashingAlgorithm === "sha1") {
      failedRows.push(++row);
      assert.match(
        errors.get(row) ?? "",
        withEmail.length === 0 ? /has no login method with an email/ : /hashed with "sha1"/,
      );
      continue;
    }
    row += Math.max(1, tenants.length);
    users++;
    const primary = withEmail.find((method) => method.isPrimary) ?? withEmail[0];
    const got = fake.state.findUserByExternalId(user.externalUserId as string);
    assert.ok(got, `user ${user.externalUserId}`);
    const meta = user.userMetadata as Record<string, unknown>;
    assert.equal(got.email, primary.email);
    assert.equal(got.firstName, meta.first_name ?? null);
    assert.equal(got.lastName, meta.last_name ?? null);
    assert.equal(got.emailVerified, primary.isVerified === true);
    assert.deepEqual(
      got.metadata,
      metadataOf(
        Object.entries(meta).filter(([key]) => key !== "first_name" && key !== "last_name"),
      ),
    );
    assert.equal(
      got.passwordHashType,
      password === undefined ? null : password.hashingAlgorithm === "argon2" ? "argon2" : "bcrypt",
    );
    if (password !== undefined) {
      const n = Number((user.externalUserId as string).slice(3));
      accounts.push({ email: got.email, password: passwordOf(n) });
    }
    const roles = (user.userRoles as Array<string | { role: string }>).map((role) =>
      typeof role === "string" ? role : role.role
    );
    const joined = fake.state.membershipsOfUser(got.id);
    assert.deepEqual(
      joined.map((membership) =>
        fake.state.listOrganizations().find((org) => org.id === membership.organizationId)
          ?.externalId
      ).sort(),
      [...tenants].sort(),
      `memberships of ${user.externalUserId}`,
    );
    for (const membership of joined) {
      assert.deepEqual(membership.roleSlugs, roles.length > 0 ? roles : ["member"]);
    }
    memberships += tenants.length;
    const devices = user.totpDevices as Array<{ secretKey: string }>;
    assert.deepEqual(
      fake.state.authFactorsOfUser(got.id).map((factor) => factor.secret),
      devices.map((device) => device.secretKey),
      `TOTP of ${user.externalUserId}`,
    );
    if (devices.length > 0) factors++;
  }
  assert.deepEqual([...errors.keys()].sort((a, b) => a - b), failedRows);
  assert.equal(fake.state.userCount(), users);
  assert.equal(fake.state.membershipCount(), memberships);
  assert.ok(memberships > users / 3, "tenants became memberships");
  assert.equal(fake.state.listOrganizations().length, 2);
  assert.ok(factors > 10, "TOTP devices became factors");
  assert.ok(
    (json.users as Array<{ userRoles: unknown[] }>).some((user) => user.userRoles.length > 1),
    "a user with several roles",
  );
  assert.doesNotMatch(await Deno.readTextFile(run.errors), /"totp_secret"|\$2a\$/);
  // Every bcrypt and argon2 hash signs in with its original password.
  assert.ok(accounts.length > 200);
  await assertSignIn(fake, accounts);
});

Deno.test("--map tenant=org_external_id makes the public tenant an organization too", async () => {
  const result = await runCli([
    "--from",
    "supertokens",
    "--input",
    `${FIXTURES}supertokens_users.json`,
    "--map",
    "tenant=org_external_id",
    "--dry-run",
    "--json",
    "--quiet",
  ]);
  const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
  assert.equal(summary.plan.distinctOrganizations, 3);
  assert.match(result.stdout + result.stderr, /Column mapping: "tenant" → "org_external_id"/);
});

Deno.test("a provider's run is per-row only when its rows can name an organization", async () => {
  const dryRun = async (from: string, file: string, ...args: string[]) => {
    const result = await runCli([
      "--from",
      from,
      "--input",
      `${FIXTURES}${file}`,
      ...args,
      "--dry-run",
      "--json",
      "--quiet",
    ]);
    assert.equal(result.code, 1, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
    return { output: result.stdout + result.stderr, plan: summary.plan };
  };
  // Firebase and Auth0 exports name no organization: users only, no pairs to plan.
  for (
    const [from, file] of [["firebase", "firebase_users.json"], ["auth0", "auth0_users.ndjson"]]
  ) {
    const { output, plan } = await dryRun(from, file);
    assert.match(output, /User-only mode: no memberships will be created/, from);
    assert.equal(plan.distinctOrganizations, 0, from);
    assert.equal(plan.duplicateRows, 0, from);
  }
  // --map that fills an organization column makes the run per-row.
  const auth0 = await dryRun(
    "auth0",
    "auth0_users.ndjson",
    "--map",
    "app_metadata.tier=org_external_id",
  );
  assert.match(auth0.output, /Per-row mode: rows that name an organization join it/);
  assert.equal(auth0.plan.distinctOrganizations, 1);
  assert.equal(auth0.plan.membershipsPlanned, 71);
  // A CSV export too: Clerk's usernames as organizations (a run that used to ignore them).
  const clerk = await dryRun("clerk", "clerk_users.csv", "--map", "username=org_external_id");
  assert.match(clerk.output, /Multi-org mode/);
  assert.ok(clerk.plan.membershipsPlanned > 0);
  assert.equal(clerk.plan.distinctOrganizations, clerk.plan.membershipsPlanned);
  // SuperTokens' tenants are organizations without --map.
  const supertokens = await dryRun("supertokens", "supertokens_users.json");
  assert.match(supertokens.output, /Per-row mode/);
  assert.equal(supertokens.plan.distinctOrganizations, 2);
});

Deno.test("membership columns added to a Clerk or Supabase CSV export are read as they are, as the source pages say", async () => {
  for (const [from, file] of [["clerk", "clerk_users.csv"], ["supabase", "supabase_users.csv"]]) {
    const lines = (await Deno.readTextFile(`${FIXTURES}${file}`)).trimEnd().split("\n");
    const path = await tempFile(
      [
        `${lines[0]},org_external_id,org_name`,
        ...lines.slice(1).map((line, i) =>
          `${line},${i % 2 === 0 ? "acme" : "globex"},${i % 2 === 0 ? "Acme" : "Globex"}`
        ),
      ].join("\n") + "\n",
    );
    const result = await runCli([
      "--from",
      from,
      "--input",
      path,
      "--dry-run",
      "--json",
      "--quiet",
    ]);
    const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
    assert.match(result.stdout + result.stderr, /Multi-org mode/, from);
    assert.equal(summary.plan.distinctOrganizations, 2, from);
    assert.equal(summary.plan.membershipsPlanned, summary.plan.validRows, from);
    // Without the columns the same export names no organization.
    const bare = await runCli([
      "--from",
      from,
      "--input",
      `${FIXTURES}${file}`,
      "--dry-run",
      "--quiet",
    ]);
    assert.match(bare.stdout + bare.stderr, /User-only mode/, from);
  }
});

// ------------------------------------------------- --map and template

Deno.test("--map names the columns of any CSV, and the dry run shows the mapping", async () => {
  const path = await tempPath({ suffix: ".csv" });
  await Deno.writeTextFile(
    path,
    "mail,given_name,family_name,tenant_id,role\nada@example.com,Ada,Lovelace,acme,admin\n",
  );
  const map = await tempPath({ suffix: ".txt" });
  await Deno.writeTextFile(
    map,
    "# our HR export\ngiven_name=first_name\nfamily_name = last_name\n",
  );
  await using fake = await startFakeWorkOS({ rateLimits: false });
  fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const args = [
    "--csv",
    path,
    "--map",
    "mail=email",
    "--map",
    map,
    "--map",
    "tenant_id=org_external_id",
    "--map",
    "role=role_slug",
  ];
  const dry = await runCli([...args, "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(
    dry.stdout,
    /Column mapping: "mail" → "email", "given_name" → "first_name", "family_name" → "last_name", "tenant_id" → "org_external_id", "role" → "role_slug"/,
  );
  assert.match(dry.stdout, /Multi-org mode/);
  const real = await runCli(args, { env: envOf(fake) });
  assert.equal(real.code, 0, real.stderr);
  const ada = fake.state.findUserByEmail("ada@example.com");
  assert.deepEqual([ada?.firstName, ada?.lastName], ["Ada", "Lovelace"]);
  const membership = fake.state.membershipsOfUser(ada?.id ?? "")[0];
  assert.equal(membership?.roleSlug, "admin");
  assert.equal(fake.state.findOrganizationByExternalId("acme")?.id, membership?.organizationId);
  const bad = await runCli(["--csv", path, "--map", "mail=e_mail", "--dry-run"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"e_mail" is not a column the importer reads/);
});

Deno.test("template prints the columns the importer reads and a commented example row that imports", async () => {
  for (const kind of ["users", "memberships", "organizations", "package"]) {
    const result = await runCli(["template", kind]);
    assert.equal(result.code, 0, result.stderr);
    const [header, example, ...rest] = result.stdout.trim().split("\n");
    assert.deepEqual(rest, []);
    assert.ok(example.startsWith("# "));
    assert.ok(result.stderr.length > 0, "notes on stderr");
    if (kind === "organizations") continue;
    // The example row, uncommented, is a valid row of the importer.
    const path = await tempPath({ suffix: ".csv" });
    await Deno.writeTextFile(path, `${header}\n${example.slice(2)}\n`);
    const check = await runCli(["validate", path]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout, /Unknown column/);
  }
  const bad = await runCli(["template", "groups"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /Cannot print template "groups": use users, organizations, memberships, package/,
  );
});
