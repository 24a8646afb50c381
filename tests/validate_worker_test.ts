/**
 * The validate worker (src/pipeline/_validate_worker_client.ts): a CSV or
 * NDJSON file read and validated on the second core gives a dry run and
 * `validate` exactly what the in-thread path gives — summary, plan counts,
 * error file, warnings, report, exit code — on awkward inputs, with `--map`
 * and `--delimiter`, with the organization flags; standard input stays
 * in-thread; and a worker that fails ends the run with one line, never a
 * hang or a stack trace.
 */

import assert from "node:assert/strict";
import { UserError } from "../src/errors.ts";
import { importUsers } from "../src/pipeline/import_users.ts";
import { validateFile } from "../src/pipeline/validate_file.ts";
import {
  validateWorkerSettings,
  validateWorkerStats,
} from "../src/pipeline/_validate_worker_client.ts";
import { runCli, tempDir } from "./_cli.ts";
import { failingWorkerModule, READ_WORKER_VARIABLE, withVariables } from "./_workers.ts";

const ON = { WORKOS_IMPORTER_READ_WORKER: "on" };
const OFF = { WORKOS_IMPORTER_READ_WORKER: "off" };

/**
 * A multi-organization CSV of `rows` rows with something odd every few
 * rows: bad emails, duplicates in one organization and in two, bad and
 * escaped metadata, values to trim, quoted commas and line breaks, non-ASCII
 * names, organization ids and names, bad booleans, control characters, rows
 * with too many fields, passwords (never in an error file), an unknown
 * column; CRLF line ends and a byte order mark.
 */
function awkwardCsv(rows: number, separator = ","): string {
  const header = [
    "email",
    "first_name",
    "last_name",
    "org_external_id",
    "org_id",
    "org_name",
    "metadata",
    "email_verified",
    "password",
    "team",
  ];
  const lines = [header.join(separator)];
  const quote = (value: string) =>
    /[",\r\n;]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  for (let i = 1; i <= rows; i++) {
    let email = `user${i}@example.com`;
    let first = `First${i}`;
    let last = `Last${i}`;
    let org = `org-${i % 37}`;
    let orgId = "";
    const orgName = i % 41 === 0 ? `Org ${i % 37}, Inc.` : "";
    let metadata = "";
    let verified = i % 2 === 0 ? "true" : "";
    const password = i % 43 === 0 ? "correct horse battery staple" : "";
    if (i % 97 === 0) email = `not-an-email-${i}`;
    if (i % 101 === 0) email = `USER${i - 74}@Example.com`;
    if (i % 103 === 0) {
      email = `user${i - 60}@example.com`;
      org = `org-other-${i % 5}`;
    }
    if (i % 53 === 0) metadata = `{"plan":"pro","seat":"${i}"}`;
    if (i % 59 === 0) metadata = "{bad";
    if (i % 61 === 0) first = `  Ada ${i}  `;
    if (i % 67 === 0) last = `Smith, Jr.\r\nIII`;
    if (i % 71 === 0) first = `Zoë Ünicode ${i}`;
    if (i % 73 === 0) {
      org = "";
      orgId = `org_01H945H0YD4F97JN9MATX${String(i % 7).padStart(4, "0")}`;
    }
    if (i % 79 === 0) verified = "maybe";
    if (i % 83 === 0) first = `Bell\u0007${i}`;
    const fields = [
      email,
      first,
      last,
      org,
      orgId,
      orgName,
      metadata,
      verified,
      password,
      `t${i % 3}`,
    ].map(quote);
    if (i % 89 === 0) fields.push("extra");
    lines.push(fields.join(separator));
    if (i % 500 === 0) lines.push("");
  }
  return `\ufeff${lines.join("\r\n")}\r\n`;
}

/** An NDJSON file with malformed lines, unknown fields and duplicates. */
function awkwardNdjson(rows: number): string {
  const lines: string[] = [];
  for (let i = 1; i <= rows; i++) {
    if (i % 97 === 0) {
      lines.push(`{"email": "broken${i}@example.com", `);
      continue;
    }
    const user: Record<string, unknown> = {
      email: i % 101 === 0 ? `USER${i - 39}@example.com` : `user${i}@example.com`,
      first_name: i % 71 === 0 ? `Zoë ${i}` : `First${i}`,
      org_external_id: `org-${i % 13}`,
    };
    if (i % 53 === 0) user.metadata = { plan: "pro", n: String(i) };
    if (i % 59 === 0) user.metadata = { nested: { no: true } };
    if (i % 61 === 0) user.favourite_colour = "green";
    if (i % 79 === 0) user.email_verified = "maybe";
    lines.push(JSON.stringify(user));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A run's output as two lists in order: the warnings, and every other line.
 * A row's warnings are told as the plan admits it and its result line as
 * its batch of outcomes is written, so the two interleave as the stages
 * happen to run (from a pipe as from a file, in-thread too); each list's
 * order is the run's.
 */
function kinds(text: string): { warnings: string[]; lines: string[] } {
  const all = text.split("\n");
  return {
    warnings: all.filter((line) => line.startsWith("Warning:")),
    lines: all.filter((line) => !line.startsWith("Warning:")),
  };
}

/**
 * The output of a run without what changes from run to run: durations,
 * times, its own paths (`w/` for the worker's files, `t/` for the thread's:
 * as long, since the summary box pads them).
 */
function steady(text: string, dir: string): string {
  return text
    .replaceAll(`${dir}/w/`, `${dir}/t/`)
    .replace(/"durationMs":\d+/g, '"durationMs":0')
    .replace(/Duration: [^│\n]*/g, "Duration:")
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>");
}

interface Case {
  name: string;
  file: string;
  text: string;
  /** Arguments after the input's. */
  flags?: string[];
}

const CASES: Case[] = [
  { name: "an awkward multi-organization CSV", file: "users.csv", text: awkwardCsv(6_000) },
  {
    name: "a CSV with --map and --delimiter ;",
    file: "users.txt",
    text: awkwardCsv(3_000, ";").replace("email;first_name", "E-Mail;Vorname"),
    flags: [
      "--format",
      "csv",
      "--delimiter",
      ";",
      "--map",
      "e-mail=email",
      "--map",
      "vorname=first_name",
    ],
  },
  {
    name: "an NDJSON file with malformed lines and unknown fields",
    file: "users.ndjson",
    text: awkwardNdjson(5_000),
  },
  {
    name: "a CSV for one organization (--org-external-id)",
    file: "users.csv",
    text: awkwardCsv(2_000),
    flags: ["--org-external-id", "acme"],
  },
];

for (const { name, file, text, flags = [] } of CASES) {
  Deno.test(`${name}: the dry run and validate print what the in-thread path prints`, async () => {
    const dir = await tempDir();
    try {
      const input = `${dir}/${file}`;
      await Deno.writeTextFile(input, text);
      await Deno.mkdir(`${dir}/w`);
      await Deno.mkdir(`${dir}/t`);
      const inputFlag = file.endsWith(".ndjson") ? "--input" : "--csv";
      for (const json of [false, true]) {
        const dry = (env: Record<string, string>, side: string) =>
          runCli([
            inputFlag,
            input,
            ...flags,
            "--dry-run",
            ...(json ? ["--json"] : []),
            "--errors-out",
            `${dir}/${side}/errors.csv`,
          ], { env });
        const off = await dry(OFF, "t");
        const on = await dry(ON, "w");
        assert.equal(on.code, off.code, on.stderr);
        assert.equal(steady(on.stdout, dir), steady(off.stdout, dir));
        assert.deepEqual(kinds(steady(on.stderr, dir)), kinds(steady(off.stderr, dir)));
        const errors = steady(await Deno.readTextFile(`${dir}/t/errors.csv`), dir);
        assert.ok(errors.split("\n").length > 20, "the file has row errors");
        assert.ok(!errors.includes("correct horse"), "no password in the error file");
        assert.equal(steady(await Deno.readTextFile(`${dir}/w/errors.csv`), dir), errors);
      }
      const validateFlags = flags.filter((flag) => flag !== "--org-external-id" && flag !== "acme");
      const organization = flags.includes("--org-external-id") ? ["--org-external-id", "acme"] : [];
      const validate = (env: Record<string, string>, side: string) =>
        runCli([
          "validate",
          input,
          ...validateFlags,
          ...organization,
          "--report",
          `${dir}/${side}/report.json`,
        ], { env });
      const off = await validate(OFF, "t");
      const on = await validate(ON, "w");
      assert.equal(off.code, 1, off.stderr);
      assert.equal(on.code, off.code, on.stderr);
      assert.equal(steady(on.stdout, dir), steady(off.stdout, dir));
      assert.equal(steady(on.stderr, dir), steady(off.stderr, dir));
      const report = await Deno.readTextFile(`${dir}/t/report.json`);
      assert.match(report, /"duplicate_rows": [1-9]/);
      assert.match(report, /"warning": /);
      assert.equal(
        steady(await Deno.readTextFile(`${dir}/w/report.json`), dir),
        steady(report, dir),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("standard input is validated in-thread and gives what the file gives in the worker", async () => {
  const dir = await tempDir();
  try {
    const text = awkwardCsv(2_000);
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, text);
    const fromFile = await runCli(["--csv", input, "--dry-run", "--json"], { env: ON });
    const fromStdin = await runCli(["--csv", "-", "--dry-run", "--json"], { env: ON, stdin: text });
    assert.equal(fromStdin.code, fromFile.code, fromStdin.stderr);
    assert.equal(steady(fromStdin.stdout, dir), steady(fromFile.stdout, dir));
    assert.deepEqual(kinds(steady(fromStdin.stderr, dir)), kinds(steady(fromFile.stderr, dir)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `fn` with every file validated in a worker (or none), then restores the setting. */
async function withWorker<T>(minBytes: number, fn: () => Promise<T>): Promise<T> {
  const before = validateWorkerSettings.minBytes;
  validateWorkerSettings.minBytes = minBytes;
  try {
    // The size decides, whatever the environment says (`on` would validate every file in a worker).
    const setting = minBytes === Infinity ? "off" : undefined;
    return await withVariables({ [READ_WORKER_VARIABLE]: setting }, fn);
  } finally {
    validateWorkerSettings.minBytes = before;
  }
}

Deno.test("in process: validateFile and a dry run through the worker give the in-thread results", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, awkwardCsv(4_000));
    const here = await withWorker(Infinity, () => validateFile(input));
    const opened = validateWorkerStats.opened;
    const there = await withWorker(0, () => validateFile(input));
    assert.equal(validateWorkerStats.opened, opened + 1, "validated in the worker");
    assert.deepEqual(there, here);
    assert.ok(here.errors.length > 50 && here.duplicate_rows > 10);

    const rows = (result: Awaited<ReturnType<typeof importUsers>>) => {
      const { durationMs: _durationMs, ...rest } = result;
      return rest;
    };
    const dryHere = await withWorker(Infinity, () => importUsers(input, { dryRun: true }));
    const dryThere = await withWorker(0, () => importUsers(input, { dryRun: true }));
    assert.equal(validateWorkerStats.opened, opened + 2, "planned from the worker");
    assert.deepEqual(rows(dryThere), rows(dryHere));
    assert.equal(validateWorkerStats.running, 0, "every worker ended with its file");
    assert.ok((dryHere.plan?.duplicateRows ?? 0) > 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in process: a file the worker cannot open fails with the in-thread message", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, "name,team\nAda,x\n");
    const here = await withWorker(Infinity, () => validateFile(input)).catch((error) => error);
    const there = await withWorker(0, () => validateFile(input)).catch((error) => error);
    assert.ok(here instanceof UserError, String(here));
    assert.ok(there instanceof UserError, String(there));
    assert.equal(there.constructor, here.constructor);
    assert.equal(there.message, here.message);
    assert.equal(there.exitCode, here.exitCode);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A worker module that fails as `how` says: `at once` (before it opens the
 * file), `defect` (an error nothing catches, after its first batch) or
 * `crash` (the same error thrown past the host's own handlers).
 */
async function failingWorker(dir: string, how: "at once" | "defect" | "crash"): Promise<URL> {
  const module = `${dir}/failing_worker.js`;
  if (how === "at once") {
    await Deno.writeTextFile(module, `throw new Error("no worker here");\n`);
    return new URL(`file://${module}`);
  }
  return await failingWorkerModule(module, {
    host: new URL("../src/pipeline/_validate_worker_host.ts", import.meta.url),
    serve: "serveValidation",
    batches: 1,
    fails: "thrown",
    listeners: how === "defect",
    who: "worker",
  });
}

/** Runs `fn` with the worker module at `module`, for every file. */
async function withModule<T>(module: URL, fn: () => Promise<T>): Promise<T> {
  const before = validateWorkerSettings.module;
  validateWorkerSettings.module = module;
  try {
    return await withWorker(0, fn);
  } finally {
    validateWorkerSettings.module = before;
  }
}

for (const how of ["defect", "crash"] as const) {
  Deno.test(`in process: a worker that fails mid-file (${how}) ends the run with one line, no hang`, async () => {
    const dir = await tempDir();
    try {
      const input = `${dir}/users.csv`;
      await Deno.writeTextFile(input, awkwardCsv(8_000));
      const module = await failingWorker(dir, how);
      const runs: Array<() => Promise<unknown>> = [
        () => validateFile(input),
        () => importUsers(input, { dryRun: true }),
      ];
      for (const run of runs) {
        const error = await withModule(module, run).then(
          () => assert.fail("the run ended without the worker's error"),
          (error) => error,
        );
        assert.ok(error instanceof UserError, String(error?.stack ?? error));
        assert.equal(error.exitCode, 1);
        assert.equal(error.message.split("\n").length, 1, error.message);
        assert.match(error.message, /the validate worker stopped \(.*worker ran out of luck\)/);
        assert.match(error.message, /WORKOS_IMPORTER_READ_WORKER=off/);
        assert.equal(validateWorkerStats.running, 0, "the failed worker was ended");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the CLI: a worker defect mid-file is one line on stderr, exit 1, no stack", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    const rows = Array.from({ length: 40_000 }, (_, i) => `user${i}@example.com,First${i}`);
    await Deno.writeTextFile(input, `email,first_name\n${rows.join("\n")}\n`);
    const module = await failingWorker(dir, "defect");
    const settings = new URL("../src/pipeline/_validate_worker_client.ts", import.meta.url).href;
    const main = new URL("../src/cli/main.ts", import.meta.url).href;
    for (const args of [["validate", input], ["--csv", input, "--dry-run", "--quiet"]]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          [
            `import { validateWorkerSettings } from ${JSON.stringify(settings)};`,
            `import { main } from ${JSON.stringify(main)};`,
            `validateWorkerSettings.module = new URL(${JSON.stringify(module.href)});`,
            `Deno.exit(await main(${JSON.stringify(args)}));`,
          ].join("\n"),
        ],
        // In the worker whatever this process's environment says.
        env: { NO_COLOR: "1", ...ON },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /^Error: Cannot validate ".*": the validate worker stopped/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in process: a worker that cannot start leaves the file to the in-thread path", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, awkwardCsv(1_000));
    const here = await withWorker(Infinity, () => validateFile(input));
    const opened = validateWorkerStats.opened;
    const there = await withModule(await failingWorker(dir, "at once"), () => validateFile(input));
    assert.equal(validateWorkerStats.opened, opened, "no worker opened the file");
    assert.deepEqual(there, here);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in process: a dry run stopped mid-file ends its worker and reports the rows it planned", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, awkwardCsv(20_000));
    const stop = new AbortController();
    let rows = 0;
    const opened = validateWorkerStats.opened;
    const result = await withWorker(0, () =>
      importUsers(input, {
        dryRun: true,
        stop: stop.signal,
        onRow: () => {
          if (++rows === 300) stop.abort();
        },
      }));
    assert.equal(validateWorkerStats.opened, opened + 1);
    assert.equal(result.interrupted, true);
    assert.ok(result.totalRows >= 300 && result.totalRows < 20_000, String(result.totalRows));
    // A worker left running would keep a library's process alive.
    assert.equal(validateWorkerStats.running, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in process: a dry run that fails before its first row ends its worker", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, awkwardCsv(2_000));
    const opened = validateWorkerStats.opened;
    const error = await withWorker(
      0,
      () => importUsers(input, { dryRun: true, errorsOut: `${dir}/no/such/dir/errors.csv` }),
    ).catch((error) => error);
    assert.ok(error instanceof Error, String(error));
    assert.equal(validateWorkerStats.opened, opened + 1);
    assert.equal(validateWorkerStats.running, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the worker needs no permission the command lacks: read of everything, or in-thread with read of the input only", async () => {
  const dir = await tempDir();
  try {
    const input = `${dir}/users.csv`;
    await Deno.writeTextFile(input, awkwardCsv(3_000));
    const env = "--allow-env=WORKOS_IMPORTER_READ_WORKER";
    for (const args of [["--csv", input, "--dry-run", "--json"], ["validate", input, "--json"]]) {
      const reference = await runCli(args, { env: OFF });
      // May read any file: the worker loads its modules and reads the file with these alone.
      const everything = await runCli(args, { env: ON, permissions: ["--allow-read", env] });
      // May read the input only: validated in-thread, as without the variable.
      const inputOnly = await runCli(args, {
        env: ON,
        permissions: [`--allow-read=${input}`, env],
      });
      for (const run of [everything, inputOnly]) {
        assert.equal(run.code, reference.code, run.stderr);
        assert.equal(steady(run.stdout, dir), steady(reference.stdout, dir));
        assert.deepEqual(kinds(steady(run.stderr, dir)), kinds(steady(reference.stderr, dir)));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
