/**
 * The binary build (`scripts/compile.ts`): the permissions it bakes in, what
 * it embeds, and what it says when `deno compile` cannot download its
 * runtime.
 *
 * `deno compile` needs a `denort` runtime from dl.deno.land, which these
 * machines cannot reach. Pointing `DENORT_BIN` at any file lets it assemble
 * the binary anyway: the result does not run (its base is not denort), but
 * it holds exactly the metadata and files a real build would, so both can
 * be read back and checked.
 */

import assert from "node:assert/strict";
import { V8_FLAGS } from "../src/cli/v8_flags.ts";
import { tempDir } from "./_cli.ts";

const SCRIPT = new URL("../scripts/compile.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface Run {
  code: number;
  stderr: string;
}

/** Runs the compile script as `deno task compile` does, with a clean environment. */
async function compile(
  args: string[],
  env: Record<string, string>,
  permissions: string[] = [],
): Promise<Run> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "LOCALAPPDATA"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-run",
      "--allow-read",
      "--allow-env",
      ...permissions,
      SCRIPT,
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env: { ...keep, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

/** The JSON object that starts at `start` in `text`. */
function jsonAt(text: string, start: number): unknown {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return JSON.parse(text.slice(start, i + 1));
  }
  throw new Error("No complete JSON object");
}

/** The metadata `deno compile` wrote into a binary. */
async function metadataOf(path: string): Promise<Record<string, unknown>> {
  const bytes = await Deno.readFile(path);
  // The metadata is plain UTF-8 JSON; latin1 keeps byte offsets for the search.
  const text = new TextDecoder("latin1").decode(bytes);
  const start = text.lastIndexOf('{"argv":');
  assert.ok(start >= 0, "the binary holds deno compile's metadata");
  return jsonAt(text, start) as Record<string, unknown>;
}

Deno.test("the binary bakes in the narrowest permissions, KV, no prompt and only the tool's own files", async () => {
  const dir = await tempDir();
  try {
    const output = `${dir}/workos-importer`;
    const run = await compile([`--output=${output}`], { DENORT_BIN: Deno.execPath() });
    assert.equal(run.code, 0, run.stderr);

    const metadata = await metadataOf(output);
    const permissions = metadata.permissions as Record<string, unknown>;
    assert.deepEqual(permissions.allow_net, ["api.workos.com"]);
    assert.deepEqual(permissions.allow_env, ["WORKOS_SECRET_KEY", "WORKOS_API_URL", "NO_COLOR"]);
    // Kept relative: resolved against the working directory when the binary runs.
    assert.deepEqual(permissions.allow_read, ["."]);
    assert.deepEqual(permissions.allow_write, ["."]);
    assert.equal(permissions.allow_run, null);
    assert.equal(permissions.allow_ffi, null);
    assert.equal(permissions.allow_sys, null);
    assert.deepEqual(permissions.deny_import, []);
    assert.equal(permissions.prompt, false);
    // The CLI's V8 flags: a binary takes none at run time, so they are baked in.
    for (const flag of V8_FLAGS) {
      assert.ok((metadata.v8_flags as string[]).includes(flag), `${flag} in ${metadata.v8_flags}`);
    }
    const unstable = metadata.unstable_config as { features: string[] };
    assert.ok(unstable.features.includes("kv"));

    // The embedded files, as deno compile lists them.
    const listing = run.stderr.split("Embedded Files")[1]?.split(/^Files:/m)[0];
    assert.ok(listing, run.stderr);
    assert.match(listing, /[─┬] main\.ts /);
    assert.match(listing, /[─┬] src /);
    for (const name of ["tests", "bench", "examples", "scripts", "docs", "dist", "fake_workos"]) {
      assert.doesNotMatch(listing, new RegExp(`[─ ]${name}\\b`), `"${name}" is not embedded`);
    }
    assert.doesNotMatch(listing, /[─ ]node_modules\b/, "no node_modules directory");
    // The validate worker's module, which no import of main.ts names (compile.ts includes it).
    assert.match(listing, /── _validate_worker\.ts /, "the validate worker is embedded");
    // npm packages: the pinned ones, from the lockfile's snapshot, and nothing else (hash-wasm is
    // the fake's, but deno compile embeds every package of the snapshot).
    const npmTree = listing.split(".deno_compile_node_modules")[1]?.split(/^[├└]/m)[0] ?? "";
    const packages = [...npmTree.matchAll(/── ((?:@[\w.-]+\/)?[\w.-]+)\//g)].map((m) => m[1]);
    assert.deepEqual(packages.sort(), [
      "@phc/format",
      "@workos-inc/node",
      "csv-parse",
      "csv-stringify",
      "hash-wasm",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--api-host, --allow-read and --allow-write change what the binary may touch", async () => {
  const dir = await tempDir();
  try {
    const output = `${dir}/workos-importer`;
    const run = await compile([
      `--output=${output}`,
      "--api-host=api.eu.example.com:8443",
      "--allow-read=/data/in",
      "--allow-write=/data/out,.workos-checkpoints",
    ], { DENORT_BIN: Deno.execPath() });
    assert.equal(run.code, 0, run.stderr);
    const permissions = (await metadataOf(output)).permissions as Record<string, unknown>;
    assert.deepEqual(permissions.allow_net, ["api.eu.example.com:8443"]);
    assert.deepEqual(permissions.allow_read, ["/data/in"]);
    assert.deepEqual(permissions.allow_write, ["/data/out", ".workos-checkpoints"]);

    const bad = await compile([`--output=${output}`, "--api-host=https://x"], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Cannot use "--api-host": "https:\/\/x" is not a host or host:port/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed runtime download is explained with the command that ran, and exits 1", async () => {
  // A port nothing listens on: every download through this proxy is refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const dir = await tempDir();
  try {
    const run = await compile(
      ["--target=aarch64-apple-darwin", `--output=${dir}/workos-importer`],
      { HTTPS_PROXY: `http://127.0.0.1:${port}`, HTTP_PROXY: `http://127.0.0.1:${port}` },
    );
    if (run.code === 0) {
      // This machine had the runtime cached, so there was nothing to download.
      assert.ok((await Deno.stat(`${dir}/workos-importer`)).isFile);
      return;
    }
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stderr.trim().split("\n").slice(-3);
    assert.match(
      lines[0],
      /^Cannot build the binary: deno compile could not download its runtime \(denort\) from "https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-aarch64-apple-darwin\.zip"/,
    );
    assert.match(
      lines[1],
      /^Command: deno compile --no-prompt --allow-net=api\.workos\.com .*--target=aarch64-apple-darwin .*main\.ts$/,
    );
    assert.match(lines[2], /^Fix: .*DENORT_BIN/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed build leaves no empty output directory behind", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const dir = await tempDir();
  try {
    const run = await compile(
      ["--target=aarch64-apple-darwin", `--output=${dir}/dist/workos-importer`],
      { HTTPS_PROXY: `http://127.0.0.1:${port}`, HTTP_PROXY: `http://127.0.0.1:${port}` },
      // As `deno task compile` runs it: allowed to write its output directory.
      [`--allow-write=${dir}/dist`],
    );
    if (run.code === 0) {
      // The runtime was cached, so there was nothing to download.
      assert.ok((await Deno.stat(`${dir}/dist/workos-importer`)).isFile);
      return;
    }
    assert.equal(run.code, 1, run.stderr);
    await assert.rejects(Deno.stat(`${dir}/dist`), Deno.errors.NotFound, "no empty dist/ left");
    // A directory that was there before is kept, empty or not.
    await Deno.mkdir(`${dir}/dist`);
    const again = await compile(
      ["--target=aarch64-apple-darwin", `--output=${dir}/dist/workos-importer`],
      { HTTPS_PROXY: `http://127.0.0.1:${port}`, HTTP_PROXY: `http://127.0.0.1:${port}` },
      [`--allow-write=${dir}/dist`],
    );
    assert.equal(again.code, 1, again.stderr);
    assert.ok((await Deno.stat(`${dir}/dist`)).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
