/**
 * The dry run's and validate's people set at 10M distinct people: a
 * {@linkcode FingerprintSet} of 10M distinct emails (2M with `--quick`),
 * with and without row numbers. Reported: the set's bytes as a ratio to its
 * floor, the 6 bytes of fingerprint a slot keeps (10 with a row number), the
 * process's resident memory (and what filling the set with
 * fingerprints alone adds to a process of its own: the tables and what the allocator keeps of
 * those they grew out of), and the time per add as a ratio to hashing the
 * same emails alone (measured in the same run), and the shared hash
 * (`src/validation/_cyrb53.ts`, which `hash53` and the sets call) as a
 * ratio to a copy of its loop inlined here, interleaved: folding the three
 * copies into one module must not slow the hot path. Target (issue 16): 10M
 * distinct people in at most 150 MB (the set without row numbers, which the
 * dry run counts people with).
 *
 * Run: `deno run -A bench/fingerprint_set_bench.ts [--quick] [--people 10000000]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FingerprintSet } from "../src/validation/fingerprint_set.ts";
import { hash53 } from "../src/validation/hash53.ts";
import { cyrb53, cyrb53High, cyrb53Low } from "../src/validation/_cyrb53.ts";
import { emit, isQuick, logger, round } from "./_harness.ts";

const NAME = "fingerprint_set";
// Issue 16's goal: 150 MB, 10^6 bytes each (143.1 MiB).
const TARGET_MB = 150;
const log = logger(NAME);

function email(i: number): string {
  return `person.${i}@example${i % 1_000}.com`;
}

// The lanes of the inlined copy, kept as the old per-file copies kept theirs.
let inlinedHigh = 0;
let inlinedLow = 0;

/**
 * The loop `_cyrb53.ts` holds, copied here as `fingerprint_set.ts` had it
 * before: the reference the shared one is timed against.
 */
function inlinedCyrb53(text: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  inlinedHigh = h1 >>> 0;
  inlinedLow = h2 >>> 0;
}

/**
 * Best time of five interleaved rounds each of the shared hash and the
 * inlined copy over the same strings, and whether they agree on every one.
 */
function sharedAgainstInlined(texts: string[]): { shared: number; inlined: number; same: boolean } {
  let shared = Infinity;
  let inlined = Infinity;
  let same = true;
  for (let round = 0; round < 5; round++) {
    let started = performance.now();
    let a = 0;
    for (const text of texts) {
      cyrb53(text);
      a = (a + (cyrb53High ^ cyrb53Low)) | 0;
    }
    shared = Math.min(shared, performance.now() - started);
    started = performance.now();
    let b = 0;
    for (const text of texts) {
      inlinedCyrb53(text);
      b = (b + (inlinedHigh ^ inlinedLow)) | 0;
    }
    inlined = Math.min(inlined, performance.now() - started);
    if (round === 0) {
      for (const text of texts) {
        cyrb53(text);
        inlinedCyrb53(text);
        if (cyrb53High !== inlinedHigh || cyrb53Low !== inlinedLow) same = false;
      }
    }
  }
  return { shared, inlined, same };
}

/**
 * The bytes the set took before issue 16's night pass, for the same count:
 * 64 shards of power-of-two tables of 8-byte slots, each doubling past
 * three-quarters full.
 */
function doublingBytes(entries: number): number {
  let slots = 16;
  while (entries / 64 > slots * 0.75) slots *= 2;
  return 64 * slots * 8;
}

/** Resident anonymous memory of this process (Linux), in bytes; 0 elsewhere. */
function anonymousBytes(): number {
  try {
    const text = Deno.readTextFileSync("/proc/self/smaps_rollup");
    return Number(text.match(/^Anonymous:\s+(\d+) kB/m)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * What filling a set of `entries` fingerprints adds to the process's
 * resident anonymous memory, with no string made (so no garbage): the
 * tables, and whatever the allocator keeps of the tables they grew out of.
 */
function residentGrowthOfFill(entries: number): { bytes: number; resident: number } {
  const before = anonymousBytes();
  const set = new FingerprintSet();
  for (let i = 0; i < entries; i++) {
    set.addFingerprint(Math.imul(i ^ (i >>> 15), 0x85ebca6b), Math.imul(i, 0x9e3779b1), i);
  }
  return { bytes: set.bytes, resident: anonymousBytes() - before };
}

/**
 * {@linkcode residentGrowthOfFill} in a process of its own (this script with
 * `--fill-only`), so that no other set's tables or garbage are in it.
 */
async function fillInOwnProcess(entries: number): Promise<{ bytes: number; resident: number }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--fill-only", String(entries)],
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      people: { type: "string" },
      "fill-only": { type: "string" },
    },
  });
  if (values["fill-only"] !== undefined) {
    console.log(JSON.stringify(residentGrowthOfFill(Number(values["fill-only"]))));
    return;
  }
  const people = Number(values.people ?? (isQuick() ? 2_000_000 : 10_000_000));

  // The floor for time: building and hashing the same strings, nothing kept.
  let started = performance.now();
  let sink = 0;
  for (let i = 0; i < people; i++) sink ^= hash53(email(i));
  const hashMs = performance.now() - started;

  const rssBefore = Deno.memoryUsage().rss;
  const set = new FingerprintSet();
  started = performance.now();
  for (let i = 0; i < people; i++) set.add(email(i));
  const addMs = performance.now() - started;
  const rssAfter = Deno.memoryUsage().rss;
  let again = 0;
  for (let i = 0; i < people; i += 97) if (!set.add(email(i))) again++;
  const bytes = set.bytes;

  const withValues = new FingerprintSet({ values: true });
  for (let i = 0; i < people; i++) withValues.addWithValue(email(i), i + 1);
  const valueBytes = withValues.bytes;

  const texts = Array.from({ length: 1_000_000 }, (_, i) => email(i));
  const hashing = sharedAgainstInlined(texts);

  const fill = await fillInOwnProcess(people);

  const mb = bytes / 1e6;
  log(
    `${people} people: ${round(mb, 1)} MB = ${round(bytes / 2 ** 20, 1)} MiB (${
      round(bytes / people, 1)
    } B each), ` +
      `with row numbers ${round(valueBytes / 1e6, 1)} MB; add ${
        round(addMs * 1000 / people, 3)
      } µs (hashing alone ${round(hashMs * 1000 / people, 3)} µs) [${sink & 1}]`,
  );
  log(
    `filling ${people} fingerprints alone: resident memory +${
      round(fill.resident / 1e6, 1)
    } MB for ${round(fill.bytes / 1e6, 1)} MB of tables (${
      round(fill.resident / fill.bytes, 2)
    }×; the rest: the compiler's code and what the allocator keeps)`,
  );
  log(
    `shared cyrb53 ${round(hashing.shared, 1)} ms, inlined copy ${
      round(hashing.inlined, 1)
    } ms for 1M emails (best of 5 interleaved)`,
  );
  emit({
    name: NAME,
    people,
    megabytes: round(mb, 1),
    bytesRatioToStoredBits: round(bytes / (6 * people), 2),
    megabytesBefore: round(doublingBytes(people) / 1e6, 1),
    megabytesWithRowNumbers: round(valueBytes / 1e6, 1),
    rssGrowthMB: round((rssAfter - rssBefore) / 1e6, 1),
    fillResidentGrowthMB: round(fill.resident / 1e6, 1),
    fillResidentRatioToBytes: round(fill.resident / fill.bytes, 2),
    addRatioToHashing: round(addMs / hashMs, 2),
    addMicroseconds: round(addMs * 1000 / people, 3),
    sharedHashRatioToInlined: round(hashing.shared / hashing.inlined, 2),
    distinct: set.size,
    repeatsFound: again,
    target: { megabytes: TARGET_MB, mebibytes: round(TARGET_MB * 1e6 / 2 ** 20, 1) },
    passed: set.size === people && withValues.size === people &&
      again === Math.ceil(people / 97) && mb <= TARGET_MB && hashing.same,
  });
}

if (import.meta.main) await main();
