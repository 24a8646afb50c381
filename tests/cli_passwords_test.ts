/**
 * Password hashes end to end: the real CLI imports hashes in the formats
 * other systems write, the fake WorkOS verifies them for real, and
 * `verify-login` signs the test accounts in with their original passwords.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { readableText, runCli, tempDir, tempFile } from "./_cli.ts";
import {
  argon2Hash,
  bcryptHash,
  djangoPbkdf2,
  FIREBASE_CONFIG,
  firebaseExport,
  scryptPhcPadded,
  sshaHash,
  werkzeugPbkdf2,
  werkzeugScrypt,
} from "./_hash_fixtures.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

function csvLine(values: string[]): string {
  return values.map((value) => /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)
    .join(",");
}

/** One account per source format: its password, its hash as the source wrote it, the type sent. */
async function accounts(): Promise<
  { email: string; password: string; hash: string; position?: string; sent: string }[]
> {
  const password = (name: string) => `${name} pässword, 42`;
  const firebase = await firebaseExport(password("firebase"));
  return [
    { email: "bcrypt@example.com", hash: await bcryptHash(password("bcrypt")), sent: "bcrypt" },
    { email: "argon2@example.com", hash: await argon2Hash(password("argon2")), sent: "argon2" },
    {
      email: "scrypt@example.com",
      hash: await scryptPhcPadded(password("scrypt")),
      sent: "scrypt",
    },
    { email: "django@example.com", hash: djangoPbkdf2(password("django")), sent: "pbkdf2" },
    { email: "werkzeug@example.com", hash: werkzeugPbkdf2(password("werkzeug")), sent: "pbkdf2" },
    {
      email: "werkzeug-scrypt@example.com",
      hash: await werkzeugScrypt(password("werkzeug-scrypt")),
      sent: "scrypt",
    },
    {
      // As the official migration tool writes it: padded base64.
      email: "firebase@example.com",
      hash: `$firebase-scrypt$hash=${firebase.passwordHash}$salt=${firebase.salt}` +
        `$sk=${FIREBASE_CONFIG.signerKey}$ss=${FIREBASE_CONFIG.saltSeparator}` +
        `$r=${FIREBASE_CONFIG.rounds}$m=${FIREBASE_CONFIG.memCost}`,
      sent: "firebase-scrypt",
    },
    { email: "ssha@example.com", hash: sshaHash(password("ssha"), "ssha"), sent: "ssha" },
    {
      email: "ssha256@example.com",
      hash: sshaHash(password("ssha256"), "ssha256"),
      sent: "ssha256",
    },
    {
      email: "ssha256-prefix@example.com",
      hash: sshaHash(password("ssha256-prefix"), "ssha256", "prefix"),
      position: "prefix",
      sent: "ssha256",
    },
  ].map((account) => ({ ...account, password: password(account.email.split("@")[0]) }));
}

Deno.test("each hash format is detected, converted, and signs in with its original password", async () => {
  await using fake = await startFakeWorkOS();
  const list = await accounts();
  const users = await tempFile(
    "email,password_hash,password_hash_type,password_salt_position\n" +
      list.map((a) => csvLine([a.email, a.hash, "", a.position ?? ""])).join("\n") + "\n",
  );
  const imported = await runCli(["--csv", users], { env: envOf(fake) });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  for (const account of list) {
    const user = fake.state.listUsers().find((u) => u.email === account.email);
    assert.equal(user?.passwordHashType, account.sent, account.email);
  }

  // The canary: every account (argon2's with a wrong password), one listed twice, one unknown.
  const canary = await tempFile(
    "email,password\n" +
      [
        ...list.map((a) =>
          csvLine([a.email, a.email.startsWith("argon2") ? "not argon2's password" : a.password])
        ),
        csvLine(["BCRYPT@example.com", "again"]),
        csvLine(["nobody@example.com", "whatever"]),
      ].join("\n") + "\n",
  );
  const env = envOf(fake);
  const verified = await runCli(["verify-login", canary, "--client-id", "client_test"], { env });
  assert.equal(verified.code, 1, verified.stdout + verified.stderr);
  const lines = verified.stdout.trim().split("\n");
  for (const [index, account] of list.entries()) {
    if (account.email === "argon2@example.com") continue;
    assert.match(
      lines.find((line) => line.includes(` ${account.email}:`)) ?? "",
      new RegExp(`^✓ Row ${index + 1} ${account.email.replace(".", "\\.")}: signed in as user_`),
      verified.stdout,
    );
  }
  assert.match(
    verified.stdout,
    /✗ Row 2 argon2@example\.com: WorkOS refused the password \(invalid_credentials\)/,
  );
  assert.match(
    verified.stdout,
    /✗ Row 11 BCRYPT@example\.com: listed twice: each account is tried once/,
  );
  assert.match(verified.stdout, /✗ Row 12 nobody@example\.com: WorkOS refused the password/);
  assert.match(verified.stdout, /9 of 12 accounts signed in/);
  // One attempt per account and email: within WorkOS's 10 per minute per email.
  assert.equal(fake.state.requestCounts["POST /user_management/authenticate"], 11);
  // Passwords and hashes are never printed.
  const printed = imported.stdout + imported.stderr + verified.stdout + verified.stderr;
  for (const account of list) {
    assert.ok(!printed.includes(account.password), "no password printed");
    assert.ok(!printed.includes(account.hash.slice(-20)), "no hash printed");
  }
  assert.doesNotMatch(printed, /pässword|whatever|again/);

  // Only the good accounts: exit 0, and --json for CI.
  const good = await tempFile(
    "email,password\n" + list.map((a) => csvLine([a.email, a.password])).join("\n") + "\n",
  );
  const again = await runCli(["verify-login", good, "--client-id", "client_test", "--json"], {
    env,
  });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const summary = JSON.parse(again.stdout);
  assert.deepEqual(
    [summary.status, summary.accounts, summary.signedIn, summary.failed],
    ["success", 10, 10, 0],
  );
  assert.doesNotMatch(again.stdout + again.stderr, /pässword/);
});

Deno.test("an out-of-range argon2 hash is a row error before any request", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const tooLittleMemory = await argon2Hash("secret", 1024);
  const csv = await tempFile(
    "email,password_hash,password_hash_type\n" +
      csvLine(["argon2@example.com", tooLittleMemory, ""]) + "\n" +
      csvLine(["md5@example.com", "5f4dcc3b5aa765d61d8327deb882cf99", ""]) + "\n",
  );
  const dir = await tempDir();
  const errors = `${dir}/errors.csv`;
  const result = await runCli(["--csv", csv, "--errors-out", errors], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /✗ Row 1 argon2@example\.com: validation: Cannot import row 1: "password_hash" is an argon2 hash with m=1024: WorkOS accepts m from 4,096 to 262,144 KiB: import this user with --invite, or without the hash and send a password reset/,
  );
  assert.match(
    result.stdout,
    /✗ Row 2 md5@example\.com: validation: .*unsalted MD5.*WorkOS cannot take it: import this user with --invite/,
  );
  assert.equal(fake.state.requestCounts["POST /user_management/users"], undefined);
  assert.equal(fake.state.userCount(), 0);
  const errorFile = await Deno.readTextFile(errors);
  assert.match(errorFile, /m=1024/);
  assert.ok(
    !errorFile.includes(tooLittleMemory.split("$").pop() as string),
    "no hash in the error file",
  );
  assert.ok(!(result.stdout + result.stderr).includes(tooLittleMemory), "no hash printed");

  // validate and --dry-run apply the same check.
  const validate = await runCli(["validate", csv]);
  assert.equal(validate.code, 1);
  assert.match(validate.stdout + validate.stderr, /m=1024: WorkOS accepts m from 4,096/);
  const dryRun = await runCli(["--csv", csv, "--dry-run"]);
  assert.equal(dryRun.code, 1);
  assert.match(dryRun.stdout, /m=1024: WorkOS accepts m from 4,096/);
});

Deno.test("--limit imports only the first rows: the canary accounts before the rest", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    "email,password\ncanary1@example.com,pw-one\ncanary2@example.com,pw-two\nrest@example.com,pw\n",
  );
  const result = await runCli(["--csv", csv, "--limit", "2", "--json"], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).totalRows, 2);
  assert.deepEqual(fake.state.listUsers().map((user) => user.email).sort(), [
    "canary1@example.com",
    "canary2@example.com",
  ]);
  const canary = await tempFile("email,password\ncanary1@example.com,pw-one\n");
  const verified = await runCli(["verify-login", canary], {
    env: { ...envOf(fake), WORKOS_CLIENT_ID: "client_test" },
  });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);

  const refused = await runCli(["--csv", csv, "--limit", "0"], { env: envOf(fake) });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Cannot use "--limit": "0" is not a whole number at least 1/);
  const withJob = await runCli(["--csv", csv, "--limit", "2", "--job-id", "j"], {
    env: envOf(fake),
  });
  assert.equal(withJob.code, 2);
  assert.match(withJob.stderr, /Cannot use --limit with --job-id or --resume/);
});

Deno.test("verify-login explains what it needs in one line", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const good = await tempFile("email,password\na@example.com,pw\n");
  const noClient = await runCli(["verify-login", good], { env: envOf(fake) });
  assert.equal(noClient.code, 2);
  assert.match(noClient.stderr, /^Error: Cannot verify logins: no client ID: set WORKOS_CLIENT_ID/);
  const noPassword = await tempFile("email\na@example.com\n");
  const wrongColumns = await runCli(["verify-login", noPassword, "--client-id", "client_x"], {
    env: envOf(fake),
  });
  assert.equal(wrongColumns.code, 2);
  assert.match(wrongColumns.stderr, /needs the columns email and password/);
  const noFile = await runCli(["verify-login", "--client-id", "client_x"], { env: envOf(fake) });
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /no file given/);
  assert.equal(fake.state.requestCounts["POST /user_management/authenticate"], undefined);
});

Deno.test("hashes and their converted forms never reach the journal, audit log or error file", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const django = djangoPbkdf2("never-stored");
  const converted = django.split("$")[3].replace(/=+$/, "");
  const refused = await argon2Hash("never-stored", 1024);
  const csv = await tempFile(
    "email,password_hash\n" + csvLine(["kept@example.com", django]) + "\n" +
      csvLine(["refused@example.com", refused]) + "\n",
  );
  const dir = await tempDir();
  const result = await runCli([
    "--csv",
    csv,
    "--job-id",
    "hashes",
    "--checkpoint-dir",
    `${dir}/checkpoints`,
    "--audit-out",
    `${dir}/audit.jsonl`,
    "--errors-out",
    `${dir}/errors.csv`,
  ], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.equal(fake.state.userCount(), 1);
  const secrets = [django, converted, refused, refused.split("$").pop() as string, "never-stored"];
  const files: string[] = [];
  async function walk(path: string): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else files.push(child);
    }
  }
  await walk(dir);
  assert.ok(files.some((file) => file.endsWith("journal.kv")), files.join(", "));
  for (const file of [...files, csv].filter((file) => file !== csv)) {
    const text = await readableText(file);
    for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} in ${file}`);
  }
  for (const secret of secrets) {
    assert.ok(!(result.stdout + result.stderr).includes(secret), "not printed");
  }
});
