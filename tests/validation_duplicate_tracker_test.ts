import { equal } from "node:assert/strict";
import { organizationKey } from "../src/organizations/organization_key.ts";
import { DuplicateTracker } from "../src/validation/duplicate_tracker.ts";
import type { OrganizationRef } from "../src/types.ts";

Deno.test("DuplicateTracker.firstRowOf() counts a pair as its key does, without building the key", () => {
  // firstRowOf hashes the organization's key from its two parts: the pairs
  // it notes must be the ones firstRowOfKey notes by the key itself.
  const refs: (OrganizationRef | undefined)[] = [
    undefined,
    { kind: "id", id: "org_01HXYZ" },
    { kind: "external_id", externalId: "acme" },
    { kind: "external_id", externalId: "acme-long-external-id", name: "Acme" },
    // An id that reads like an external id key: its own key, "id:ext:acme".
    { kind: "id", id: "ext:acme" },
  ];
  const tracker = new DuplicateTracker();
  let row = 0;
  for (const ref of refs) {
    equal(tracker.firstRowOf(++row, "ada@example.com", ref), undefined);
  }
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    const key = ref === undefined ? "" : organizationKey(ref);
    equal(tracker.firstRowOfKey(++row, "ada@example.com", key), i + 1, key);
  }
  // "id:ext:acme" and "ext:acme" are different keys.
  equal(tracker.size, refs.length);
  equal(tracker.firstRowOfKey(++row, "ada@example.com", "ext:acmf"), undefined);
  equal(tracker.firstRowOf(++row, "ada@example.co", refs[2]), undefined);
});
