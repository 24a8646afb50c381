/**
 * The fast paths of provider exports: a user whose strings are all printable
 * ASCII is marked `plain` (validation then skips its look for odd
 * characters), one with an escape, a DEL or non-ASCII text is not, however
 * the users fall into chunks; a mapped row's values are the text the CSV
 * reader would give, so validation reads it without a copy; users one a line
 * are read a line at a time, to the same records and offsets as the byte
 * scanner finds; and a file read in large buffers is handed on in the usual
 * chunks, joined without copies.
 */

import assert from "node:assert/strict";
import { openInput, type OpenInputOptions } from "../src/input/open_input.ts";
import {
  fitMetadata,
  metadataText,
  splitDisplayName,
  wholeMetadataText,
} from "../src/input/providers/_mapping.ts";
import type { SourceRecord } from "../src/types.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { CHUNK_SIZE, LARGE_READ_SIZE, openFileSource } from "../src/input/_byte_source.ts";
import { concatBytes } from "../src/input/_bytes.ts";
import { isPlainJson, PlainStretches } from "../src/input/_plain_json.ts";
import { INPUT_COLUMNS } from "../src/validation/columns.ts";
import { tempPath } from "./_cli.ts";

async function readAll(
  source: Uint8Array,
  options: OpenInputOptions,
  chunk = source.length,
): Promise<SourceRecord[]> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= source.length) return controller.close();
      controller.enqueue(source.slice(at, at + chunk));
      at += chunk;
    },
  });
  const input = await openInput(stream, options);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  return records;
}

/**
 * Users 1, 3 and 6 are plain (3's escaped quotes stand for quotes); 2 has an
 * escaped control character, 5 a DEL,
 * and 4 non-ASCII text unless `ascii` (then every byte of the export is
 * ASCII, and each user is told apart within one decoded text).
 */
function users(ascii: boolean) {
  return [
    { localId: "u1", email: "u1@example.com", displayName: "Ada Lovelace", emailVerified: true },
    { localId: "u2", email: "u2@example.com", displayName: "Bob Br\u0001own" },
    { localId: "u3", email: "u3@example.com", customAttributes: '{"plan":"pro"}' },
    { localId: "u4", email: "u4@example.com", displayName: ascii ? "Zoe Nandu" : "Zoë Ñandú" },
    { localId: "u5", email: "u5@example.com", displayName: "Del\u007fta" },
    { localId: "u6", email: "u6@example.com", displayName: "Grace Hopper", emailVerified: false },
  ];
}

function firebaseExport(ascii: boolean): Uint8Array {
  // JSON.stringify leaves the DEL raw, as an export may.
  const lines = users(ascii).map((user) => JSON.stringify(user));
  return new TextEncoder().encode(`{"users": [\n${lines.join(",\n")}\n]}\n`);
}

function auth0Export(ascii: boolean): Uint8Array {
  const lines = users(ascii).map((user) =>
    JSON.stringify({
      user_id: `auth0|${user.localId}`,
      email: user.email,
      name: user.displayName,
      email_verified: user.emailVerified,
      user_metadata: user.customAttributes === undefined ? undefined : { plan: "pro" },
    })
  );
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

for (
  const [name, exported, options] of [
    ["a Firebase export", firebaseExport, { provider: { from: "firebase" } }],
    ["an Auth0 export", auth0Export, { provider: { from: "auth0" } }],
  ] as const
) {
  Deno.test(`${name}: plain users are marked so, the others not, in any chunks`, async () => {
    for (const ascii of [true, false]) {
      const bytes = exported(ascii);
      for (const chunk of [bytes.length, 1, 7, 64]) {
        const records = await readAll(bytes, options, chunk);
        assert.equal(records.length, 6);
        assert.deepEqual(
          records.map((record) => record.plain === true),
          // Firebase's user 3 has its attributes as JSON in a string: escaped
          // quotes, which stand for printable ASCII.
          [true, false, true, ascii, false, true],
          `chunks of ${chunk}, ${ascii ? "all ASCII" : "not all ASCII"}`,
        );
      }
    }
  });

  Deno.test(`${name}: the escaped control character and the DEL are still warned of, and rows carry text values`, async () => {
    for (const ascii of [true, false]) {
      const records = await readAll(exported(ascii), options);
      const results = records.map((record) => validateRecord(record));
      assert.ok(results.every((result) => result.ok));
      const warnings = results.flatMap((result) => result.ok ? result.warnings : []);
      for (const [row, code] of [[2, "0001"], [5, "007F"]]) {
        assert.ok(
          warnings.some((warning) =>
            warning.recordNumber === row && warning.message.includes(`control character U+${code}`)
          ),
          JSON.stringify(warnings),
        );
      }
      // Every value is a string, as a CSV row's: email_verified and metadata too.
      for (const record of records) {
        for (const value of Object.values(record.fields)) assert.equal(typeof value, "string");
      }
      assert.equal(records[0].fields.email_verified, "true");
      assert.equal(records[5].fields.email_verified, "false");
      assert.equal(records[2].fields.metadata, '{"plan":"pro"}');
      const rows = results.map((result) => result.ok ? result.row : undefined);
      assert.equal(rows[0]?.emailVerified, true);
      assert.deepEqual(rows[2]?.metadata, { plan: "pro" });
      assert.equal(rows[5]?.emailVerified, false);
    }
  });
}

Deno.test("splitDisplayName splits at the first character \\s matches, whatever it is", () => {
  for (let code = 0; code < 0x10000; code++) {
    const space = String.fromCharCode(code);
    const name = `Ada${space}King Lovelace`;
    if (name.includes("@")) continue;
    const at = name.search(/\s/);
    const expected = at === -1
      ? [name]
      : [name.slice(0, at), name.slice(at + 1).trim() || undefined];
    const [first, last] = splitDisplayName(name);
    assert.deepEqual([first, last].slice(0, expected.length), expected, `U+${code.toString(16)}`);
  }
});

Deno.test("a file read a large buffer at a time is handed on in chunks of the usual size, and seeks drop what is left", async () => {
  const size = 3 * LARGE_READ_SIZE + 12_345;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919) % 251;
  const path = await tempPath();
  await Deno.writeFile(path, bytes);
  const source = await openFileSource(path, LARGE_READ_SIZE);
  const seen: number[] = [];
  let at = 0;
  for (;;) {
    const chunk = await source.read();
    if (chunk === null) break;
    assert.ok(chunk.length <= CHUNK_SIZE);
    const expected = bytes.subarray(at, at + chunk.length);
    assert.ok(chunk.every((byte, i) => byte === expected[i]), `the bytes at ${at}`);
    at += chunk.length;
    seen.push(chunk.length);
    // Halfway through the second large read, move on past the third.
    if (at === LARGE_READ_SIZE + CHUNK_SIZE) {
      const target = 3 * LARGE_READ_SIZE + 5;
      await source.skipTo(target);
      at = target;
      assert.equal(source.position, target);
    }
  }
  assert.equal(at, size);
  assert.ok(seen.length > LARGE_READ_SIZE / CHUNK_SIZE);
  source.close();
  await Deno.remove(path);
});

Deno.test("users read a line at a time, and lines that are not one user each, read as the byte scanner reads them", async () => {
  const user = (n: number, extra = "") => `{"localId":"u${n}","email":"u${n}@example.com"${extra}}`;
  const text = [
    `{"users": [`,
    user(1) + ",",
    `  ${user(2)}, ${user(3)},`,
    user(4, ',"displayName":"a }, b"'),
    `,${user(5)}`,
    "",
    "  ,  ",
    "{",
    `  "localId": "u6", "email": "u6@example.com"`,
    "},",
    `${user(7)}, 17,`,
    `${user(9)}\r`,
    `]}`,
    "",
  ].join("\n");
  const bytes = new TextEncoder().encode(text);
  const options = { provider: { from: "firebase" as const } };
  const whole = await readAll(bytes, options);
  assert.deepEqual(
    whole.map((record) => record.fields.external_id),
    ["u1", "u2", "u3", "u4", "u5", "u6", "u7", undefined, "u9"],
  );
  assert.match(whole[7].parseError ?? "", /row 8: user 8 is not a JSON object/);
  // Each user's offset is just past its closing brace.
  for (const record of whole) {
    const before = text.slice(0, record.byteEnd);
    assert.ok(before.endsWith("}") || before.endsWith("17"), `row ${record.recordNumber}`);
  }
  assert.deepEqual(await readAll(bytes, options, 1), whole);
  assert.deepEqual(await readAll(bytes, options, 5), whole);
  const path = await tempPath({ suffix: ".json" });
  await Deno.writeFile(path, bytes);
  await assertResumesAfter(path, options, whole, whole.keys());
  await Deno.remove(path);
});

Deno.test("an export whose lines are not all ASCII reads to the same records and offsets in any chunks and from any resume point", async () => {
  // Every third user has a name that is not ASCII (two- and four-byte
  // characters), runs of them longer than the line reader passes to the
  // scanner, and padding so that lines after them are decoded a window at a
  // time; the last user is not ASCII and ends the list.
  const names = ["Zoë Ñandú", "Ada Lovelace", "Grace 🐝 Hopper"];
  const lines: string[] = [];
  let asciiUsers = 0;
  for (let n = 1; n <= 300; n++) {
    const nonAscii = n % 3 === 0 || (n > 100 && n <= 130) || n === 300;
    if (!nonAscii) asciiUsers++;
    const user = {
      localId: `u${n}`,
      email: `u${n}@example.com`,
      displayName: nonAscii ? names[n % 2 === 0 ? 0 : 2] : names[1],
      customAttributes: JSON.stringify({ note: "x".repeat(n % 7 === 0 ? 200 : 20) }),
    };
    lines.push(JSON.stringify(user));
  }
  const bytes = new TextEncoder().encode(`{"users": [\n${lines.join(",\n")}\n]}\n`);
  const options = { provider: { from: "firebase" as const } };
  const whole = await readAll(bytes, options);
  assert.deepEqual(
    whole.map((record) => record.fields.external_id),
    lines.map((_, k) => `u${k + 1}`),
  );
  assert.equal(whole[2].fields.first_name, "Grace");
  assert.equal(whole[299].fields.last_name, "Ñandú");
  // Each offset is a byte offset, just past the user's closing brace.
  for (const record of whole) {
    assert.equal(bytes[record.byteEnd - 1], 0x7d, `row ${record.recordNumber}`);
    const next = bytes[record.byteEnd];
    assert.ok(next === 0x2c || next === 0x0a, `row ${record.recordNumber}`);
  }
  assert.equal(whole.filter((record) => record.plain).length, asciiUsers);
  for (const chunk of [1, 7, 4096]) {
    assert.deepEqual(await readAll(bytes, options, chunk), whole, `chunks of ${chunk}`);
  }
  const path = await tempPath({ suffix: ".json" });
  await Deno.writeFile(path, bytes);
  await assertResumesAfter(path, options, whole, [0, 1, 2, 99, 100, 101, 129, 130, 298]);
  await Deno.remove(path);
});

/**
 * Opens the file resumed just past each of the given records and asserts
 * that it reads to exactly the records after it.
 */
async function assertResumesAfter(
  path: string,
  options: Parameters<typeof openInput>[1],
  whole: SourceRecord[],
  indices: Iterable<number>,
): Promise<void> {
  for (const k of indices) {
    const at = whole[k];
    const input = await openInput(path, {
      ...options,
      resumeFrom: { byteOffset: at.byteEnd, recordNumber: at.recordNumber },
    });
    const rest: SourceRecord[] = [];
    for await (const batch of input.records) rest.push(...batch);
    assert.deepEqual(rest, whole.slice(k + 1), `after row ${at.recordNumber}`);
  }
}

Deno.test("concatBytes joins chunks of one read without a copy, and copies others", () => {
  const read = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const joined = concatBytes(read.subarray(1, 3), read.subarray(3, 5));
  assert.deepEqual([...joined], [2, 3, 4, 5]);
  assert.equal(joined.buffer, read.buffer);
  const apart = concatBytes(read.subarray(0, 2), read.subarray(3, 5));
  assert.deepEqual([...apart], [1, 2, 4, 5]);
  assert.notEqual(apart.buffer, read.buffer);
  const other = concatBytes(read.subarray(4, 6), new Uint8Array([7]));
  assert.deepEqual([...other], [5, 6, 7]);
});

Deno.test("concatBytes gives a view when the bytes before b in its buffer are a's, so a copy is not carried on", () => {
  const read = new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7]);
  // A record carried in a copy (another buffer) whose bytes are those just before b.
  const joined = concatBytes(new Uint8Array([2, 3]), read.subarray(4, 7));
  assert.deepEqual([...joined], [2, 3, 4, 5, 6]);
  assert.equal(joined.buffer, read.buffer);
  // The chunk after it joins its carry without a copy again.
  const next = concatBytes(joined.subarray(3), read.subarray(7));
  assert.deepEqual([...next], [5, 6, 7]);
  assert.equal(next.buffer, read.buffer);
  // Other bytes before b, or fewer than a's, mean a copy, as before.
  const differs = concatBytes(new Uint8Array([7, 3]), read.subarray(4, 7));
  assert.deepEqual([...differs], [7, 3, 4, 5, 6]);
  assert.notEqual(differs.buffer, read.buffer);
  const short = concatBytes(new Uint8Array([9, 1, 2, 3, 4]), read.subarray(4, 6));
  assert.deepEqual([...short], [9, 1, 2, 3, 4, 4, 5]);
  assert.notEqual(short.buffer, read.buffer);
});

Deno.test("Firebase and Auth0 rows are tidy (text of input columns, nothing to trim), unless --map adds values", async () => {
  const fixtures = new URL("./fixtures/providers/", import.meta.url).pathname;
  for (
    const [file, from] of [
      ["auth0_users.ndjson", "auth0"],
      ["firebase_users.json", "firebase"],
      ["firebase_users.csv", "firebase"],
    ] as const
  ) {
    const input = await openInput(`${fixtures}${file}`, { provider: { from } });
    let tidy = 0;
    for await (const batch of input.records) {
      for (const record of batch) {
        if (record.parseError !== undefined) continue;
        assert.equal(record.tidy, true, `${file} row ${record.recordNumber}`);
        tidy++;
        for (const [column, value] of Object.entries(record.fields)) {
          assert.ok(INPUT_COLUMNS.includes(column), `${file}: ${column}`);
          assert.equal(typeof value, "string");
          assert.equal((value as string).trim(), value, `${file} row ${record.recordNumber}`);
        }
      }
    }
    assert.ok(tidy > 200, file);
  }
  const mapped = await openInput(`${fixtures}auth0_users.ndjson`, {
    provider: { from: "auth0", map: { "app_metadata.plan": "org_external_id" } },
  });
  for await (const batch of mapped.records) {
    for (const record of batch) assert.equal(record.tidy, undefined);
  }
});

Deno.test("Firebase and Auth0 rows hand validation the metadata object their text was written from, unless --map may write over it", async () => {
  const fixtures = new URL("./fixtures/providers/", import.meta.url).pathname;
  for (
    const [file, from] of [
      ["auth0_users.ndjson", "auth0"],
      // (Firebase's CSV export has no customAttributes.)
      ["firebase_users.json", "firebase"],
    ] as const
  ) {
    const input = await openInput(`${fixtures}${file}`, { provider: { from } });
    let handed = 0;
    for await (const batch of input.records) {
      for (const record of batch) {
        const label = `${file} row ${record.recordNumber}`;
        const text = record.fields.metadata;
        if (record.parseError !== undefined || text === undefined) {
          assert.equal(record.checkedMetadata, undefined, label);
          continue;
        }
        assert.deepEqual(record.checkedMetadata, JSON.parse(text as string), label);
        // Validation takes the object itself, and judges the row as it would the text alone.
        const taken = validateRecord(record);
        const parsed = validateRecord({ ...record, checkedMetadata: undefined });
        assert.deepEqual(taken, parsed, label);
        if (taken.ok) {
          assert.equal(taken.row.metadata, record.checkedMetadata, label);
          handed++;
        }
      }
    }
    assert.ok(handed > 50, `${file}: ${handed}`);
  }
  const mapped = await openInput(`${fixtures}auth0_users.ndjson`, {
    provider: { from: "auth0", map: { "app_metadata.tier": "metadata" } },
  });
  let overwritten = 0;
  for await (const batch of mapped.records) {
    for (const record of batch) {
      assert.equal(record.checkedMetadata, undefined);
      if (record.fields.metadata !== undefined && !String(record.fields.metadata).startsWith("{")) {
        overwritten++;
      }
    }
  }
  assert.ok(overwritten > 0);
});

Deno.test("wholeMetadataText answers only for objects fitMetadata keeps whole, with the same text", () => {
  const long = "x".repeat(601);
  const cases: Array<Record<string, unknown>> = [
    {},
    { plan: "pro" },
    { plan: "pro", seats: "6", region: "eu" },
    Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`])),
    Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, `v${i}`])),
    { seats: 6 },
    { plan: null },
    { nested: { a: "b" } },
    { "": "empty key" },
    { ["k".repeat(41)]: "long key" },
    { plan: long },
    { plän: "non-ASCII key" },
    { plan: "prö" },
    { "2": "b", "1": "a", z: "c" },
    JSON.parse('{"__proto__":"x","plan":"pro"}'),
  ];
  for (const object of cases) {
    const fitted = fitMetadata(Object.entries(object));
    const whole = wholeMetadataText(object, false);
    const label = JSON.stringify(object);
    if (whole === undefined) {
      const keptWhole = fitted.leftOut.size === 0 && fitted.metadata !== undefined &&
        Object.keys(fitted.metadata).length === Object.keys(object).length &&
        Object.values(object).every((value) => typeof value === "string");
      assert.ok(!keptWhole || label.includes("__proto__"), label);
      continue;
    }
    assert.equal(fitted.leftOut.size, 0, label);
    assert.equal(
      whole,
      fitted.metadata === undefined ? null : metadataText(fitted.metadata),
      label,
    );
  }
  assert.equal(wholeMetadataText({ plan: "prö" }, false), undefined);
  assert.equal(wholeMetadataText({ plan: "pro" }, true), '{"plan":"pro"}');
});

Deno.test("only the escapes of a quote, a backslash and a slash keep a user plain, from its bytes or its text", () => {
  const cases: Array<[string, boolean]> = [
    [String.raw`{"a":"say \"hi\""}`, true],
    [String.raw`{"a":"C:\\temp","b":"a\/b"}`, true],
    // An escaped backslash, then the letters "u0001": no control character.
    [String.raw`{"a":"\\u0001"}`, true],
    [String.raw`{"a":"\u0001"}`, false],
    [String.raw`{"a":"\u0041"}`, false],
    [String.raw`{"a":"line\nbreak"}`, false],
    [String.raw`{"a":"tab\t"}`, false],
    [String.raw`{"a":"\\\n"}`, false],
    ['{"a":"del\x7f"}', false],
  ];
  const text = cases.map(([json]) => json).join(",");
  const stretches = new PlainStretches(text);
  let at = 0;
  for (const [json, plain] of cases) {
    assert.equal(isPlainJson(new TextEncoder().encode(json)), plain, json);
    assert.equal(stretches.isPlain(at, at + json.length), plain, `${json} in the text`);
    at += json.length + 1;
  }
});

Deno.test("a plain Firebase user's customAttributes with an escape inside still has its non-ASCII values left out", async () => {
  // The attributes' own JSON escapes ü: the export holds only \" and \\ escapes (plain).
  const attributes = String.raw`{"city":"Z\u00fcrich","plan":"pro","seats":3}`;
  const json = JSON.stringify({
    users: [
      { localId: "u1", email: "u1@example.com", customAttributes: attributes },
      { localId: "u2", email: "u2@example.com", customAttributes: '{"plan":"pro","seats":3}' },
    ],
  });
  const records = await readAll(new TextEncoder().encode(json), {
    provider: { from: "firebase" },
  });
  assert.deepEqual(records.map((record) => record.plain), [true, true]);
  assert.equal(records[0].fields.metadata, '{"plan":"pro","seats":"3"}');
  assert.match(records[0].warnings?.join() ?? "", /"city" \(values must be \d+ ASCII characters/);
  assert.equal(records[1].fields.metadata, '{"plan":"pro","seats":"3"}');
  const result = validateRecord(records[0]);
  assert.ok(result.ok);
  assert.deepEqual(result.row.metadata, { plan: "pro", seats: "3" });
});
