// cyrb53, the one string hash behind hash53 and the fingerprint sets, so that
// every count of people and pairs hashes alike. Both 32-bit lanes are left in
// module variables rather than returned: no allocation per call on the hot
// path (a dry run hashes two strings a row).

/** The first lane of the last {@linkcode cyrb53} (an unsigned 32-bit number). */
export let cyrb53High = 0;
/** The second lane of the last {@linkcode cyrb53} (an unsigned 32-bit number). */
export let cyrb53Low = 0;

/**
 * Hashes `first`, or `first + "\u0000" + second` when `second` is given,
 * or `first + "\u0000" + second + tail` with `tail` too (without building
 * those strings: the same bits), into {@linkcode cyrb53High} and
 * {@linkcode cyrb53Low}.
 */
export function cyrb53(first: string, second?: string, tail?: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < first.length; i++) {
    const code = first.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  if (second !== undefined) {
    // The separator, U+0000: `x ^ 0` is `x`.
    h1 = Math.imul(h1, 2654435761);
    h2 = Math.imul(h2, 1597334677);
    for (let i = 0; i < second.length; i++) {
      const code = second.charCodeAt(i);
      h1 = Math.imul(h1 ^ code, 2654435761);
      h2 = Math.imul(h2 ^ code, 1597334677);
    }
    if (tail !== undefined) {
      for (let i = 0; i < tail.length; i++) {
        const code = tail.charCodeAt(i);
        h1 = Math.imul(h1 ^ code, 2654435761);
        h2 = Math.imul(h2 ^ code, 1597334677);
      }
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  cyrb53High = h1 >>> 0;
  cyrb53Low = h2 >>> 0;
}
