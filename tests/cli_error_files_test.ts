/**
 * Error files you can feed back, through the real CLI against the fake: a
 * CSV error file has the input's columns (in a job too), its cells are
 * escaped against formula injection for spreadsheets, and fed back after a
 * fix it imports exactly the original values: the escape never reaches
 * WorkOS.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

// Two rows fail for their email; their other cells start with every
// character a spreadsheet runs as a formula, a tab, and an apostrophe.
const INPUT = [
  "email,first_name,last_name,external_id",
  `bad-a,=SUM(1;2),+44 20 7946,-ext-a`,
  `bad-b,@handle,"\tTabbed","'quoted"`,
  `good@feedback.test,=fine,Good,ext-good`,
].join("\n") + "\n";

const EXPECTED = {
  "a@feedback.test": { firstName: "=SUM(1;2)", lastName: "+44 20 7946", externalId: "-ext-a" },
  // Every text value is trimmed on import, fed back or not.
  "b@feedback.test": { firstName: "@handle", lastName: "Tabbed", externalId: "'quoted" },
};

for (const mode of ["plain", "job"] as const) {
  Deno.test(`a fixed CSV error file (${mode}) fed back imports the exact original values`, async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const dir = await tempDir();
    const errors = `${dir}/errors.csv`;
    const job = mode === "job"
      ? ["--job-id", "first", "--checkpoint-dir", `${dir}/checkpoints`]
      : [];
    const first = await runCli(["--csv", await tempFile(INPUT), ...job, "--errors-out", errors], {
      env: envOf(fake),
    });
    assert.equal(first.code, 1, first.stderr);
    assert.equal(fake.state.findUserByEmail("good@feedback.test")?.firstName, "=fine");

    const text = await Deno.readTextFile(errors);
    const [header, ...rows] = text.trim().split("\n");
    assert.match(header, /^email,first_name,last_name,external_id,recordNumber,errorType,/);
    assert.equal(rows.length, 2);
    // Safe to open in a spreadsheet: nothing starts a formula.
    assert.match(rows[0], /^bad-a,'=SUM\(1;2\),'\+44 20 7946,'-ext-a,1,validation,/);
    assert.match(rows[1], /^bad-b,'@handle,Tabbed,''quoted,2,validation,/);

    // The person fixing the file changes only the emails.
    const fixed = text.replace("bad-a,", "a@feedback.test,").replace("bad-b,", "b@feedback.test,");
    await Deno.writeTextFile(errors, fixed);
    const again = await runCli(
      ["--csv", errors, ...(mode === "job" ? ["--job-id", "again", job[2], job[3]] : [])],
      { env: envOf(fake) },
    );
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stderr, /Ignoring unknown columns/);
    for (const [email, expected] of Object.entries(EXPECTED)) {
      const user = fake.state.findUserByEmail(email);
      assert.ok(user, email);
      assert.deepEqual(
        { firstName: user.firstName, lastName: user.lastName, externalId: user.externalId },
        expected,
        email,
      );
    }
  });
}

Deno.test("an input that is not an error file keeps a leading apostrophe as written", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email,first_name\nann@feedback.test,'=kept\n");
  const result = await runCli(["--csv", csv], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fake.state.findUserByEmail("ann@feedback.test")?.firstName, "'=kept");
});
