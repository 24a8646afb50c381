import assert from "node:assert/strict";
import { DryRunPlanner } from "../src/pipeline/dry_run_plan.ts";
import type { OrganizationRef, UserRow } from "../src/types.ts";
import { evalScript } from "./_cli.ts";

function row(recordNumber: number, email: string, organization?: OrganizationRef): UserRow {
  const key = email.toLowerCase();
  return {
    recordNumber,
    byteEnd: recordNumber * 10,
    email,
    emailKey: key,
    original: {},
    organization,
  };
}

const EMAILS = [
  "ada@example.com",
  "ADA@example.com",
  "bob@example.com",
  "ada@example.com",
  "cy@example.com",
];

Deno.test("a single-organization plan counts a repeated person as a duplicate row and membership", () => {
  const planner = new DryRunPlanner({ kind: "single", organization: { kind: "id", id: "org_1" } });
  EMAILS.forEach((email, index) => planner.addValid(row(index + 1, email)));
  planner.addInvalid();
  assert.deepEqual(planner.report(), {
    validRows: 5,
    invalidRows: 1,
    distinctUsers: 3,
    duplicateRows: 2,
    duplicateMemberships: 2,
    distinctOrganizations: 1,
    membershipsPlanned: 3,
  });
});

Deno.test("a plan without organizations counts repeats of a person and no memberships", () => {
  const planner = new DryRunPlanner({ kind: "none" });
  EMAILS.forEach((email, index) => planner.addValid(row(index + 1, email)));
  assert.deepEqual(planner.report(), {
    validRows: 5,
    invalidRows: 0,
    distinctUsers: 3,
    duplicateRows: 2,
    duplicateMemberships: 0,
    distinctOrganizations: 0,
    membershipsPlanned: 0,
  });
});

Deno.test("a multi-organization plan counts a person in two organizations as two memberships", () => {
  const planner = new DryRunPlanner({ kind: "multi" });
  const acme: OrganizationRef = { kind: "external_id", externalId: "acme" };
  const beta: OrganizationRef = { kind: "id", id: "org_beta" };
  planner.addValid(row(1, "ada@example.com", acme));
  planner.addValid(row(2, "ada@example.com", beta));
  planner.addValid(row(3, "ADA@example.com", acme));
  planner.addValid(row(4, "bob@example.com"));
  planner.addValid(row(5, "bob@example.com"));
  assert.deepEqual(planner.report(), {
    validRows: 5,
    invalidRows: 0,
    distinctUsers: 2,
    duplicateRows: 2,
    duplicateMemberships: 1,
    distinctOrganizations: 2,
    membershipsPlanned: 2,
  });
});

Deno.test("a multi-organization plan tells a repeat from a person's later organizations, whichever came first", () => {
  // The people set keeps the organization of a person's first row; rows in
  // other organizations go to the pairs set: every order of them must count
  // alike, a row without an organization included.
  const planner = new DryRunPlanner({ kind: "multi" });
  const acme: OrganizationRef = { kind: "external_id", externalId: "acme" };
  const beta: OrganizationRef = { kind: "external_id", externalId: "beta" };
  // An id that spells the same as an external id is another organization.
  const acmeId: OrganizationRef = { kind: "id", id: "acme" };
  const rows: [string, OrganizationRef | undefined][] = [
    ["ada@example.com", undefined],
    ["ada@example.com", acme],
    ["ada@example.com", beta],
    ["ada@example.com", beta],
    ["ada@example.com", acme],
    ["ada@example.com", undefined],
    ["ada@example.com", acmeId],
    ["bob@example.com", beta],
    ["bob@example.com", acme],
    ["bob@example.com", beta],
    ["bob@example.com", acme],
    ["bob@example.com", undefined],
    ["bob@example.com", undefined],
  ];
  rows.forEach(([email, organization], index) =>
    planner.addValid(row(index + 1, email, organization))
  );
  assert.deepEqual(planner.report(), {
    validRows: 13,
    invalidRows: 0,
    distinctUsers: 2,
    // ada: beta, acme and no organization again; bob: beta, acme, none again.
    duplicateRows: 6,
    duplicateMemberships: 4,
    distinctOrganizations: 3,
    // ada: acme, beta, id acme; bob: beta, acme.
    membershipsPlanned: 5,
  });
});

Deno.test("a plan keeps each organization in under 1 KiB, not the 2 KiB row it came from", async () => {
  // The CSV reader hands out each field as a slice of the text of the rows
  // decoded with it; the plan keeps every organization to the end, so it
  // must keep a string of its own, not the slice.
  const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    import { openInput } from ${module("../src/input/open_input.ts")};
    import { validateRecord } from ${module("../src/validation/validate_record.ts")};
    import { DryRunPlanner } from ${module("../src/pipeline/dry_run_plan.ts")};
    const plan = async (planner, rows) => {
      const pad = "n".repeat(2048);
      const lines = ["email,org_external_id,first_name"];
      for (let i = 0; i < rows; i++) {
        lines.push("person." + i + "@example.com,organization-number-" + i + "," + pad);
      }
      const input = await openInput(new Blob([lines.join("\\n") + "\\n"]).stream(), {});
      for await (const batch of input.records) {
        for (const record of batch) {
          const result = validateRecord(record);
          if (result.ok) planner.addValid(result.row);
        }
      }
    };
    // Warm up: what reading and planning load and make once is no organization's.
    await plan(new DryRunPlanner({ kind: "multi" }), 10);
    gc();
    const before = Deno.memoryUsage().heapUsed;
    const planner = new DryRunPlanner({ kind: "multi" });
    await plan(planner, 4000);
    gc();
    const after = Deno.memoryUsage().heapUsed;
    const { distinctOrganizations } = planner.report();
    console.log(JSON.stringify({ distinctOrganizations, bytes: (after - before) / distinctOrganizations }));`;
  const { distinctOrganizations, bytes } = JSON.parse(
    await evalScript(script, ["--v8-flags=--expose-gc"]),
  );
  assert.equal(distinctOrganizations, 4000);
  assert.ok(bytes < 1024, `${Math.round(bytes)} bytes kept an organization`);
});

Deno.test("a multi-organization plan numbers thousands of organizations as a Map of their strings would", () => {
  // Ids and external ids that share strings, differ in one character,
  // are not ASCII or are long, in a random order with repeats: the plan's
  // own hash table (grown many times) against plain sets of the strings.
  let seed = 16;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const names = Array.from(
    { length: 3_000 },
    (_, i) =>
      i % 7 === 0 ? `Zoë-org-${i}` : i % 11 === 0 ? `org-${"x".repeat(60)}-${i}` : `org-${i}`,
  );
  const planner = new DryRunPlanner({ kind: "multi" });
  const organizations = new Set<string>();
  const people = new Set<string>();
  const pairs = new Set<string>();
  let duplicateRows = 0;
  let duplicateMemberships = 0;
  for (let n = 1; n <= 20_000; n++) {
    const email = `p${Math.floor(next() * 8_000)}@example.com`;
    const pick = next();
    const name = names[Math.floor(next() * names.length)];
    const ref: OrganizationRef | undefined = pick < 0.05
      ? undefined
      : pick < 0.5
      ? { kind: "id", id: name }
      : { kind: "external_id", externalId: name };
    planner.addValid(row(n, email, ref));
    people.add(email);
    const key = ref === undefined
      ? ""
      : ref.kind === "id"
      ? `id:${ref.id}`
      : `ext:${ref.externalId}`;
    if (key !== "") organizations.add(key);
    const pair = `${email}\n${key}`;
    if (pairs.has(pair)) {
      duplicateRows++;
      if (ref !== undefined) duplicateMemberships++;
    } else pairs.add(pair);
  }
  const memberships = [...pairs].filter((pair) => !pair.endsWith("\n")).length;
  assert.deepEqual(planner.report(), {
    validRows: 20_000,
    invalidRows: 0,
    distinctUsers: people.size,
    duplicateRows,
    duplicateMemberships,
    distinctOrganizations: organizations.size,
    membershipsPlanned: memberships,
  });
  assert.ok(organizations.size > 4_000, "ids and external ids of one string count twice");
});

Deno.test("a plan sized from the input's bytes counts what an unsized plan counts", () => {
  const mode = { kind: "multi" } as const;
  const sized = new DryRunPlanner(mode, { inputBytes: 10 * 300_000 });
  const unsized = new DryRunPlanner(mode);
  for (let n = 1; n <= 30_000; n++) {
    // People repeat in their first organization and in others, before and
    // after the row at which the plan is sized.
    const person = n % 7 === 0 ? n - 6 : n % 5 === 0 ? n - 4 : n;
    const organization: OrganizationRef = { kind: "external_id", externalId: `org-${n % 3}` };
    const r = row(n, `person.${person}@example.com`, organization);
    sized.addValid(r);
    unsized.addValid(r);
  }
  assert.deepEqual(sized.report(), unsized.report());
  assert.ok(sized.report().duplicateRows > 0);
});
