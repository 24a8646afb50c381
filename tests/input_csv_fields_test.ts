import { deepEqual, equal, ok } from "node:assert/strict";
import { streamSource } from "../src/input/_byte_source.ts";
import { CsvRecordReader } from "../src/input/_csv_reader.ts";
import type { SourceRecord } from "../src/types.ts";

async function recordsOf(
  columns: string[],
  body: string,
  keepAll: boolean,
): Promise<SourceRecord[]> {
  const bytes = new TextEncoder().encode(body);
  const reader = new CsvRecordReader(
    streamSource(new Blob([bytes]).stream()),
    columns,
    0,
    0x2c,
    keepAll,
  );
  const records: SourceRecord[] = [];
  for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
    records.push(...batch);
  }
  return records;
}

/** The fields a row of `values` should give, stored one by one as names in variables. */
function expected(columns: string[], values: string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < columns.length && i < values.length; i++) {
    Object.defineProperty(fields, columns[i], {
      value: values[i],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return fields;
}

Deno.test("a row's fields keep every column name as it is, whatever characters it holds", async () => {
  const columns = [
    "email",
    'say "hi"',
    "back\\slash",
    "ünï",
    "1",
    "constructor",
    "x\u2028y",
    "${v}",
    "}; throw 1; ({",
  ];
  const values = ["ada@example.com", "a", "b", "c", "d", "e", "f", "g", "h"];
  const records = await recordsOf(columns, values.join(",") + "\n", true);
  equal(records.length, 1);
  deepEqual(records[0].fields, expected(columns, values));
  deepEqual(Object.keys(records[0].fields), Object.keys(expected(columns, values)));
});

Deno.test('a "__proto__" column is a field of its own, never the row\'s prototype', async () => {
  const columns = ["email", "__proto__", "plan"];
  const records = await recordsOf(columns, "ada@example.com,x,pro\n", true);
  const fields = records[0].fields;
  equal(Object.getPrototypeOf(fields), Object.prototype);
  ok(Object.hasOwn(fields, "__proto__"));
  deepEqual(Object.entries(fields), [["email", "ada@example.com"], ["__proto__", "x"], [
    "plan",
    "pro",
  ]]);
});

Deno.test("complete, short and long rows give the fields they have, in the header's order", async () => {
  const columns = ["email", "first_name", "last_name"];
  const records = await recordsOf(
    columns,
    "a@example.com,Ada,King\nb@example.com,Bob\nc@example.com,Cy,Dee,extra\n" +
      'd@example.com,"Dé ""D""",Eve\n',
    false,
  );
  deepEqual(records.map((record) => record.fields), [
    { email: "a@example.com", first_name: "Ada", last_name: "King" },
    { email: "b@example.com", first_name: "Bob" },
    { email: "c@example.com", first_name: "Cy", last_name: "Dee" },
    { email: "d@example.com", first_name: 'Dé "D"', last_name: "Eve" },
  ]);
  deepEqual(Object.keys(records[1].fields), ["email", "first_name"]);
  deepEqual(records.map((record) => record.parseError === undefined), [true, false, false, true]);
  // Two rows never share one fields object.
  ok(records[0].fields !== records[3].fields);
});
