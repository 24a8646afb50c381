/**
 * Measures parsing and validating a generated CSV: rows per second and peak
 * resident memory. Prints one JSON line.
 *
 * Usage: deno run -A bench/input_bench.ts [--rows 1000000] [--file /tmp/x.csv] [--keep]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";

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
let count = 0;
let invalid = 0;
const started = performance.now();
const input = await openInput(path);
for await (const batch of input.records) {
  for (const record of batch) {
    if (!validateRecord(record).ok) invalid++;
  }
  count += batch.length;
  const rss = Deno.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
}
const seconds = (performance.now() - started) / 1000;
if (!values.keep && values.file === undefined) await Deno.remove(path);

console.log(JSON.stringify({
  name: "input_parse",
  rows: count,
  invalid,
  rowsPerSecond: Math.round(count / seconds),
  seconds: Number(seconds.toFixed(2)),
  peakRssMiB: Number((peakRss / 2 ** 20).toFixed(1)),
}));
