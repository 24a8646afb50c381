import { equal, match } from "node:assert/strict";
import { validateFile } from "../src/pipeline/validate_file.ts";
import { cyrb53, cyrb53High, cyrb53Low } from "../src/validation/_cyrb53.ts";
import { DuplicateTracker } from "../src/validation/duplicate_tracker.ts";
import { organizationKey } from "../src/organizations/organization_key.ts";
import type { OrganizationRef } from "../src/types.ts";

Deno.test("cyrb53 of a pair with a tail has the bits of the joined string", () => {
  for (
    const [first, second, tail] of [
      ["ada@example.com", "ext:", "acme"],
      ["ada@example.com", "id:", "org_01"],
      ["", "", ""],
      ["zoë@example.com", "ext:", "ünï"],
    ]
  ) {
    cyrb53(first, second + tail);
    const high = cyrb53High;
    const low = cyrb53Low;
    cyrb53(first, second, tail);
    equal(cyrb53High, high, `${first} ${second}${tail}`);
    equal(cyrb53Low, low, `${first} ${second}${tail}`);
  }
});

Deno.test("firstRowOf() counts a pair as firstRowOfKey() does with organizationKey()", () => {
  const tracker = new DuplicateTracker();
  const organizations: (OrganizationRef | undefined)[] = [
    undefined,
    { kind: "id", id: "org_1" },
    { kind: "external_id", externalId: "org_1" },
    { kind: "external_id", externalId: "acme", name: "Acme" },
    { kind: "id", id: "acme" },
  ];
  let row = 0;
  const firsts = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    for (const email of ["ada@example.com", "bob@example.com"]) {
      for (const organization of organizations) {
        row++;
        const key = organization === undefined ? "" : organizationKey(organization);
        // Each pair comes in one way, then the other: the two must meet in one set.
        const first = (row + round) % 2 === 0
          ? tracker.firstRowOf(row, email, organization)
          : tracker.firstRowOfKey(row, email, key);
        const pair = `${email}\u0000${key}`;
        equal(first, firsts.get(pair), `row ${row}: ${pair}`);
        if (!firsts.has(pair)) firsts.set(pair, row);
      }
    }
  }
  equal(tracker.size, 10);
});

Deno.test("validate of a file large enough to size its tracker from counts every duplicate and names its first row", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    let text = "email,org_external_id\n";
    for (let n = 1; n <= 60_000; n++) {
      // From row 30,001 on, each row repeats the pair of the row 30,000
      // before it: the first rows' pairs were added before the tracker was
      // sized, the rest after.
      const person = n > 30_000 ? n - 30_000 : n;
      text += `p${person}@example.com,org-${person % 5}\n`;
    }
    await Deno.writeTextFile(path, text);
    const report = await validateFile(path, { maxIssues: 100_000 });
    equal(report.total_rows, 60_000);
    equal(report.duplicate_rows, 30_000);
    const last = report.warnings.find((w) => w.row === 60_000);
    match(last?.warning ?? "", /^Duplicate of row 30000: "p30000@example\.com"/);
  } finally {
    await Deno.remove(path);
  }
});
