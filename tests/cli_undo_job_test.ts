/**
 * Smaller holes, through the real CLI against the fake: credentials inside
 * `--api-url` are never stored or printed; `undo` takes the job's lock (a
 * second undo of the same job is refused), shows progress like an import,
 * and afterwards `jobs` and `status` say `undone`.
 */

import assert from "node:assert/strict";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { readableText, runCli, tempDir, tempFile } from "./_cli.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function envOf(fake: FakeWorkOS): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

async function bytesOfDir(dir: string): Promise<string> {
  let text = "";
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) {
      text += await readableText(`${dir}/${entry.name}`);
    }
  }
  return text;
}

Deno.test("credentials inside --api-url are never stored in the job or printed", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const checkpoints = ["--checkpoint-dir", `${dir}/checkpoints`];
  const url = fake.url.replace("http://", "http://ops:s3cr3t-pw@");
  const csv = await tempFile("email\nann@creds.test\nnot-an-email\n");
  const env = { WORKOS_SECRET_KEY: fake.apiKey };
  const runs = [
    await runCli(["--csv", csv, "--job-id", "creds", ...checkpoints, "--api-url", url], { env }),
    await runCli(["status", "creds", ...checkpoints, "--json"], { env }),
    await runCli(["--resume", "creds", ...checkpoints, "--api-url", url], { env }),
    await runCli(["--csv", csv, "--api-url", "http://ops:s3cr3t-pw@[bad"], { env }),
    await runCli(["undo", "creds", ...checkpoints, "--api-url", url], { env }),
  ];
  assert.equal(runs[0].code, 1, runs[0].stderr);
  assert.equal(runs[3].code, 2);
  assert.equal(runs[4].code, 0, runs[4].stderr);
  assert.match(
    runs[4].stdout,
    /✓ Deleted user user_\w+ \(ann@creds\.test\)/,
    "it reached the fake",
  );
  for (const run of runs) assert.doesNotMatch(run.stdout + run.stderr, /s3cr3t-pw/);
  // Not in the journal (with its write-ahead log), the error file or the audit log.
  assert.doesNotMatch(await bytesOfDir(`${dir}/checkpoints/creds`), /s3cr3t-pw/);
  assert.match(JSON.parse(runs[1].stdout).options.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

Deno.test("undo holds the job's lock, shows progress, and leaves the job undone", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const checkpoints = ["--checkpoint-dir", `${dir}/checkpoints`];
  const lines = ["email"];
  for (let n = 0; n < 36; n++) lines.push(`person${n}@undo-lock.test`);
  const imported = await runCli(
    ["--csv", await tempFile(lines.join("\n") + "\n"), "--job-id", "slow", ...checkpoints],
    { env: envOf(fake) },
  );
  assert.equal(imported.code, 0, imported.stderr);

  // Three deletes a second: a plain progress line comes after 10 s.
  const first = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      MAIN,
      "undo",
      "slow",
      ...checkpoints,
      "--rate-limit",
      "3",
      "--concurrency",
      "1",
      "--quiet",
    ],
    env: { ...envOf(fake), NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const deletes = () => fake.state.requestCounts["DELETE /user_management/users/:id"] ?? 0;
  const deadline = Date.now() + 20_000;
  while (deletes() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(deletes() > 0, "the first undo is at work");

  const second = await runCli(["undo", "slow", ...checkpoints], { env: envOf(fake) });
  assert.equal(second.code, 2, second.stdout + second.stderr);
  assert.match(
    second.stderr.trim(),
    /^Error: Cannot undo job "slow": another process is running it \(an import or an undo\): wait for it to end, then run undo again$/,
  );
  const resumed = await runCli(["--resume", "slow", ...checkpoints], { env: envOf(fake) });
  assert.equal(resumed.code, 2, "no import of the job while it is undone either");

  const output = await first.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(
    stderr,
    /^Progress: \d+\/36 \w+ \(\d+\.\d%\) \| [\d.]+ \w+\/s \| writes .* ETA /m,
  );
  assert.equal(fake.state.userCount(), 0);

  const status = await runCli(["status", "slow", ...checkpoints], { env: envOf(fake) });
  assert.match(status.stdout, /Status: undone/);
  assert.doesNotMatch(status.stdout, /Resume with/);
  const jobs = await runCli(["jobs", ...checkpoints], { env: envOf(fake) });
  assert.match(jobs.stdout, /^slow\s+undone\s/m);
  const again = await runCli(["--resume", "slow", ...checkpoints], { env: envOf(fake) });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /Cannot resume job "slow": it was undone/);
});
