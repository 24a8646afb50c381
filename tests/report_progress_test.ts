// deno-lint-ignore-file no-control-regex
import assert from "node:assert/strict";
import {
  formatProgressBar,
  formatProgressLine,
  type ProgressOptions,
  ProgressReporter,
  type ProgressSnapshot,
} from "../src/report/progress.ts";
import { textWidth } from "../src/report/_text_width.ts";

const ERASE_TO_END = "\x1b[K";

/** The text without colour codes (the erase-to-end code stays). */
function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** A reporter on a manual clock that records everything it writes. */
function harness(options: Partial<ProgressOptions> = {}) {
  const clock = { now: 0 };
  const output: string[] = [];
  const reporter = new ProgressReporter({
    write: (text) => output.push(text),
    isTerminal: true,
    now: () => clock.now,
    ...options,
  });
  return { clock, output, reporter };
}

function snapshot(overrides: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  return {
    rowsDone: 0,
    totalRows: 1_000,
    usersDone: 0,
    writes: 0,
    writesPerSecondLimit: 50,
    rateLimited: 0,
    retries: 0,
    ...overrides,
  };
}

/** Steady progress: `perSecond` rows, users and twice as many writes each second. */
function at(seconds: number, perSecond: number, extra: Partial<ProgressSnapshot> = {}) {
  const rows = Math.round(seconds * perSecond);
  return snapshot({ rowsDone: rows, usersDone: rows, writes: rows * 2, ...extra });
}

Deno.test("formatProgressLine shows rows, rates against the budget, 429s, retries and ETA", () => {
  assert.equal(
    formatProgressLine(
      snapshot({ rowsDone: 12_345, totalRows: 100_000, rateLimited: 3, retries: 17 }),
      { rowsPerSecond: 40, usersPerSecond: 38.25, writesPerSecond: 49.96 },
    ),
    "Progress: 12,345/100,000 rows (12.3%) | 38.3 users/s | writes 500/500 per 10 s | 429s: 3 | retries: 17 | ETA 36m 31s",
  );
});

Deno.test("formatProgressLine leaves out percent and ETA when the total is unknown", () => {
  const line = formatProgressLine(snapshot({ rowsDone: 5_000, totalRows: undefined }), {
    rowsPerSecond: 50,
    usersPerSecond: 50,
    writesPerSecond: 100,
  });
  assert.equal(
    line,
    "Progress: 5,000 rows | 50.0 users/s | writes 500/500 per 10 s | 429s: 0 | retries: 0",
  );
});

Deno.test("formatProgressLine has an ETA of -- while stalled and 0 when done", () => {
  const stalled = { rowsPerSecond: 0, usersPerSecond: 0, writesPerSecond: 0 };
  assert.match(formatProgressLine(snapshot({ rowsDone: 10 }), stalled), / \| ETA --$/);
  assert.match(
    formatProgressLine(snapshot({ rowsDone: 1_000 }), stalled),
    /\(100\.0%\) .* \| ETA 0\.0 s$/,
  );
  // A total that turned out low never shows more than 100 %.
  assert.match(formatProgressLine(snapshot({ rowsDone: 1_200 }), stalled), /\(100\.0%\)/);
});

Deno.test("terminal: the line is drawn at once and rewritten in place", () => {
  const { clock, output, reporter } = harness();
  reporter.update(at(0, 10));
  assert.equal(output.length, 1);
  assert.match(output[0], /^\r\[░{24}\] 0\.0% {2}0\/1,000 rows {2}/);
  assert.ok(output[0].endsWith(ERASE_TO_END));
  clock.now = 1_000;
  reporter.update(at(1, 10));
  assert.equal(output.length, 2);
  assert.ok(output.every((text) => text.startsWith("\r") && !text.includes("\n")));
  assert.equal(
    plain(output[1]),
    `\r[░{24}] 1.0%  10/1,000 rows  10.0 users/s  elapsed 1.0 s  ETA 1m 39s  429s 0  retries 0  writes 20/500 per 10 s${ERASE_TO_END}`
      .replace("░{24}", "░".repeat(24)),
  );
});

Deno.test("terminal: redraws are throttled to one per 250 ms however often update is called", () => {
  const { clock, output, reporter } = harness();
  for (let ms = 0; ms <= 10_000; ms += 5) {
    clock.now = ms;
    reporter.update(at(ms / 1000, 10));
  }
  // 2,001 updates over 10 s: a draw at 0 ms, then every 250 ms.
  assert.equal(output.length, 41);
});

Deno.test("terminal: finish draws the final state and ends the line; later calls do nothing", () => {
  const { clock, output, reporter } = harness();
  reporter.update(at(0, 10));
  clock.now = 100;
  reporter.update(snapshot({ rowsDone: 1_000, usersDone: 990, writes: 2_000 }));
  assert.equal(output.length, 1);
  reporter.finish();
  assert.equal(output.length, 3);
  assert.match(
    plain(output[1]),
    /^\r\[█{24}\] 100\.0% {2}1,000\/1,000 rows {2}.* {2}ETA 0\.0 s {2}/,
  );
  assert.ok(output[1].includes(`\x1b[32m${"█".repeat(24)}\x1b[0m`), "the bar is green");
  assert.ok(output[1].endsWith(ERASE_TO_END));
  assert.equal(output[2], "\n");
  reporter.finish();
  clock.now = 5_000;
  reporter.update(at(5, 10));
  assert.equal(output.length, 3);
});

Deno.test("terminal: the bar fits the terminal's width, dropping fields but never the ETA", () => {
  const { output, reporter } = harness({ columns: 40 });
  reporter.update(at(0, 10, { rateLimited: 123_456, retries: 654_321 }));
  const line = plain(output[0]).replace("\r", "").replace("\x1b[K", "");
  assert.ok(textWidth(line) <= 39, line);
  assert.match(line, /^\[░+\] 0\.0% {2}.*ETA --/);
});

Deno.test("not a terminal: one plain line every 10 s, no escape codes", () => {
  const { clock, output, reporter } = harness({ isTerminal: false });
  for (let ms = 0; ms <= 35_000; ms += 100) {
    clock.now = ms;
    reporter.update(at(ms / 1000, 10));
  }
  assert.equal(output.length, 3);
  for (const line of output) {
    assert.ok(line.endsWith("\n"));
    assert.ok(!line.includes("\r") && !line.includes("\x1b"), JSON.stringify(line));
  }
  assert.equal(
    output[0],
    "Progress: 100/1,000 rows (10.0%) | 10.0 users/s | writes 200/500 per 10 s | 429s: 0 | retries: 0 | ETA 1m 30s\n",
  );
  assert.match(output[2], /^Progress: 300\/1,000 rows/);
  reporter.finish();
  assert.equal(output.length, 4);
  assert.match(output[3], /^Progress: 350\/1,000 rows .*\n$/);
});

Deno.test("not a terminal: a run shorter than the interval prints nothing", () => {
  const { clock, output, reporter } = harness({ isTerminal: false });
  for (let ms = 0; ms < 10_000; ms += 500) {
    clock.now = ms;
    reporter.update(at(ms / 1000, 10));
  }
  reporter.finish();
  assert.deepEqual(output, []);
});

Deno.test("NO_COLOR on a terminal gives plain lines, not a live line", () => {
  const { clock, output, reporter } = harness({
    isTerminal: true,
    noColor: true,
    intervalMs: 5_000,
  });
  for (let ms = 0; ms <= 10_000; ms += 250) {
    clock.now = ms;
    reporter.update(at(ms / 1000, 10));
  }
  assert.equal(output.length, 2);
  assert.ok(output.every((line) => !line.includes("\r") && !line.includes("\x1b")));
});

Deno.test("a resumed job shows job-wide counts but rates from this session only", () => {
  const { clock, output, reporter } = harness({
    isTerminal: false,
    rowsDoneAtStart: 600,
    usersDoneAtStart: 590,
    writesAtStart: 0,
  });
  clock.now = 10_000;
  reporter.update(snapshot({ rowsDone: 700, usersDone: 680, writes: 200 }));
  assert.equal(
    output[0],
    "Progress: 700/1,000 rows (70.0%) | 9.0 users/s | writes 200/500 per 10 s | 429s: 0 | retries: 0 | ETA 30.0 s\n",
  );
});

Deno.test("rates are a moving average over the last minute", () => {
  const { clock, output, reporter } = harness({ isTerminal: false, intervalMs: 60_000 });
  let rows = 0;
  const total = 100_000;
  for (let second = 1; second <= 180; second++) {
    clock.now = second * 1000;
    rows += second <= 60 ? 10 : 40;
    reporter.update(snapshot({ rowsDone: rows, totalRows: total, usersDone: rows, writes: rows }));
  }
  // At 60 s the only pace seen is 10/s; at 180 s the last minute ran at 40/s
  // (the average since the start would be 30/s).
  assert.equal(output.length, 3);
  assert.match(output[0], /\| 10\.0 users\/s \|/);
  assert.match(output[2], /^Progress: 5,400\/100,000 rows .*\| 40\.0 users\/s \|/);
  const remainingSeconds = (total - 5_400) / 40;
  assert.match(output[2], new RegExp(`ETA ${Math.floor(remainingSeconds / 60)}m `));
});

Deno.test("a stall shows no ETA rather than a wrong one", () => {
  const { clock, output, reporter } = harness({ isTerminal: false });
  clock.now = 10_000;
  reporter.update(snapshot({ rowsDone: 0 }));
  assert.match(output[0], /ETA --\n$/);
});

Deno.test("unknown totals (stdin) never show a percentage or an ETA", () => {
  const { clock, output, reporter } = harness();
  for (let second = 0; second <= 5; second++) {
    clock.now = second * 1000;
    reporter.update(at(second, 100, { totalRows: undefined }));
  }
  reporter.finish();
  assert.ok(output.length > 2);
  for (const text of output) {
    assert.ok(!text.includes("%") && !text.includes("ETA"), text);
  }
  // 200 writes a second against a budget of 50 still never reads as over it.
  assert.equal(
    plain(output.at(-2) ?? ""),
    `\r500 rows  100 users/s  elapsed 5.0 s  429s 0  retries 0  writes 500/500 per 10 s${ERASE_TO_END}`,
  );
});

Deno.test("finish without any update writes nothing", () => {
  for (const isTerminal of [true, false]) {
    const { output, reporter } = harness({ isTerminal });
    reporter.finish();
    assert.deepEqual(output, []);
  }
});

Deno.test("log writes other output above the live line and redraws it", () => {
  const { clock, output, reporter } = harness();
  reporter.log("Before any progress");
  assert.deepEqual(output, ["Before any progress\n"]);
  reporter.update(at(0, 10));
  clock.now = 50;
  reporter.log('Warning: unknown column "department"\n');
  assert.equal(output[2], `\r${ERASE_TO_END}Warning: unknown column "department"\n`);
  assert.match(output[3], /^\r\[░{24}\] 0\.0% {2}0\/1,000 rows/);
  reporter.finish();
  reporter.log("Done");
  assert.equal(output.at(-1), "Done\n");
});

Deno.test("log in a plain log writes the text as is", () => {
  const { clock, output, reporter } = harness({ isTerminal: false });
  clock.now = 10_000;
  reporter.update(at(10, 10));
  reporter.log("Warning");
  assert.equal(output.length, 2);
  assert.equal(output[1], "Warning\n");
});

Deno.test("formatProgressBar drops the least useful fields first at 70 columns, never the ETA", () => {
  const rates = { rowsPerSecond: 25, usersPerSecond: 24, writesPerSecond: 48, writesInWindow: 480 };
  const state = snapshot({ rowsDone: 2_500, totalRows: 10_000, usersDone: 2_400, writes: 4_800 });
  const wide = formatProgressBar(state, rates, { elapsedMs: 100_000 });
  assert.equal(
    wide,
    `[${"█".repeat(6)}${
      "░".repeat(18)
    }] 25.0%  2,500/10,000 rows  24.0 users/s  elapsed 1m 40s  ETA 5m 00s  429s 0  retries 0  writes 480/500 per 10 s`,
  );
  const narrow = formatProgressBar(state, rates, { columns: 70, elapsedMs: 100_000 });
  assert.ok(textWidth(narrow) <= 69, narrow);
  assert.match(narrow, /^\[█+░+\] 25\.0% {2}24\.0 users\/s {2}elapsed 1m 40s {2}ETA 5m 00s/);
  assert.doesNotMatch(narrow, /writes|2,500\/10,000|retries/);
  // Trouble is worth more room than the elapsed time: 429s and retries stay when not zero.
  const troubled = formatProgressBar({ ...state, rateLimited: 3, retries: 5 }, rates, {
    columns: 70,
    elapsedMs: 100_000,
    color: true,
  });
  assert.ok(textWidth(plain(troubled)) <= 69, troubled);
  assert.ok(troubled.includes("\x1b[33m429s 3\x1b[0m") && troubled.includes("\x1b[33mretries 5"));
  assert.ok(troubled.includes("\x1b[36mETA 5m 00s\x1b[0m"));
  // Very narrow: everything but the bar and the ETA goes.
  assert.equal(
    plain(formatProgressBar(state, rates, { columns: 30, elapsedMs: 0 })).includes("ETA"),
    true,
  );
});

Deno.test("the writes figure counts one budget window and never reads as over its limit", () => {
  const { clock, output, reporter } = harness({ isTerminal: false, intervalMs: 1_000 });
  // 60 writes a second against a budget of 50: a sampling artefact, never shown as 600/500.
  for (let second = 1; second <= 30; second++) {
    clock.now = second * 1000;
    reporter.update(
      snapshot({ rowsDone: second * 30, usersDone: second * 30, writes: second * 60 }),
    );
  }
  assert.ok(output.length > 20);
  for (const line of output) {
    const [, shown, limit] = line.match(/writes ([\d,]+)\/([\d,]+) per 10 s/) ?? [];
    assert.equal(limit, "500", line);
    assert.ok(Number(shown.replace(/,/g, "")) <= 500, line);
  }
  // Under the limit the figure is the real count in the last 10 s.
  const slow = harness({ isTerminal: false, intervalMs: 1_000 });
  for (let second = 1; second <= 30; second++) {
    slow.clock.now = second * 1000;
    slow.reporter.update(snapshot({ rowsDone: second, usersDone: second, writes: second * 20 }));
  }
  assert.match(slow.output.at(-1) ?? "", /writes 200\/500 per 10 s/);
});
