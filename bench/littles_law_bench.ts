/**
 * Little's law: with `c` requests in flight and a latency of `L`, a client
 * that is never the bottleneck runs `c / L` requests per second. This runs
 * the real CLI (users only, one request per row) against the fake with rate
 * limits off and a fixed 50 ms latency at concurrency 10, 50 and 200, and
 * reports achieved requests/s ÷ (concurrency ÷ latency). Target (issue 16):
 * the importer ≥ 0.97 of a bare `fetch` loop (below) at every concurrency.
 *
 * Run: `deno run -A bench/littles_law_bench.ts [--quick] [--concurrency 10,50,200]
 * [--seconds 6] [--v8-defaults] [--cpu-prof <dir>]`. The CLI runs with its
 * V8 flags (`src/cli/v8_flags.ts`), as the `import` task, the installed
 * command and the binary do, and that run is judged; the full run (not
 * `--quick`) also runs it with V8's defaults at each level and prints that
 * beside it (`vsBaselineV8Defaults`), so the flags' cost shows.
 * `--v8-defaults` judges the run with V8's defaults instead. The floors
 * (bare loop, client, SDK) run with V8's defaults, as a plain script does.
 * Each side's CPU time per request (user + system, start-up included) is
 * reported too (`cpuUsPerRequest`): on a loaded machine it moves far less
 * than wall-clock rates. The fake runs in this process, the importer in its own,
 * so they never share an event loop. Requests/s is measured at the fake,
 * between the moments 10 % and 90 % of the requests had arrived, so start-up
 * and the tail do not count; each point also shows `importer ÷ bare` per
 * quarter of that window (`vsBaselineByQuarter`, not judged), which shows a
 * side still warming up when the window began. `--rate-limit` is set far
 * above the load so the budget never binds.
 *
 * Each level also runs a baseline: a bare `fetch` loop in its own process
 * sending the same creates at the same concurrency to the same fake. What
 * it reaches is what this machine allows (timers fire late, loopback and
 * both processes share the cores); `vsBaseline` is the importer's share of
 * it, the part of the gap that is the importer's own.
 *
 * And a second floor: the importer's own WorkOS client (`connectWorkOS`, and
 * `ensureUser` per row: the budget, retry, deadline and request-id layer,
 * the official SDK, a Blob body) in a loop at the same concurrency, with no
 * input, validation, row steps or stream stages. `vsClient` is the
 * importer's share of it: the part of the gap that is the pipeline's; the
 * client's own share of the bare loop (`clientVsBaseline`) is what the SDK
 * and the client layer cost. A third floor, the official SDK alone
 * (`userManagement.createUser` in a loop, with a fetch that sends the body
 * as the client does: `unretriedBody`), splits that once more: `sdkVsBaseline` is
 * the SDK's and the runtime's share, `clientVsSdk` our client layer's.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import process from "node:process";
import {
  CounterSampler,
  emit,
  type ImporterRun,
  isQuick,
  logger,
  round,
  runImporter,
  writeUsersCsv,
} from "./_harness.ts";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";
import { WorkOS } from "@workos-inc/node";
import { connectWorkOS } from "../src/workos/connect.ts";
import { unretriedBody } from "../src/workos/client.ts";
import { ensureUser } from "../src/workos/users.ts";

const NAME = "littles_law";
const LATENCY_MS = 50;
// Issue 16's goal: the importer at least 0.97 of the bare fetch loop.
const TARGET_VS_BASELINE = 0.97;
const log = logger(NAME);

interface Point {
  concurrency: number;
  rows: number;
  requestsPerSecond: number;
  ideal: number;
  ratio: number;
  baselineRequestsPerSecond: number;
  baselineRatio: number;
  vsBaseline: number;
  clientRequestsPerSecond: number;
  clientVsBaseline: number;
  vsClient: number;
  sdkRequestsPerSecond: number;
  sdkVsBaseline: number;
  clientVsSdk: number;
  /**
   * The importer ÷ the bare loop in each quarter of the measured window
   * (shown, not judged): a rising row means the importer was still warming up.
   */
  vsBaselineByQuarter: number[];
  /** The importer with V8's defaults ÷ the bare loop (full run only). */
  vsBaselineV8Defaults?: number;
  /** CPU time per request of each side, in µs (start-up included). */
  cpuUsPerRequest: {
    importer: number;
    importerV8Defaults?: number;
    bare: number;
    client: number;
    sdk: number;
  };
  exitCode: number;
  peakRssMiB: number;
}

/** Baseline side: `concurrency` bare fetch loops creating `total` users. */
async function runBaselineClient(
  url: string,
  apiKey: string,
  total: number,
  concurrency: number,
): Promise<void> {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  let issued = 0;
  async function loop(): Promise<void> {
    while (issued < total) {
      const n = ++issued;
      const response = await fetch(`${url}/user_management/users`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          email: `baseline.user${n}@example.com`,
          first_name: "Bench",
          last_name: `User ${n}`,
          external_id: `baseline-${n}`,
        }),
      });
      await response.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/** Client side: `concurrency` loops creating `total` users through `ensureUser`. */
async function runClientLoop(
  url: string,
  apiKey: string,
  total: number,
  concurrency: number,
): Promise<void> {
  const client = connectWorkOS({ apiKey, apiUrl: url, rateLimit: 1_000_000 });
  let issued = 0;
  async function loop(): Promise<void> {
    while (issued < total) {
      const n = ++issued;
      const email = `client.user${n}@example.com`;
      await ensureUser(client, {
        recordNumber: n,
        byteEnd: n,
        email,
        emailKey: email,
        firstName: "Bench",
        lastName: `User ${n}`,
        externalId: `client-${n}`,
        original: {},
      });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/** SDK side: `concurrency` loops creating `total` users with the official SDK alone. */
async function runSdkLoop(
  url: string,
  apiKey: string,
  total: number,
  concurrency: number,
): Promise<void> {
  const target = new URL(url);
  const sdk = new WorkOS(apiKey, {
    apiHostname: target.hostname,
    port: Number(target.port),
    https: false,
    maxRetries: 0,
    // As the client sends bodies: never replayed by fetch.
    fetchFn: (input, init) => fetch(input, { ...init, body: unretriedBody(init?.body) }),
  });
  let issued = 0;
  async function loop(): Promise<void> {
    while (issued < total) {
      const n = ++issued;
      await sdk.userManagement.createUser({
        email: `sdk.user${n}@example.com`,
        firstName: "Bench",
        lastName: `User ${n}`,
        externalId: `sdk-${n}`,
      });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/** Requests/s at the fake between 10 % and 90 % of `total` arrivals. */
function steadyRate(sampler: CounterSampler, total: number): number {
  const t10 = sampler.timeOf(total * 0.1) ?? 0;
  const t90 = sampler.timeOf(total * 0.9) ?? 0;
  const counted = sampler.valueAt(t90) - sampler.valueAt(t10);
  return t90 > t10 ? counted / ((t90 - t10) / 1000) : 0;
}

/**
 * Requests/s at the fake in each quarter of the same window, for the eye
 * only (the verdict is {@linkcode steadyRate}): a side whose first quarter
 * is slower than its last was still warming up (V8 compiling its code) when
 * the window began.
 */
function quarterRates(sampler: CounterSampler, total: number): number[] {
  const t10 = sampler.timeOf(total * 0.1) ?? 0;
  const t90 = sampler.timeOf(total * 0.9) ?? 0;
  const quarter = (t90 - t10) / 4;
  if (!(quarter > 0)) return [0, 0, 0, 0];
  return [0, 1, 2, 3].map((i) => {
    const from = t10 + i * quarter;
    return (sampler.valueAt(from + quarter) - sampler.valueAt(from)) / (quarter / 1000);
  });
}

/** What a floor reached: requests/s at the fake, and its process's CPU time. */
interface Floor {
  requestsPerSecond: number;
  quarterRates: number[];
  cpuMs: number;
}

/** Prints this process's CPU time (user + system, in ms) as the floor's one stdout line. */
function printCpu(): void {
  const { user, system } = process.cpuUsage();
  console.log(JSON.stringify({ cpuMs: (user + system) / 1000 }));
}

async function baseline(
  concurrency: number,
  total: number,
  client: "bare" | "client" | "sdk",
): Promise<Floor> {
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    latency: { fixedMs: LATENCY_MS },
  });
  const sampler = new CounterSampler(() => fake.state.totalRequests);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename as string,
      `--${{ bare: "baseline", client: "workos", sdk: "sdk" }[client]}-client=${fake.url}`,
      `--api-key=${fake.apiKey}`,
      `--requests=${total}`,
      `--concurrency=${concurrency}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  sampler.stop();
  if (!output.success) throw new Error(`The ${client} loop failed`);
  const last = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "{}";
  return {
    requestsPerSecond: steadyRate(sampler, fake.state.totalRequests),
    quarterRates: quarterRates(sampler, fake.state.totalRequests),
    cpuMs: Number(JSON.parse(last).cpuMs ?? 0),
  };
}

/** One importer run against a fresh fake: requests/s at the fake, and how the run went. */
async function importerRun(
  path: string,
  concurrency: number,
  rows: number,
  options: { denoFlags: string[]; timeoutMs: number },
): Promise<
  { requestsPerSecond: number; quarterRates: number[]; run: ImporterRun; imported: boolean }
> {
  const ideal = concurrency / (LATENCY_MS / 1000);
  await using fake = await startFakeWorkOS({
    rateLimits: false,
    latency: { fixedMs: LATENCY_MS },
  });
  const sampler = new CounterSampler(() => fake.state.totalRequests);
  const run = await runImporter([
    "--csv",
    path,
    "--concurrency",
    String(concurrency),
    // Far above the load: the budget must not be what limits this run.
    "--rate-limit",
    String(Math.max(1_000, Math.ceil(ideal * 2))),
    "--quiet",
  ], {
    api: fake,
    relay: (line) => log(`  ${line}`),
    denoFlags: options.denoFlags,
    timeoutMs: options.timeoutMs,
  });
  sampler.stop();
  const imported = run.code === 0 && fake.state.userCount() === rows;
  if (!imported) {
    log(`run failed: exit ${run.code}, ${fake.state.userCount()}/${rows} users`);
    for (const line of run.stderrTail) log(`  ${line}`);
  }
  return {
    requestsPerSecond: steadyRate(sampler, fake.state.totalRequests),
    quarterRates: quarterRates(sampler, fake.state.totalRequests),
    run,
    imported,
  };
}

async function measure(
  concurrency: number,
  seconds: number,
  options: { cpuProf?: string; v8Defaults: boolean; both: boolean },
): Promise<Point> {
  const ideal = concurrency / (LATENCY_MS / 1000);
  const rows = Math.round(ideal * seconds);
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  const timeoutMs = seconds * 1000 * 10 + 60_000;
  const judgedFlags = options.v8Defaults ? [] : [v8FlagsArgument()];
  const profile = options.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProf}`] : [];
  try {
    await writeUsersCsv(path, rows);
    const judged = await importerRun(path, concurrency, rows, {
      denoFlags: [...judgedFlags, ...profile],
      timeoutMs,
    });
    const defaults = options.both && !options.v8Defaults
      ? await importerRun(path, concurrency, rows, { denoFlags: [], timeoutMs })
      : undefined;
    const requestsPerSecond = judged.requestsPerSecond;
    const bare = await baseline(concurrency, rows, "bare");
    const client = await baseline(concurrency, rows, "client");
    const sdk = await baseline(concurrency, rows, "sdk");
    const perRequest = (cpuMs: number) => round((cpuMs * 1000) / rows);
    const point: Point = {
      concurrency,
      rows,
      requestsPerSecond: round(requestsPerSecond),
      ideal,
      ratio: round(requestsPerSecond / ideal, 3),
      baselineRequestsPerSecond: round(bare.requestsPerSecond),
      baselineRatio: round(bare.requestsPerSecond / ideal, 3),
      vsBaseline: round(requestsPerSecond / bare.requestsPerSecond, 3),
      vsBaselineByQuarter: judged.quarterRates.map((rate, i) =>
        round(rate / (bare.quarterRates[i] || Number.NaN), 3)
      ),
      clientRequestsPerSecond: round(client.requestsPerSecond),
      clientVsBaseline: round(client.requestsPerSecond / bare.requestsPerSecond, 3),
      vsClient: round(requestsPerSecond / client.requestsPerSecond, 3),
      sdkRequestsPerSecond: round(sdk.requestsPerSecond),
      sdkVsBaseline: round(sdk.requestsPerSecond / bare.requestsPerSecond, 3),
      clientVsSdk: round(client.requestsPerSecond / sdk.requestsPerSecond, 3),
      ...(defaults
        ? { vsBaselineV8Defaults: round(defaults.requestsPerSecond / bare.requestsPerSecond, 3) }
        : {}),
      cpuUsPerRequest: {
        importer: perRequest(judged.run.cpuMs),
        ...(defaults ? { importerV8Defaults: perRequest(defaults.run.cpuMs) } : {}),
        bare: perRequest(bare.cpuMs),
        client: perRequest(client.cpuMs),
        sdk: perRequest(sdk.cpuMs),
      },
      exitCode: judged.run.code,
      peakRssMiB: judged.run.peakRssMiB,
    };
    if (!judged.imported || (defaults && !defaults.imported)) point.ratio = point.vsBaseline = 0;
    return point;
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      concurrency: { type: "string", default: "10,50,200" },
      seconds: { type: "string" },
      "cpu-prof": { type: "string" },
      "v8-defaults": { type: "boolean", default: false },
      "baseline-client": { type: "string" },
      "workos-client": { type: "string" },
      "sdk-client": { type: "string" },
      "api-key": { type: "string" },
      requests: { type: "string" },
    },
  });
  if (values["baseline-client"]) {
    await runBaselineClient(
      values["baseline-client"],
      values["api-key"] as string,
      Number(values.requests),
      Number(values.concurrency),
    );
    return printCpu();
  }
  if (values["sdk-client"]) {
    await runSdkLoop(
      values["sdk-client"],
      values["api-key"] as string,
      Number(values.requests),
      Number(values.concurrency),
    );
    return printCpu();
  }
  if (values["workos-client"]) {
    await runClientLoop(
      values["workos-client"],
      values["api-key"] as string,
      Number(values.requests),
      Number(values.concurrency),
    );
    return printCpu();
  }
  const seconds = Number(values.seconds ?? (isQuick() ? 3 : 6));
  const levels = values.concurrency.split(",").map(Number);
  const points: Point[] = [];
  for (const concurrency of levels) {
    log(`concurrency ${concurrency}: ${concurrency / (LATENCY_MS / 1000)} requests/s ideal`);
    const point = await measure(concurrency, seconds, {
      cpuProf: values["cpu-prof"],
      v8Defaults: values["v8-defaults"],
      both: !isQuick(),
    });
    log(
      `concurrency ${concurrency}: ${point.requestsPerSecond} requests/s, ratio ${point.ratio}; ` +
        `bare fetch ${point.baselineRequestsPerSecond} requests/s, ratio ${point.baselineRatio}; ` +
        `importer/bare ${point.vsBaseline} (by quarter ${
          point.vsBaselineByQuarter.join(" / ")
        }); ` +
        `client loop ${point.clientRequestsPerSecond} ` +
        `requests/s, client/bare ${point.clientVsBaseline}, importer/client ${point.vsClient}; ` +
        `SDK loop ${point.sdkRequestsPerSecond} requests/s, SDK/bare ${point.sdkVsBaseline}, ` +
        `client/SDK ${point.clientVsSdk}` +
        (point.vsBaselineV8Defaults === undefined
          ? ""
          : `; importer with V8's defaults/bare ${point.vsBaselineV8Defaults}`) +
        `; CPU µs per request: ${JSON.stringify(point.cpuUsPerRequest)}`,
    );
    points.push(point);
  }
  emit({
    name: NAME,
    // The first numbers are the ones `deno task bench` puts in its table: the verdict's first.
    vsBaseline: Object.fromEntries(points.map((p) => [String(p.concurrency), p.vsBaseline])),
    minVsBaseline: Math.min(...points.map((p) => p.vsBaseline)),
    v8Flags: values["v8-defaults"] ? "defaults" : "cli",
    latencyMs: LATENCY_MS,
    ratios: Object.fromEntries(points.map((p) => [String(p.concurrency), p.ratio])),
    minRatio: Math.min(...points.map((p) => p.ratio)),
    baselineRatios: Object.fromEntries(
      points.map((p) => [String(p.concurrency), p.baselineRatio]),
    ),
    clientVsBaseline: Object.fromEntries(
      points.map((p) => [String(p.concurrency), p.clientVsBaseline]),
    ),
    vsClient: Object.fromEntries(points.map((p) => [String(p.concurrency), p.vsClient])),
    sdkVsBaseline: Object.fromEntries(points.map((p) => [String(p.concurrency), p.sdkVsBaseline])),
    clientVsSdk: Object.fromEntries(points.map((p) => [String(p.concurrency), p.clientVsSdk])),
    ...(points.some((p) => p.vsBaselineV8Defaults !== undefined)
      ? {
        vsBaselineV8Defaults: Object.fromEntries(
          points.map((p) => [String(p.concurrency), p.vsBaselineV8Defaults ?? null]),
        ),
      }
      : {}),
    importerCpuUsPerRequest: Object.fromEntries(
      points.map((p) => [String(p.concurrency), p.cpuUsPerRequest.importer]),
    ),
    bareCpuUsPerRequest: Object.fromEntries(
      points.map((p) => [String(p.concurrency), p.cpuUsPerRequest.bare]),
    ),
    points,
    target: { vsBaseline: TARGET_VS_BASELINE },
    passed: points.every((p) => p.vsBaseline >= TARGET_VS_BASELINE),
  });
}

if (import.meta.main) await main();
