/**
 * Least privilege, end to end: the real CLI under exactly the permissions
 * the README documents for each use works against the fake WorkOS, and with
 * any one of them taken away it stops before doing anything, with one line
 * naming the flag to add and exit code 2.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { SAMPLE_HASHES } from "./_password_hashes.ts";

interface Fake {
  url: string;
  apiKey: string;
  port: number;
}

/** A case of the matrix: the permissions that suffice, and what they are for. */
interface Case {
  name: string;
  args: string[];
  permissions: string[];
  stdin?: string;
  cwd?: string;
  /** The exit code with every permission (1 when a row is meant to fail). */
  code: number;
  /** Checks the end state of a run that worked. */
  check(fake: Awaited<ReturnType<typeof startFakeWorkOS>>): Promise<void> | void;
}

function envOf(fake: Fake): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

const ENV = "--allow-env=WORKOS_SECRET_KEY,WORKOS_API_URL";

/** The permission sets of the README, for a fake at `port`. */
async function cases(fake: Fake): Promise<Case[]> {
  const net = `--allow-net=127.0.0.1:${fake.port}`;
  const csv = await tempFile("email,first_name\nfile1@perm.test,File\nfile2@perm.test,File\n");
  const failing = await tempFile("email\nok@perm.test\nnot-an-email\n");
  const errorsDir = await tempDir();
  const errors = `${errorsDir}/errors.csv`;
  const checkpointCsv = await tempFile("email\njob1@perm.test\njob2@perm.test\n");
  const checkpoints = await tempDir();
  const oid = "5f7c8ec7c33c6c004bbafe82";
  const auth0Users = await tempFile(
    `{"user_id":"auth0|${oid}","email":"auth0@perm.test","email_verified":true}\n`,
    ".ndjson",
  );
  const auth0Hashes = await tempFile(
    `${
      JSON.stringify({
        _id: { $oid: oid },
        email: "auth0@perm.test",
        passwordHash: SAMPLE_HASHES.bcrypt,
      })
    }\n`,
    ".ndjson",
  );
  const firebaseUsers = await tempFile(
    '{"users":[{"localId":"fb-perm","email":"firebase@perm.test","passwordHash":"aGFzaA==","salt":"c2FsdA=="}]}\n',
    ".json",
  );
  const hashConfig = await tempFile(
    "hash_config {\n  algorithm: SCRYPT,\n  base64_signer_key: a2V5,\n  base64_salt_separator: Bw==,\n  rounds: 8,\n  mem_cost: 14,\n}\n",
    ".txt",
  );
  const mappedCsv = await tempFile("mail,given\nmapped@perm.test,Mapped\n");
  const mapFile = await tempFile("mail=email\ngiven=first_name\n", ".txt");
  return [
    {
      name: "a CSV file",
      args: ["--csv", csv, "--quiet"],
      permissions: [net, ENV, `--allow-read=${csv}`],
      code: 0,
      check: (state) => {
        assert.ok(state.state.findUserByEmail("file1@perm.test"));
        assert.ok(state.state.findUserByEmail("file2@perm.test"));
      },
    },
    {
      name: "standard input, no read permission at all",
      args: ["--csv", "-", "--quiet"],
      permissions: [net, ENV],
      stdin: "email\nstdin@perm.test\n",
      code: 0,
      check: (state) => assert.ok(state.state.findUserByEmail("stdin@perm.test")),
    },
    {
      name: "an error file, write on that file only",
      args: ["--csv", failing, "--quiet", "--errors-out", errors],
      permissions: [net, ENV, `--allow-read=${failing}`, `--allow-write=${errors}`],
      code: 1,
      check: async (state) => {
        assert.ok(state.state.findUserByEmail("ok@perm.test"));
        const text = await Deno.readTextFile(errors);
        assert.match(text, /not-an-email/);
      },
    },
    {
      name: "a checkpointed job, read and write on the checkpoint directory only",
      args: [
        "--csv",
        checkpointCsv,
        "--quiet",
        "--job-id",
        "perm-job",
        "--checkpoint-dir",
        checkpoints,
      ],
      permissions: [
        net,
        ENV,
        `--allow-read=${checkpointCsv},${checkpoints}`,
        `--allow-write=${checkpoints}`,
      ],
      code: 0,
      check: async (state) => {
        assert.ok(state.state.findUserByEmail("job1@perm.test"));
        assert.ok((await Deno.stat(`${checkpoints}/perm-job/journal.kv`)).isFile);
      },
    },
    {
      name: "Auth0 with --password-hashes, read on the export and the hashes file",
      args: ["--from", "auth0", "--input", auth0Users, "--password-hashes", auth0Hashes, "--quiet"],
      permissions: [net, ENV, `--allow-read=${auth0Users},${auth0Hashes}`],
      code: 0,
      check: (state) => {
        assert.equal(state.state.findUserByEmail("auth0@perm.test")?.passwordHashType, "bcrypt");
      },
    },
    {
      name: "Firebase with --hash-config, read on the export and the hash config",
      args: [
        "--from",
        "firebase",
        "--input",
        firebaseUsers,
        "--hash-config",
        hashConfig,
        "--quiet",
      ],
      permissions: [net, ENV, `--allow-read=${firebaseUsers},${hashConfig}`],
      code: 0,
      check: (state) => {
        const user = state.state.findUserByEmail("firebase@perm.test");
        assert.equal(user?.passwordHashType, "firebase-scrypt");
      },
    },
    {
      name: "a --map file, read on the input and the mapping file",
      args: ["--csv", mappedCsv, "--map", mapFile, "--quiet"],
      permissions: [net, ENV, `--allow-read=${mappedCsv},${mapFile}`],
      code: 0,
      check: (state) => {
        assert.equal(state.state.findUserByEmail("mapped@perm.test")?.firstName, "Mapped");
      },
    },
  ];
}

/** Every set with one permission taken away (or narrowed), and the flag the message must name. */
interface Removal {
  name: string;
  permissions: string[];
  flag: string;
}

function removals(permissions: string[]): Removal[] {
  const result: Removal[] = [];
  for (const [index, permission] of permissions.entries()) {
    const [flag, value] = permission.split("=");
    const others = permissions.filter((_, i) => i !== index);
    const values = value.split(",");
    if (values.length === 1) {
      result.push({ name: `without ${permission}`, permissions: others, flag: permission });
      continue;
    }
    // A list loses one item at a time: each item is needed on its own.
    for (const [i, item] of values.entries()) {
      const rest = values.filter((_, j) => j !== i);
      result.push({
        name: `without ${item} in ${flag}`,
        permissions: [
          ...others.slice(0, index),
          `${flag}=${rest.join(",")}`,
          ...others.slice(index),
        ],
        flag: `${flag}=${item}`,
      });
    }
  }
  return result;
}

Deno.test("each documented permission set works, and each permission removed is one line naming its flag", async (t) => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  for (const testCase of await cases(fake)) {
    await t.step(
      `${testCase.name}: works under exactly ${testCase.permissions.join(" ")}`,
      async () => {
        const result = await runCli(testCase.args, {
          env: envOf(fake),
          permissions: testCase.permissions,
          stdin: testCase.stdin,
        });
        assert.equal(result.code, testCase.code, result.stderr);
        assert.doesNotMatch(result.stderr, /Missing permission|NotCapable|\n\s+at /);
        await testCase.check(fake);
      },
    );
    for (const removal of removals(testCase.permissions)) {
      await t.step(`${testCase.name}: ${removal.name}`, async () => {
        const users = fake.state.userCount();
        const result = await runCli(testCase.args, {
          env: envOf(fake),
          permissions: removal.permissions,
          stdin: testCase.stdin,
        });
        assert.equal(result.code, 2, result.stdout + result.stderr);
        const lines = result.stderr.trim().split("\n");
        assert.equal(lines.length, 1, result.stderr);
        const access = removal.flag.replace(/^--allow-(\w+)=(.*)$/, '$1 access to "$2"');
        assert.equal(lines[0], `Error: Missing permission: ${access}: add ${removal.flag}`);
        // It stopped before doing anything.
        assert.equal(fake.state.userCount(), users);
      });
    }
  }
});

Deno.test("a dry run needs read of its input and nothing else", async () => {
  const csv = await tempFile("email\ndry@perm.test\n");
  const result = await runCli(["--csv", csv, "--dry-run", "--quiet"], {
    env: { WORKOS_API_URL: "http://127.0.0.1:9" },
    permissions: [`--allow-read=${csv}`],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Dry run: no WorkOS API call will be made/);
  const piped = await runCli(["--csv", "-", "--dry-run", "--quiet"], {
    permissions: [],
    stdin: "email\ndry@perm.test\n",
  });
  assert.equal(piped.code, 0, piped.stderr);
});

Deno.test("the key in .env needs read of .env, and no env access beyond the two variables", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  // Other variables in .env must not need --allow-env of their own.
  await Deno.writeTextFile(`${dir}/.env`, `OTHER_TOOL_TOKEN=x\nWORKOS_SECRET_KEY=${fake.apiKey}\n`);
  await Deno.writeTextFile(`${dir}/users.csv`, "email\ndotenv@perm.test\n");
  const permissions = [
    `--allow-net=127.0.0.1:${fake.port}`,
    ENV,
    "--allow-read=users.csv,.env",
  ];
  const result = await runCli(["--csv", "users.csv", "--quiet"], {
    cwd: dir,
    env: { WORKOS_API_URL: fake.url },
    permissions,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(fake.state.findUserByEmail("dotenv@perm.test"));

  const unread = await runCli(["--csv", "users.csv", "--quiet"], {
    cwd: dir,
    env: { WORKOS_API_URL: fake.url },
    permissions: permissions.slice(0, 2).concat("--allow-read=users.csv"),
  });
  assert.equal(unread.code, 2);
  assert.equal(
    unread.stderr.trim(),
    "Error: WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file, or use --dry-run: .env was not read: add --allow-read=.env",
  );
});

Deno.test("with the key in the environment, .env is never read", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/.env`, "WORKOS_SECRET_KEY=sk_wrong\n");
  await Deno.writeTextFile(`${dir}/users.csv`, "email\nenvfirst@perm.test\n");
  const result = await runCli(["--csv", "users.csv", "--quiet"], {
    cwd: dir,
    env: envOf(fake),
    permissions: [`--allow-net=127.0.0.1:${fake.port}`, ENV, "--allow-read=users.csv"],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(fake.state.findUserByEmail("envfirst@perm.test"));
});

Deno.test("the files that say how to read the input are checked up front, named as given", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const dir = await tempDir();
  const oid = "5f7c8ec7c33c6c004bbafe82";
  await Deno.writeTextFile(
    `${dir}/users.ndjson`,
    `{"user_id":"auth0|${oid}","email":"rel@perm.test"}\n`,
  );
  await Deno.writeTextFile(
    `${dir}/hashes.ndjson`,
    `${JSON.stringify({ _id: { $oid: oid }, passwordHash: SAMPLE_HASHES.bcrypt })}\n`,
  );
  await Deno.writeTextFile(
    `${dir}/fb.json`,
    '{"users":[{"localId":"x","email":"fb@perm.test"}]}\n',
  );
  await Deno.writeTextFile(`${dir}/hash_config.txt`, "rounds: 8\n");
  await Deno.writeTextFile(`${dir}/columns.txt`, "user_id=external_id\n");
  const runs: Array<[string[], string, string]> = [
    [
      ["--from", "auth0", "--input", "users.ndjson", "--password-hashes", "hashes.ndjson"],
      "users.ndjson",
      "hashes.ndjson",
    ],
    [
      ["--from", "firebase", "--input", "fb.json", "--hash-config", "hash_config.txt"],
      "fb.json",
      "hash_config.txt",
    ],
    [
      ["--from", "auth0", "--input", "users.ndjson", "--map", "columns.txt"],
      "users.ndjson",
      "columns.txt",
    ],
  ];
  for (const [args, input, missing] of runs) {
    const result = await runCli(
      [...args, "--job-id", "rel", "--checkpoint-dir", "jobs", "--errors-out", "errors.csv"],
      {
        cwd: dir,
        env: envOf(fake),
        permissions: [
          `--allow-net=127.0.0.1:${fake.port}`,
          ENV,
          `--allow-read=${input},jobs`,
          "--allow-write=jobs,errors.csv",
        ],
      },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      `Error: Missing permission: read access to "${missing}": add --allow-read=${missing}`,
    );
    // Refused before anything was written or sent.
    await assert.rejects(Deno.stat(`${dir}/jobs`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dir}/errors.csv`), Deno.errors.NotFound);
  }
  assert.equal(fake.state.totalRequests, 0);
});
