/**
 * The dry run's and validate's people set at 10M distinct people: a
 * {@linkcode FingerprintSet} of 10M distinct emails (2M with `--quick`),
 * with and without row numbers. Reported: the set's bytes as a ratio to its
 * floor, the 8 bytes a 64-bit fingerprint takes (12 with a row number), the
 * process's resident memory, and the time per add as a ratio to hashing the
 * same emails alone (measured in the same run). Target (issue 16): 10M
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
import { emit, isQuick, logger, round } from "./_harness.ts";

const NAME = "fingerprint_set";
const TARGET_MB = 150;
const log = logger(NAME);

function email(i: number): string {
  return `person.${i}@example${i % 1_000}.com`;
}

function main(): void {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean", default: false }, people: { type: "string" } },
  });
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

  const mb = bytes / 1e6;
  log(
    `${people} people: ${round(mb, 1)} MB (${round(bytes / people, 1)} B each), ` +
      `with row numbers ${round(valueBytes / 1e6, 1)} MB; add ${
        round(addMs * 1000 / people, 3)
      } µs (hashing alone ${round(hashMs * 1000 / people, 3)} µs) [${sink & 1}]`,
  );
  emit({
    name: NAME,
    people,
    megabytes: round(mb, 1),
    bytesRatioToFingerprints: round(bytes / (8 * people), 2),
    megabytesWithRowNumbers: round(valueBytes / 1e6, 1),
    rssGrowthMB: round((rssAfter - rssBefore) / 1e6, 1),
    addRatioToHashing: round(addMs / hashMs, 2),
    addMicroseconds: round(addMs * 1000 / people, 3),
    distinct: set.size,
    repeatsFound: again,
    target: { megabytes: TARGET_MB },
    passed: set.size === people && withValues.size === people &&
      again === Math.ceil(people / 97) && mb <= TARGET_MB,
  });
}

if (import.meta.main) main();
