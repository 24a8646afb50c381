/**
 * Parsing a generated CSV (quotes, commas, JSON metadata, Unicode), in this
 * process: the reader alone, then the reader and `validateRecord`, each as a
 * ratio to a plain Deno line scan of the same file measured in the same run
 * (the best of three of each, in the same process). Target (issue 16): the
 * reader at most 3× the line scan. Also reported: a second floor, the line
 * scan cutting each line into a string per field (what any reader of
 * string-valued records costs at least), and peak resident memory.
 * Prints one JSON line.
 *
 * Usage: deno run -A bench/input_bench.ts [--rows 1000000] [--file /tmp/x.csv] [--keep]
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { lineScan, round } from "./_harness.ts";

const TARGET_PARSE_RATIO = 3;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    file: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const rows = Number(values.rows);
const path = values.file ?? `/tmp/workos_importer_input_bench_${rows}.csv`;

/** Writes `count` varied, realistic rows (quotes, commas, JSON metadata, Unicode). */
async function generate(target: string, count: number): Promise<void> {
  using file = await Deno.open(target, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let text =
    "email,first_name,last_name,email_verified,external_id,metadata,org_external_id,org_name,role_slug\r\n";
  for (let i = 1; i <= count; i++) {
    const first = i % 10 === 0 ? "Zoë" : `First${i}`;
    text += `User${i}@Example${i % 97}.com,${first},"Last, ${i}",${i % 2 ? "true" : "no"},` +
      `ext-${i},"{""plan"":""pro"",""seat"":""${i % 10}""}",org-${i % 50},Org ${i % 50},member\r\n`;
    if (text.length > 1 << 16) {
      await file.write(encoder.encode(text));
      text = "";
    }
  }
  await file.write(encoder.encode(text));
}

const existing = await Deno.stat(path).catch(() => null);
if (existing === null || !values.keep) await generate(path, rows);

let peakRss = Deno.memoryUsage().rss;
function notePeak(): void {
  const rss = Deno.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
}

/** The reader alone: every record, nothing done with it. */
async function parseOnly(): Promise<number> {
  let count = 0;
  const input = await openInput(path);
  for await (const batch of input.records) {
    count += batch.length;
    notePeak();
  }
  return count;
}

/** The reader and the validator. */
async function parseAndValidate(): Promise<{ count: number; invalid: number }> {
  let count = 0;
  let invalid = 0;
  const input = await openInput(path);
  for await (const batch of input.records) {
    for (const record of batch) {
      if (!validateRecord(record).ok) invalid++;
    }
    count += batch.length;
    notePeak();
  }
  return { count, invalid };
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The best wall time and the best CPU time (user + system) of `times` runs. */
async function best<T>(
  run: () => Promise<T>,
  times = 3,
): Promise<{ ms: number; cpuMs: number; value: T }> {
  let ms = Infinity;
  let cpu = Infinity;
  let value!: T;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const cpuStarted = cpuMs();
    value = await run();
    ms = Math.min(ms, performance.now() - started);
    cpu = Math.min(cpu, cpuMs() - cpuStarted);
  }
  return { ms, cpuMs: cpu, value };
}

/**
 * A second floor, for a reader of this shape: the line scan that also cuts
 * every line at its commas, a string per field (no quotes understood, no
 * record object). Any reader that hands out one string per field does at
 * least this much.
 */
async function splitScan(): Promise<number> {
  using file = await Deno.open(path);
  const decoder = new TextDecoder();
  let fields = 0;
  let rest = "";
  for await (const chunk of file.readable) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) fields += line.split(",").length;
  }
  return fields;
}

const scan = await best(() => lineScan(path));
const split = await best(splitScan);
const parse = await best(parseOnly);
const validated = await best(parseAndValidate);
if (!values.keep && values.file === undefined) await Deno.remove(path);

const parseRatio = parse.ms / scan.ms;
console.error(
  `[input] line scan ${round(scan.ms)} ms, with a string per field ${round(split.ms)} ms ` +
    `(${round(split.ms / scan.ms, 2)}×), reader ${round(parse.ms)} ms ` +
    `(${round(parseRatio, 2)}×), reader + validation ${round(validated.ms)} ms ` +
    `(${round(validated.ms / scan.ms, 2)}×); CPU time: reader ${
      round(parse.cpuMs / scan.cpuMs, 2)
    }×, reader + validation ${round(validated.cpuMs / scan.cpuMs, 2)}×`,
);
console.log(JSON.stringify({
  name: "input",
  parseRatioToLineScan: round(parseRatio, 2),
  validateRatioToLineScan: round(validated.ms / scan.ms, 2),
  cpuParseRatioToLineScan: round(parse.cpuMs / scan.cpuMs, 2),
  cpuValidateRatioToLineScan: round(validated.cpuMs / scan.cpuMs, 2),
  splitScanRatioToLineScan: round(split.ms / scan.ms, 2),
  cpuSplitScanRatioToLineScan: round(split.cpuMs / scan.cpuMs, 2),
  parseRatioToSplitScan: round(parse.ms / split.ms, 2),
  rows: parse.value,
  invalid: validated.value.invalid,
  lineScanSeconds: round(scan.ms / 1000, 3),
  parseSeconds: round(parse.ms / 1000, 3),
  parseAndValidateSeconds: round(validated.ms / 1000, 3),
  rowsPerSecond: Math.round(validated.value.count / (validated.ms / 1000)),
  peakRssMiB: round(peakRss / 2 ** 20, 1),
  target: { parseRatioToLineScan: TARGET_PARSE_RATIO },
  passed: parse.value === rows && validated.value.count === rows &&
    parseRatio <= TARGET_PARSE_RATIO,
}));
