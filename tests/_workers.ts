/**
 * Test helpers for the two workers that read input on the second core (the
 * providers' read worker, the validate worker): the worker setting as a test
 * wants it whatever the caller's environment says, and worker modules that
 * fail on purpose.
 *
 * @module
 */

/** The variable both workers read (`on`, `off`, or unset: by file size). */
export const READ_WORKER_VARIABLE = "WORKOS_IMPORTER_READ_WORKER";

/**
 * Runs `fn` with environment variables set (`undefined`: unset) and puts
 * them back as they were after it, so that a test reads in a worker or in
 * this thread as it says, not as the environment it was run in says (the
 * suite is run with `WORKOS_IMPORTER_READ_WORKER=on` or `off` too).
 *
 * @param variables The variables and their values for `fn`.
 * @param fn What to run.
 * @returns What `fn` returned.
 */
export async function withVariables<T>(
  variables: Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<T> {
  const before = Object.keys(variables).map((name) => [name, Deno.env.get(name)] as const);
  const put = (name: string, value: string | undefined) =>
    value === undefined ? Deno.env.delete(name) : Deno.env.set(name, value);
  for (const [name, value] of Object.entries(variables)) put(name, value);
  try {
    return await fn();
  } finally {
    for (const [name, value] of before) put(name, value);
  }
}

/** How a {@linkcode failingWorkerModule} fails. */
export interface WorkerFailure {
  /** The host module (its `file:` URL) and the function it serves with. */
  host: URL;
  serve: "serveReads" | "serveValidation";
  /** Batches the worker posts before it fails; nothing but its error leaves it after. */
  batches: number;
  /**
   * `thrown`: an error nothing catches, thrown on a timer; `told`: an error of
   * the worker's own code, posted as the host posts what it caught.
   */
  fails: "thrown" | "told";
  /** Whether the host's listeners see what nothing caught (else the worker's `onerror` does). */
  listeners: boolean;
  /** Who ran out of luck, in the error's message: `<who> ran out of luck` (or, told, `<who> is not a function`). */
  who: string;
}

/**
 * Writes a worker module at `path` that serves as the real worker does and
 * then fails as `failure` says; its error's message has a second line, as a
 * stack would, which the run must not print.
 *
 * @param path Where to write the module (a `.js` file).
 * @param failure How it fails.
 * @returns The module's URL, for the worker's settings.
 */
export async function failingWorkerModule(path: string, failure: WorkerFailure): Promise<URL> {
  const { host, serve, batches, fails, listeners, who } = failure;
  const fail = fails === "told"
    ? `post({ type: "error", error: { kind: "TypeError", name: "TypeError", message: ${
      JSON.stringify(`${who} is not a function\n    at somewhere.ts:1:1`)
    } } });`
    : `setTimeout(() => { throw new Error(${
      JSON.stringify(`${who} ran out of luck\n    at somewhere.ts:1:1`)
    }); });`;
  await Deno.writeTextFile(
    path,
    [
      `import { ${serve} } from ${JSON.stringify(host.href)};`,
      "let batches = 0;",
      "let broken = false;",
      "const post = globalThis.postMessage.bind(globalThis);",
      "const scope = {",
      "  onmessage: null,",
      "  postMessage(message, transfer) {",
      '    if (broken && message.type !== "error") return;',
      "    post(message, transfer);",
      `    if (message.type === "batch" && ++batches === ${batches}) {`,
      "      broken = true;",
      `      ${fail}`,
      "    }",
      "  },",
      listeners
        ? "  addEventListener: (type, listener) => globalThis.addEventListener(type, listener),"
        : "  addEventListener() {},",
      "};",
      `${serve}(scope);`,
      "globalThis.onmessage = (event) => scope.onmessage?.(event);",
    ].join("\n"),
  );
  return new URL(`file://${path}`);
}
