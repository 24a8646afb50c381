/**
 * TOTP factors through the real CLI against the fake WorkOS: enrolled with
 * the row's secret once the user exists, exactly once under ghost successes
 * and SIGKILL/resume, a malformed secret refused as a row error, secrets in
 * no output, error file, audit log or checkpoint, and `undo` removing the
 * factors the import enrolled.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { killRepeatedly, readableText, runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" };
}

function secret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((byte) => BASE32[byte % 32]).join("");
}

/** Every file under `dir`, as text (binary files decoded loosely). */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      for (const [inner, text] of await filesUnder(path)) files.set(inner, text);
    } else if (entry.isFile) {
      files.set(path, await readableText(path));
    }
  }
  return files;
}

function assertNoSecrets(texts: Iterable<[string, string]>, secrets: string[]): void {
  for (const [where, text] of texts) {
    for (const value of secrets) assert.ok(!text.includes(value), `a TOTP secret in ${where}`);
  }
}

Deno.test("a TOTP factor is enrolled with the row's secret; a re-run enrolls nothing; a bad secret is a row error", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const good = secret();
  const other = secret();
  const csv = [
    "email,totp_secret,totp_issuer,totp_user",
    `ann@totp.test,${good.toLowerCase().match(/.{1,4}/g)?.join(" ")},,`,
    `bob@totp.test,${other},Bob's Bank,bob`,
    "cat@totp.test,not-base32!,,",
    "dan@totp.test,JBSWY3DP,,",
    "eve@totp.test,,,",
  ].join("\n") + "\n";
  const input = await tempFile(csv);
  const dir = await tempDir();
  const errorsOut = `${dir}/errors.csv`;
  const audit = `${dir}/audit.jsonl`;
  const result = await runCli(
    ["--csv", input, "--totp-issuer", "Acme", "--errors-out", errorsOut, "--audit-out", audit],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const ann = fake.state.findUserByEmail("ann@totp.test");
  const bob = fake.state.findUserByEmail("bob@totp.test");
  assert.ok(ann && bob);
  const [annFactor, ...moreAnn] = fake.state.authFactorsOfUser(ann.id);
  assert.equal(moreAnn.length, 0);
  assert.equal(annFactor.secret, good, "spaces and case normalized");
  assert.equal(annFactor.issuer, "Acme", "--totp-issuer is the default issuer");
  assert.equal(annFactor.user, "ann@totp.test");
  const [bobFactor] = fake.state.authFactorsOfUser(bob.id);
  assert.deepEqual([bobFactor.secret, bobFactor.issuer, bobFactor.user], [
    other,
    "Bob's Bank",
    "bob",
  ]);
  assert.match(result.stdout, /Row 1 ann@totp\.test: user created; TOTP factor enrolled/);

  const errors = await Deno.readTextFile(errorsOut);
  assert.match(
    errors,
    /Cannot import row 3: ""totp_secret"" is not Base32 \(letters A-Z and digits 2-7\): give the shared secret Base32-encoded/,
  );
  assert.match(
    errors,
    /Cannot import row 4: ""totp_secret"" is too short \(40 bits\): a TOTP secret has at least 80 bits \(16 Base32 characters\): export the full secret/,
  );
  assert.doesNotMatch(errors, /not-base32!|JBSWY3DP/, "the error file never holds a secret");
  assert.equal(
    fake.state.findUserByEmail("cat@totp.test"),
    undefined,
    "refused before any request",
  );
  assert.ok(fake.state.findUserByEmail("eve@totp.test"), "no valid row lost");
  const entries = await readAuditLog(audit);
  assert.deepEqual(
    entries.filter((entry) => entry.action === "totp_factor_enrolled").map((entry) => entry.id)
      .sort(),
    [annFactor.id, bobFactor.id].sort(),
  );
  assertNoSecrets(
    [["stdout", result.stdout], ["stderr", result.stderr], ["audit", JSON.stringify(entries)]],
    [good, other, good.toLowerCase()],
  );

  const enrolls = fake.state.requestCounts["POST /user_management/users/:id/auth_factors"];
  const again = await runCli(["--csv", input, "--quiet"], { env: envOf(fake) });
  assert.equal(again.code, 1, again.stderr);
  assert.equal(fake.state.requestCounts["POST /user_management/users/:id/auth_factors"], enrolls);
  assert.equal(fake.state.authFactorsOfUser(ann.id).length, 1);
  assert.equal(fake.state.authFactorsOfUser(bob.id).length, 1);
});

Deno.test("under ghost successes every existing user gets exactly one factor, and undo removes only those", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const secrets: string[] = [];
  const lines = ["email,totp_secret"];
  for (let i = 1; i <= 40; i++) {
    // Users from before the import: the factor enrolls are the only writes.
    fake.state.addUser({ email: `p${i}@totp.test`, createdAt: "2024-01-01" });
    secrets.push(secret());
    lines.push(`p${i}@totp.test,${secrets[i - 1]}`);
  }
  // A user who enrolled a factor before the import keeps it and gets no second one.
  const keeper = fake.state.addUser({ email: "keeper@totp.test", createdAt: "2024-01-01" });
  const kept = fake.state.addAuthFactor({ userId: keeper.id, createdAt: "2024-01-01" });
  lines.push(`keeper@totp.test,${secret()}`);
  fake.configure({ faults: { ghostRate: 0.4, ghostStyle: "both" }, seed: 7 });
  const checkpoints = await tempDir();
  const result = await runCli(
    [
      "--csv",
      await tempFile(lines.join("\n") + "\n"),
      "--job-id",
      "totp-ghosts",
      "--checkpoint-dir",
      checkpoints,
      "--max-retries",
      "10",
      "--request-timeout",
      "2",
      "--quiet",
      "--json",
    ],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  fake.configure({ faults: { ghostRate: 0 } });
  assert.ok(fake.state.faultCounts.ghost >= 5, `ghosts: ${fake.state.faultCounts.ghost}`);
  for (let i = 1; i <= 40; i++) {
    const user = fake.state.findUserByEmail(`p${i}@totp.test`);
    assert.ok(user);
    const factors = fake.state.authFactorsOfUser(user.id);
    assert.equal(factors.length, 1, `p${i}`);
    assert.equal(factors[0].secret, secrets[i - 1]);
  }
  // Each enroll reached the server once: a ghost's retry found the factor.
  assert.equal(fake.state.requestCounts["POST /user_management/users/:id/auth_factors"], 40);
  assertNoSecrets(await filesUnder(checkpoints), secrets);
  assertNoSecrets([["stdout", result.stdout], ["stderr", result.stderr]], secrets);

  assert.deepEqual(fake.state.authFactorsOfUser(keeper.id).map((factor) => factor.id), [kept.id]);
  const undone = await runCli(["undo", "totp-ghosts", "--checkpoint-dir", checkpoints], {
    env: envOf(fake),
  });
  assert.equal(undone.code, 0, undone.stdout + undone.stderr);
  assert.match(undone.stdout, /TOTP factors deleted: 40/);
  assert.equal(fake.state.userCount(), 41, "existing users stay");
  for (const user of fake.state.listUsers()) {
    const expected = user.id === keeper.id ? [kept.id] : [];
    assert.deepEqual(fake.state.authFactorsOfUser(user.id).map((f) => f.id), expected, user.email);
  }
});

Deno.test({
  name:
    "SIGKILL mid-import and resume: every user once with exactly one factor, secrets nowhere on disk",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fake = await startFakeWorkOS({
      rateLimits: false,
      latency: { fixedMs: 3, jitterMs: 4 },
      faults: { failureRate: 0.03, ghostRate: 0.05 },
      seed: 11,
    });
    const rows = 400;
    const secrets: string[] = [];
    const lines = ["email,org_external_id,org_name,totp_secret"];
    for (let i = 1; i <= rows; i++) {
      secrets.push(secret());
      lines.push(`u${i}@totp.test,org-${i % 3},Org ${i % 3},${secrets[i - 1]}`);
    }
    const dir = await tempDir();
    const csv = `${dir}/users.csv`;
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    const common = [
      "--checkpoint-dir",
      `${dir}/checkpoints`,
      "--concurrency",
      "6",
      "--rate-limit",
      "100000",
      "--chunk-size",
      "20",
      "--quiet",
      "--json",
    ];
    const kills = await killRepeatedly({
      sessions: 3,
      args: (session) => [
        ...(session === 0 ? ["--csv", csv, "--job-id", "totp-crash"] : ["--resume", "totp-crash"]),
        ...common,
      ],
      env: envOf(fake),
      progress: () => fake.state.totalRequests,
      killAt: () => ({ afterProgress: 150 }),
    });
    assert.equal(kills, 3, "every session was killed mid-run");
    assert.ok(fake.state.userCount() < rows);

    const final = await runCli(["--resume", "totp-crash", ...common], { env: envOf(fake) });
    assert.equal(final.code, 0, final.stderr);
    const summary = JSON.parse(final.stdout.trim().split("\n").at(-1) as string);
    assert.equal(summary.successes, rows);
    assert.equal(summary.usersCreated, rows);
    assert.equal(fake.state.userCount(), rows);
    for (let i = 1; i <= rows; i++) {
      const user = fake.state.findUserByEmail(`u${i}@totp.test`);
      assert.ok(user, `u${i}`);
      const factors = fake.state.authFactorsOfUser(user.id);
      assert.equal(factors.length, 1, `factors of u${i}`);
      assert.equal(factors[0].secret, secrets[i - 1]);
    }
    assert.ok(fake.state.faultCounts.ghost > 0);
    assertNoSecrets(await filesUnder(`${dir}/checkpoints`), secrets);

    // Every enrolled factor is in the job's audit log, so undo takes the tenant back.
    // Users whose create a SIGKILL cut off are marked uncertain (see docs/undo.md):
    // --include-uncertain takes them back too.
    const undone = await runCli(
      ["undo", "totp-crash", "--checkpoint-dir", `${dir}/checkpoints`, "--include-uncertain"],
      { env: envOf(fake) },
    );
    assert.equal(undone.code, 0, undone.stdout + undone.stderr);
    assert.equal(fake.state.userCount(), 0);
    assert.equal(fake.state.organizationCount(), 0);
  },
});
