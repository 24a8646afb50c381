/**
 * CI-friendly output: with `--json` stdout is exactly one JSON object with
 * the documented fields, whatever the outcome, and everything else goes to
 * stderr; the exit codes are the documented ones; and output that is not a
 * terminal, or has `NO_COLOR`, carries no colours and no live progress.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { runCliInterrupted } from "./_interrupted_cli.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const REFERENCE = new URL("../docs/cli.md", import.meta.url);

/** The fields of a summary, with their JSON types, as documented in docs/cli.md. */
const SUMMARY_FIELDS: Record<string, string> = {
  status: "string",
  totalRows: "number",
  successes: "number",
  failures: "number",
  usersCreated: "number",
  usersExisting: "number",
  usersUpdated: "number",
  membershipsCreated: "number",
  membershipsExisting: "number",
  organizationsCreated: "number",
  invitationsSent: "number",
  warnings: "number",
  cacheHits: "number",
  cacheMisses: "number",
  retries: "number",
  rateLimited: "number",
  durationMs: "number",
  dryRun: "boolean",
  errorsWritten: "number",
};

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

/** The one JSON object stdout must be. */
function parseStdout(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `stdout is one line:\n${stdout}`);
  const value = JSON.parse(lines[0]);
  assert.equal(typeof value, "object");
  return value;
}

function assertSummaryFields(summary: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(SUMMARY_FIELDS)) {
    assert.equal(typeof summary[field], type, `field "${field}"`);
  }
}

Deno.test("--json success: one object on stdout, per-row lines and the box on stderr, exit 0", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile(
    "email,org_external_id,org_name\na@json.test,acme,Acme\nb@json.test,acme,Acme\n",
  );
  const result = await runCli(["--csv", csv, "--json"], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stderr);
  const summary = parseStdout(result.stdout);
  assertSummaryFields(summary);
  assert.equal(summary.status, "success");
  assert.equal(summary.totalRows, 2);
  assert.equal(summary.successes, 2);
  assert.equal(summary.failures, 0);
  assert.equal(summary.usersCreated, 2);
  assert.equal(summary.membershipsCreated, 2);
  assert.equal(summary.organizationsCreated, 1);
  assert.equal(summary.dryRun, false);
  assert.equal(summary.errorsWritten, 0);
  assert.match(result.stderr, /✓ Row 1 a@json.test/);
  assert.match(result.stderr, /Status: Success/);
  assert.equal(fake.state.userCount(), 2);
});

Deno.test("--json partial failure: status completed_with_errors, exit 1, errors counted", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const csv = await tempFile("email\ngood@json.test\nnot-an-email\nalso-good@json.test\n");
  const result = await runCli(
    ["--csv", csv, "--json", "--quiet", "--errors-out", `${dir}/errors.jsonl`],
    { env: envOf(fake) },
  );
  assert.equal(result.code, 1, result.stderr);
  const summary = parseStdout(result.stdout);
  assertSummaryFields(summary);
  assert.equal(summary.status, "completed_with_errors");
  assert.equal(summary.totalRows, 3);
  assert.equal(summary.successes, 2);
  assert.equal(summary.failures, 1);
  assert.equal(summary.errorsWritten, 1);
  assert.equal(fake.state.userCount(), 2);
});

Deno.test("--json failure: every row failed is status failed, exit 1", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email\nnope\nnever\n");
  const result = await runCli(["--csv", csv, "--json", "--quiet"], { env: envOf(fake) });
  assert.equal(result.code, 1, result.stderr);
  const summary = parseStdout(result.stdout);
  assertSummaryFields(summary);
  assert.equal(summary.status, "failed");
  assert.equal(summary.successes, 0);
  assert.equal(summary.failures, 2);
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("--json failure before any row: status error with the exit code and the one-line message", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const csv = await tempFile("email\nann@json.test\n");
  const failed = await runCli(["--csv", csv, "--json", "--org-external-id", "missing"], {
    env: envOf(fake),
  });
  assert.equal(failed.code, 1);
  const error = parseStdout(failed.stdout);
  assert.deepEqual(Object.keys(error).sort(), ["error", "exitCode", "status"]);
  assert.equal(error.status, "error");
  assert.equal(error.exitCode, 1);
  assert.match(error.error as string, /^Organization not found: "missing"/);
  assert.equal(failed.stderr.trim(), `Error: ${error.error}`);

  const usage = await runCli(["--csv", csv, "--json", "--concurrency", "ten"], {
    env: envOf(fake),
  });
  assert.equal(usage.code, 2);
  const usageError = parseStdout(usage.stdout);
  assert.equal(usageError.status, "error");
  assert.equal(usageError.exitCode, 2);
  assert.match(usageError.error as string, /^Cannot use "--concurrency": "ten"/);

  const unknownFlag = await runCli(["--json", "--bogus"], { env: envOf(fake) });
  assert.equal(unknownFlag.code, 2);
  assert.equal(parseStdout(unknownFlag.stdout).exitCode, 2);
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("--json dry run: the summary carries the plan", async () => {
  const csv = await tempFile("email,org_external_id\na@plan.test,acme\nA@plan.test,beta\nbad\n");
  const result = await runCli(["--csv", csv, "--json", "--dry-run"]);
  assert.equal(result.code, 1, result.stderr);
  const summary = parseStdout(result.stdout);
  assertSummaryFields(summary);
  assert.equal(summary.dryRun, true);
  const plan = summary.plan as Record<string, number>;
  assert.equal(plan.validRows, 2);
  assert.equal(plan.invalidRows, 1);
  assert.equal(plan.distinctUsers, 1);
  assert.equal(plan.distinctOrganizations, 2);
});

Deno.test("--json interrupted: status interrupted, exit 130", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 50 } });
  const rows = Array.from({ length: 400 }, (_, i) => `stop${i}@json.test`);
  const csv = await tempFile(`email\n${rows.join("\n")}\n`);
  const result = await runCliInterrupted(["--csv", csv, "--json", "--quiet"], {
    env: envOf(fake),
    when: () => fake.state.userCount() >= 5,
  });
  assert.equal(result.code, 130, result.stderr);
  const summary = parseStdout(result.stdout);
  assertSummaryFields(summary);
  assert.equal(summary.status, "interrupted");
  assert.ok((summary.totalRows as number) < rows.length);
});

Deno.test("docs/cli.md documents every --json field and the exit codes", async () => {
  const readme = await Deno.readTextFile(REFERENCE);
  const section = readme.split(/^## JSON output and exit codes$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'docs/cli.md has a "JSON output and exit codes" section');
  for (const field of [...Object.keys(SUMMARY_FIELDS), "plan", "jobId", "exitCode", "error"]) {
    assert.match(section, new RegExp("`" + field + "`"), `docs/cli.md documents "${field}"`);
  }
  for (const code of ["0", "1", "2", "75", "130"]) {
    assert.match(
      section,
      new RegExp(`\\| ${code} +\\|`),
      `docs/cli.md documents exit code ${code}`,
    );
  }
});

/** Runs the CLI with a clean environment, so that `NO_COLOR` is set only when asked. */
async function runPlain(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const keep: Record<string, string> = {};
  for (
    const name of [
      "PATH",
      "HOME",
      "DENO_DIR",
      "XDG_CACHE_HOME",
      "TMPDIR",
      "SystemRoot",
      "USERPROFILE",
      "LOCALAPPDATA",
    ]
  ) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", "-A", MAIN, ...args],
    clearEnv: true,
    env: { ...keep, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("output that is not a terminal, or has NO_COLOR, has no colours and no live progress", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const rows = Array.from({ length: 300 }, (_, i) => `plain${i}@json.test`);
  const csv = await tempFile(`email\n${rows.join("\n")}\n`);
  for (const noColor of [undefined, "1"]) {
    const env: Record<string, string> = {
      ...envOf(fake),
      ...(noColor ? { NO_COLOR: noColor } : {}),
    };
    const result = await runPlain(["--csv", csv, "--quiet"], env);
    assert.equal(result.code, 0, result.stderr);
    // A live progress line starts with a carriage return; colours with ESC.
    for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
      assert.ok(!text.includes("\r"), `${name} has no carriage return (NO_COLOR=${noColor})`);
      assert.ok(!text.includes("\x1b"), `${name} has no escape sequence (NO_COLOR=${noColor})`);
    }
    assert.match(result.stdout, /Status: Success/);
  }
});
