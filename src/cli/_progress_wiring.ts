/**
 * Routes an import's output around its progress line: a live line is
 * redrawn in place on stderr, so warnings and per-row lines that reach the
 * same terminal go through it instead of garbling it; and the line keeps
 * coming while no row finishes (a 429 pause, a slow batch), so a CI log
 * still gets its line every 10 s.
 *
 * @module
 */

import type { ProgressReporter, ProgressSnapshot } from "../report/progress.ts";

/** Where lines go when no live progress line is in the way. */
export interface ProgressWiringOptions {
  /** Writes a warning line (stderr). */
  warn(line: string): void;
  /** Writes a per-row line (stdout, or stderr with `--json`). */
  say(line: string): void;
  /** Whether per-row lines reach the terminal the live line is on. */
  rowsShareTerminal: boolean;
  /** Whether the progress line is live (stderr is a terminal, `NO_COLOR` unset). */
  live: boolean;
  /** How often the line is refreshed without new numbers, in ms; default 1,000. */
  tickMs?: number;
}

/**
 * One import's progress output.
 *
 * @example Usage
 * ```ts
 * import { ProgressReporter } from "../report/progress.ts";
 * import { ProgressWiring } from "./_progress_wiring.ts";
 *
 * const written: string[] = [];
 * const progress = new ProgressReporter({ write: (t) => written.push(t), isTerminal: false });
 * const wiring = new ProgressWiring(progress, {
 *   warn: (line) => written.push(line),
 *   say: (line) => written.push(line),
 *   rowsShareTerminal: false,
 *   live: false,
 * });
 * wiring.warn("Warning: something");
 * wiring.close();
 * console.log(written); // ["Warning: something"]
 * ```
 */
export class ProgressWiring {
  readonly #progress?: ProgressReporter;
  readonly #options: ProgressWiringOptions;
  #latest?: ProgressSnapshot;
  #notice?: string;
  #timer?: ReturnType<typeof setInterval>;

  /**
   * @param progress The reporter, or `undefined` when there is no progress (dry run).
   * @param options Where lines go and whether the line is live.
   */
  constructor(progress: ProgressReporter | undefined, options: ProgressWiringOptions) {
    this.#progress = progress;
    this.#options = options;
  }

  /**
   * Writes a warning without garbling a live line.
   *
   * @param line The warning.
   */
  warn(line: string): void {
    if (this.#progress && this.#options.live) this.#progress.log(line);
    else this.#options.warn(line);
  }

  /**
   * Writes a per-row line without garbling a live line on the same terminal.
   *
   * @param line The row's line.
   */
  row(line: string): void {
    if (this.#progress && this.#options.live && this.#options.rowsShareTerminal) {
      this.#progress.log(line);
    } else {
      this.#options.say(line);
    }
  }

  /**
   * Hands new numbers to the reporter and keeps refreshing it with them
   * until new ones come, so rates fall and the 10 s line still prints
   * while no row finishes.
   *
   * @param snapshot Where the import stands.
   */
  update(snapshot: ProgressSnapshot): void {
    if (!this.#progress) return;
    snapshot = { ...snapshot, notice: this.#notice };
    this.#latest = snapshot;
    this.#progress.update(snapshot);
    if (this.#timer === undefined) {
      const timer = setInterval(() => {
        if (this.#latest) this.#progress?.update(this.#latest);
      }, this.#options.tickMs ?? 1_000);
      // Never the reason the process stays up.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /**
   * Shows what holds the import up at the end of the progress line (an
   * outage), or nothing once it is over.
   *
   * @param notice The text, or `undefined` to clear it.
   */
  notice(notice: string | undefined): void {
    this.#notice = notice;
    if (this.#latest) this.update({ ...this.#latest });
  }

  /** Stops refreshing; call before the summary. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
