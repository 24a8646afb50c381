/**
 * The one hash that dry runs, tenant plans and validation key people and
 * (person, organization) pairs by, so that all three count duplicates alike.
 *
 * @module
 */

import { cyrb53, cyrb53High, cyrb53Low } from "./_cyrb53.ts";

/**
 * A 53-bit string hash (cyrb53). A million people collide with a chance of
 * about 1 in 20,000, which a dry-run estimate can bear; storing numbers
 * instead of emails keeps a 1M-row plan in a few tens of MiB.
 *
 * @param text The text to hash.
 * @returns A whole number below 2^53.
 *
 * @example Usage
 * ```ts
 * import { hash53 } from "./hash53.ts";
 * console.log(hash53("ada@example.com") === hash53("ada@example.com")); // true
 * ```
 */
export function hash53(text: string): number {
  cyrb53(text);
  return 4294967296 * (2097151 & cyrb53Low) + cyrb53High;
}
