/**
 * Times as the importer keeps them: milliseconds since the epoch.
 *
 * @module
 */

/**
 * A WorkOS timestamp in milliseconds since the epoch.
 *
 * SDK 12 hands timestamps over as `Date`s, SDK 11 as ISO strings. Both keep
 * the milliseconds; `Date.parse(String(date))` would not, and a user created
 * in the same second the run started would then look older than the run.
 *
 * @param time The SDK's timestamp.
 * @returns Milliseconds since the epoch (`NaN` when absent or unreadable).
 *
 * @example Usage
 * ```ts
 * import { timeMs } from "./_time.ts";
 * console.log(timeMs(new Date("2024-01-01T00:00:00.250Z"))); // 1704067200250
 * console.log(timeMs("2024-01-01T00:00:00.250Z")); // 1704067200250
 * ```
 */
export function timeMs(time: Date | string | null | undefined): number {
  if (time instanceof Date) return time.getTime();
  return typeof time === "string" ? Date.parse(time) : NaN;
}
