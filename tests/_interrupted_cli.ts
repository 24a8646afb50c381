/**
 * Test helper: run the real CLI and press Ctrl+C (SIGINT) once a condition
 * holds, the way a user stops an import mid-way.
 *
 * @module
 */

import { type CliResult, outputOf, spawnCli } from "./_cli.ts";

/** Options for {@linkcode runCliInterrupted}. */
export interface InterruptOptions {
  /** Extra environment variables (the API key, the API URL). */
  env?: Record<string, string>;
  /** Sends SIGINT once this returns `true` (polled every 10 ms). */
  when(): boolean;
  /** Gives up waiting for `when` after this long, in ms (20,000). */
  timeoutMs?: number;
}

/**
 * Runs `deno run -A main.ts <args>` and sends SIGINT once `when()` holds.
 *
 * @param args The CLI arguments.
 * @param options Environment and the condition.
 * @returns Exit code, stdout and stderr.
 */
export async function runCliInterrupted(
  args: string[],
  options: InterruptOptions,
): Promise<CliResult> {
  const child = spawnCli(args, { env: options.env });
  const output = outputOf(child);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let exited = false;
  output.finally(() => exited = true);
  while (!exited && !options.when() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!exited) {
    try {
      child.kill("SIGINT");
    } catch {
      // It ended between the check and the signal.
    }
  }
  return await output;
}
