import { unescapeErrorFileCell } from "../src/validation/columns.ts";
import assert from "node:assert/strict";
import { parse } from "csv-parse/stream";
import {
  csvErrorHeader,
  ERROR_FIELDS,
  errorFileFormat,
  errorFileFormatWarning,
  openErrorWriter,
  toCsvCell,
} from "../src/report/error_writer.ts";
import { openInput } from "../src/input/open_input.ts";
import type { ErrorRecord } from "../src/types.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { tempDirSync } from "./_cli.ts";

const SECRET = "Hunter2-secret-password";
const HASH = "$2b$12$MBhdaPLJ0CBJZbBXza3h.S0phRZpLJuKrqfD4NuIjsWGDbjIbKuh4";
const INPUT_COLUMNS = [
  "email",
  "first_name",
  "password",
  "last_name",
  "password_hash",
  "password_hash_type",
  "metadata",
];

function record(n: number, overrides: Partial<ErrorRecord> = {}): ErrorRecord {
  return {
    recordNumber: n,
    email: `user${n}@example.com`,
    errorType: "user_create",
    errorMessage: `Cannot create user ${n}: email not available`,
    httpStatus: 400,
    workosCode: "email_not_available",
    workosRequestId: `req_${n}`,
    timestamp: "2025-01-15T10:30:15.000Z",
    rawRow: {
      email: `user${n}@example.com`,
      first_name: "Ada",
      last_name: "Lovelace",
      password: SECRET,
      password_hash: HASH,
      password_hash_type: "bcrypt",
      metadata: '{"team":"eng, ops"}',
    },
    ...overrides,
  };
}

const tempDir = tempDirSync({ prefix: "report_error_writer_" });
let files = 0;

function tempPath(suffix: string): string {
  return `${tempDir}/errors${++files}${suffix}`;
}

async function readCsv(path: string): Promise<string[][]> {
  const file = await Deno.open(path);
  const rows: string[][] = [];
  for await (const row of file.readable.pipeThrough(parse())) rows.push(row as string[]);
  return rows;
}

async function mode(path: string): Promise<number> {
  return ((await Deno.stat(path)).mode ?? 0) & 0o777;
}

const posix = Deno.build.os !== "windows";

Deno.test("errorFileFormat picks the format by extension, in any case", () => {
  assert.equal(errorFileFormat("errors.csv"), "csv");
  assert.equal(errorFileFormat("out/Errors.CSV"), "csv");
  assert.equal(errorFileFormat("errors.json"), "json");
  assert.equal(errorFileFormat("errors.jsonl"), "jsonl");
  assert.equal(errorFileFormat("errors.ndjson"), "jsonl");
  assert.equal(errorFileFormat("errors.txt"), "json");
  assert.equal(errorFileFormat("errors"), "json");
  assert.equal(errorFileFormat("dir.csv/errors"), "json");
  assert.equal(errorFileFormat(".csv"), "json");
});

Deno.test("errorFileFormatWarning warns only when the extension names no format", () => {
  assert.equal(errorFileFormatWarning("a/errors.csv"), undefined);
  assert.equal(errorFileFormatWarning("errors.JSON"), undefined);
  assert.equal(errorFileFormatWarning("errors.jsonl"), undefined);
  assert.equal(
    errorFileFormatWarning("errors.log"),
    `Writing errors as a JSON array to "errors.log": use a .csv, .json or .jsonl extension to choose the format`,
  );
});

Deno.test("toCsvCell escapes every formula trigger and a leading apostrophe, nothing else", () => {
  for (const start of ["=", "+", "-", "@", "\t", "\r", "'"]) {
    assert.equal(toCsvCell(`${start}1+1`), `'${start}1+1`);
    // Fed back, the importer takes exactly that apostrophe off again.
    assert.equal(unescapeErrorFileCell(toCsvCell(`${start}1+1`)), `${start}1+1`);
  }
  for (const value of ["", "a=b", "1-2", "ada@example.com", " =1", "{}"]) {
    assert.equal(toCsvCell(value), value);
    assert.equal(unescapeErrorFileCell(value), value);
  }
});

Deno.test("csvErrorHeader puts input columns first, drops secrets and old error columns", () => {
  assert.deepEqual(csvErrorHeader(INPUT_COLUMNS), [
    "email",
    "first_name",
    "last_name",
    "password_hash_type",
    "metadata",
    "recordNumber",
    "errorType",
    "errorMessage",
    "httpStatus",
    "workosCode",
    "workosRequestId",
    "timestamp",
  ]);
  // A fixed error file fed back in has lower-cased error columns already.
  const fedBack = ["email", "org_id", "recordnumber", "errortype", "errormessage", "httpstatus"];
  assert.deepEqual(csvErrorHeader([...fedBack, "workoscode", "workosrequestid", "timestamp"]), [
    "email",
    "org_id",
    ...ERROR_FIELDS.filter((field) => field !== "email"),
  ]);
  assert.deepEqual(csvErrorHeader(["first_name"]), [
    "first_name",
    "email",
    ...ERROR_FIELDS.filter((field) => field !== "email"),
  ]);
});

Deno.test("CSV error file: original columns first, no secrets, formulas escaped, owner-only", async () => {
  const path = tempPath(".csv");
  const writer = await openErrorWriter(path, { columns: INPUT_COLUMNS });
  assert.equal(writer.format, "csv");
  await writer.write([
    record(1),
    record(2, {
      email: "=cmd|' /C calc'!A0",
      errorType: "validation",
      errorMessage: 'Cannot import row 2: "email" is not valid,\nfix "it"',
      httpStatus: undefined,
      workosCode: undefined,
      workosRequestId: undefined,
      rawRow: {
        email: "=cmd|' /C calc'!A0",
        first_name: "+Bob",
        last_name: '-O\'Brien, "Jr"',
        password: SECRET,
        metadata: "@SUM(A1:A2)",
      },
    }),
  ]);
  await writer.write([record(3, { rawRow: undefined })]);
  assert.equal(writer.count, 3);
  await writer.close();

  if (posix) assert.equal(await mode(path), 0o600);
  const text = await Deno.readTextFile(path);
  assert.ok(!text.includes(SECRET), "a password reached the error file");
  assert.ok(!text.includes(HASH), "a password hash reached the error file");

  const [header, ...rows] = await readCsv(path);
  assert.deepEqual(header, csvErrorHeader(INPUT_COLUMNS));
  assert.equal(rows.length, 3);
  const at = (row: string[], column: string) => row[header.indexOf(column)];
  assert.deepEqual(rows[0], [
    "user1@example.com",
    "Ada",
    "Lovelace",
    "bcrypt",
    '{"team":"eng, ops"}',
    "1",
    "user_create",
    "Cannot create user 1: email not available",
    "400",
    "email_not_available",
    "req_1",
    "2025-01-15T10:30:15.000Z",
  ]);
  assert.equal(at(rows[1], "email"), "'=cmd|' /C calc'!A0");
  assert.equal(at(rows[1], "first_name"), "'+Bob");
  assert.equal(at(rows[1], "last_name"), "'-O'Brien, \"Jr\"");
  assert.equal(at(rows[1], "metadata"), "'@SUM(A1:A2)");
  assert.equal(at(rows[1], "password_hash_type"), "");
  assert.equal(at(rows[1], "errorMessage"), 'Cannot import row 2: "email" is not valid,\nfix "it"');
  assert.equal(at(rows[1], "httpStatus"), "");
  // Without the raw row, the email still identifies the row.
  assert.equal(at(rows[2], "email"), "user3@example.com");
  assert.equal(at(rows[2], "first_name"), "");
});

Deno.test("CSV error file without columns takes its header from the first raw row", async () => {
  const path = tempPath(".csv");
  await using writer = await openErrorWriter(path);
  await writer.write([
    record(1, { rawRow: undefined }),
    record(2, { rawRow: { email: "b@example.com", org_external_id: "acme", password: SECRET } }),
  ]);
  await writer.close();
  const [header, ...rows] = await readCsv(path);
  assert.deepEqual(header, [
    "email",
    "org_external_id",
    ...ERROR_FIELDS.filter((field) => field !== "email"),
  ]);
  assert.equal(rows[0][0], "user1@example.com");
  assert.deepEqual(rows[1].slice(0, 3), ["b@example.com", "acme", "2"]);
  assert.ok(!(await Deno.readTextFile(path)).includes(SECRET));
});

Deno.test("CSV error file with columns has its header even with no errors", async () => {
  const path = tempPath(".csv");
  const writer = await openErrorWriter(path, { columns: ["email", "first_name"] });
  await writer.close();
  assert.deepEqual(await readCsv(path), [csvErrorHeader(["email", "first_name"])]);
});

Deno.test("JSON error file is a valid array of the error fields only", async () => {
  const path = tempPath(".json");
  const writer = await openErrorWriter(path);
  assert.equal(writer.format, "json");
  await writer.write([record(1)]);
  await writer.write([record(2, { httpStatus: undefined, workosCode: undefined }), record(3)]);
  await writer.close();
  if (posix) assert.equal(await mode(path), 0o600);
  const text = await Deno.readTextFile(path);
  assert.ok(!text.includes(SECRET) && !text.includes(HASH));
  const parsed = JSON.parse(text);
  assert.equal(parsed.length, 3);
  assert.deepEqual(Object.keys(parsed[0]), ERROR_FIELDS);
  assert.deepEqual(parsed[0], {
    recordNumber: 1,
    email: "user1@example.com",
    errorType: "user_create",
    errorMessage: "Cannot create user 1: email not available",
    httpStatus: 400,
    workosCode: "email_not_available",
    workosRequestId: "req_1",
    timestamp: "2025-01-15T10:30:15.000Z",
  });
  assert.equal(parsed[1].httpStatus, undefined);
  assert.ok(!("rawRow" in parsed[2]));
});

Deno.test("JSON error file with no errors is an empty array", async () => {
  const path = tempPath(".json");
  const writer = await openErrorWriter(path);
  await writer.close();
  await writer.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), []);
});

Deno.test("JSON lines error file has one record per line", async () => {
  const path = tempPath(".jsonl");
  const writer = await openErrorWriter(path);
  await writer.write([record(1), record(2)]);
  await writer.close();
  if (posix) assert.equal(await mode(path), 0o600);
  const lines = (await Deno.readTextFile(path)).split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(lines.map((line) => JSON.parse(line).recordNumber), [1, 2]);
  assert.deepEqual(Object.keys(JSON.parse(lines[0])), ERROR_FIELDS);
});

Deno.test("every format reaches the disk as it is written, not at close", async () => {
  for (const suffix of [".csv", ".json", ".jsonl"]) {
    const path = tempPath(suffix);
    const writer = await openErrorWriter(path, { columns: INPUT_COLUMNS });
    let size = (await Deno.stat(path)).size;
    for (let n = 1; n <= 5; n++) {
      await writer.write([record(n)]);
      const now = (await Deno.stat(path)).size;
      assert.ok(now > size, `${suffix}: record ${n} was not written when write() resolved`);
      size = now;
    }
    await writer.close();
  }
});

Deno.test("overlapping writes keep their call order", async () => {
  for (const suffix of [".csv", ".json", ".jsonl"]) {
    const path = tempPath(suffix);
    const writer = await openErrorWriter(path, { columns: INPUT_COLUMNS });
    const writes: Promise<void>[] = [];
    for (let n = 1; n <= 200; n++) writes.push(writer.write([record(n)]));
    await Promise.all(writes);
    await writer.close();
    assert.equal(writer.count, 200);
    let numbers: number[];
    if (suffix === ".csv") {
      const [header, ...rows] = await readCsv(path);
      numbers = rows.map((row) => Number(row[header.indexOf("recordNumber")]));
    } else if (suffix === ".json") {
      numbers = JSON.parse(await Deno.readTextFile(path)).map((r: ErrorRecord) => r.recordNumber);
    } else {
      numbers = (await Deno.readTextFile(path)).trimEnd().split("\n").map((line) =>
        JSON.parse(line).recordNumber
      );
    }
    assert.deepEqual(numbers, Array.from({ length: 200 }, (_, i) => i + 1), suffix);
  }
});

Deno.test("an existing readable file is narrowed to owner-only and replaced", async () => {
  if (!posix) return;
  const path = tempPath(".jsonl");
  await Deno.writeTextFile(path, "old content\n", { mode: 0o644 });
  await Deno.chmod(path, 0o644);
  const writer = await openErrorWriter(path);
  assert.equal(await mode(path), 0o600);
  await writer.write([record(1)]);
  await writer.close();
  assert.ok(!(await Deno.readTextFile(path)).includes("old content"));
});

Deno.test("append adds to a resumed job's JSON lines and starts after a cut-off line", async () => {
  const path = tempPath(".jsonl");
  const first = await openErrorWriter(path, { append: true });
  await first.write([record(1)]);
  await first.close();
  // A crash cut the next line short.
  await Deno.writeTextFile(path, '{"recordNumber":2,"em', { append: true });
  const second = await openErrorWriter(path, { append: true });
  await second.write([record(3)]);
  await second.close();
  assert.equal(second.count, 1);
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.equal(JSON.parse(lines[0]).recordNumber, 1);
  assert.equal(lines[1], '{"recordNumber":2,"em');
  assert.equal(JSON.parse(lines[2]).recordNumber, 3);
});

Deno.test("append to a CSV checks the header and does not repeat it", async () => {
  const path = tempPath(".csv");
  for (const n of [1, 2]) {
    const writer = await openErrorWriter(path, { columns: INPUT_COLUMNS, append: true });
    await writer.write([record(n)]);
    await writer.close();
  }
  const [header, ...rows] = await readCsv(path);
  assert.deepEqual(header, csvErrorHeader(INPUT_COLUMNS));
  assert.deepEqual(rows.map((row) => row[header.indexOf("recordNumber")]), ["1", "2"]);
  await assert.rejects(
    openErrorWriter(path, { columns: ["email", "org_id"], append: true }),
    TypeError,
    `Cannot append to "${path}": its header differs from this input's columns`,
  );
  await assert.rejects(openErrorWriter(path, { append: true }), TypeError);
});

Deno.test("append is refused for a JSON array, and writes after close are refused", async () => {
  const path = tempPath(".json");
  await assert.rejects(openErrorWriter(path, { append: true }), TypeError);
  const writer = await openErrorWriter(path, { format: "jsonl" });
  assert.equal(writer.format, "jsonl");
  await writer.close();
  await assert.rejects(writer.write([record(1)]), TypeError);
});

Deno.test("a CSV error file can be fixed and fed back as input", async () => {
  const path = tempPath(".csv");
  const columns = ["email", "first_name", "last_name", "password", "metadata", "org_external_id"];
  const writer = await openErrorWriter(path, { columns });
  await writer.write([
    record(1, {
      rawRow: {
        email: "user1@example.com",
        first_name: "Ada",
        last_name: 'Lovelace, "Countess"',
        password: SECRET,
        metadata: '{"team":"eng, ops"}',
        org_external_id: "acme",
      },
    }),
    record(2, {
      errorType: "validation",
      errorMessage: 'Cannot import row 2: "email" is not valid',
      rawRow: { email: "user2 at example.com", first_name: "Bob", org_external_id: "acme" },
    }),
  ]);
  await writer.close();
  // The user fixes row 2's email in a spreadsheet.
  await Deno.writeTextFile(
    path,
    (await Deno.readTextFile(path)).replace("user2 at example.com", "user2@example.com"),
  );

  const input = await openInput(path);
  assert.deepEqual(input.unknownColumns, []);
  const validated = [];
  for await (const batch of input.records) {
    for (const source of batch) validated.push(validateRecord(source));
  }
  assert.equal(validated.length, 2);
  const rows = validated.map((result) => {
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.warnings, []);
    return result.row;
  });
  assert.equal(rows[0].email, "user1@example.com");
  assert.equal(rows[0].lastName, 'Lovelace, "Countess"');
  assert.deepEqual(rows[0].metadata, { team: "eng, ops" });
  assert.equal(rows[0].password, undefined);
  assert.deepEqual(rows[0].organization, { kind: "external_id", externalId: "acme" });
  assert.equal(rows[1].email, "user2@example.com");
  assert.equal(rows[1].firstName, "Bob");
});
