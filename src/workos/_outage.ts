/**
 * The client's view of WorkOS's health. While WorkOS is down (a request ran
 * out of retries for a run reason: no answer, a 5xx, a gateway's page, a 429
 * that would not end) no request is sent: every request waits, one probe at a
 * time checks whether WorkOS answers again, spaced by a capped backoff, and
 * once one does, the waiting requests carry on. Down for longer than
 * `maxOutageMs`, or once the run is stopped for any reason (a refused key, a
 * local file that cannot be written), every waiting and later request fails
 * with the {@linkcode RunStopError}.
 *
 * @module
 */

import type { Clock } from "../limits/clock.ts";
import { RunStopError } from "../limits/run_stop.ts";
import { type ApiFailure, failureReason, isKeyRefusal, isRunCondition } from "./errors.ts";

/** What {@linkcode OutageGateOptions.onEvent} is told. */
export interface OutageEvent {
  /** `down`: requests wait, a probe follows in `retryInMs`; `up`: WorkOS answers again. */
  state: "down" | "up";
  /** Wall-clock time (ms since epoch) the failing began. */
  since: number;
  /** Why, e.g. `503 Service Unavailable` or `connection refused`. */
  reason: string;
  /** For `down`: when the next probe goes. */
  retryInMs?: number;
  /** For `up`: how long WorkOS was down. */
  downForMs?: number;
}

/** Options for {@linkcode OutageGate}. */
export interface OutageGateOptions {
  /** Longest wait for WorkOS before the run stops; `Infinity` waits for ever. */
  maxOutageMs: number;
  /** One authenticated read; resolves when WorkOS answered, else throws its failure. */
  probe(): Promise<void>;
  /** Describes what a failed probe threw. */
  describe(error: unknown): ApiFailure | undefined;
  /** Time source (monotonic) for waits and the deadline. */
  clock: Clock;
  /** Told when WorkOS goes down, before each probe, and when it is back. */
  onEvent?(event: OutageEvent): void;
  /** Stops waiting (a second Ctrl+C): waiters reject with its reason. */
  signal?: AbortSignal;
  /** Longest gap between two probes, in ms; default 15,000 (never more than 30,000). */
  maxProbeGapMs?: number;
  /** The first gap, in ms; default 1,000. */
  firstProbeGapMs?: number;
}

interface Outage {
  since: number;
  sinceWall: number;
  reason: string;
  opened: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The wall-clock time of day, `12:03:04`, for one-line messages.
 *
 * @param epochMs Milliseconds since the epoch.
 * @returns The local time, hours to seconds.
 */
export function timeOfDay(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * A duration as the flag takes it: `90s`, `15m`, `2h`, `1h30m`.
 *
 * @param ms The duration in milliseconds.
 * @returns The short form.
 */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "forever";
  let seconds = Math.round(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [];
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join("");
}

/**
 * The stop of a refused key.
 *
 * @param failure The 401 or 403.
 * @returns The run condition (exit 2).
 */
export function refusedKeyStop(failure: ApiFailure): RunStopError {
  return new RunStopError(
    "refused_key",
    `WorkOS refused the API key (${failure.status}): check WORKOS_SECRET_KEY`,
  );
}

/** See the module documentation. */
export class OutageGate {
  readonly #options: OutageGateOptions;
  #stopped?: RunStopError;
  #outage?: Outage;
  /** When the current streak of run-condition failures began (monotonic, wall). */
  #failingSince?: { at: number; wall: number };

  /** @param options Deadline, probe, clock and listener. */
  constructor(options: OutageGateOptions) {
    this.#options = options;
  }

  /** The condition that stopped the run, once one did. */
  get stopped(): RunStopError | undefined {
    return this.#stopped;
  }

  /** Whether requests wait for WorkOS now. */
  get down(): boolean {
    return this.#outage !== undefined;
  }

  /**
   * Before a request: throws when the run stopped; waits while WorkOS is down.
   *
   * @returns `undefined` when the request may go at once.
   */
  pass(): Promise<void> | undefined {
    if (this.#stopped) throw this.#stopped;
    return this.#outage?.opened;
  }

  /** A request got an answer: the failing streak is over. */
  noteAnswer(): void {
    this.#failingSince = undefined;
  }

  /** A request failed for a run reason (it may still be retried). */
  noteFailure(): void {
    this.#failingSince ??= { at: this.#options.clock.now(), wall: Date.now() };
  }

  /**
   * Stops the run: every waiting and later request fails with `stop`. The
   * first stop wins.
   *
   * @param stop Why.
   * @returns The stop in force.
   */
  halt(stop: RunStopError): RunStopError {
    this.#stopped ??= stop;
    const outage = this.#outage;
    this.#outage = undefined;
    outage?.reject(this.#stopped);
    return this.#stopped;
  }

  /**
   * A request ran out of retries for a run reason: WorkOS is down until a
   * probe gets an answer. Resolves then; rejects when the run stops first.
   *
   * @param failure The request's last failure.
   * @returns Settles when the request may try again.
   */
  wait(failure: ApiFailure): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.#outage) return this.#outage.opened;
    const clock = this.#options.clock;
    const since = this.#failingSince ?? { at: clock.now(), wall: Date.now() };
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const opened = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // Waiters attach their own handlers; this one keeps a stop unhandled by none.
    opened.catch(() => {});
    const outage: Outage = {
      since: since.at,
      sinceWall: since.wall,
      reason: failureReason(failure),
      opened,
      resolve,
      reject,
    };
    this.#outage = outage;
    this.#probeLoop(outage);
    return opened;
  }

  async #probeLoop(outage: Outage): Promise<void> {
    const options = this.#options;
    const clock = options.clock;
    const maxGap = Math.min(30_000, options.maxProbeGapMs ?? 15_000);
    let gap = Math.min(maxGap, options.firstProbeGapMs ?? 1_000);
    const deadline = outage.since + options.maxOutageMs;
    while (this.#outage === outage) {
      const wait = Math.max(0, Math.min(gap, deadline - clock.now()));
      options.onEvent?.({
        state: "down",
        since: outage.sinceWall,
        reason: outage.reason,
        retryInMs: wait,
      });
      try {
        await clock.sleep(wait, options.signal);
      } catch (error) {
        if (this.#outage === outage) this.#outage = undefined;
        outage.reject(error);
        return;
      }
      if (this.#outage !== outage) return;
      try {
        await options.probe();
      } catch (error) {
        if (this.#outage !== outage) return;
        const failure = options.describe(error);
        if (failure && isKeyRefusal(failure)) {
          this.halt(refusedKeyStop(failure));
          return;
        }
        if (failure === undefined || isRunCondition(failure)) {
          if (failure) outage.reason = failureReason(failure);
          if (clock.now() >= deadline) {
            this.halt(
              new RunStopError(
                "outage",
                `WorkOS unreachable since ${
                  timeOfDay(outage.sinceWall)
                } (${outage.reason}) for longer than --max-outage ${
                  shortDuration(options.maxOutageMs)
                }: stopped`,
              ),
            );
            return;
          }
          gap = Math.min(maxGap, gap * 2);
          continue;
        }
        // Any other answer (a 404, a 422) is still an answer: WorkOS is up.
      }
      if (this.#outage !== outage) return;
      this.#outage = undefined;
      this.#failingSince = undefined;
      options.onEvent?.({
        state: "up",
        since: outage.sinceWall,
        reason: outage.reason,
        downForMs: Date.now() - outage.sinceWall,
      });
      outage.resolve();
    }
  }
}
