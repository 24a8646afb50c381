/**
 * Shows that the fake WorkOS is never the bottleneck of a test or benchmark:
 * it must serve at least 5,000 requests/s on loopback with limits off, and a
 * million users must fit in well under 1 GiB.
 *
 * Run: `deno run -A bench/fake_server_bench.ts [--requests 40000]
 * [--concurrency 64] [--users 1000000]`. Progress goes to stderr; stdout gets
 * exactly one JSON line.
 *
 * The load comes from a separate process (this file run with `--client`) so
 * that client and server do not share an event loop, and the memory is
 * measured in a fresh process (`--memory`) so the load phase does not skew it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";

const TARGET_RPS = 5_000;
const TARGET_RSS_MIB = 1_024;
const MAX_LOAD_MS = 30_000;

interface LoadResult {
  requests: number;
  errors: number;
  durationMs: number;
  statuses: Record<string, number>;
}

function log(message: string): void {
  console.error(`[fake_server_bench] ${message}`);
}

/** Client side: a realistic importer mix over keep-alive connections. */
async function runClient(url: string, apiKey: string, total: number, concurrency: number) {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const statuses: Record<string, number> = {};
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + MAX_LOAD_MS;
  async function worker(): Promise<void> {
    while (issued < total && performance.now() < deadline) {
      const n = issued++;
      const kind = n % 10;
      let response: Response;
      try {
        if (kind < 4) {
          // Create a user (40 %), as an import does.
          response = await fetch(`${url}/user_management/users`, {
            method: "POST",
            headers,
            body: JSON.stringify({
              email: `load${n}@example.com`,
              first_name: "Load",
              last_name: `User ${n}`,
              external_id: `load-${n}`,
            }),
          });
        } else if (kind < 8) {
          // Look a user up by email (40 %), as a resume or a duplicate check does.
          response = await fetch(
            `${url}/user_management/users?email=load${n - 4}%40example.com&limit=1`,
            { headers },
          );
        } else {
          // Resolve an organization by external id (20 %).
          response = await fetch(`${url}/organizations/external_id/bench-org`, { headers });
        }
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const result: LoadResult = {
    requests: Math.min(issued, total),
    errors,
    durationMs: performance.now() - started,
    statuses,
  };
  console.log(JSON.stringify(result));
}

/** Memory side: RSS growth for seeding `count` users through `state.addUser`. */
async function runMemory(count: number) {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = Deno.memoryUsage().rss;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    fake.state.addUser({
      email: `user${i}@example.com`,
      firstName: "Firstname",
      lastName: `Lastname${i % 1000}`,
      emailVerified: i % 2 === 0,
      externalId: `ext-${i}`,
      passwordHash: "$2b$10$abcdefghijklmnopqrstuu5tb4Z7Q2n3OJ8dZfM6oWqE3aH2gVq1y",
      passwordHashType: "bcrypt",
      metadata: i % 10 === 0 ? { plan: "pro" } : undefined,
    });
    if (i > 0 && i % 250_000 === 0) log(`seeded ${i} users`);
  }
  const seedMs = performance.now() - started;
  gc?.();
  const after = Deno.memoryUsage().rss;
  console.log(JSON.stringify({
    users: fake.state.userCount(),
    rssMiB: (after - before) / 2 ** 20,
    seedMs,
  }));
}

async function runChild(args: string[]): Promise<Record<string, unknown>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename as string, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) throw new Error(`Benchmark child failed: ${args.join(" ")}`);
  return JSON.parse(text.split("\n").at(-1) as string);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      client: { type: "string" },
      "api-key": { type: "string" },
      memory: { type: "boolean" },
      requests: { type: "string", default: "40000" },
      concurrency: { type: "string", default: "64" },
      users: { type: "string", default: "1000000" },
    },
  });
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const users = Number(values.users);
  if (values.client) {
    await runClient(values.client, values["api-key"] as string, requests, concurrency);
    return;
  }
  if (values.memory) {
    await runMemory(users);
    return;
  }

  log(`load: ${requests} requests, concurrency ${concurrency}, limits off`);
  let load: Record<string, unknown>;
  {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    fake.state.addOrganization({ name: "Bench Org", externalId: "bench-org" });
    // Warm up the server's code paths before timing.
    await runChild([`--client=${fake.url}`, `--api-key=${fake.apiKey}`, "--requests=2000"]);
    fake.state.reset();
    fake.state.addOrganization({ name: "Bench Org", externalId: "bench-org" });
    load = await runChild([
      `--client=${fake.url}`,
      `--api-key=${fake.apiKey}`,
      `--requests=${requests}`,
      `--concurrency=${concurrency}`,
    ]);
    load.served = fake.state.totalRequests;
  }
  const requestsPerSecond = Math.round(
    (load.requests as number) / ((load.durationMs as number) / 1000),
  );
  log(`served ${requestsPerSecond} requests/s (${JSON.stringify(load.statuses)})`);

  log(`memory: seeding ${users} users in a fresh process`);
  const memory = await runChild(["--memory", `--users=${users}`]);
  const rssMiB = Math.round((memory.rssMiB as number) * 10) / 10;
  log(`${users} users: +${rssMiB} MiB RSS, seeded in ${Math.round(memory.seedMs as number)} ms`);

  const passed = requestsPerSecond >= TARGET_RPS && load.errors === 0 &&
    rssMiB < TARGET_RSS_MIB && memory.users === users;
  console.log(JSON.stringify({
    name: "fake_server",
    requestsPerSecond,
    target: TARGET_RPS,
    passed,
    requests: load.requests,
    errors: load.errors,
    concurrency,
    durationMs: Math.round(load.durationMs as number),
    statuses: load.statuses,
    users,
    rssMiBFor1MUsers: users === 1_000_000 ? rssMiB : null,
    rssMiB,
    rssTargetMiB: TARGET_RSS_MIB,
    seedMs: Math.round(memory.seedMs as number),
  }));
}

if (import.meta.main) await main();
