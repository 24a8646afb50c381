/**
 * Progress of a long import: on a terminal one live, coloured bar rewritten
 * in place (percentage, rows, rate, elapsed, ETA, 429s, retries, fitted to
 * the terminal's width), elsewhere (CI logs, `NO_COLOR`) one plain line every
 * 10 seconds.
 *
 * @example Report progress on stderr
 * ```ts
 * import { ProgressReporter, stderrProgressOptions } from "./progress.ts";
 *
 * const progress = new ProgressReporter(stderrProgressOptions());
 * for (let rows = 1_000; rows <= 5_000; rows += 1_000) {
 *   progress.update({
 *     rowsDone: rows, totalRows: 5_000, usersDone: rows, writes: rows * 2,
 *     writesPerSecondLimit: 50, rateLimited: 0, retries: 0,
 *   });
 * }
 * progress.finish();
 * ```
 *
 * @module
 */

import { formatCount, formatRate } from "./_format.ts";
import { textWidth, truncateToWidth } from "./_text_width.ts";
import { formatDuration } from "./summary.ts";

/** Where an import stands. Counts are job-wide: a resumed job includes earlier sessions. */
export interface ProgressSnapshot {
  /** Input rows finished (succeeded or failed). */
  rowsDone: number;
  /** All rows in the input, when known (not for stdin). */
  totalRows?: number;
  /** Users created or adopted. */
  usersDone: number;
  /** User-management write requests sent. */
  writes: number;
  /** The write budget per second (`--rate-limit`). */
  writesPerSecondLimit: number;
  /** 429 answers so far. */
  rateLimited: number;
  /** Retried requests so far. */
  retries: number;
  /** What holds the import up, e.g. `WorkOS unreachable since 12:03:04 (…): retrying in 8 s`. */
  notice?: string;
}

/** Options for {@linkcode ProgressReporter}. */
export interface ProgressOptions {
  /** Writes text as is (no newline added), e.g. to stderr. */
  write(text: string): void;
  /** Whether the output is a terminal: only then is the line live. */
  isTerminal: boolean;
  /** `NO_COLOR` is set: no live line even on a terminal. */
  noColor?: boolean;
  /** Time between plain lines, in ms. Default 10,000. */
  intervalMs?: number;
  /** Time between live redraws, in ms. Default 250. */
  redrawMs?: number;
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
  /** `rowsDone` when this session started, so rates count this session only. Default 0. */
  rowsDoneAtStart?: number;
  /** `usersDone` when this session started. Default 0. */
  usersDoneAtStart?: number;
  /** `writes` when this session started. Default 0. */
  writesAtStart?: number;
  /** The terminal's width: a live line is fitted to it, as a wrapped line cannot be rewritten. */
  columns?: number;
  /** What a row is called ("rows"; undo says "steps"). */
  unit?: string;
  /** What a user done is called per second ("users"). */
  rateUnit?: string;
}

/** Rates per second over the moving window, and the writes the budget counts. */
export interface Rates {
  /** Rows finished per second. */
  rowsPerSecond: number;
  /** Users done per second. */
  usersPerSecond: number;
  /** Writes sent per second. */
  writesPerSecond: number;
  /**
   * Writes sent within the last 10 s, the window the write budget enforces;
   * when absent, estimated from `writesPerSecond`.
   */
  writesInWindow?: number;
}

/** The write budget's window, as the progress shows it. */
const BUDGET_WINDOW_MS = 10_000;

interface Sample {
  at: number;
  rows: number;
  users: number;
  writes: number;
}

// Rates are averaged over the last minute: long enough to smooth batches and
// 429 pauses, short enough to follow a change of pace.
const SAMPLE_EVERY_MS = 1_000;
const WINDOW_SAMPLES = 60;

/**
 * The progress line for a snapshot and its rates: rows done (of the total
 * with a percentage, when known), users per second, writes within the
 * budget's 10 s window against what it allows, 429s, retries and, when the
 * total is known, the ETA.
 *
 * @example A line
 * ```ts
 * import { formatProgressLine } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatProgressLine(
 *   { rowsDone: 25_000, totalRows: 100_000, usersDone: 24_000, writes: 48_000,
 *     writesPerSecondLimit: 50, rateLimited: 0, retries: 2 },
 *   { rowsPerSecond: 25, usersPerSecond: 24, writesPerSecond: 49.5 },
 * );
 * assert.equal(
 *   line,
 *   "Progress: 25,000/100,000 rows (25.0%) | 24.0 users/s | writes 495/500 per 10 s | 429s: 0 | retries: 2 | ETA 50m 00s",
 * );
 * ```
 *
 * @param snapshot Where the import stands.
 * @param rates This session's rates per second.
 * @returns The line, without newline.
 */
export function formatProgressLine(snapshot: ProgressSnapshot, rates: Rates): string {
  const total = snapshot.totalRows;
  const rows = total === undefined
    ? `${formatCount(snapshot.rowsDone)} rows`
    : `${formatCount(snapshot.rowsDone)}/${formatCount(total)} rows (${
      percent(snapshot.rowsDone, total)
    })`;
  const parts = [
    `Progress: ${rows}`,
    `${formatRate(rates.usersPerSecond)} users/s`,
    writesField(snapshot, rates),
    `429s: ${formatCount(snapshot.rateLimited)}`,
    `retries: ${formatCount(snapshot.retries)}`,
  ];
  if (total !== undefined) {
    const remaining = Math.max(0, total - snapshot.rowsDone);
    if (remaining === 0) parts.push(`ETA ${formatDuration(0)}`);
    else if (rates.rowsPerSecond > 0) {
      parts.push(`ETA ${formatDuration(remaining / rates.rowsPerSecond * 1000)}`);
    } else parts.push("ETA --");
  }
  if (snapshot.notice) parts.push(snapshot.notice);
  return parts.join(" | ");
}

/** Options for {@linkcode formatProgressBar}. */
export interface ProgressBarOptions {
  /** The terminal's width; fields are dropped to fit it, least useful first, never the ETA. */
  columns?: number;
  /** Colour the bar, the ETA and 429s/retries when there are any. */
  color?: boolean;
  /** Time since this session started, in ms. */
  elapsedMs: number;
  /** What a row is called ("rows"). */
  unit?: string;
  /** What is counted per second ("users"). */
  rateUnit?: string;
}

const GREEN = "\x1b[32m";
const YELLOW = "\x1b[33m";
const CYAN = "\x1b[36m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const BAR_WIDTH = 24;
const MIN_BAR_WIDTH = 10;
const SEPARATOR = "  ";

interface BarField {
  text: string;
  /** Higher is kept longer; the ETA is never dropped. */
  keep: number;
  color?: string;
}

/**
 * The live progress bar for a terminal: a bar with the percentage, rows
 * done, rate, elapsed time, ETA, 429s, retries and writes in the budget's
 * window. When the terminal is too narrow the least useful fields go first
 * (writes, then the row count, retries and 429s while they are zero, elapsed,
 * rate), the bar shrinks, and the ETA always stays.
 *
 * @example A bar on a 70-column terminal
 * ```ts
 * import { formatProgressBar } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const bar = formatProgressBar(
 *   { rowsDone: 2_500, totalRows: 10_000, usersDone: 2_400, writes: 4_800,
 *     writesPerSecondLimit: 50, rateLimited: 0, retries: 0 },
 *   { rowsPerSecond: 25, usersPerSecond: 24, writesPerSecond: 48 },
 *   { columns: 70, elapsedMs: 100_000 },
 * );
 * assert.ok(bar.length <= 69);
 * assert.match(bar, /^\[█+░+\] 25\.0% {2}24\.0 users\/s {2}elapsed 1m 40s {2}ETA 5m 00s/);
 * assert.doesNotMatch(bar, /writes/);
 * ```
 *
 * @param snapshot Where the import stands.
 * @param rates This session's rates.
 * @param options Width, colour and elapsed time.
 * @returns The bar line, without newline or carriage return.
 */
export function formatProgressBar(
  snapshot: ProgressSnapshot,
  rates: Rates,
  options: ProgressBarOptions,
): string {
  const total = snapshot.totalRows;
  const unit = options.unit ?? "rows";
  const fields: BarField[] = [];
  if (total !== undefined) fields.push({ text: percent(snapshot.rowsDone, total), keep: 9 });
  fields.push({
    text: total === undefined
      ? `${formatCount(snapshot.rowsDone)} ${unit}`
      : `${formatCount(snapshot.rowsDone)}/${formatCount(total)} ${unit}`,
    keep: total === undefined ? 9 : 3,
  });
  fields.push({
    text: `${formatRate(rates.usersPerSecond)} ${options.rateUnit ?? "users"}/s`,
    keep: 7,
  });
  fields.push({ text: `elapsed ${formatDuration(options.elapsedMs)}`, keep: 6 });
  if (total !== undefined) {
    fields.push({ text: etaText(snapshot, rates, total), keep: Infinity, color: CYAN });
  }
  fields.push({
    text: `429s ${formatCount(snapshot.rateLimited)}`,
    keep: snapshot.rateLimited > 0 ? 8 : 4,
    color: snapshot.rateLimited > 0 ? YELLOW : undefined,
  });
  fields.push({
    text: `retries ${formatCount(snapshot.retries)}`,
    keep: snapshot.retries > 0 ? 8 : 2,
    color: snapshot.retries > 0 ? YELLOW : undefined,
  });
  fields.push({ text: writesField(snapshot, rates), keep: 1, color: DIM });

  const room = options.columns === undefined ? Infinity : options.columns - 1;
  const width = (list: BarField[]) =>
    list.reduce((sum, field) => sum + textWidth(field.text), 0) +
    SEPARATOR.length * Math.max(0, list.length - 1);
  let shown = fields;
  let barWidth = BAR_WIDTH;
  const withBar = total !== undefined;
  for (;;) {
    const rest = width(shown);
    // The bar, its brackets and one space before the percentage.
    const left = room - rest - (withBar ? 3 : 0);
    if (!withBar || left >= MIN_BAR_WIDTH) {
      barWidth = Math.min(BAR_WIDTH, left);
      break;
    }
    const droppable = shown.filter((field) => field.keep !== Infinity);
    if (droppable.length === 0) {
      barWidth = Math.max(0, left);
      break;
    }
    const least = droppable.reduce((a, b) => b.keep < a.keep ? b : a);
    shown = shown.filter((field) => field !== least);
  }
  const paint = (text: string, color: string | undefined) =>
    options.color && color ? `${color}${text}${RESET}` : text;
  let line = shown.map((field) => paint(field.text, field.color)).join(SEPARATOR);
  if (withBar && barWidth > 0) {
    const filled = Math.round(barWidth * Math.min(1, total > 0 ? snapshot.rowsDone / total : 1));
    const done = filled > 0 ? paint("█".repeat(filled), GREEN) : "";
    line = `[${done}${"░".repeat(barWidth - filled)}] ${line}`;
  }
  // Nothing left to drop (no total, a very narrow terminal): cut it.
  if (!options.color && textWidth(line) > room) return truncateToWidth(line, room);
  return line;
}

function etaText(snapshot: ProgressSnapshot, rates: Rates, total: number): string {
  const remaining = Math.max(0, total - snapshot.rowsDone);
  if (remaining === 0) return `ETA ${formatDuration(0)}`;
  if (rates.rowsPerSecond > 0) {
    return `ETA ${formatDuration(remaining / rates.rowsPerSecond * 1000)}`;
  }
  return "ETA --";
}

/**
 * Writes against the budget as the budget counts them: sent within its 10 s
 * window, out of what that window allows. The budget never lets the count
 * pass the limit, so neither does the figure.
 */
function writesField(snapshot: ProgressSnapshot, rates: Rates): string {
  const limit = Math.round(snapshot.writesPerSecondLimit * BUDGET_WINDOW_MS / 1000);
  const inWindow = rates.writesInWindow ??
    Math.round(rates.writesPerSecond * BUDGET_WINDOW_MS / 1000);
  return `writes ${formatCount(Math.min(inWindow, limit))}/${formatCount(limit)} per 10 s`;
}

function percent(done: number, total: number): string {
  if (total <= 0) return "100.0%";
  return `${Math.min(100, done / total * 100).toFixed(1)}%`;
}

/**
 * Shows an import's progress. Call {@linkcode ProgressReporter.update} as
 * often as you like (per batch): it throttles itself, redrawing a live line
 * at most every `redrawMs` and printing a plain line every `intervalMs`.
 * Call {@linkcode ProgressReporter.finish} before printing anything else.
 *
 * On a terminal without `noColor` the line is rewritten in place
 * (carriage return, then erase to end of line); otherwise plain lines go to
 * the log, the first one `intervalMs` after the start, so short runs print
 * none. Rates are moving averages over the last minute of this session.
 *
 * @example Plain lines in a CI log
 * ```ts
 * import { ProgressReporter } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * let clock = 0;
 * const lines: string[] = [];
 * const progress = new ProgressReporter({
 *   write: (text) => lines.push(text), isTerminal: false, now: () => clock,
 * });
 * for (let second = 1; second <= 20; second++) {
 *   clock = second * 1000;
 *   progress.update({
 *     rowsDone: second * 10, totalRows: 400, usersDone: second * 10, writes: second * 20,
 *     writesPerSecondLimit: 50, rateLimited: 0, retries: 0,
 *   });
 * }
 * assert.equal(lines.length, 2);
 * assert.match(lines[0], /^Progress: 100\/400 rows \(25.0%\) .* ETA 30.0 s\n$/);
 * ```
 */
export class ProgressReporter {
  #write: (text: string) => void;
  #live: boolean;
  #intervalMs: number;
  #redrawMs: number;
  #now: () => number;
  #columns: number | undefined;
  #unit: string | undefined;
  #rateUnit: string | undefined;
  #startedAt: number;
  #samples: Sample[];
  #latest: ProgressSnapshot | undefined;
  #lastShown: number;
  #shown = false;
  #finished = false;

  /**
   * Starts the clock for this session.
   *
   * @param options Output, mode and clock.
   */
  constructor(options: ProgressOptions) {
    this.#write = options.write;
    this.#live = options.isTerminal && !options.noColor;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#redrawMs = options.redrawMs ?? 250;
    this.#now = options.now ?? Date.now;
    this.#columns = options.columns;
    this.#unit = options.unit;
    this.#rateUnit = options.rateUnit;
    const start = this.#now();
    this.#startedAt = start;
    this.#samples = [{
      at: start,
      rows: options.rowsDoneAtStart ?? 0,
      users: options.usersDoneAtStart ?? 0,
      writes: options.writesAtStart ?? 0,
    }];
    // A live line starts at once; plain lines wait a full interval.
    this.#lastShown = this.#live ? -Infinity : start;
  }

  /**
   * Records where the import stands and shows it if it is time to.
   *
   * @param snapshot Job-wide counts.
   */
  update(snapshot: ProgressSnapshot): void {
    if (this.#finished) return;
    const now = this.#now();
    this.#latest = snapshot;
    const last = this.#samples[this.#samples.length - 1];
    if (now - last.at >= SAMPLE_EVERY_MS) {
      this.#samples.push({
        at: now,
        rows: snapshot.rowsDone,
        users: snapshot.usersDone,
        writes: snapshot.writes,
      });
      if (this.#samples.length > WINDOW_SAMPLES + 1) this.#samples.shift();
    }
    if (now - this.#lastShown >= (this.#live ? this.#redrawMs : this.#intervalMs)) {
      this.#show(snapshot, now);
    }
  }

  /**
   * Writes other output (a warning, say) without garbling the live line: the
   * line is erased, the text written on its own line, and the line drawn
   * again below it. Without a live line the text is just written.
   *
   * @example A warning during a live run
   * ```ts
   * import { ProgressReporter } from "./progress.ts";
   * import assert from "node:assert/strict";
   *
   * const output: string[] = [];
   * const progress = new ProgressReporter({ write: (text) => output.push(text), isTerminal: true });
   * progress.update({
   *   rowsDone: 1, usersDone: 1, writes: 1, writesPerSecondLimit: 50, rateLimited: 0, retries: 0,
   * });
   * progress.log("Row 7 has an unknown column");
   * assert.equal(output[1], "\r\x1b[KRow 7 has an unknown column\n");
   * assert.match(output[2], /^\r1 rows {2}/);
   * ```
   *
   * @param text The text; a final newline is added if missing.
   */
  log(text: string): void {
    const line = text.endsWith("\n") ? text : text + "\n";
    if (!this.#live || !this.#shown || this.#finished || this.#latest === undefined) {
      this.#write(line);
      return;
    }
    this.#write(`\r\x1b[K${line}`);
    this.#show(this.#latest, this.#now());
  }

  /**
   * Shows the final state and ends the live line with a newline, so the
   * summary starts on its own line. A plain log gets a final line only if it
   * got progress lines before. Later updates are ignored.
   */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#latest === undefined) return;
    if (this.#live || this.#shown) this.#show(this.#latest, this.#now());
    if (this.#live) this.#write("\n");
  }

  #rates(snapshot: ProgressSnapshot, now: number): Rates {
    const oldest = this.#samples[0];
    const seconds = (now - oldest.at) / 1000;
    // The oldest sample no more than one budget window back: the writes since
    // then all fall inside one window, so the count never passes the limit.
    const windowStart = this.#samples.find((sample) => now - sample.at <= BUDGET_WINDOW_MS) ??
      { writes: snapshot.writes };
    const writesInWindow = Math.max(0, snapshot.writes - windowStart.writes);
    if (seconds <= 0) {
      return { rowsPerSecond: 0, usersPerSecond: 0, writesPerSecond: 0, writesInWindow };
    }
    return {
      rowsPerSecond: Math.max(0, (snapshot.rowsDone - oldest.rows) / seconds),
      usersPerSecond: Math.max(0, (snapshot.usersDone - oldest.users) / seconds),
      writesPerSecond: Math.max(0, (snapshot.writes - oldest.writes) / seconds),
      writesInWindow,
    };
  }

  #show(snapshot: ProgressSnapshot, now: number): void {
    this.#lastShown = now;
    this.#shown = true;
    const rates = this.#rates(snapshot, now);
    if (!this.#live) {
      this.#write(formatProgressLine(snapshot, rates) + "\n");
      return;
    }
    // The cursor must stay on this row to rewrite it, so the bar is fitted to the width.
    const bar = formatProgressBar(snapshot, rates, {
      columns: this.#columns,
      color: true,
      elapsedMs: now - this.#startedAt,
      unit: this.#unit,
      rateUnit: this.#rateUnit,
    });
    this.#write(`\r${bar}\x1b[K`);
  }
}

/**
 * Options that report to stderr: live when stderr is a terminal and
 * `NO_COLOR` is not set, cut to the terminal's width.
 *
 * @example Use stderr, with a resumed job's starting point
 * ```ts
 * import { ProgressReporter, stderrProgressOptions } from "./progress.ts";
 *
 * const progress = new ProgressReporter(stderrProgressOptions({ rowsDoneAtStart: 40_000 }));
 * progress.finish();
 * ```
 *
 * @param overrides Options that replace the defaults.
 * @returns Options for {@linkcode ProgressReporter}.
 */
export function stderrProgressOptions(overrides: Partial<ProgressOptions> = {}): ProgressOptions {
  const encoder = new TextEncoder();
  const isTerminal = Deno.stderr.isTerminal();
  let columns: number | undefined;
  if (isTerminal) {
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // Not every terminal reports a size; lines are then left uncut.
    }
  }
  return {
    write(text: string): void {
      const bytes = encoder.encode(text);
      let offset = 0;
      while (offset < bytes.length) offset += Deno.stderr.writeSync(bytes.subarray(offset));
    },
    isTerminal,
    noColor: Deno.noColor,
    columns,
    ...overrides,
  };
}
