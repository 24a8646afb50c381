/**
 * How far WorkOS's clock may be from ours, measured from the `Date` header of
 * its answers. WorkOS stamps what it creates (`created_at`) with its clock;
 * the importer knows when it sent a request by its own. To ask "was this
 * made while my request was in flight?" the request's window is moved onto
 * the server's clock and widened by what the measurement cannot tell.
 *
 * A `Date` header has whole seconds, and the server read its clock somewhere
 * between our send and our receipt, so one answer bounds the offset
 * (server minus local) to `[date - received, date + 1 s - sent]`. Recent
 * answers' bounds are intersected (tighter); if they disagree (a clock was
 * stepped) their union is used instead (wider, never wrong on the safe side
 * of claiming less).
 *
 * @module
 */

/** Offset bounds assumed before any answer carried a `Date` header, in ms. */
export const UNMEASURED_SKEW_MS = 2_000;

const SAMPLES = 32;

/** Bounds on the server's clock minus ours, in milliseconds. */
export interface SkewBounds {
  low: number;
  high: number;
}

/**
 * Recent `Date`-header measurements of one server's clock.
 *
 * @example Usage
 * ```ts
 * import { ClockSkew } from "./_clock_skew.ts";
 * const skew = new ClockSkew();
 * const sent = Date.parse("2025-01-01T00:00:10.200Z");
 * skew.observe("Wed, 01 Jan 2025 00:00:10 GMT", sent, sent + 100);
 * console.log(skew.bounds()); // { low: -300, high: 800 }
 * ```
 */
export class ClockSkew {
  readonly #lows: number[] = [];
  readonly #highs: number[] = [];
  #next = 0;
  // The last header parsed: it changes once a second, while thousands of
  // answers a second carry it, and Date.parse was a few µs of each.
  #lastDate = "";
  #lastServer = Number.NaN;

  /**
   * Records one answer.
   *
   * @param date The answer's `Date` header, if any.
   * @param sentAt When the request was sent (local ms since epoch).
   * @param receivedAt When its headers arrived (local ms since epoch).
   */
  observe(date: string | null, sentAt: number, receivedAt: number): void {
    if (!date) return;
    if (date !== this.#lastDate) {
      this.#lastDate = date;
      this.#lastServer = Date.parse(date);
    }
    const server = this.#lastServer;
    if (Number.isNaN(server)) return;
    this.#lows[this.#next] = server - receivedAt;
    this.#highs[this.#next] = server + 1_000 - sentAt;
    this.#next = (this.#next + 1) % SAMPLES;
  }

  /**
   * The offset's bounds from recent answers.
   *
   * @returns `low <= server - local <= high`.
   */
  bounds(): SkewBounds {
    if (this.#lows.length === 0) return { low: -UNMEASURED_SKEW_MS, high: UNMEASURED_SKEW_MS };
    const low = Math.max(...this.#lows);
    const high = Math.min(...this.#highs);
    if (low <= high) return { low, high };
    return { low: Math.min(...this.#lows), high: Math.max(...this.#highs) };
  }

  /**
   * Whether something stamped `createdAtMs` by the server may have been made
   * between `fromMs` and `toMs` on our clock.
   *
   * @param createdAtMs The server's time stamp.
   * @param fromMs Start of the window (local).
   * @param toMs End of the window (local).
   * @returns `true` when the stamp falls in the widened window.
   */
  within(createdAtMs: number, fromMs: number, toMs: number): boolean {
    if (Number.isNaN(createdAtMs)) return false;
    const { low, high } = this.bounds();
    return createdAtMs >= fromMs + low && createdAtMs <= toMs + high;
  }
}
