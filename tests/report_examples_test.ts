import assert from "node:assert/strict";
import { openInput } from "../src/input/open_input.ts";
import { validateRecord } from "../src/validation/validate_record.ts";
import { generateCsv } from "../examples/gen_csv.ts";
import type { SourceRecord, UserRow } from "../src/types.ts";
import { tempPath } from "./_cli.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

/** Every record of a file, read by the importer's own parser; asserts no unknown column. */
async function readRecords(path: string): Promise<SourceRecord[]> {
  const input = await openInput(path);
  assert.deepEqual(input.unknownColumns, [], path);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  return records;
}

function example(name: string): Promise<SourceRecord[]> {
  return readRecords(EXAMPLES + name);
}

/** Validates every record, asserting no issue and no warning, and returns the rows. */
function validRows(name: string, records: SourceRecord[]): UserRow[] {
  return records.map((record) => {
    const result = validateRecord(record);
    assert.ok(result.ok, `${name} row ${record.recordNumber}: ${JSON.stringify(result)}`);
    assert.deepEqual(result.warnings, [], `${name} row ${record.recordNumber}`);
    return result.row;
  });
}

function orgKey(row: UserRow): string | undefined {
  return row.organization?.kind === "external_id" ? row.organization.externalId : undefined;
}

Deno.test("example-input.csv shows each user-only case and validates cleanly", async () => {
  const rows = validRows("example-input.csv", await example("example-input.csv"));
  assert.ok(rows.every((row) => row.organization === undefined));
  assert.ok(rows.some((row) => row.firstName === undefined && row.emailVerified === undefined));
  assert.ok(rows.some((row) => row.firstName !== undefined && row.emailVerified === true));
  assert.ok(rows.some((row) => row.password !== undefined));
  const hashed = rows.find((row) => row.passwordHash !== undefined);
  assert.equal(hashed?.passwordHashType, "bcrypt");
  assert.match(hashed?.passwordHash ?? "", /^\$2b\$12\$[./A-Za-z0-9]{53}$/);
  assert.ok(rows.some((row) => row.metadata !== undefined));
});

Deno.test("single-org.csv has users only, for the organization flags", async () => {
  const rows = validRows("single-org.csv", await example("single-org.csv"));
  assert.ok(rows.length >= 3);
  assert.ok(rows.every((row) => row.organization === undefined));
});

Deno.test("multi-org-simple.csv: 10 users, 4 organizations, 4 cache misses and 6 hits", async () => {
  const rows = validRows("multi-org-simple.csv", await example("multi-org-simple.csv"));
  assert.equal(rows.length, 10);
  assert.equal(new Set(rows.map((row) => row.emailKey)).size, 10);
  const seen = new Set<string>();
  let misses = 0;
  for (const row of rows) {
    const key = orgKey(row);
    assert.ok(key !== undefined);
    assert.ok(row.organization?.kind === "external_id" && row.organization.name);
    if (!seen.has(key)) misses++;
    seen.add(key);
  }
  assert.equal(misses, 4);
  assert.equal(rows.length - misses, 6);
});

Deno.test("multi-org-mixed.csv: one person in several organizations with member and admin roles", async () => {
  const rows = validRows("multi-org-mixed.csv", await example("multi-org-mixed.csv"));
  const orgsByPerson = new Map<string, Set<string | undefined>>();
  for (const row of rows) {
    const orgs = orgsByPerson.get(row.emailKey) ?? new Set();
    orgs.add(orgKey(row));
    orgsByPerson.set(row.emailKey, orgs);
  }
  const counts = [...orgsByPerson.values()].map((orgs) => orgs.size);
  assert.equal(Math.max(...counts), 3);
  // Each of a person's rows names a different organization: no duplicate membership.
  assert.equal(
    rows.length,
    counts.reduce((sum, count) => sum + count, 0),
  );
  const roles = new Set(rows.map((row) => row.roleSlug));
  assert.ok(roles.has("member") && roles.has("admin"));
});

Deno.test("users.ndjson holds metadata objects and validates cleanly", async () => {
  const records = await example("users.ndjson");
  assert.ok(records.some((record) => typeof record.fields.metadata === "object"));
  const rows = validRows("users.ndjson", records);
  assert.ok(rows.some((row) => row.metadata !== undefined && Object.keys(row.metadata).length > 1));
});

Deno.test("gen_csv: the validator rejects exactly the rows it counts as invalid", async () => {
  const path = await tempPath({ suffix: ".csv" });
  try {
    const result = await generateCsv(path, {
      rows: 10_000,
      orgs: 40,
      withErrors: true,
      personsInOrgs: 2,
      seed: 11,
    });
    const records = await readRecords(path);
    assert.equal(records.length, 10_000);
    let invalid = 0;
    for (const record of records) {
      const validation = validateRecord(record);
      if (!validation.ok) invalid++;
      else assert.deepEqual(validation.warnings, [], `row ${record.recordNumber}`);
    }
    assert.equal(invalid, result.invalidRows);
  } finally {
    await Deno.remove(path);
  }
});
