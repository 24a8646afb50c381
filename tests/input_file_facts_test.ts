import { InputError } from "../src/errors.ts";
import { equal, rejects } from "node:assert/strict";
import { countRecords, hashFile } from "../src/input/file_facts.ts";
import { evalScript } from "./_cli.ts";
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

Deno.test("countRecords() counts what openInput() yields across many chunks, with records longer than a chunk", async () => {
  // Several 128 KiB chunks: records cut at every chunk end, quoted line
  // breaks and blank lines across them, a 300 KB quoted value (a carry
  // larger than a chunk) and a quote never closed after it.
  const lines = ["email,name"];
  for (let i = 0; i < 60_000; i++) {
    if (i === 20_000) lines.push(`big@example.com,"${"x\n".repeat(150_000)}"`);
    if (i === 40_000) lines.push(`broken@example.com,"never closed`);
    lines.push(
      i % 7 === 0 ? `u${i}@example.com,"two\r\nlines, ""quoted"""` : `u${i}@example.com,N${i}`,
    );
    if (i % 11 === 0) lines.push("");
  }
  for (const eol of ["\n", "\r\n"]) {
    const path = await tempFile(lines.join(eol), ".csv");
    try {
      const records = await readAll(path);
      equal(await countRecords(path), records.length, `line ends ${JSON.stringify(eol)}`);
    } finally {
      await Deno.remove(path);
    }
  }
});

Deno.test("countRecords() keeps no chunk of the file: counting 40 MB leaves the process under 20 MB larger", async () => {
  // In a process of its own, so that its resident memory is the count's.
  // A fresh buffer per chunk used to stay until V8's external-memory limit
  // (about 64 MB) made it collect them, and the allocator kept the pages.
  const script = `
    import { countRecords } from ${
    JSON.stringify(new URL("../src/input/file_facts.ts", import.meta.url).href)
  };
    const path = await Deno.makeTempFile({ suffix: ".csv" });
    let text = "email,first_name,last_name\\n";
    for (let i = 0; i < 40000; i++) text += "person." + i + "@example.com,Ada,Lovelace\\n";
    const block = new TextEncoder().encode(text);
    using file = await Deno.open(path, { write: true });
    for (let written = 0; written < 40e6; written += block.length) await file.write(block);
    const before = Deno.memoryUsage().rss;
    const records = await countRecords(path);
    const grown = Deno.memoryUsage().rss - before;
    await Deno.remove(path);
    console.log(JSON.stringify({ records, grown }));`;
  const { records, grown } = JSON.parse(
    await evalScript(script, ["--allow-read", "--allow-write"]),
  );
  equal(records > 1_000_000, true);
  equal(grown < 20e6, true, `the count grew the process by ${(grown / 1e6).toFixed(1)} MB`);
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
