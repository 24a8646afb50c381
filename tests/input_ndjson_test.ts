import { InputError } from "../src/errors.ts";
import { deepEqual, equal, rejects } from "node:assert/strict";
import { openInput } from "../src/input/open_input.ts";
import type { SourceRecord } from "../src/types.ts";
import {
  BOM,
  bytesOf,
  chunkedStream,
  concat,
  NASTY_NDJSON,
  readAll,
  tempFile,
} from "./fixtures/input/_helpers.ts";

Deno.test("openInput() reads NDJSON: mode line, blank lines, CRLF, broken lines", async () => {
  const bytes = bytesOf(NASTY_NDJSON);
  const input = await openInput(chunkedStream(bytes));
  equal(input.format, "ndjson");
  equal(input.upsert, true);
  deepEqual(input.columns, []);
  deepEqual(input.unknownColumns, []);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  const ends = lineEnds(bytes);
  deepEqual(records, [
    {
      recordNumber: 3,
      fields: { email: "ada@example.com", first_name: "Zoë 😀" },
      byteEnd: ends[2],
    },
    {
      recordNumber: 5,
      fields: { email: "bob@example.com", metadata: { plan: "pro" } },
      byteEnd: ends[4],
    },
    {
      recordNumber: 6,
      fields: {},
      byteEnd: ends[5],
      parseError:
        "Cannot parse line 6: the line is not valid JSON (near character 2): check its quotes, commas and braces",
    },
    {
      recordNumber: 7,
      fields: {},
      byteEnd: ends[6],
      parseError:
        'Cannot parse line 7: the line is a list, not a JSON object: write one object per line, like {"email":"ada@example.com"}',
    },
    {
      recordNumber: 8,
      fields: { email: "carol@example.com", note: "line\nbreak" },
      byteEnd: bytes.length,
    },
  ]);
});

Deno.test("openInput() gives the same NDJSON records whatever the chunk sizes", async () => {
  const bytes = bytesOf(NASTY_NDJSON);
  const whole = await readAll(chunkedStream(bytes));
  for (const sizes of [[1], [2], [3, 1, 4]]) {
    deepEqual(await readAll(chunkedStream(bytes, sizes)), whole, `chunk sizes ${sizes}`);
  }
});

Deno.test("openInput() reads NDJSON without a mode line from line 1", async () => {
  const text = '\n{"email":"a@example.com"}\n{"email":"b@example.com"}';
  const input = await openInput(chunkedStream(bytesOf(text)));
  equal(input.upsert, false);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  deepEqual(records.map((record) => record.recordNumber), [2, 3]);
});

Deno.test("openInput() reads a mode line only as the first line", async () => {
  const text = '{"email":"a@example.com"}\n{"_mode":"upsert"}\n';
  const input = await openInput(chunkedStream(bytesOf(text)));
  equal(input.upsert, false);
  const records = [];
  for await (const batch of input.records) records.push(...batch);
  equal(
    records[1].parseError,
    'Cannot parse line 2: "_mode" is only read from the first line: move it to line 1',
  );
  await rejects(
    openInput(chunkedStream(bytesOf('{"_mode":"merge"}\n'))),
    new InputError('Cannot read line 1: "_mode" is "merge": the only mode is "upsert"'),
  );
});

Deno.test("openInput() treats a first line with _mode and other fields as a record", async () => {
  const text = '{"_mode":"upsert","email":"a@example.com"}\n';
  const input = await openInput(chunkedStream(bytesOf(text)));
  equal(input.upsert, false);
  const records = [];
  for await (const batch of input.records) records.push(...batch);
  deepEqual(records[0].fields, { _mode: "upsert", email: "a@example.com" });
});

Deno.test("openInput() normalizes NDJSON keys and rejects keys that collide", async () => {
  const text = '{" Email ":"a@example.com","First_Name":"A"}\n' +
    '{"email":"b@example.com","EMAIL":"c@example.com"}\n';
  const records = await readAll(chunkedStream(bytesOf(text)));
  deepEqual(records[0].fields, { email: "a@example.com", first_name: "A" });
  equal(
    records[1].parseError,
    'Cannot parse line 2: "email" and "EMAIL" name the same field: keep only one of them',
  );
});

Deno.test("openInput() normalizes an NDJSON line's keys after lines whose keys were already normalized", async () => {
  // The reader compares each key with the line before's at its place: a
  // key that differs there (in case, or a new one) is checked again.
  const text = '{"email":"a@example.com","first_name":"A"}\n' +
    '{"email":"b@example.com","first_name":"B"}\n' +
    '{"email":"c@example.com","First_Name":"C"}\n' +
    '{"Email":"d@example.com","first_name":"D","Last_Name":"E"}\n' +
    '{"email":"f@example.com","first_name":"F","Last_Name":"G"}\n';
  const records = await readAll(chunkedStream(bytesOf(text)));
  deepEqual(records.map((record) => record.fields), [
    { email: "a@example.com", first_name: "A" },
    { email: "b@example.com", first_name: "B" },
    { email: "c@example.com", first_name: "C" },
    { email: "d@example.com", first_name: "D", last_name: "E" },
    { email: "f@example.com", first_name: "F", last_name: "G" },
  ]);
});

Deno.test("openInput() keeps passwords out of NDJSON parse errors", async () => {
  const text = '{"email":"a@example.com","password":"hunter2"\n' +
    '{"email":"b@example.com","password":"hunter2",}\n' +
    '"hunter2"\n';
  const records = await readAll(chunkedStream(bytesOf(text)), { format: "ndjson" });
  equal(records.length, 3);
  for (const record of records) {
    equal(typeof record.parseError, "string");
    equal(record.parseError?.includes("hunter2"), false, record.parseError);
  }
});

Deno.test("openInput() reports NDJSON lines that are not UTF-8", async () => {
  const bytes = concat(
    bytesOf('{"email":"a@example.com","first_name":"'),
    new Uint8Array([0xff]),
    bytesOf('"}\n{"email":"b@example.com"}\n'),
  );
  const records = await readAll(chunkedStream(bytes), { format: "ndjson" });
  deepEqual(records.map((record) => record.parseError), [
    "Cannot parse line 1: the line is not valid UTF-8: save the file as UTF-8",
    undefined,
  ]);
});

Deno.test("openInput() turns an NDJSON line longer than 1 MiB into a row error", async () => {
  const huge = "x".repeat(1024 * 1024);
  const text = `{"email":"a@example.com","note":"${huge}"}\n{"email":"b@example.com"}\n` +
    `{"note":"${huge}`;
  for (const sizes of [[65536], [1 << 20, 3]]) {
    const records = await readAll(chunkedStream(bytesOf(text), sizes), { format: "ndjson" });
    deepEqual(records.map((record) => record.parseError), [
      "Cannot parse line 1: the line is longer than 1048576 bytes: put one user on each line",
      undefined,
      "Cannot parse line 3: the line is longer than 1048576 bytes: put one user on each line",
    ]);
    equal(records[2].byteEnd, bytesOf(text).length);
  }
});

Deno.test("openInput() detects NDJSON by extension and by first byte", async () => {
  const text = BOM + '  \n{"email":"a@example.com"}\n';
  for (const suffix of [".jsonl", ".ndjson", ".txt"]) {
    const path = await tempFile(text, suffix);
    try {
      const input = await openInput(path);
      equal(input.format, "ndjson", suffix);
      await input.records.cancel();
    } finally {
      await Deno.remove(path);
    }
  }
  // A .csv name wins over the content.
  const path = await tempFile("email\n{a@example.com}\n", ".csv");
  try {
    const records = await readAll(path);
    equal(records[0].fields.email, "{a@example.com}");
  } finally {
    await Deno.remove(path);
  }
});

/** Offsets just past each line break. */
function lineEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  bytes.forEach((byte, index) => {
    if (byte === 0x0a) ends.push(index + 1);
  });
  return ends;
}

Deno.test('openInput("-") reads standard input and detects the format', async () => {
  const script = new URL("./fixtures/input/_read_stdin.ts", import.meta.url).pathname;
  for (
    const [text, format] of [
      ['{"_mode":"upsert"}\n{"email":"a@example.com"}\n', "ndjson"],
      [BOM + "email\r\na@example.com\r\n", "csv"],
    ]
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(bytesOf(text));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    equal(code, 0, new TextDecoder().decode(stderr));
    const result = JSON.parse(new TextDecoder().decode(stdout));
    equal(result.format, format);
    equal(result.upsert, format === "ndjson");
    deepEqual(result.records, [{
      recordNumber: format === "ndjson" ? 2 : 1,
      fields: { email: "a@example.com" },
      byteEnd: bytesOf(text).length,
      // The CSV reader checked the bytes.
      ...(format === "csv" ? { plain: true, tidy: true } : {}),
    }]);
  }
});

Deno.test("NDJSON chunks of ASCII lines, of other UTF-8 and of bytes that are not UTF-8 read the same records in any chunks", async () => {
  const encoder = new TextEncoder();
  const lines = [
    '{"email":"a1@example.com","first_name":"Ann"}\r\n',
    "\n",
    '{"email":"a2@example.com","first_name":"Zoë"}\n',
    '{"email":"a3@example.com","note":"tab\\t"}\n',
    "  \t\n",
    "{not json}\n",
    '{"email":"a4@example.com","first_name":"Bo',
  ];
  const bytes = concat(
    ...lines.map((line) => encoder.encode(line)),
    new Uint8Array([0xff]),
    encoder.encode('"}\n{"email":"a5@example.com","first_name":"Cy"}\n{"email":"a6@example.com"}'),
  );
  const ends = lineEnds(bytes);
  const expected = [
    { recordNumber: 1, email: "a1@example.com", byteEnd: ends[0] },
    { recordNumber: 3, email: "a2@example.com", byteEnd: ends[2] },
    { recordNumber: 4, email: "a3@example.com", byteEnd: ends[3] },
    { recordNumber: 6, email: undefined, byteEnd: ends[5] },
    { recordNumber: 7, email: undefined, byteEnd: ends[6] },
    { recordNumber: 8, email: "a5@example.com", byteEnd: ends[7] },
    { recordNumber: 9, email: "a6@example.com", byteEnd: bytes.length },
  ];
  for (const sizes of [[bytes.length], [1], [3, 7], [17], [64, 5]]) {
    const records = await readAll(chunkedStream(bytes, sizes));
    deepEqual(
      records.map((record) => ({
        recordNumber: record.recordNumber,
        email: record.fields.email,
        byteEnd: record.byteEnd,
      })),
      expected,
      `chunks of ${sizes}`,
    );
    equal(records[1].fields.first_name, "Zoë");
    equal(records[2].fields.note, "tab\t");
    equal(records[3].parseError?.includes("not valid JSON"), true);
    equal(records[4].parseError?.includes("not valid UTF-8"), true);
  }
});
