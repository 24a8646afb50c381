/**
 * What the stages of one run share: the tally, the watermark, the stop
 * signal (the caller's, or a run condition met on the way) and how the run
 * ended.
 *
 * @module
 */

import type { ImportTally } from "../../outcome/mod.ts";
import { emptyTally } from "../../outcome/mod.ts";
import type { RunStopError } from "../../limits/run_stop.ts";
import { WatermarkTracker } from "./watermark_tracker.ts";

/** Options for {@linkcode RunState}. */
export interface RunStateOptions {
  /** The caller's stop signal: no new row starts once it is aborted. */
  stop?: AbortSignal;
  /** Told at once when a run condition stops the run. */
  onRunStop?(stop: RunStopError): void;
}

/**
 * The state the stages of one run share.
 *
 * @example Usage
 * ```ts
 * import { RunState } from "./run_state.ts";
 * import { RunStopError } from "../../limits/run_stop.ts";
 * import assert from "node:assert/strict";
 *
 * const state = new RunState();
 * state.stopWith(new RunStopError("outage", "WorkOS is down"));
 * assert.equal(state.stop.aborted, true);
 * assert.equal(state.stopped?.kind, "outage");
 * ```
 */
export class RunState {
  /** The counts, kept as records and outcomes pass. */
  readonly tally: ImportTally = emptyTally();
  /** The records in input order, and how far they are final. */
  readonly watermarks: WatermarkTracker = new WatermarkTracker();
  /** Aborted when the caller stops the run or a run condition does. */
  readonly stop: AbortSignal;
  /** Set when the stop left rows of the input unread or unstarted. */
  interrupted = false;
  /** The run condition that stopped the run. */
  stopped?: RunStopError;
  /** What the input threw when it could not be read on; the run ends with it. */
  inputFailure?: { error: unknown };
  /** What a sink threw; no later batch is handed on after it. */
  sinkFailure?: { error: unknown };
  readonly #stopRun = new AbortController();
  readonly #onRunStop?: (stop: RunStopError) => void;

  /**
   * @param options The caller's stop signal and run-stop listener.
   */
  constructor(options: RunStateOptions = {}) {
    this.stop = options.stop
      ? AbortSignal.any([options.stop, this.#stopRun.signal])
      : this.#stopRun.signal;
    this.#onRunStop = options.onRunStop;
  }

  /**
   * Stops the run for a run condition: the first one is kept, and the
   * caller is told at once (so that it stops sending requests).
   *
   * @param stop The run condition.
   */
  stopWith(stop: RunStopError): void {
    this.stopped ??= stop;
    this.#stopRun.abort();
    this.#onRunStop?.(stop);
  }
}
