import assert from "node:assert/strict";
import { ProgressReporter, type ProgressSnapshot } from "../src/report/progress.ts";
import { ProgressWiring } from "../src/cli/_progress_wiring.ts";

const SNAPSHOT: ProgressSnapshot = {
  rowsDone: 10,
  totalRows: 100,
  usersDone: 10,
  writes: 20,
  writesPerSecondLimit: 50,
  rateLimited: 1,
  retries: 2,
};

function setup(live: boolean, rowsShareTerminal: boolean) {
  const progressOutput: string[] = [];
  const warned: string[] = [];
  const said: string[] = [];
  const progress = new ProgressReporter({
    write: (text) => progressOutput.push(text),
    isTerminal: live,
    intervalMs: 20,
  });
  const wiring = new ProgressWiring(progress, {
    warn: (line) => warned.push(line),
    say: (line) => said.push(line),
    rowsShareTerminal,
    live,
    tickMs: 5,
  });
  return { progress, progressOutput, warned, said, wiring };
}

Deno.test("a live progress line takes warnings and per-row lines on its terminal above itself", () => {
  const { progressOutput, warned, said, wiring } = setup(true, true);
  wiring.update(SNAPSHOT);
  wiring.warn("Warning: column ignored");
  wiring.row("✓ Row 1 a@example.com: user created");
  wiring.close();
  assert.deepEqual([warned, said], [[], []]);
  assert.ok(progressOutput.includes("\r\x1b[KWarning: column ignored\n"));
  assert.ok(progressOutput.includes("\r\x1b[K✓ Row 1 a@example.com: user created\n"));
});

Deno.test("per-row lines that go elsewhere (stdout redirected) do not pass through the live line", () => {
  const { said, wiring } = setup(true, false);
  wiring.update(SNAPSHOT);
  wiring.row("✓ Row 1");
  wiring.close();
  assert.deepEqual(said, ["✓ Row 1"]);
});

Deno.test("without a live line, warnings and rows go where they always go", () => {
  const { warned, said, wiring } = setup(false, true);
  wiring.warn("Warning: x");
  wiring.row("✓ Row 1");
  wiring.close();
  assert.deepEqual([warned, said], [["Warning: x"], ["✓ Row 1"]]);
});

Deno.test("the plain line keeps coming while no new numbers arrive (a 429 pause)", async () => {
  const { progressOutput, wiring } = setup(false, false);
  wiring.update(SNAPSHOT);
  // One update only; the wiring's own refresh must print the interval's line.
  for (let i = 0; i < 400 && progressOutput.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  wiring.close();
  assert.ok(progressOutput.length >= 1, "a plain line without a new update");
  assert.match(progressOutput[0], /^Progress: 10\/100 rows \(10\.0%\) .* 429s: 1 \| retries: 2 /);
});
