/**
 * What `validate` keeps to the end, its listed issues, keeps none of the
 * text the CSV reader decoded their rows from: the reader hands out each
 * field as a slice of the text of the rows decoded with it (about 1 KiB, or
 * the row when longer), and a message that quotes a field would keep that
 * text alive as long as the report.
 */

import assert from "node:assert/strict";
import { evalScript } from "./_cli.ts";

Deno.test("validate's listed issues keep under 1 KiB each, not the 2 KiB rows they quote", async () => {
  const script = `
    import { validateFile } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    const csvOf = (rows) => {
      const pad = "n".repeat(2048);
      const lines = ["email,first_name"];
      // Each person twice: the second row's warning quotes its email.
      for (let i = 0; i < rows; i++) lines.push("person." + i + "@example.com," + pad, "person." + i + "@example.com," + pad);
      return new Blob([lines.join("\\n") + "\\n"]);
    };
    // Warm up: what validate loads and makes once is no issue's.
    await validateFile(csvOf(10).stream(), { fileName: "warm.csv" });
    gc();
    const before = Deno.memoryUsage().heapUsed;
    const report = await validateFile(csvOf(4000).stream(), { fileName: "users.csv" });
    gc();
    const after = Deno.memoryUsage().heapUsed;
    console.log(JSON.stringify({ issues: report.warnings.length, bytes: (after - before) / report.warnings.length }));`;
  const { issues, bytes } = JSON.parse(await evalScript(script, ["--v8-flags=--expose-gc"]));
  assert.equal(issues, 4000);
  assert.ok(bytes < 1024, `${Math.round(bytes)} bytes kept an issue`);
});

Deno.test("a validated row's email key keeps none of the text its row was read from", async () => {
  // The import's person cache keeps each key long after its row; the
  // concurrency stage keeps it as it is (no copy per row), which is sound
  // only while the key is a string of its own (toLowerCase makes one).
  const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    import { openInput } from ${module("../src/input/open_input.ts")};
    import { validateRecord } from ${module("../src/validation/validate_record.ts")};
    const keysOf = async (rows) => {
      const pad = "n".repeat(2048);
      const lines = ["email,first_name"];
      for (let i = 0; i < rows; i++) lines.push("person.number." + i + "@example.com," + pad);
      const input = await openInput(new Blob([lines.join("\\n") + "\\n"]).stream(), {});
      const keys = [];
      for await (const batch of input.records) {
        for (const record of batch) {
          const result = validateRecord(record);
          if (result.ok) keys.push(result.row.emailKey);
        }
      }
      return keys;
    };
    // Warm up: what reading and validation load and make once is no key's.
    await keysOf(10);
    gc();
    const before = Deno.memoryUsage().heapUsed;
    const keys = await keysOf(4000);
    gc();
    const after = Deno.memoryUsage().heapUsed;
    console.log(JSON.stringify({ keys: keys.length, bytes: (after - before) / keys.length }));`;
  const { keys, bytes } = JSON.parse(await evalScript(script, ["--v8-flags=--expose-gc"]));
  assert.equal(keys, 4000);
  assert.ok(bytes < 1024, `${Math.round(bytes)} bytes kept an email key`);
});
