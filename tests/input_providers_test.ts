/**
 * Provider readers at the input layer: record byte offsets are exact (a
 * resume at any record's offset reads exactly the records after it), and
 * where chunks happen to end never changes what is read.
 */

import assert from "node:assert/strict";
import { openInput, type OpenInputOptions } from "../src/input/open_input.ts";
import { countRecords } from "../src/input/file_facts.ts";
import type { SourceRecord } from "../src/types.ts";
import { tempPath } from "./_cli.ts";

const FIXTURES = new URL("./fixtures/providers/", import.meta.url).pathname;

async function readAll(
  source: string | ReadableStream<Uint8Array>,
  options: OpenInputOptions,
): Promise<SourceRecord[]> {
  const input = await openInput(source, options);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  return records;
}

/** A stream of the file's bytes in chunks of 1 to 13 bytes. */
function trickle(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  let size = 1;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
      size = size % 13 + 1;
    },
  });
}

const CASES: Array<[string, OpenInputOptions]> = [
  ["auth0_users.ndjson", { provider: { from: "auth0" } }],
  ["firebase_users.json", { provider: { from: "firebase" } }],
  ["firebase_users.csv", { provider: { from: "firebase" } }],
  ["clerk_users.csv", { provider: { from: "clerk" } }],
  ["supabase_users.csv", { provider: { from: "supabase" } }],
  ["supabase_users.ndjson", { provider: { from: "supabase" } }],
  ["cognito_users.json", { provider: { from: "cognito" } }],
  // A user in several tenants is several rows: a resume re-reads and skips.
  ["supertokens_users.json", { provider: { from: "supertokens" } }],
];

for (const [file, options] of CASES) {
  Deno.test(`${file}: a resume at any record's byte offset reads exactly the records after it`, async () => {
    const path = `${FIXTURES}${file}`;
    const all = await readAll(path, options);
    assert.equal(all.length, file.startsWith("supertokens") ? 347 : 300);
    assert.deepEqual(all.map((record) => record.recordNumber), all.map((_, i) => i + 1));
    assert.equal(await countRecords(path, { provider: options.provider }), all.length);
    const size = (await Deno.stat(path)).size;
    const n = all.length;
    for (const k of [1, 2, 6, 7, 17, 150, n - 1, n]) {
      const at = all[k - 1];
      assert.ok(at.byteEnd > 0 && at.byteEnd <= size);
      const rest = await readAll(path, {
        ...options,
        resumeFrom: { byteOffset: at.byteEnd, recordNumber: at.recordNumber },
      });
      assert.deepEqual(rest, all.slice(k), `after record ${k}`);
    }
  });

  Deno.test(`${file}: chunks of 1 to 13 bytes read the same records as the file`, async () => {
    const path = `${FIXTURES}${file}`;
    const all = await readAll(path, options);
    const trickled = await readAll(trickle(await Deno.readFile(path)), options);
    assert.deepEqual(trickled, all);
  });
}

Deno.test("a JSON list in one line, with keys around the list and pages one after another, is read whole", async () => {
  const page = (from: number) =>
    JSON.stringify({
      kind: "page",
      users: [1, 2].map((n) => ({ localId: `u${from + n}`, email: `u${from + n}@example.com` })),
      nextPageToken: { nested: ["]", "}"] },
    });
  const text = page(0) + "\n" + page(2);
  const path = await tempPath({ suffix: ".json" });
  await Deno.writeTextFile(path, text);
  const records = await readAll(path, { provider: { from: "firebase" } });
  assert.deepEqual(records.map((record) => record.fields.external_id), ["u1", "u2", "u3", "u4"]);
  // The third user's offset points into the second page, and resumes there.
  const rest = await readAll(path, {
    provider: { from: "firebase" },
    resumeFrom: { byteOffset: records[2].byteEnd, recordNumber: 3 },
  });
  assert.deepEqual(rest.map((record) => record.fields.external_id), ["u4"]);
});

Deno.test("users parsed together: one that is not JSON, not UTF-8 or not an object fails alone", async () => {
  const user = (n: number) => `{"localId":"u${n}","email":"u${n}@example.com"}`;
  const parts = [
    new TextEncoder().encode(`{"users":[${user(1)},${user(2)},{"localId":"u3",email},`),
    new TextEncoder().encode(`{"localId":"u4","email":"u4@example.com","displayName":"`),
    new Uint8Array([0xff, 0xfe]),
    new TextEncoder().encode(`"}, 17, ${user(6)}]}`),
  ];
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  const records = await readAll(new Blob([bytes]).stream(), { provider: { from: "firebase" } });
  assert.deepEqual(records.map((record) => record.fields.external_id), [
    "u1",
    "u2",
    undefined,
    undefined,
    undefined,
    "u6",
  ]);
  assert.match(records[2].parseError ?? "", /row 3: user 3 is not valid JSON or not UTF-8/);
  assert.match(records[3].parseError ?? "", /row 4: user 4 is not valid JSON or not UTF-8/);
  assert.match(records[4].parseError ?? "", /row 5: user 5 is not a JSON object/);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, records[1].byteEnd)).endsWith("}"), true);
});

Deno.test("--map renames CSV columns and NDJSON fields before they are read", async () => {
  const csv = "Mail,tenant_id,role\nada@example.com,acme,admin\n";
  const records = await readAll(new Blob([csv]).stream(), {
    columnMap: { mail: "email", tenant_id: "org_external_id", role: "role_slug" },
  });
  assert.deepEqual(records[0].fields, {
    email: "ada@example.com",
    org_external_id: "acme",
    role_slug: "admin",
  });
  const ndjson = '{"mail":"ada@example.com","tenant_id":"acme"}\n';
  const lines = await readAll(new Blob([ndjson]).stream(), {
    format: "ndjson",
    columnMap: { mail: "email", tenant_id: "org_external_id" },
  });
  assert.deepEqual(lines[0].fields, { email: "ada@example.com", org_external_id: "acme" });
});

Deno.test("a user whose name holds a real U+FFFD is read as written, next to a line that is not UTF-8", async () => {
  const encoder = new TextEncoder();
  const join = (parts: Uint8Array[]) => {
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  };
  // Auth0 NDJSON: the lines of a chunk are decoded together.
  const auth0 = join([
    encoder.encode('{"user_id":"auth0|1","email":"u1@example.com","name":"Ada \ufffd Byron"}\n'),
    encoder.encode('{"user_id":"auth0|2","email":"u2@example.com","name":"Bo'),
    new Uint8Array([0xff]),
    encoder.encode('b"}\n{"user_id":"auth0|3","email":"u3@example.com","name":"Cy"}\n'),
  ]);
  const lines = await readAll(new Blob([auth0]).stream(), { provider: { from: "auth0" } });
  assert.deepEqual(lines.map((record) => record.fields.first_name), ["Ada", undefined, "Cy"]);
  assert.equal(lines[0].fields.last_name, "\ufffd Byron");
  assert.match(lines[1].parseError ?? "", /line 2: the line is not valid UTF-8/);
  // A Firebase list, one user a line: the same, through the list reader's lines.
  const firebase = join([
    encoder.encode(
      '{"users":[\n{"localId":"u1","email":"u1@example.com","displayName":"Ada \ufffd"},\n',
    ),
    encoder.encode('{"localId":"u2","email":"u2@example.com","displayName":"B'),
    new Uint8Array([0xff]),
    encoder.encode('"},\n{"localId":"u3","email":"u3@example.com","displayName":"Cy Young"}\n]}\n'),
  ]);
  const users = await readAll(new Blob([firebase]).stream(), { provider: { from: "firebase" } });
  assert.deepEqual(users.map((record) => record.fields.external_id), ["u1", undefined, "u3"]);
  assert.deepEqual([users[0].fields.first_name, users[0].fields.last_name], ["Ada", "\ufffd"]);
  assert.deepEqual([users[2].fields.first_name, users[2].fields.last_name], ["Cy", "Young"]);
  assert.match(users[1].parseError ?? "", /row 2: user 2 is not valid JSON or not UTF-8/);
});

Deno.test("--map reads a Firebase user's camelCase field in any case, and says the rows name organizations", async () => {
  const json = JSON.stringify({
    users: [
      { localId: "u1", email: "u1@example.com", tenantId: "acme-x1" },
      { localId: "u2", email: "u2@example.com" },
    ],
  });
  const input = await openInput(new Blob([json]).stream(), {
    provider: { from: "firebase", map: { tenantid: "org_external_id" } },
  });
  assert.equal(input.namesOrganizations, true);
  const records: SourceRecord[] = [];
  for await (const batch of input.records) records.push(...batch);
  assert.deepEqual(records.map((record) => record.fields.org_external_id), ["acme-x1", undefined]);
  const plain = await openInput(new Blob([json]).stream(), { provider: { from: "firebase" } });
  assert.equal(plain.namesOrganizations, false);
  await plain.records.cancel();
});
