/**
 * Runs a fake WorkOS from the shell until SIGINT or SIGTERM:
 *
 * ```sh
 * deno task fake-workos --port 4100
 * ```
 *
 * Flags: `--port` (default 4100), `--hostname` (default 127.0.0.1),
 * `--api-key`, `--no-rate-limits`, `--rate-limit-scale`, `--duplicate-status
 * 409`, `--latency-ms`, `--jitter-ms`, `--failure-rate`, `--drop-rate`,
 * `--slow-rate`, `--slow-ms`, `--ghost-rate`, `--ghost-style`, `--roles
 * member,admin`, `--seed`.
 *
 * Besides the WorkOS routes it serves `GET /__fake/status`,
 * `POST /__fake/reset`, `POST /__fake/configure` (a JSON body of options),
 * `POST /__fake/storm` (`{"durationMs":30000}`), `POST /__fake/users` (a user
 * signs up now: `{"email":"…"}`) and `POST /__fake/sign-ups`
 * (`{"afterUserCreates":20,"users":[{"email":"…"}]}`: people sign up once the
 * API has created that many more users), all with the same API key.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type FakeWorkOSOptions, startFakeWorkOS } from "./server.ts";

const USAGE = `Usage: deno task fake-workos [options]

  --port <n>               Port to listen on (default 4100; 0 picks one)
  --hostname <host>        Interface to listen on (default 127.0.0.1)
  --api-key <key>          API key to accept (default sk_test_fake_workos)
  --no-rate-limits         Turn WorkOS's rate limits off
  --rate-limit-scale <x>   Multiply every rate limit by x (default 1)
  --duplicate-status <n>   Answer duplicate emails with 400 (default) or 409
  --latency-ms <ms>        Fixed latency added to every request
  --jitter-ms <ms>         Random latency up to this, added to every request
  --failure-rate <p>       Probability of a 500/502/503 answer
  --drop-rate <p>          Probability of a dropped connection
  --slow-rate <p>          Probability of a slow answer
  --slow-ms <ms>           Delay of slow answers (default 65000)
  --ghost-rate <p>         Probability that a write is kept but answered 500 or dropped
  --ghost-style <s>        error, drop or both (default both)
  --roles <a,b>            Known role slugs (default member,admin)
  --seed <n>               Seed of the fault dice
  -h, --help               Show this help`;

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new TypeError(`Cannot parse --${flag}: "${value}" is not a number`);
  }
  return parsed;
}

/**
 * Turns command-line flags into fake options.
 *
 * @param args The arguments after the script name.
 * @returns The options, or `"help"` when help was asked for.
 *
 * @example Usage
 * ```ts
 * import { parseServeArgs } from "./serve.ts";
 * import assert from "node:assert/strict";
 *
 * const options = parseServeArgs(["--port", "4100", "--no-rate-limits"]);
 * assert.deepEqual(options, { port: 4100, rateLimits: false, faults: {}, latency: {} });
 * ```
 */
export function parseServeArgs(args: string[]): FakeWorkOSOptions | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      "port": { type: "string" },
      "hostname": { type: "string" },
      "api-key": { type: "string" },
      "no-rate-limits": { type: "boolean" },
      "rate-limit-scale": { type: "string" },
      "duplicate-status": { type: "string" },
      "latency-ms": { type: "string" },
      "jitter-ms": { type: "string" },
      "failure-rate": { type: "string" },
      "drop-rate": { type: "string" },
      "slow-rate": { type: "string" },
      "slow-ms": { type: "string" },
      "ghost-rate": { type: "string" },
      "ghost-style": { type: "string" },
      "roles": { type: "string" },
      "seed": { type: "string" },
      "help": { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const options: FakeWorkOSOptions = { port: number("port", values.port) ?? 4100 };
  if (values.hostname !== undefined) options.hostname = values.hostname;
  if (values["api-key"] !== undefined) options.apiKey = values["api-key"];
  if (values["no-rate-limits"]) {
    options.rateLimits = false;
  } else if (values["rate-limit-scale"] !== undefined) {
    options.rateLimits = { scale: number("rate-limit-scale", values["rate-limit-scale"]) };
  }
  const duplicate = number("duplicate-status", values["duplicate-status"]);
  if (duplicate !== undefined) {
    if (duplicate !== 400 && duplicate !== 409) {
      throw new RangeError(`Cannot use --duplicate-status: "${duplicate}" is not 400 or 409`);
    }
    options.duplicateEmailStatus = duplicate;
  }
  options.latency = {};
  const fixedMs = number("latency-ms", values["latency-ms"]);
  if (fixedMs !== undefined) options.latency.fixedMs = fixedMs;
  const jitterMs = number("jitter-ms", values["jitter-ms"]);
  if (jitterMs !== undefined) options.latency.jitterMs = jitterMs;
  options.faults = {};
  const rates = [
    ["failure-rate", "failureRate"],
    ["drop-rate", "dropRate"],
    ["slow-rate", "slowRate"],
    ["slow-ms", "slowMs"],
    ["ghost-rate", "ghostRate"],
  ] as const;
  for (const [flag, key] of rates) {
    const value = number(flag, values[flag]);
    if (value !== undefined) options.faults[key] = value;
  }
  const ghostStyle = values["ghost-style"];
  if (ghostStyle !== undefined) {
    if (ghostStyle !== "error" && ghostStyle !== "drop" && ghostStyle !== "both") {
      throw new RangeError(`Cannot use --ghost-style: "${ghostStyle}" is not error, drop or both`);
    }
    options.faults.ghostStyle = ghostStyle;
  }
  if (values.roles !== undefined) {
    options.roles = values.roles.split(",").map((role) => role.trim()).filter(Boolean);
  }
  const seed = number("seed", values.seed);
  if (seed !== undefined) options.seed = seed;
  return options;
}

async function main(): Promise<number> {
  let options: FakeWorkOSOptions | "help";
  try {
    options = parseServeArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  let fake;
  try {
    fake = await startFakeWorkOS(options);
  } catch (error) {
    console.error(
      `Cannot start the fake WorkOS: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
  console.log(`Fake WorkOS listening on ${fake.url}`);
  console.log(`API key: ${fake.apiKey}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  await stopped.promise;
  for (const signal of signals) Deno.removeSignalListener(signal, stop);
  await fake.close();
  console.log("Fake WorkOS stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
