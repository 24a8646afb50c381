// deno-lint-ignore-file no-control-regex
/**
 * What a person at a terminal sees: the real CLI run in a real
 * pseudo-terminal (util-linux `script`), 70 columns wide, against the fake
 * WorkOS. On the terminal: a coloured progress bar fitted to the width with
 * the ETA kept, and coloured status words; with `NO_COLOR` or through a pipe:
 * plain lines without a single escape code.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { textWidth } from "../src/report/_text_width.ts";
import { tempDir, tempPath } from "./_cli.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ESCAPE = "\x1b[";

function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** The environment of a fresh shell: no NO_COLOR unless asked for. */
function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, TERM: "xterm-256color", ...extra };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Runs the CLI on a pseudo-terminal of `columns` columns; returns all it drew. */
async function runInTerminal(
  args: string[],
  options: { columns: number; env: Record<string, string> },
): Promise<{ code: number; screen: string }> {
  const command = [Deno.execPath(), "run", "--quiet", "-A", MAIN, ...args].map(shellQuote)
    .join(" ");
  const output = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", `stty cols ${options.columns} rows 30; exec ${command}`, "/dev/null"],
    clearEnv: true,
    env: baseEnv(options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, screen: new TextDecoder().decode(output.stdout) };
}

function withoutColors(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function usersCsv(rows: number): Promise<string> {
  const lines = ["email,first_name"];
  for (let i = 0; i < rows; i++) lines.push(`user${i}@terminal.test,User ${i}`);
  lines.push("not-an-email,Broken");
  const path = await tempPath({ suffix: ".csv" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

Deno.test({
  name: "a terminal gets a coloured progress bar fitted to 70 columns, with the ETA kept",
  ignore: !hasScript(),
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 15 } });
    const csv = await usersCsv(60);
    const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
    const { code, screen } = await runInTerminal(["--csv", csv, "--concurrency", "2"], {
      columns: 70,
      env,
    });
    assert.equal(code, 1, screen);
    assert.equal(fake.state.userCount(), 60);
    // Redraws of the bar: each starts with a carriage return and erases to the end.
    const bars = screen.split("\r").filter((part) => part.startsWith("["));
    assert.ok(bars.length >= 2, `bars drawn: ${JSON.stringify(screen.slice(0, 2000))}`);
    for (const bar of bars) {
      const text = withoutColors(bar.replace(/\x1b\[K[\s\S]*$/, ""));
      assert.ok(textWidth(text) <= 69, `wider than the terminal: ${JSON.stringify(text)}`);
      assert.match(text, /^\[[█░]+\] \d+\.\d% /, text);
      assert.match(text, /ETA (--|\d)/, `the ETA always stays: ${text}`);
      assert.match(text, /users\/s/, text);
      assert.doesNotMatch(text, /writes \d/, `the least useful field went first: ${text}`);
    }
    const last = withoutColors(bars.at(-1) ?? "");
    assert.match(last, /^\[█+\] 100\.0% {2}.*elapsed .*ETA 0\.0 s/);
    // Colour: a green bar and ETA in cyan; green ✓ and red ✗ on the row lines.
    assert.ok(screen.includes("\x1b[32m█"), "a green bar");
    assert.ok(screen.includes("\x1b[36mETA"), "a cyan ETA");
    assert.match(screen, /\x1b\[32m✓\x1b\[0m Row 1 user0@terminal\.test: user created/);
    assert.match(screen, /\x1b\[31m✗\x1b\[0m Row 61 not-an-email/);
    assert.match(screen, /Status: Completed with errors/);
    await Deno.remove(csv);
  },
});

Deno.test({
  name: "NO_COLOR on a terminal, and a pipe, give plain lines without escape codes",
  ignore: !hasScript(),
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const csv = await usersCsv(20);
    const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
    const noColor = await runInTerminal(["--csv", csv], {
      columns: 70,
      env: { ...env, NO_COLOR: "1" },
    });
    assert.equal(noColor.code, 1, noColor.screen);
    assert.ok(!noColor.screen.includes(ESCAPE), JSON.stringify(noColor.screen.slice(0, 500)));
    assert.match(noColor.screen, /✓ Row 1 user0@terminal\.test/);
    assert.doesNotMatch(noColor.screen, /\[█|░/);

    fake.state.reset();
    const piped = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "-A", MAIN, "--csv", csv, "--on-existing", "skip"],
      clearEnv: true,
      env: baseEnv(env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(piped.stdout) + new TextDecoder().decode(piped.stderr);
    assert.equal(piped.code, 1, text);
    assert.ok(!text.includes(ESCAPE), JSON.stringify(text.slice(0, 500)));
    assert.match(text, /✓ Row 1 user0@terminal\.test/);
    assert.match(text, /✗ Row 21 not-an-email/);
    await Deno.remove(csv);
  },
});

Deno.test({
  name: "undo shows the same progress bar on a terminal",
  ignore: !hasScript(),
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 10 } });
    const csv = await usersCsv(30);
    const checkpoints = await tempDir();
    const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
    const imported = await runInTerminal(
      ["--csv", csv, "--job-id", "to-undo", "--checkpoint-dir", checkpoints, "--quiet"],
      { columns: 100, env },
    );
    assert.equal(imported.code, 1, imported.screen);
    assert.equal(fake.state.userCount(), 30);
    const { code, screen } = await runInTerminal(
      ["undo", "to-undo", "--checkpoint-dir", checkpoints, "--quiet"],
      { columns: 100, env },
    );
    assert.equal(code, 0, screen);
    assert.equal(fake.state.userCount(), 0);
    const bars = screen.split("\r").filter((part) => part.startsWith("["));
    assert.ok(bars.length >= 1, JSON.stringify(screen.slice(0, 1000)));
    const last = withoutColors(bars.at(-1) ?? "");
    assert.match(
      last,
      /^\[█+\] 100\.0% {2}30\/30 steps {2}[\d.,]+ steps\/s {2}elapsed .* {2}ETA 0\.0 s/,
    );
    assert.ok(screen.includes("\x1b[32m█"), "a green bar");
    await Deno.remove(checkpoints, { recursive: true });
    await Deno.remove(csv);
  },
});
