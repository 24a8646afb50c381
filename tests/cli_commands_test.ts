/**
 * The CLI as a set of commands: each takes only its own flags, says which
 * flag was meant, and ends with the exit code its result or its typed error
 * carries. Input files it cannot use get one line and exit 2, in a dry run,
 * an import and `validate` alike.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { type CliResult, runCli, tempDir, tempFile } from "./_cli.ts";
import { runCommandLine } from "../src/cli/main.ts";
import type { CommandSpec } from "../src/cli/args.ts";
import { ExitCode, InputError, UsageError, UserError } from "../src/errors.ts";

/** No server listens here: a run that reaches the network fails another way. */
const OFFLINE = { WORKOS_SECRET_KEY: "sk_test_offline", WORKOS_API_URL: "http://127.0.0.1:9" };

function oneErrorLine(result: CliResult, label: string): string {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${label}: ${result.stderr}`);
  assert.equal(result.stdout, "", `${label}: nothing on stdout`);
  assert.match(lines[0], /^Error: /, label);
  assert.doesNotMatch(lines[0], /\bat .*\.ts:\d+/, `${label}: no stack`);
  return lines[0];
}

Deno.test("each command refuses another command's flag, with its own help", async () => {
  const cases: Array<[string[], string, string, string]> = [
    [["jobs", "--invite"], "--invite", "jobs", '"import" and "import-package"'],
    [
      ["validate", "x.csv", "--require-membership"],
      "--require-membership",
      "validate",
      '"import" and "import-package"',
    ],
    [["status", "job-1", "--csv", "x.csv"], "--csv", "status", '"import" and "validate"'],
    [
      ["clean", "job-1", "--dry-run"],
      "--dry-run",
      "clean",
      '"import" and "undo" and "import-package" and "roles"',
    ],
    [["undo", "job-1", "--invite"], "--invite", "undo", '"import" and "import-package"'],
    [["--csv", "x.csv", "--audit-file", "a.jsonl"], "--audit-file", "import", '"undo"'],
  ];
  for (const [args, flag, command, owners] of cases) {
    const result = await runCli(args, { env: OFFLINE });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    const [first, ...help] = result.stderr.trim().split("\n");
    assert.equal(
      first,
      `Error: Cannot use "${flag}" with the "${command}" command: it is a flag of ${owners}: see "workos-importer${
        command === "import" ? "" : ` ${command}`
      } --help"`,
    );
    // The command's own help follows, listing its flags and not the refused one.
    const text = help.join("\n");
    assert.match(text, /Usage:/);
    assert.match(text, /--help/);
    assert.doesNotMatch(text, new RegExp(`^\\s+${flag} `, "m"));
    assert.equal(result.stdout, "");
  }
});

Deno.test("a command's --help lists only its own flags", async () => {
  const validate = await runCli(["validate", "--help"]);
  assert.equal(validate.code, 0);
  assert.match(validate.stdout, /^workos-importer validate — check every row/);
  assert.match(validate.stdout, /--report <path>/);
  assert.doesNotMatch(validate.stdout, /--invite|--require-membership|--concurrency/);
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  for (const command of ["validate", "jobs", "status", "clean", "undo"]) {
    assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
  }
  assert.match(top.stdout, /--concurrency <n>/);
  assert.doesNotMatch(top.stdout, /--audit-file/);
  const clean = await runCli(["clean", "--help"]);
  assert.match(clean.stdout, /undo <job-id>\\?"? is impossible afterwards/);
});

Deno.test("unknown flags suggest the nearest, on the command's own flags first", async () => {
  const cases: Array<[string[], string]> = [
    [
      ["--csv", "x.csv", "--concurency", "5"],
      'Unknown flag "--concurency": did you mean "--concurrency"?',
    ],
    [["--csv", "x.csv", "--dryrun"], 'Unknown flag "--dryrun": did you mean "--dry-run"?'],
    [
      ["jobs", "--checkpoint-directory", "d"],
      'Unknown flag "--checkpoint-directory": did you mean "--checkpoint-dir"?',
    ],
    [
      ["validate", "x.csv", "--reprot", "r.json"],
      'Unknown flag "--reprot": did you mean "--report"?',
    ],
    [
      ["--csv", "x.csv", "--bogus"],
      'Unknown flag "--bogus": run "workos-importer --help" for the flags',
    ],
    [
      ["undo", "j", "--frobnicate"],
      'Unknown flag "--frobnicate": run "workos-importer undo --help" for the flags',
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { env: OFFLINE });
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(oneErrorLine(result, args.join(" ")), `Error: ${message}`);
  }
});

Deno.test("flag values are checked by our parser, never by Node's text", async () => {
  const cases: Array<[string[], string]> = [
    [
      ["--csv", "x.csv", "--concurrency", "-1"],
      'Cannot use "--concurrency": "-1" is not a whole number from 1 to 1000',
    ],
    [["--csv", "--dry-run"], 'Flag "--csv" needs a value: --csv <path|->'],
    [["--csv", "x.csv", "--rate-limit"], 'Flag "--rate-limit" needs a value: --rate-limit <n>'],
    [["--csv", "x.csv", "--quiet=yes"], 'Flag "--quiet" takes no value: write --quiet alone'],
    [
      ["--csv", "x.csv", "--delimiter", "ab"],
      'Cannot use "--delimiter": "ab" is not one separator character: give , ; | or tab',
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { env: OFFLINE });
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(oneErrorLine(result, args.join(" ")), `Error: ${message}`);
    assert.doesNotMatch(result.stderr, /ambiguous|XYZ|ERR_PARSE_ARGS/);
  }
});

Deno.test("files the import cannot use get one line and exit 2: dry run, import and validate alike", async () => {
  const dir = await tempDir();
  const files: Array<[string, string | Uint8Array, RegExp]> = [
    [
      dir,
      "",
      /^Error: Cannot read ".*" \(after --csv\): it is a directory: give a CSV or NDJSON file$/,
    ],
    [`${dir}/empty.csv`, "", /the file is empty: give a CSV file with an "email" header/],
    [
      `${dir}/header.csv`,
      "email,first_name\n",
      /it has a header but no rows: add a row per user below the header/,
    ],
    [
      `${dir}/semi.csv`,
      "email;first_name\na@x.test;A\n",
      /seems to separate columns with ";", not commas: add --delimiter ";"$/,
    ],
    [
      `${dir}/tab.csv`,
      "email\tfirst_name\na@x.test\tA\n",
      /seems to separate columns with tabs, not commas: add --delimiter tab$/,
    ],
    [
      `${dir}/pipe.csv`,
      "email|first_name\na@x.test|A\n",
      /seems to separate columns with "\|", not commas: add --delimiter "\|"$/,
    ],
    [
      `${dir}/binary.csv`,
      Deno.readFileSync(Deno.execPath()).subarray(0, 4096),
      /it is not text .*: give a CSV or NDJSON file$/,
    ],
  ];
  try {
    for (const [path, content, message] of files) {
      if (path !== dir) {
        if (typeof content === "string") await Deno.writeTextFile(path, content);
        else await Deno.writeFile(path, content);
      }
      for (
        const args of [
          ["--csv", path, "--dry-run"],
          ["--csv", path],
          ["--csv", path, "--job-id", "never-started", "--checkpoint-dir", `${dir}/jobs`],
          ["validate", path],
        ]
      ) {
        const result = await runCli(args, { env: OFFLINE });
        const label = args.join(" ");
        assert.equal(result.code, 2, `${label}: ${result.stderr}`);
        const line = oneErrorLine(result, label);
        if (args[0] === "validate" && path === dir) {
          assert.match(line, /it is a directory/);
        } else {
          assert.match(line, message, label);
        }
      }
    }
    // Nothing was started: no job directory was made for the bad files.
    await assert.rejects(Deno.stat(`${dir}/jobs/never-started`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--errors-out and --input errors name their own flag", async () => {
  const csv = await tempFile("email\nann@example.com\n");
  const missingDir = await runCli([
    "--csv",
    csv,
    "--errors-out",
    "/missing/dir/e.csv",
    "--dry-run",
  ]);
  assert.equal(missingDir.code, 2);
  assert.equal(
    oneErrorLine(missingDir, "errors-out"),
    'Error: Cannot write "/missing/dir/e.csv": its directory "/missing/dir" does not exist: create it or fix the path after --errors-out',
  );
  const missingInput = await runCli(["--input", "/missing.ndjson", "--dry-run"]);
  assert.equal(missingInput.code, 2);
  assert.equal(
    oneErrorLine(missingInput, "input"),
    'Error: Cannot find input file "/missing.ndjson": check the path after --input',
  );
  const missingCsv = await runCli(["--csv", "/missing.csv", "--dry-run"]);
  assert.match(oneErrorLine(missingCsv, "csv"), /check the path after --csv$/);
  await Deno.remove(csv);
});

Deno.test("--delimiter imports a ; or tab separated file", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
  const semi = await tempFile('email;first_name;last_name\nann@semi.test;Ann;"Lee; Jr"\n');
  const tab = await tempFile("email\tfirst_name\nbob@tab.test\tBob\n", ".tsv");
  const semiRun = await runCli(["--csv", semi, "--delimiter", ";", "--quiet"], { env });
  assert.equal(semiRun.code, 0, semiRun.stderr);
  const tabRun = await runCli(["--csv", tab, "--delimiter", "tab", "--quiet"], { env });
  assert.equal(tabRun.code, 0, tabRun.stderr);
  const ann = fake.state.findUserByEmail("ann@semi.test");
  assert.equal(ann?.firstName, "Ann");
  assert.equal(ann?.lastName, "Lee; Jr");
  assert.equal(fake.state.findUserByEmail("bob@tab.test")?.firstName, "Bob");
  const validated = await runCli(["validate", tab, "--delimiter", "\\t"]);
  assert.equal(validated.code, 0, validated.stderr);
  await Deno.remove(semi);
  await Deno.remove(tab);
});

Deno.test("exit codes 0, 1 and 2 come from the command's result and its typed error", async () => {
  const good = await tempFile("email\nann@example.com\n");
  const mixed = await tempFile("email\nann@example.com\nnot-an-email\n");
  const ok = await runCli(["--csv", good, "--dry-run", "--quiet"]);
  assert.equal(ok.code, ExitCode.Success, ok.stderr);
  const rowsFailed = await runCli(["--csv", mixed, "--dry-run", "--quiet"]);
  assert.equal(rowsFailed.code, ExitCode.Failure, rowsFailed.stderr);
  const usage = await runCli(["--csv", good, "--on-existing", "merge"]);
  assert.equal(usage.code, ExitCode.Usage);
  await Deno.remove(good);
  await Deno.remove(mixed);
});

Deno.test("runCommandLine() ends with the exit code the error carries, never one read from its text", async () => {
  const lines: string[] = [];
  const console = {
    log: (line: string) => lines.push(line),
    warn: (line: string) => lines.push(line),
    error: (line: string) => lines.push(line),
  };
  const throwing = (error: Error): CommandSpec => ({
    name: "import",
    summary: "",
    usage: [],
    flags: ["json"],
    run: () => Promise.reject(error),
  });
  const temporary = new UserError("Cannot reach WorkOS: it answered 503 for 5 minutes: run again", {
    exitCode: ExitCode.Temporary,
  });
  assert.equal(await runCommandLine([], [throwing(temporary)], console), 75);
  assert.deepEqual(lines, [`Error: ${temporary.message}`]);
  lines.length = 0;
  assert.equal(await runCommandLine([], [throwing(new InputError("Cannot read x"))], console), 2);
  assert.equal(await runCommandLine([], [throwing(new UsageError("Bad flag"))], console), 2);
  const interrupted = new UserError("Stopped", { exitCode: ExitCode.Interrupted });
  assert.equal(await runCommandLine([], [throwing(interrupted)], console), 130);
  // A plain error whose text reads like a user mistake is still a programmer error.
  lines.length = 0;
  const plain = new TypeError('Cannot find input file "x": check the path after --csv');
  assert.equal(await runCommandLine([], [throwing(plain)], console), ExitCode.Failure);
  assert.match(lines.join("\n"), /TypeError: Cannot find input file/);
  assert.match(lines.join("\n"), /\n\s+at /, "a programmer error keeps its stack");
  // With --json the error's code is in the JSON object as well.
  lines.length = 0;
  assert.equal(await runCommandLine(["--json"], [throwing(temporary)], console), 75);
  assert.deepEqual(JSON.parse(lines.at(-1) as string), {
    status: "error",
    exitCode: 75,
    error: temporary.message,
  });
  // A command's result is its exit code.
  const result: CommandSpec = { ...throwing(plain), run: () => Promise.resolve(1) };
  assert.equal(await runCommandLine([], [result], console), 1);
});

Deno.test("--json says an unusable input in one JSON object with the one-line message", async () => {
  const dir = await tempDir();
  try {
    for (const args of [["--csv", dir, "--dry-run", "--json"], ["validate", dir, "--json"]]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      const answer = JSON.parse(result.stdout);
      assert.equal(answer.status, "error");
      assert.equal(answer.exitCode, 2);
      assert.match(
        answer.error,
        /^Cannot (read|validate) .*it is a directory: give a CSV or NDJSON file$/,
      );
      assert.doesNotMatch(answer.error, /os error|IsADirectory/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
