import { equal } from "node:assert/strict";
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
