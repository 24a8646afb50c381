import assert from "node:assert/strict";
import { drawBox, formatDuration, formatSummary, importStatus } from "../src/report/summary.ts";
import { textWidth } from "../src/report/_text_width.ts";
import type { ImportSummary } from "../src/types.ts";

function summary(overrides: Partial<ImportSummary> = {}): ImportSummary {
  return {
    status: "success",
    totalRows: 100,
    successes: 100,
    failures: 0,
    usersCreated: 95,
    usersExisting: 5,
    usersUpdated: 0,
    membershipsCreated: 100,
    membershipsExisting: 0,
    organizationsCreated: 5,
    invitationsSent: 0,
    warnings: 0,
    cacheHits: 95,
    cacheMisses: 5,
    retries: 0,
    rateLimited: 0,
    durationMs: 12_345,
    dryRun: false,
    ...overrides,
  };
}

/** Asserts the box is closed and every row has its right border in one column. */
function assertAligned(box: string): string[] {
  const rows = box.split("\n");
  const width = textWidth(rows[0]);
  assert.ok(rows[0].startsWith("┌") && rows[0].endsWith("┐"), rows[0]);
  assert.ok(rows.at(-1)?.startsWith("└") && rows.at(-1)?.endsWith("┘"));
  for (const row of rows) {
    assert.equal(textWidth(row), width, `row is not ${width} columns wide: ${JSON.stringify(row)}`);
  }
  for (const row of rows.slice(1, -1)) {
    assert.ok(row.startsWith("│ ") && row.endsWith(" │"), row);
  }
  return rows.slice(1, -1).map((row) => row.slice(2, -2).trimEnd());
}

Deno.test("importStatus follows the earlier importer's status rules", () => {
  assert.equal(importStatus(1, 0), "success");
  assert.equal(importStatus(1_000_000, 0), "success");
  assert.equal(importStatus(42, 8), "completed_with_errors");
  assert.equal(importStatus(1, 1_000), "completed_with_errors");
  assert.equal(importStatus(0, 8), "failed");
  assert.equal(importStatus(0, 0), "failed");
});

Deno.test("importStatus rejects counts that are not counts", () => {
  assert.throws(() => importStatus(-1, 0), RangeError);
  assert.throws(() => importStatus(1.5, 0), RangeError);
  assert.throws(() => importStatus(0, Number.NaN), RangeError);
});

Deno.test("formatDuration uses seconds, then minutes, then hours, rounding across forms", () => {
  assert.equal(formatDuration(0), "0.0 s");
  assert.equal(formatDuration(49), "0.0 s");
  assert.equal(formatDuration(3_240), "3.2 s");
  assert.equal(formatDuration(12_345), "12.3 s");
  assert.equal(formatDuration(59_949), "59.9 s");
  assert.equal(formatDuration(59_960), "1m 00s");
  assert.equal(formatDuration(65_000), "1m 05s");
  assert.equal(formatDuration(750_000), "12m 30s");
  assert.equal(formatDuration(3_599_400), "59m 59s");
  assert.equal(formatDuration(3_599_600), "1h 00m");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(26 * 3_600_000 + 40 * 60_000), "26h 40m");
});

Deno.test("formatDuration rejects negative and non-finite durations", () => {
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(Number.NaN), RangeError);
  assert.throws(() => formatDuration(Number.POSITIVE_INFINITY), RangeError);
});

Deno.test("formatSummary prints the earlier importer's lines in a closed box", () => {
  const box = formatSummary(summary());
  assert.equal(
    box,
    [
      "┌──────────────────────────┐",
      "│ SUMMARY                  │",
      "│ Status: Success          │",
      "│ Users imported: 100/100  │",
      "│ Users created: 95        │",
      "│ Already existed: 5       │",
      "│ Memberships created: 100 │",
      "│ Organizations created: 5 │",
      "│ Duration: 12.3 s         │",
      "│ Warnings: 0              │",
      "│ Errors: 0                │",
      "│ Cache hits: 95           │",
      "│ Cache misses: 5          │",
      "│ Cache hit rate: 95.0%    │",
      "└──────────────────────────┘",
    ].join("\n"),
  );
});

Deno.test("formatSummary shows each status and the failure count as errors", () => {
  const partial = assertAligned(formatSummary(summary({
    status: "completed_with_errors",
    totalRows: 50,
    successes: 42,
    failures: 8,
    warnings: 3,
  })));
  assert.ok(partial.includes("Status: Completed with errors"));
  assert.ok(partial.includes("Users imported: 42/50"));
  assert.ok(partial.includes("Errors: 8"));
  assert.ok(partial.includes("Warnings: 3"));
  const failed = assertAligned(formatSummary(summary({ status: "failed", successes: 0 })));
  assert.ok(failed.includes("Status: Failed"));
});

Deno.test("formatSummary keeps the right border aligned for long, wide and odd lines", () => {
  const jobId = "migration-acme-corp-2024-01-15-attempt-2-with-a-very-long-identifier-x".repeat(2);
  const lines = assertAligned(formatSummary(summary({ totalRows: 1_000_000, successes: 999_990 }), {
    title: "インポートの概要",
    extraLines: [
      ["Job ID", jobId],
      ["Invitations sent", "12"],
      ["Note", "line one\nline two\ttabbed\u001b[31mred"],
      ["Café", "naïve"],
    ],
  }));
  assert.equal(lines[0], "インポートの概要");
  assert.ok(lines.includes("Users imported: 999,990/1,000,000"));
  assert.ok(lines.includes(`Job ID: ${jobId}`));
  assert.equal(lines.at(-4), `Job ID: ${jobId}`);
  assert.equal(lines.at(-3), "Invitations sent: 12");
  // Control characters would break the box; they become spaces.
  assert.equal(lines.at(-2), "Note: line one line two tabbed [31mred");
  assert.equal(lines.at(-1), "Café: naïve");
});

Deno.test("formatSummary shows updated users and existing memberships only when not zero", () => {
  const plain = formatSummary(summary());
  assert.doesNotMatch(plain, /Users updated|Memberships already existed/);
  const lines = assertAligned(formatSummary(summary({
    usersUpdated: 7,
    membershipsExisting: 3,
  })));
  assert.ok(lines.includes("Users updated: 7"));
  assert.ok(lines.includes("Memberships already existed: 3"));
  assert.ok(lines.indexOf("Users updated: 7") < lines.indexOf("Memberships created: 100"));
});

Deno.test("formatSummary marks dry runs and has no hit rate without lookups", () => {
  const lines = assertAligned(formatSummary(summary({
    dryRun: true,
    cacheHits: 0,
    cacheMisses: 0,
  })));
  assert.equal(lines[0], "SUMMARY (dry run)");
  assert.ok(lines.includes("Cache hit rate: n/a"));
  assert.equal(
    assertAligned(formatSummary(summary({ dryRun: true }), { title: "PLAN" }))[0],
    "PLAN",
  );
});

Deno.test("formatSummary computes the hit rate to one decimal", () => {
  const lines = assertAligned(formatSummary(summary({ cacheHits: 6, cacheMisses: 4 })));
  assert.ok(lines.includes("Cache hit rate: 60.0%"));
  const third = assertAligned(formatSummary(summary({ cacheHits: 1, cacheMisses: 2 })));
  assert.ok(third.includes("Cache hit rate: 33.3%"));
});

Deno.test("drawBox draws an empty box and pads to the widest line", () => {
  assert.equal(drawBox([]), "┌──┐\n└──┘");
  assert.equal(drawBox(["", "abc"]), "┌─────┐\n│     │\n│ abc │\n└─────┘");
  assertAligned(drawBox(["e\u0301", "漢字", "x"]));
});
