import assert from "node:assert/strict";
import { jsonPieces, writePieces } from "../src/report/_json_pieces.ts";
import { runCli, tempDirSync } from "./_cli.ts";

// Strings that test the escapes and the encoding: quotes, a newline inside a
// string (escaped, so no indent goes into it), and characters of 2, 3 and 4
// UTF-8 bytes (a surrogate pair).
const ODD = 'quote " back \\ new\nline é € 😀 \u0000';

function report(issues: number): Record<string, unknown> {
  return {
    file_name: "users.csv",
    total_rows: issues,
    nothing: undefined,
    errors: Array.from({ length: issues }, (_, i) => ({
      row: i + 2,
      column: i % 3 === 0 ? null : "email",
      error: `Cannot import row ${i + 2}: ${ODD} ${"x".repeat(i % 50)}`,
    })),
    warnings: [],
    nested: { a: [1, { b: [] }], c: "d" },
    holes: [undefined, () => 1, 3],
    can_proceed: false,
  };
}

Deno.test("jsonPieces joins to JSON.stringify's text, indented or not, in pieces below 20,000 characters", () => {
  for (const issues of [0, 1, 2, 5_000]) {
    const value = report(issues);
    for (const indent of [0, 2]) {
      const pieces = [...jsonPieces(value, { indent })];
      assert.equal(pieces.join(""), JSON.stringify(value, null, indent), `${issues}, ${indent}`);
      // A piece ends past 16,384 characters by at most one element.
      for (const piece of pieces) assert.ok(piece.length < 20_000, `${piece.length}`);
      if (issues === 5_000) assert.ok(pieces.length > 10, `${pieces.length} pieces`);
    }
  }
  assert.equal([...jsonPieces({})].join(""), "{}");
  assert.equal([...jsonPieces({}, { indent: 2 })].join(""), "{}");
  assert.equal([...jsonPieces({ a: undefined }, { indent: 2 })].join(""), "{}");
});

Deno.test("writePieces writes the UTF-8 of the pieces, a character split by no buffer's end", async () => {
  const dir = tempDirSync();
  const path = `${dir}/out.json`;
  // One piece much longer than the buffer, four-byte characters at every offset.
  const long = "😀a".repeat(40_000) + "é".repeat(30_001);
  {
    using file = await Deno.open(path, { write: true, create: true });
    writePieces(file, ["{", long, "", "€}"]);
  }
  assert.equal(await Deno.readTextFile(path), `{${long}€}`);
});

Deno.test("validate writes its report and --json as JSON.stringify would, past one piece", async () => {
  const dir = tempDirSync();
  const csv = `${dir}/users.csv`;
  // 600 invalid rows: about 60,000 characters of errors, several pieces.
  const rows = Array.from({ length: 600 }, (_, i) => `not-an-email-${i}-é😀,Ann`);
  await Deno.writeTextFile(csv, `email,first_name\n${rows.join("\n")}\nann@example.com,Ann\n`);
  const reportPath = `${dir}/report.json`;
  const result = await runCli(["validate", csv, "--report", reportPath, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const text = await Deno.readTextFile(reportPath);
  const parsed = JSON.parse(text);
  assert.equal(parsed.errors.length, 600);
  assert.equal(text, JSON.stringify(parsed, null, 2) + "\n");
  assert.equal(result.stdout, JSON.stringify(parsed) + "\n");
});
