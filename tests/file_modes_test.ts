/**
 * Files the tool writes hold emails, names and WorkOS ids: error files,
 * checkpoints and audit logs are created readable by their owner only
 * (0600, directories 0700), whatever the umask, and an existing file that
 * others could read is narrowed before anything is written to it.
 */

import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";

// Windows has no POSIX modes; its ACLs follow the user's profile directory.
const ignore = Deno.build.os === "windows";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

async function modeOf(path: string): Promise<string> {
  const mode = (await Deno.stat(path)).mode;
  assert.ok(mode !== null, `"${path}" has a mode`);
  return (mode & 0o777).toString(8).padStart(3, "0");
}

Deno.test({
  name: "error files are created 0600 in every format",
  ignore,
  fn: async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const csv = await tempFile("email\nok@mode.test\nnot-an-email\n");
    const dir = await tempDir();
    for (const name of ["errors.csv", "errors.json", "errors.jsonl"]) {
      const path = `${dir}/${name}`;
      const result = await runCli(["--csv", csv, "--quiet", "--errors-out", path], {
        env: envOf(fake),
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(await Deno.readTextFile(path), /not-an-email/);
      assert.equal(await modeOf(path), "600", name);
    }
  },
});

Deno.test({
  name: "an existing error file readable by others is narrowed to 0600",
  ignore,
  fn: async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const csv = await tempFile("email\nnot-an-email\n");
    const path = `${await tempDir()}/errors.csv`;
    await Deno.writeTextFile(path, "old content\n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const result = await runCli(["--csv", csv, "--quiet", "--errors-out", path], {
      env: envOf(fake),
    });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(await modeOf(path), "600");
    assert.doesNotMatch(await Deno.readTextFile(path), /old content/);
  },
});

Deno.test({
  name: "a checkpointed job's directory is 0700 and every file in it 0600",
  ignore,
  fn: async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const csv = await tempFile("email\nok@job.test\nnot-an-email\nalso@job.test\n");
    const checkpoints = `${await tempDir()}/checkpoints`;
    const result = await runCli(
      ["--csv", csv, "--quiet", "--job-id", "modes", "--checkpoint-dir", checkpoints],
      { env: envOf(fake) },
    );
    assert.equal(result.code, 1, result.stderr);
    const job = `${checkpoints}/modes`;
    assert.equal(await modeOf(checkpoints), "700");
    assert.equal(await modeOf(job), "700");
    const names = [];
    for await (const entry of Deno.readDir(job)) names.push(entry.name);
    // The journal, its error and audit files are all there, whatever SQLite added beside them.
    for (const expected of ["journal.kv", "errors.jsonl", "audit.jsonl.gz"]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
    }
    for (const name of names) assert.equal(await modeOf(`${job}/${name}`), "600", name);
    assert.match(await Deno.readTextFile(`${job}/errors.jsonl`), /not-an-email/);
    // Compressed, and read by any gzip reader.
    const audit = new TextDecoder().decode(
      gunzipSync(await Deno.readFile(`${job}/audit.jsonl.gz`)),
    );
    assert.match(audit, /ok@job\.test/);
  },
});

Deno.test({
  name: "an audit log is created 0600",
  ignore,
  fn: async () => {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const csv = await tempFile("email\naudited@mode.test\n");
    const path = `${await tempDir()}/audit.jsonl`;
    const result = await runCli(["--csv", csv, "--quiet", "--audit-out", path], {
      env: envOf(fake),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(await Deno.readTextFile(path), /audited@mode\.test/);
    assert.equal(await modeOf(path), "600");
  },
});
