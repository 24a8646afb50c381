/**
 * Import throughput: the real CLI imports 5,000 users into 100
 * organizations (each row: a user and a membership; each organization
 * looked up and created once) against the fake with rate limits off and no
 * added latency, so only the importer (and the machine) sets the pace.
 * Reported: users/s, the importer's peak RSS, and — the floor — a bare
 * `fetch` loop in its own process sending the same requests (each
 * organization created, then per row a user create and a membership create
 * with its role) at the same concurrency to the same fake, timed the same
 * way (first request to last answer). `vsBare` is the importer's share of
 * what the bare loop reaches; it is what shows a slower pipeline, whatever
 * the machine's load. Target: at least 250 users/s at every concurrency,
 * ten times what WorkOS's write limit allows (25 users/s with a membership
 * each), so the importer never slows a real migration down.
 *
 * The importer and the bare loop alternate, `--pairs` times at each
 * concurrency, and the medians are reported. `--compare <main.ts>` adds a
 * third run per pair, another checkout's CLI (for example the commit
 * before a change, in a `git worktree`), and reports the ratio of this
 * checkout's users/s to it.
 *
 * Run: `deno run -A bench/import_throughput_bench.ts [--quick] [--rows 5000]
 * [--concurrency 20,50] [--pairs 3] [--compare /tmp/old/main.ts] [--v8-defaults]`.
 * `--quick`: concurrency 20 only, one pair. The CLI (and `--compare`'s)
 * runs with its V8 flags (`src/cli/v8_flags.ts`), as every launcher of it
 * does; `--v8-defaults` runs them with V8's defaults. The bare loop runs
 * with V8's defaults, as a plain script does.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import { emit, isQuick, logger, round, runImporter, writeMultiOrgCsv } from "./_harness.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const NAME = "import_throughput";
const ORGS = 100;
const TARGET_USERS_PER_SECOND = 250;
const RUN_TIMEOUT_MS = 600_000;
const log = logger(NAME);

interface Fake {
  url: string;
  apiKey: string;
}

interface Level {
  concurrency: number;
  usersPerSecond: number;
  bareUsersPerSecond: number;
  vsBare: number;
  compareUsersPerSecond?: number;
  vsCompare?: number;
  compareVsBare?: number;
  peakRssMiB: number;
  runs: { importer: number[]; bare: number[]; compare?: number[] };
  imported: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The bare loop, in its own process: every organization created one at a
 * time, then `concurrency` loops each taking the next row and sending its
 * user create and membership create. Prints the rows' seconds as JSON.
 */
async function runBareClient(fake: Fake, rows: number, concurrency: number): Promise<void> {
  const headers = { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" };
  async function post(path: string, body: unknown): Promise<{ id: string }> {
    const response = await fetch(`${fake.url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return await response.json();
  }
  const started = performance.now();
  const organizations: string[] = [];
  for (let org = 1; org <= ORGS; org++) {
    const created = await post("/organizations", {
      name: `Bench Org ${org}`,
      external_id: `bench-org-${org}`,
    });
    organizations.push(created.id);
  }
  let next = 0;
  async function loop(): Promise<void> {
    while (next < rows) {
      const i = ++next;
      const user = await post("/user_management/users", {
        email: `bench.user${i}@example.com`,
        first_name: "Bench",
        last_name: `User ${i}`,
      });
      await post("/user_management/organization_memberships", {
        user_id: user.id,
        organization_id: organizations[(i - 1) % ORGS],
        role_slug: "member",
      });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
}

async function bareUsersPerSecond(fake: Fake, rows: number, concurrency: number): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename as string,
      `--bare-client=${fake.url}`,
      `--api-key=${fake.apiKey}`,
      `--rows=${rows}`,
      `--concurrency=${concurrency}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("The bare fetch loop failed");
  const { seconds } = JSON.parse(new TextDecoder().decode(output.stdout).trim());
  return rows / seconds;
}

/** Another checkout's CLI: users/s from its summary (`durationMs`). */
async function compareUsersPerSecond(
  main: string,
  args: string[],
  fake: Fake,
  denoFlags: string[],
): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", ...denoFlags, main, ...args, "--json"],
    env: { NO_COLOR: "1", WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const summary = JSON.parse(
    new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "{}",
  );
  if (output.code !== 0) throw new Error(`${main} exited with ${output.code}`);
  return Number(summary.totalRows) / (Number(summary.durationMs) / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      concurrency: { type: "string" },
      pairs: { type: "string" },
      compare: { type: "string" },
      "v8-defaults": { type: "boolean", default: false },
      "bare-client": { type: "string" },
      "api-key": { type: "string" },
    },
  });
  if (values["bare-client"]) {
    return await runBareClient(
      { url: values["bare-client"], apiKey: values["api-key"] as string },
      Number(values.rows),
      Number(values.concurrency),
    );
  }
  const quick = isQuick();
  const rows = Number(values.rows ?? (quick ? 3_000 : 5_000));
  const levels = (values.concurrency ?? (quick ? "20" : "20,50")).split(",").map(Number);
  const pairs = Number(values.pairs ?? (quick ? 1 : 3));
  const denoFlags = values["v8-defaults"] ? [] : [v8FlagsArgument()];
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await writeMultiOrgCsv(path, rows, { orgs: ORGS });
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const results: Level[] = [];
    // A first run of each CLI warms Deno's module cache and the file cache.
    const warm = ["--csv", path, "--concurrency", "50", "--rate-limit", "1000000", "--quiet"];
    fake.state.reset();
    await runImporter(warm, { api: fake, timeoutMs: RUN_TIMEOUT_MS, denoFlags });
    if (values.compare) {
      fake.state.reset();
      await compareUsersPerSecond(values.compare, warm, fake, denoFlags);
    }
    for (const concurrency of levels) {
      const args = [
        "--csv",
        path,
        "--concurrency",
        String(concurrency),
        // Far above what this run can reach: the budget must not bind.
        "--rate-limit",
        "1000000",
        "--quiet",
      ];
      const runs: Level["runs"] = {
        importer: [],
        bare: [],
        ...(values.compare ? { compare: [] } : {}),
      };
      let peakRssMiB = 0;
      let imported = true;
      for (let pair = 0; pair < pairs; pair++) {
        const kinds = ["importer", "bare", ...(values.compare ? ["compare"] : [])];
        // Rotate who goes first, so a drift in machine load hits each alike.
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[(k + pair) % kinds.length];
          fake.state.reset();
          if (kind === "bare") {
            runs.bare.push(await bareUsersPerSecond(fake, rows, concurrency));
          } else if (kind === "compare") {
            runs.compare?.push(
              await compareUsersPerSecond(values.compare as string, args, fake, denoFlags),
            );
          } else {
            const run = await runImporter(args, {
              api: fake,
              timeoutMs: RUN_TIMEOUT_MS,
              denoFlags,
            });
            if (run.code !== 0) { for (const line of run.stderrTail) log(`  ${line}`); }
            const seconds = Number(run.summary?.durationMs ?? run.wallMs) / 1000;
            runs.importer.push(rows / seconds);
            peakRssMiB = Math.max(peakRssMiB, run.peakRssMiB);
            imported &&= run.code === 0 && fake.state.userCount() === rows &&
              fake.state.membershipCount() === rows && fake.state.organizationCount() === ORGS;
          }
          log(
            `c=${concurrency} pair ${pair + 1} ${kind}: ${
              round(runs[kind as "bare"].at(-1) ?? 0)
            } users/s`,
          );
        }
      }
      const usersPerSecond = median(runs.importer);
      const bare = median(runs.bare);
      const level: Level = {
        concurrency,
        usersPerSecond: round(usersPerSecond),
        bareUsersPerSecond: round(bare),
        vsBare: round(usersPerSecond / bare, 3),
        peakRssMiB,
        runs: {
          importer: runs.importer.map((v) => round(v)),
          bare: runs.bare.map((v) => round(v)),
          ...(runs.compare ? { compare: runs.compare.map((v) => round(v)) } : {}),
        },
        imported,
      };
      if (runs.compare) {
        const compare = median(runs.compare);
        level.compareUsersPerSecond = round(compare);
        level.vsCompare = round(usersPerSecond / compare, 3);
        level.compareVsBare = round(compare / bare, 3);
      }
      log(
        `c=${concurrency}: ${level.usersPerSecond} users/s, bare loop ${level.bareUsersPerSecond}` +
          `, importer/bare ${level.vsBare}` +
          (runs.compare ? `; compare ${level.compareUsersPerSecond}, ${level.vsCompare}×` : ""),
      );
      results.push(level);
    }
    emit({
      name: NAME,
      // The first numbers are the ones `deno task bench` puts in its table.
      usersPerSecond: Object.fromEntries(
        results.map((l) => [String(l.concurrency), l.usersPerSecond]),
      ),
      vsBare: Object.fromEntries(results.map((l) => [String(l.concurrency), l.vsBare])),
      ...(values.compare
        ? {
          vsCompare: Object.fromEntries(results.map((l) => [String(l.concurrency), l.vsCompare])),
        }
        : {}),
      peakRssMiB: Math.max(...results.map((l) => l.peakRssMiB)),
      v8Flags: denoFlags.length > 0 ? "cli" : "defaults",
      rows,
      organizations: ORGS,
      pairs,
      levels: results,
      target: { usersPerSecond: TARGET_USERS_PER_SECOND },
      passed: results.every((l) => l.imported && l.usersPerSecond >= TARGET_USERS_PER_SECOND),
    });
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) await main();
