/**
 * Test helpers: run the real CLI as a subprocess and write temporary input
 * files.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode runCli}. */
export interface RunCliOptions {
  /** Extra environment variables (the API key, the API URL). */
  env?: Record<string, string>;
  /** Text for standard input. */
  stdin?: string;
  /** Working directory. */
  cwd?: string;
  /** Deno permission flags; all permissions by default. */
  permissions?: string[];
}

/**
 * Runs `deno run main.ts <args>` and collects its output.
 *
 * @param args The CLI arguments.
 * @param options Environment, stdin, working directory and permissions.
 * @returns Exit code, stdout and stderr.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", ...(options.permissions ?? ["-A"]), MAIN, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Options for {@linkcode spawnCli}. */
export interface SpawnCliOptions {
  /** Extra environment variables (the API key, the API URL). */
  env?: Record<string, string>;
  /** `null` drops the output of a run that is only killed (piped by default). */
  output?: "piped" | "null";
}

/**
 * Starts `deno run -A main.ts <args>` without waiting for it, for tests that
 * signal or kill it mid-run; {@linkcode outputOf} collects what it printed.
 *
 * @param args The CLI arguments.
 * @param options Environment and where the output goes.
 * @returns The running process.
 */
export function spawnCli(args: string[], options: SpawnCliOptions = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: options.output ?? "piped",
    stderr: options.output ?? "piped",
  }).spawn();
}

/**
 * Waits for a process from {@linkcode spawnCli} to end and decodes its output.
 *
 * @param child The process (started with piped output).
 * @returns Exit code, stdout and stderr.
 */
export async function outputOf(child: Deno.ChildProcess): Promise<CliResult> {
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

// Every temporary file and directory a test module makes goes when the
// module's tests end: a full run made about two thousand, and a CI machine
// keeps its /tmp. `KEEP_TEST_FILES=1` keeps them to look at after a failure.
const madeForTests: string[] = [];
globalThis.addEventListener("unload", removeTestFiles);

function removeTestFiles(): void {
  if (Deno.env.get("KEEP_TEST_FILES")) return;
  for (const path of madeForTests.splice(0)) {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Removed by its test already.
    }
  }
}

/**
 * Makes a temporary directory that is removed when the test module ends.
 *
 * @param options As for `Deno.makeTempDir`.
 * @returns The directory's path.
 */
export async function tempDir(options?: Deno.MakeTempOptions): Promise<string> {
  const path = await Deno.makeTempDir(options);
  madeForTests.push(path);
  return path;
}

/**
 * Makes a temporary directory that is removed when the test module ends.
 *
 * @param options As for `Deno.makeTempDirSync`.
 * @returns The directory's path.
 */
export function tempDirSync(options?: Deno.MakeTempOptions): string {
  const path = Deno.makeTempDirSync(options);
  madeForTests.push(path);
  return path;
}

/**
 * Makes an empty temporary file that is removed when the test module ends.
 *
 * @param options As for `Deno.makeTempFile`.
 * @returns The file's path.
 */
export async function tempPath(options?: Deno.MakeTempOptions): Promise<string> {
  const path = await Deno.makeTempFile(options);
  madeForTests.push(path);
  return path;
}

/**
 * Writes text to a new temporary file, removed when the test module ends.
 *
 * @param text The file's content.
 * @param suffix The file name's ending, e.g. ".csv".
 * @returns The file's path.
 */
export async function tempFile(text: string, suffix = ".csv"): Promise<string> {
  const path = await tempPath({ suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

/** When {@linkcode killRepeatedly} kills a session, once it is at work. */
export interface KillMoment {
  /** The count to watch for this session, instead of the options' `progress`. */
  progress?: () => number;
  /** Wait until the progress count grew by this much since the session started. */
  afterProgress?: number;
  /** Then wait this many ms. */
  afterMs?: number;
}

/** Options for {@linkcode killRepeatedly}. */
export interface KillRepeatedlyOptions {
  /** Sessions to start and SIGKILL, one after the other. */
  sessions: number;
  /** The CLI arguments of a session (0 is the first; the others resume). */
  args(session: number): string[];
  /** Extra environment variables (the API key, the API URL). */
  env?: Record<string, string>;
  /** A count that grows while a session works (the fake's `totalRequests`). */
  progress(): number;
  /** When to kill a session once it is at work. */
  killAt(session: number): KillMoment;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts the CLI, SIGKILLs it mid-run, and does it again, `sessions` times:
 * each session waits until the progress count moves (it is at work), then
 * for its kill moment. Bounded: at most 20 s of waiting per session.
 *
 * @param options Sessions, arguments, environment and kill moments.
 * @returns How many sessions were killed (a session that ended first is not).
 */
export async function killRepeatedly(options: KillRepeatedlyOptions): Promise<number> {
  let kills = 0;
  for (let session = 0; session < options.sessions; session++) {
    const moment = options.killAt(session);
    const progress = moment.progress ?? options.progress;
    const before = progress();
    const child = spawnCli(options.args(session), { env: options.env, output: "null" });
    const deadline = Date.now() + 20_000;
    const target = before + Math.max(1, moment.afterProgress ?? 1);
    while (progress() < target && Date.now() < deadline) await delay(5);
    if (moment.afterMs) await delay(moment.afterMs);
    try {
      child.kill("SIGKILL");
      kills++;
    } catch {
      // The session ended before the kill: the caller's count reports it.
    }
    await child.status;
    // Let answers to the dead process's requests drain.
    await delay(30);
  }
  return kills;
}

/**
 * The environment that points the CLI at a fake WorkOS with its key.
 *
 * @param fake The fake (its URL and key).
 * @param apiKey Another key to send instead (a wrong one).
 * @returns `WORKOS_SECRET_KEY` and `WORKOS_API_URL`.
 */
export function envOf(
  fake: { url: string; apiKey: string },
  apiKey: string = fake.apiKey,
): Record<string, string> {
  return { WORKOS_SECRET_KEY: apiKey, WORKOS_API_URL: fake.url };
}

/**
 * A file's text as its reader sees it: a gzip file (a job's `audit.jsonl.gz`)
 * decompressed, so that a check for a secret looks at what the file holds,
 * not at compressed bytes where no string is ever found.
 */
export async function readableText(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return new TextDecoder().decode(gzip ? gunzipSync(bytes) : bytes);
}

/**
 * Runs `script` with `deno eval` in a process of its own (with `flags`, say
 * `--v8-flags=--expose-gc`, before it) and gives what it printed: how tests
 * measure a heap that the test runner's own objects would blur.
 */
export async function evalScript(script: string, flags: string[] = []): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...flags, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(
      `deno eval exited with ${output.code}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}
