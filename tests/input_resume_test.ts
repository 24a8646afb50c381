import { deepEqual, equal, rejects } from "node:assert/strict";
import type { SourceRecord } from "../src/types.ts";
import {
  BROKEN_CSV,
  bytesOf,
  chunkedStream,
  NASTY_CSV,
  NASTY_NDJSON,
  readAll,
  tempFile,
} from "./fixtures/input/_helpers.ts";

const CASES: { name: string; bytes: Uint8Array; suffix: string }[] = [
  { name: "nasty CSV", bytes: bytesOf(NASTY_CSV), suffix: ".csv" },
  { name: "broken CSV", bytes: BROKEN_CSV, suffix: ".csv" },
  { name: "nasty NDJSON", bytes: bytesOf(NASTY_NDJSON), suffix: ".ndjson" },
];

for (const { name, bytes, suffix } of CASES) {
  Deno.test(`openInput() resumes a ${name} file at every record's byteEnd`, async () => {
    const path = await tempFile(bytes, suffix);
    try {
      const all = await readAll(path);
      equal(all.length > 4, true);
      for (let i = 0; i < all.length; i++) {
        const resumeFrom = { byteOffset: all[i].byteEnd, recordNumber: all[i].recordNumber };
        const rest = await readAll(path, { resumeFrom });
        deepEqual(rest, all.slice(i + 1), `resumed after record ${all[i].recordNumber}`);
      }
    } finally {
      await Deno.remove(path);
    }
  });

  Deno.test(`openInput() resumes a ${name} stream at every record's byteEnd`, async () => {
    const all = await readAll(chunkedStream(bytes), { format: formatOf(suffix) });
    for (let i = 0; i < all.length; i++) {
      const resumeFrom = { byteOffset: all[i].byteEnd, recordNumber: all[i].recordNumber };
      for (const sizes of [[bytes.length], [1], [3, 7]]) {
        const rest = await readAll(chunkedStream(bytes, sizes), {
          format: formatOf(suffix),
          resumeFrom,
        });
        deepEqual(rest, all.slice(i + 1), `resumed after ${all[i].recordNumber}, chunks ${sizes}`);
      }
    }
  });
}

Deno.test("openInput() resumes by seeking: the rows before the offset are never parsed", async () => {
  // Parsed from the start, the unclosed quote makes row 1 an error and the
  // address after it row 2. Resumed at the address, neither happens.
  const head = 'email,name\n"unclosed,\n';
  const csv = head + "x@example.com,X\n";
  const offset = bytesOf(head).length;
  const fromStart = await readAll(chunkedStream(bytesOf(csv)));
  deepEqual(fromStart.map((record) => record.recordNumber), [1, 2]);
  equal(typeof fromStart[0].parseError, "string");

  const path = await tempFile(csv, ".csv");
  try {
    const expected: SourceRecord[] = [{
      recordNumber: 42,
      fields: { email: "x@example.com", name: "X" },
      byteEnd: bytesOf(csv).length,
      plain: true,
      tidy: true,
    }];
    const resumeFrom = { byteOffset: offset, recordNumber: 41 };
    deepEqual(await readAll(path, { resumeFrom }), expected);
    deepEqual(
      await readAll(chunkedStream(bytesOf(csv), [4]), { format: "csv", resumeFrom }),
      expected,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() resumes a file larger than a chunk at many offsets", async () => {
  const lines = ["email,name"];
  for (let i = 0; i < 5000; i++) {
    lines.push(`user${i}@example.com,"Näme ${i}${i % 7 === 0 ? "\r\nsecond line" : ""}"`);
  }
  const path = await tempFile(lines.join("\r\n"), ".csv");
  try {
    const all = await readAll(path);
    equal(all.length, 5000);
    for (const i of [0, 1, 999, 1234, 2500, 4998, 4999]) {
      const rest = await readAll(path, {
        resumeFrom: { byteOffset: all[i].byteEnd, recordNumber: all[i].recordNumber },
      });
      deepEqual(rest, all.slice(i + 1));
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openInput() treats a zero resume point as the start", async () => {
  const all = await readAll(chunkedStream(bytesOf(NASTY_CSV)));
  const again = await readAll(chunkedStream(bytesOf(NASTY_CSV)), {
    resumeFrom: { byteOffset: 0, recordNumber: 0 },
  });
  deepEqual(again, all);
});

Deno.test("openInput() rejects resume points it cannot honor", async () => {
  const csv = "email\na@example.com\n";
  await rejects(
    openStream(csv, { byteOffset: 3, recordNumber: 0 }),
    new RangeError("Cannot resume at byte 3: the records of the input start at byte 6"),
  );
  await rejects(
    openStream(csv, { byteOffset: -1, recordNumber: 0 }),
    new RangeError("Cannot resume at byte -1: the offset must be a whole number of at least 0"),
  );
  await rejects(
    openStream(csv, { byteOffset: 6, recordNumber: 1.5 }),
    new RangeError(
      "Cannot resume after record 1.5: the record number must be a whole number of at least 0",
    ),
  );
});

Deno.test("openInput() resumed past the end yields no records", async () => {
  const csv = "email\na@example.com\n";
  const path = await tempFile(csv, ".csv");
  try {
    deepEqual(await readAll(path, { resumeFrom: { byteOffset: 500, recordNumber: 1 } }), []);
  } finally {
    await Deno.remove(path);
  }
});

function formatOf(suffix: string): "csv" | "ndjson" {
  return suffix === ".csv" ? "csv" : "ndjson";
}

function openStream(
  text: string,
  resumeFrom: { byteOffset: number; recordNumber: number },
): Promise<SourceRecord[]> {
  return readAll(chunkedStream(bytesOf(text)), { format: "csv", resumeFrom });
}
