import { InputError } from "../src/errors.ts";
import { equal, rejects } from "node:assert/strict";
import { countRecords, hashFile } from "../src/input/file_facts.ts";
import {
  BROKEN_CSV,
  bytesOf,
  NASTY_CSV,
  NASTY_NDJSON,
  readAll,
  tempFile,
} from "./fixtures/input/_helpers.ts";

Deno.test("hashFile() returns the SHA-256 of the bytes", async () => {
  const bytes = new Uint8Array(700_000).map((_, index) => (index * 31) % 251);
  const path = await tempFile(bytes, ".csv");
  try {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
    equal(await hashFile(path), hex);
  } finally {
    await Deno.remove(path);
  }
  const empty = await tempFile("", ".csv");
  try {
    equal(
      await hashFile(empty),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("countRecords() counts what openInput() yields", async () => {
  const lines = ["email,name"];
  for (let i = 0; i < 4000; i++) {
    lines.push(i % 9 === 0 ? `u${i}@example.com,"two\nlines"` : `u${i}@example.com,N${i}`);
    if (i % 13 === 0) lines.push("");
  }
  const cases: [Uint8Array | string, string][] = [
    [NASTY_CSV, ".csv"],
    [BROKEN_CSV, ".csv"],
    [NASTY_NDJSON, ".ndjson"],
    [lines.join("\r\n"), ".csv"],
    ["email\n", ".csv"],
    ["", ".csv"],
    ['{"_mode":"upsert"}\n\n', ".ndjson"],
  ];
  for (const [content, suffix] of cases) {
    const path = await tempFile(content, suffix);
    try {
      const records = await readAll(path);
      equal(await countRecords(path), records.length, `${suffix} ${String(content).slice(0, 20)}`);
    } finally {
      await Deno.remove(path);
    }
  }
});

Deno.test("countRecords() takes the format as an option", async () => {
  const path = await tempFile('{"email":"a@example.com"}\n{"email":"b@example.com"}\n', ".txt");
  try {
    equal(await countRecords(path, { format: "ndjson" }), 2);
    equal(await countRecords(path), 2);
    await rejects(countRecords(path, { format: "csv" }), InputError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("countRecords() and hashFile() report a missing file", async () => {
  await rejects(countRecords("/nonexistent/users.csv"), Deno.errors.NotFound);
  await rejects(hashFile("/nonexistent/users.csv"), Deno.errors.NotFound);
});

Deno.test("countRecords() counts a file of only blank lines as empty", async () => {
  const path = await tempFile(bytesOf("\r\n\n  \n"), ".ndjson");
  try {
    equal(await countRecords(path), 0);
  } finally {
    await Deno.remove(path);
  }
});
