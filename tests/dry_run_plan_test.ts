import assert from "node:assert/strict";
import { DryRunPlanner } from "../src/pipeline/dry_run_plan.ts";
import type { OrganizationRef, UserRow } from "../src/types.ts";

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
