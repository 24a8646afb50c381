/**
 * The V8 flags every launcher of the CLI passes: the `import` task, the
 * command `deno task install` puts on the PATH, and the binary
 * `deno task compile` builds (`deno compile --v8-flags` bakes them in).
 *
 * Why: on a machine with a lot of RAM, V8 lets the heap grow to four or five
 * times what is live before it compacts, and keeps the pages it grew into:
 * an import with 40 MB live peaked at 300 MB. These flags keep the young
 * generation small and let the old one grow by half what is live after each
 * compaction, and hand freed pages back to the OS within a second, so the
 * resident memory follows the live heap. None is a hard cap (no
 * `--max-old-space-size`): a larger live heap than expected makes V8
 * collect more often, never crash an 11-hour run. The price is CPU for
 * the collections; an import is bound by WorkOS's rate limit long before.
 *
 * They cannot be set from inside the program: V8 freezes its flags once it
 * has started (`node:v8` `setFlagsFromString` is then silently ignored), so
 * `deno run main.ts` without them runs with V8's defaults.
 *
 * @module
 */

/** The flags, each as V8 spells it. */
export const V8_FLAGS: readonly string[] = Object.freeze([
  // Young generation: 4 MB semi-spaces (a new space of about 8 MB) instead of
  // the 64 MB new space V8 grows to on a large machine.
  "--max-semi-space-size=4",
  // Old generation: the next collection at 1.5 times what the last left live…
  "--heap-growing-percent=50",
  // …and the first at 32 MB, not at the machine-sized default.
  "--initial-old-space-size=32",
  // Pages the heap gave back go to the OS after 1 s in V8's pool, not 8:
  // at --concurrency 50 the pool held up to 15-28 MB of them at a time, all
  // resident (the import's peak 10 MiB lower with it, for no CPU measured).
  "--memory-pool-timeout=1",
  // The optimizing compiler on the main thread, not a thread of its own: its
  // zones were allocated in that thread's malloc arena, which glibc keeps
  // resident. 1M-row dry run 105.4 -> 101.2 MB, validate 104.9 -> 100.9,
  // 10M people 157.8 -> 151.5, import at c = 200 128 -> 124 MB (medians of
  // 3-7 alternated pairs), for the same CPU time in each and the same
  // resume latency (BENCHMARKS.md, "Offline memory, 2026-12-02 afternoon").
  "--no-concurrent-recompilation",
]);

/**
 * The flags as one `deno` argument.
 *
 * @returns `--v8-flags=` and the flags, comma-separated.
 *
 * @example Usage
 * ```ts
 * import { v8FlagsArgument } from "./v8_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(v8FlagsArgument(), /^--v8-flags=--max-semi-space-size=\d+,/);
 * ```
 */
export function v8FlagsArgument(): string {
  return `--v8-flags=${V8_FLAGS.join(",")}`;
}
