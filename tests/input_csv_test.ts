import { InputError } from "../src/errors.ts";
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { parse } from "csv-parse/stream";
import { openInput } from "../src/input/open_input.ts";
import { CHUNK_SIZE } from "../src/input/_byte_source.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { seededRandom } from "./_random.ts";
import type { SourceRecord } from "../src/types.ts";
import {
  BOM,
  BROKEN_CSV,
  bytesOf,
  chunkedStream,
  concat,
  NASTY_CSV,
  NASTY_CSV_FIELDS,
  readAll,
  tempFile,
} from "./fixtures/input/_helpers.ts";

Deno.test("openInput() reads a nasty CSV: BOM, CRLF/LF/CR, quotes, blank lines, Unicode", async () => {
  const bytes = bytesOf(NASTY_CSV);
  const input = await openInput(chunkedStream(bytes));
  equal(input.format, "csv");
  deepEqual(input.columns, ["email", "first_name", "last_name", "metadata", "department"]);
  deepEqual(input.unknownColumns, ["department"]);
  equal(input.upsert, false);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  deepEqual(records.map((record) => record.fields), NASTY_CSV_FIELDS);
  deepEqual(records.map((record) => record.recordNumber), [1, 2, 3, 4, 5, 6]);
  ok(records.every((record) => record.parseError === undefined));
  equal(records.at(-1)?.byteEnd, bytes.length);
});

Deno.test("openInput() gives the same records and offsets whatever the chunk sizes", async () => {
  const bytes = bytesOf(NASTY_CSV);
  const whole = await readAll(chunkedStream(bytes));
  for (const sizes of [[1], [2], [3], [1, 2, 5], [7, 1, 13], [64]]) {
    deepEqual(await readAll(chunkedStream(bytes, sizes)), whole, `chunk sizes ${sizes}`);
  }
  const broken = await readAll(chunkedStream(BROKEN_CSV));
  for (const sizes of [[1], [2, 3], [5, 1, 8]]) {
    deepEqual(await readAll(chunkedStream(BROKEN_CSV, sizes)), broken, `chunk sizes ${sizes}`);
  }
});

Deno.test("openInput() byte offsets are just past each record's line break", async () => {
  const bytes = bytesOf(NASTY_CSV);
  const records = await readAll(chunkedStream(bytes));
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const pieces: string[] = [];
  let start = 0;
  for (const record of records) {
    pieces.push(decoder.decode(bytes.subarray(start, record.byteEnd)));
    start = record.byteEnd;
  }
  deepEqual(pieces, [
    BOM + " Email ,First_Name,LAST_NAME,metadata,Department\r\n\r\n" +
    '  ada@example.com ,Ada,"Love, lace","{""plan"":""pro""}",R&D\r\n',
    'zoë@example.com,Zoë,"multi\r\nline\nname",,Ops\r\n',
    ",,,,\r\n\n" + 'bob@exämple.com,Bob,"He said ""hi""",,  \n',
    'emoji@example.com,😀,"x",,\r',
    '漢字@example.com,漢字,"",,\r\n',
    '\r\ncarol@example.com,Carol,"Smith ",,last',
  ]);
});

Deno.test("openInput() matches csv-parse on values and on info.bytes", async () => {
  // csv-parse's info.bytes counts from the first byte of the input, the byte
  // order mark included, to just past the record's line break (or to the end
  // of the input for a last record without one): the same as byteEnd.
  const bytes = bytesOf(NASTY_CSV);
  const expected: { values: string[]; bytes: number }[] = [];
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ["\r\n", "\n", "\r"],
  }) as unknown as TransformStream<Uint8Array, { record: string[]; info: { bytes: number } }>;
  for await (const { record, info } of chunkedStream(bytes, [5]).pipeThrough(parser)) {
    expected.push({ values: record, bytes: info.bytes });
  }
  // csv-parse keeps the header and the line of only commas; we do not.
  const data = expected.slice(1).filter(({ values }) => values.some((value) => value !== ""));
  const ours = await readAll(chunkedStream(bytes));
  deepEqual(ours.map((record) => record.byteEnd), data.map(({ bytes }) => bytes));
  deepEqual(
    ours.map((record) => [
      record.fields.email,
      record.fields.first_name,
      record.fields.last_name,
      record.fields.metadata,
    ]),
    data.map(({ values }) => values.slice(0, 4)),
  );
});

Deno.test("openInput() agrees with csv-parse on a generated file larger than a chunk", async () => {
  const lines = ["email,first_name,last_name,metadata"];
  for (let i = 0; i < 6000; i++) {
    const name = i % 3 === 0 ? `"Zoë ${i}\r\n""quoted"", too"` : `Name${i}`;
    const meta = i % 5 === 0 ? `"{""k"":""${"é".repeat(i % 40)}""}"` : "";
    lines.push(`user${i}@example.com,${name},Ω${i},${meta}`);
  }
  const bytes = bytesOf(lines.join("\r\n") + "\r\n");
  ok(bytes.length > 300_000);
  const path = await tempFile(bytes, ".csv");
  try {
    const parser = parse({ bom: true, info: true }) as unknown as TransformStream<
      Uint8Array,
      { record: string[]; info: { bytes: number } }
    >;
    const expected: { values: string[]; bytes: number }[] = [];
    for await (const { record, info } of chunkedStream(bytes, [4093]).pipeThrough(parser)) {
      expected.push({ values: record, bytes: info.bytes });
    }
    const ours = await readAll(path);
    equal(ours.length, 6000);
    deepEqual(ours.map((record) => record.byteEnd), expected.slice(1).map(({ bytes }) => bytes));
    deepEqual(
      ours.map((record) => Object.values(record.fields)),
      expected.slice(1).map(({ values }) => values),
    );
    deepEqual(ours.map((record) => record.recordNumber), ours.map((_, index) => index + 1));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() gives a row its columns' values, and a short row only those it has", async () => {
  // A row with a value for every column starts as a copy of one template;
  // a short one must not get the missing columns from it, and the columns
  // keep the header's order (error files and reports list them so).
  const csv = "email,team,first_name,last_name\n" +
    "a@example.com,x,Ada,Lovelace\n" +
    "b@example.com,y\n" +
    "c@example.com,z,Cy,Young,extra\n";
  const records = await readAll(chunkedStream(new TextEncoder().encode(csv)));
  const fields = records.map((record) => record.fields);
  deepEqual(fields, [
    { email: "a@example.com", first_name: "Ada", last_name: "Lovelace" },
    { email: "b@example.com" },
    { email: "c@example.com", first_name: "Cy", last_name: "Young" },
  ]);
  deepEqual(fields.map((row) => Object.keys(row)), [
    ["email", "first_name", "last_name"],
    ["email"],
    ["email", "first_name", "last_name"],
  ]);
  // Each row's fields are its own object.
  fields[0].email = "changed";
  equal(fields[2].email, "c@example.com");
});

Deno.test("openInput() turns broken CSV rows into row errors and keeps every other row", async () => {
  const records = await readAll(chunkedStream(BROKEN_CSV));
  deepEqual(
    records.map((record) => [record.recordNumber, record.fields.email, record.parseError]),
    [
      [1, "a@example.com", undefined],
      [
        2,
        "b@example.com",
        "Cannot parse row 2: found 3 values but the header has 2 columns: quote values that contain commas",
      ],
      [
        3,
        "c@example.com",
        "Cannot parse row 3: found 1 values but the header has 2 columns: add the missing values",
      ],
      [
        4,
        "d@example.com",
        'Cannot parse row 4: the quoted value in "first_name" is followed by more text: ' +
        'write a quote inside a quoted value as two quotes ("")',
      ],
      [5, "e@example.com", undefined],
      [
        6,
        "f@example.com",
        'Cannot parse row 6: "first_name" is not valid UTF-8: save the file as UTF-8',
      ],
      [7, "g@example.com", undefined],
      [
        8,
        "h@example.com",
        'Cannot parse row 8: the quote that opens "first_name" is never closed: ' +
        'close it, or write a quote inside a value as two quotes ("")',
      ],
      [9, "i@example.com", undefined],
    ],
  );
  equal(records[5].fields.first_name, "\ufffdt\ufffd");
  equal(records.at(-1)?.byteEnd, BROKEN_CSV.length);
});

Deno.test("openInput() recovers from a quote that swallows the rest of the file", async () => {
  const rows = ['a@example.com,"Ada'];
  for (let i = 0; i < 50; i++) rows.push(`user${i}@example.com,User ${i}`);
  const records = await readAll(chunkedStream(bytesOf("email,name\n" + rows.join("\n")), [100]));
  equal(records.length, 51);
  match(records[0].parseError ?? "", /^Cannot parse row 1: the quote that opens "name"/);
  ok(records.slice(1).every((record) => record.parseError === undefined));
  equal(records[50].fields.email, "user49@example.com");
});

Deno.test("openInput() turns a row longer than 1 MiB into a row error", async () => {
  const huge = "x".repeat(1024 * 1024 + 10);
  const csv =
    `email,name\na@example.com,"${huge}\nb@example.com,B\nc@example.com,${huge}\nd@example.com,D`;
  for (const sizes of [[65536], [1 << 20, 7]]) {
    const records = await readAll(chunkedStream(bytesOf(csv), sizes));
    deepEqual(records.map((record) => record.recordNumber), [1, 2, 3, 4]);
    match(records[0].parseError ?? "", /^Cannot parse row 1: the row is longer than 1048576 bytes/);
    deepEqual(records[1].fields, { email: "b@example.com", name: "B" });
    match(records[2].parseError ?? "", /^Cannot parse row 3: the row is longer than 1048576/);
    equal(records[2].fields.email, "c@example.com");
    deepEqual(records[3].fields, { email: "d@example.com", name: "D" });
    equal(records[3].byteEnd, bytesOf(csv).length);
  }
});

Deno.test("openInput() normalizes header names and drops columns it ignores", async () => {
  const csv = " EMAIL ,Name,recordNumber,errorType,errorMessage,Team,\n" +
    "a@example.com,Ada,3,validation,bad,blue,\n";
  const input = await openInput(chunkedStream(bytesOf(csv)));
  deepEqual(input.columns, [
    "email",
    "name",
    "recordnumber",
    "errortype",
    "errormessage",
    "team",
    "",
  ]);
  deepEqual(input.unknownColumns, ["team"]);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  deepEqual(records, [{
    recordNumber: 1,
    fields: { email: "a@example.com", name: "Ada" },
    byteEnd: bytesOf(csv).length,
    plain: true,
    tidy: true,
  }]);
});

Deno.test("openInput() reads a file path and detects CSV from the extension", async () => {
  const path = await tempFile(NASTY_CSV, ".csv");
  try {
    const records = await readAll(path);
    deepEqual(records.map((record) => record.fields), NASTY_CSV_FIELDS);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() handles empty and header-only inputs", async () => {
  for (const text of ["", BOM, "\r\n\r\n"]) {
    const input = await openInput(chunkedStream(bytesOf(text)), { format: "csv" });
    deepEqual(input.columns, []);
    deepEqual(await readRecords(input.records), []);
  }
  const headerOnly = await openInput(chunkedStream(bytesOf(BOM + "email,name")));
  deepEqual(headerOnly.columns, ["email", "name"]);
  deepEqual(await readRecords(headerOnly.records), []);
});

Deno.test("openInput() rejects a header it cannot use", async () => {
  await rejects(
    openInput(chunkedStream(bytesOf("mail,name\na@example.com,A\n"))),
    new InputError(
      'Cannot read the CSV header: there is no "email" column: name the column that holds the email addresses "email"',
    ),
  );
  await rejects(
    openInput(chunkedStream(bytesOf("email,Email\n"))),
    new InputError(
      'Cannot read the CSV header: column "email" appears more than once: rename or remove one of them',
    ),
  );
  await rejects(
    openInput(chunkedStream(bytesOf('email,"name\na@example.com,A\n'))),
    new InputError(
      "Cannot read the CSV header: the quote that opens column 2 is never closed: fix the first line",
    ),
  );
});

Deno.test("openInput() rejects UTF-16 input with a clear message", async () => {
  const utf16 = concat(new Uint8Array([0xff, 0xfe]), new Uint8Array([0x65, 0, 0x6d, 0]));
  await rejects(
    openInput(chunkedStream(utf16)),
    new InputError("Cannot read the input: it is encoded as UTF-16: save it as UTF-8"),
  );
  const path = await tempFile(utf16, ".csv");
  try {
    await rejects(openInput(path), InputError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() batches records (one batch per chunk, not one per record)", async () => {
  const rows = ["email"];
  for (let i = 0; i < 20_000; i++) rows.push(`user${i}@example.com`);
  const path = await tempFile(rows.join("\n"), ".csv");
  try {
    const input = await openInput(path);
    let batches = 0;
    let count = 0;
    for await (const batch of input.records) {
      batches++;
      count += batch.length;
    }
    equal(count, 20_000);
    // One per chunk of the file (its size over CHUNK_SIZE, rounded up).
    const chunks = Math.ceil((await Deno.stat(path)).size / CHUNK_SIZE);
    ok(batches <= chunks + 1, `${batches} batches from ${chunks} chunks`);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() batches a stream's records a chunk at a time, however large the stream's own chunks", async () => {
  // stdin gives 64 KiB chunks; a batch of a whole one outlived a scavenge
  // of the CLI's young generation and most dry runs on stdin promoted every
  // batch into the old one (BENCHMARKS.md, branch mem7).
  const rows = ["email"];
  for (let i = 0; i < 20_000; i++) rows.push(`user${i}@example.com`);
  const bytes = bytesOf(rows.join("\n") + "\n");
  const big = 4 * CHUNK_SIZE;
  const stream = ReadableStream.from(
    Array.from(
      { length: Math.ceil(bytes.length / big) },
      (_, i) => bytes.slice(i * big, (i + 1) * big),
    ),
  );
  const input = await openInput(stream);
  const emails: string[] = [];
  let end = 0;
  let widest = 0;
  for await (const batch of input.records) {
    const last = batch.at(-1) as SourceRecord;
    widest = Math.max(widest, last.byteEnd - end);
    end = last.byteEnd;
    for (const record of batch) emails.push(record.fields.email as string);
  }
  deepEqual(emails, rows.slice(1));
  equal(end, bytes.length);
  ok(widest <= CHUNK_SIZE + 32, `a batch spans ${widest} bytes; chunks are ${CHUNK_SIZE}`);
});

Deno.test("openInput() releases the file when the consumer stops early", async () => {
  const path = await tempFile("email\na@example.com\nb@example.com\n", ".csv");
  try {
    const input = await openInput(path);
    for await (const batch of input.records) {
      equal(batch[0].recordNumber, 1);
      break;
    }
    // The test sanitizer fails the test if the file were still open.
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() stops with the signal's reason when aborted", async () => {
  const rows = ["email"];
  for (let i = 0; i < 50_000; i++) rows.push(`user${i}@example.com`);
  const path = await tempFile(rows.join("\n"), ".csv");
  try {
    const controller = new AbortController();
    const input = await openInput(path, { signal: controller.signal });
    const reason = new Error("Stop");
    let seen = 0;
    await rejects(
      (async () => {
        for await (const batch of input.records) {
          seen += batch.length;
          controller.abort(reason);
        }
      })(),
      reason,
    );
    ok(seen > 0 && seen < 50_000);
    const aborted = new AbortController();
    aborted.abort(reason);
    await rejects(openInput(path, { signal: aborted.signal }), reason);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() reports a missing file as NotFound", async () => {
  await rejects(openInput("/nonexistent/users.csv"), Deno.errors.NotFound);
});

async function readRecords(stream: ReadableStream<SourceRecord[]>): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const batch of stream) records.push(...batch);
  return records;
}

Deno.test("openInput() marks a CSV record plain only when every value is printable ASCII, and validation still warns of the rest", async () => {
  const csv = "email,first_name,last_name\n" +
    "ada@example.com,Ada,Lovelace\n" +
    'tab@example.com,"Tab\tbed",Name\n' +
    'break@example.com,First,"Two\nlines"\n' +
    "zoe@example.com,Zoë,Name\n" +
    "del@example.com,A\x7fB,Name\n";
  const records = await readAll(chunkedStream(bytesOf(csv)));
  deepEqual(records.map((record) => record.plain), [true, false, false, false, false]);
  const warnings = records.map((record) => {
    const result = validateRecord(record);
    return result.ok ? result.warnings.map((warning) => warning.message) : ["failed"];
  });
  deepEqual(warnings, [
    [],
    ['"first_name" contains a tab: imported as given'],
    ['"last_name" contains a line break: imported as given'],
    [],
    ['"first_name" contains the control character U+007F: imported as given'],
  ]);
});

Deno.test("a record's plain mark follows its separator: the separator is text inside quotes, and ~ is printable but DEL is not", async () => {
  async function plainOf(csv: string, delimiter: string): Promise<(boolean | undefined)[]> {
    const input = await openInput(chunkedStream(bytesOf(csv)), { delimiter });
    const records: SourceRecord[] = [];
    for await (const batch of input.records) records.push(...batch);
    return records.map((record) => record.parseError === undefined && record.plain);
  }
  // Tab-separated: a tab inside quotes is a value's tab, not printable.
  deepEqual(
    await plainOf(
      "email\tfirst_name\n" +
        "ada@example.com\tAda~\n" +
        'bob@example.com\t"B\tob"\n' +
        'cy@example.com\t"C,y"\n' +
        "dee@example.com\tD\x7fee\n",
      "\t",
    ),
    [true, false, true, false],
  );
  // Semicolon-separated: a comma and a quoted semicolon are printable text.
  deepEqual(
    await plainOf(
      "email;first_name\n" +
        "ada@example.com;A,da\n" +
        'bob@example.com;"B;ob"\n' +
        'cy@example.com;"C\ny"\n' +
        "dee@example.com;Dée\n",
      ";",
    ),
    [true, true, false, false],
  );
});

Deno.test("a record is tidy only when no value has a space to trim, and its original is then its fields", async () => {
  const csv = "email,first_name,last_name\n" +
    "ada@example.com,Ada,Lovelace\n" +
    "bob@example.com, Bob,Baker\n" +
    '"cy@example.com ",Cy,\n' +
    "dee@example.com,Dee,Zoë\n";
  const input = await openInput(chunkedStream(bytesOf(csv)));
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  deepEqual(records.map((record) => record.tidy), [true, undefined, undefined, undefined]);
  const originals = records.map((record) => {
    const result = validateRecord(record);
    return result.ok ? result.row.original : result.original;
  });
  deepEqual(originals, [
    { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" },
    { email: "bob@example.com", first_name: "Bob", last_name: "Baker" },
    { email: "cy@example.com", first_name: "Cy", last_name: "" },
    { email: "dee@example.com", first_name: "Dee", last_name: "Zoë" },
  ]);
});

Deno.test("openInput() unescapes doubled quotes in any value of a row exactly as csv-parse does, among other values, Unicode and broken bytes", async () => {
  // The reader copies a row with doubled quotes without them before its one
  // decode: quotes at either end of a value, several escaped values in a row
  // between plain ones, multibyte text before and after them, and a value
  // that is only quotes all have to land where csv-parse puts them.
  const random = seededRandom(16);
  const pieces = ["a", "zz", "é", "漢", "😀", ",", " ", "\r\n", '""', '""""', "x y"];
  const value = (): string => {
    const kind = Math.floor(random() * 4);
    if (kind === 0) return `u${Math.floor(random() * 1000)}`;
    if (kind === 1) return random() < 0.5 ? "" : `Zoë${Math.floor(random() * 10)}`;
    let text = "";
    for (let n = Math.floor(random() * 6); n > 0; n--) {
      text += pieces[Math.floor(random() * pieces.length)];
    }
    return `"${text}"`;
  };
  const lines = ["email,first_name,last_name,metadata,external_id"];
  for (let i = 0; i < 3000; i++) {
    const email = i % 4 === 0 ? value() : `u${i}@example.com`;
    lines.push(`${email},${value()},${value()},${value()},${value()}`);
  }
  const bytes = bytesOf(lines.join("\n") + "\n");
  const parser = parse({ info: true }) as unknown as TransformStream<
    Uint8Array,
    { record: string[]; info: { bytes: number } }
  >;
  const expected: { values: string[]; bytes: number }[] = [];
  for await (const { record, info } of chunkedStream(bytes, [977]).pipeThrough(parser)) {
    expected.push({ values: record, bytes: info.bytes });
  }
  ok(expected.slice(1).filter(({ values }) => values.some((v) => v.includes('"'))).length > 1000);
  for (const sizes of [[bytes.length], [977], [1, 7, 64]]) {
    const ours = await readAll(chunkedStream(bytes, sizes));
    equal(ours.length, 3000);
    deepEqual(ours.map((record) => record.byteEnd), expected.slice(1).map(({ bytes }) => bytes));
    deepEqual(
      ours.map((record) => Object.values(record.fields)),
      expected.slice(1).map(({ values }) => values),
      `chunk sizes ${sizes}`,
    );
  }

  // Rows are decoded a few at a time: a byte that is not UTF-8 in one value
  // still fails only its row, naming that column, with the escaped values
  // around it unescaped in the error record; the rows beside it (Unicode,
  // escaped values, a U+FFFD written as such) read as they are.
  const broken = concat(
    bytesOf('email,first_name,last_name,metadata\nz@example.com,Zoë,"""Z""",\n"a""b@example.com",'),
    new Uint8Array([0xff]),
    bytesOf(',"say ""hi""","{""k"":""v""}"\nr@example.com,\ufffd,"R, ""r""",😀\n'),
  );
  const records = await readAll(chunkedStream(broken));
  deepEqual(records.map((record) => record.parseError), [
    undefined,
    'Cannot parse row 2: "first_name" is not valid UTF-8: save the file as UTF-8',
    undefined,
  ]);
  deepEqual(records.map((record) => record.fields), [
    { email: "z@example.com", first_name: "Zoë", last_name: '"Z"', metadata: "" },
    {
      email: 'a"b@example.com',
      first_name: "\ufffd",
      last_name: 'say "hi"',
      metadata: '{"k":"v"}',
    },
    { email: "r@example.com", first_name: "\ufffd", last_name: 'R, "r"', metadata: "😀" },
  ]);
  deepEqual(records.map((record) => record.byteEnd), [
    broken.indexOf(0x0a, 40) + 1,
    broken.indexOf(0x0a, broken.indexOf(0xff)) + 1,
    broken.length,
  ]);
});

Deno.test("openInput() reads rows longer than the reader's decoding run, and runs of short rows, with exact values and offsets", async () => {
  // The reader decodes rows together up to about a kilobyte: rows far
  // longer than that, and long runs of tiny ones, land on the same values
  // and offsets as csv-parse gives.
  const lines = ["email,first_name,last_name,metadata"];
  for (let i = 0; i < 400; i++) {
    const long = i % 7 === 0 ? `"${"ä".repeat(600 + i)} ""${i}"""` : `n${i}`;
    const meta = i % 11 === 0 ? `"${"x".repeat(3000)}"` : "";
    lines.push(`u${i}@e.co,${long},${i % 3 === 0 ? "" : "l"},${meta}`);
  }
  const bytes = bytesOf(lines.join("\r\n"));
  const parser = parse({ info: true }) as unknown as TransformStream<
    Uint8Array,
    { record: string[]; info: { bytes: number } }
  >;
  const expected: { values: string[]; bytes: number }[] = [];
  for await (const { record, info } of chunkedStream(bytes, [4096]).pipeThrough(parser)) {
    expected.push({ values: record, bytes: info.bytes });
  }
  for (const sizes of [[bytes.length], [1000], [3, 333]]) {
    const ours = await readAll(chunkedStream(bytes, sizes));
    deepEqual(ours.map((record) => record.byteEnd), expected.slice(1).map(({ bytes }) => bytes));
    deepEqual(
      ours.map((record) => Object.values(record.fields)),
      expected.slice(1).map(({ values }) => values),
      `chunk sizes ${sizes}`,
    );
  }
});
