/**
 * The audit log file itself: append-only, owner-only, never a secret, read
 * back newest first whatever the chunk size, and robust to a line torn by a
 * crash; compressed (`.gz`), one gzip file any gzip reader reads, robust to a
 * member torn by a crash.
 */

import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  type AuditEntry,
  auditRecord,
  countAuditLines,
  openAuditLog,
  parseAuditLine,
  readAuditLog,
  readAuditLogBackward,
} from "../src/report/audit_log.ts";
import { auditEntriesOf, organizationAuditEntry } from "../src/report/audit_entries.ts";
import type { RowOutcome } from "../src/outcome/mod.ts";
import { tempDir, tempPath } from "./_cli.ts";

function entry(i: number): AuditEntry {
  return {
    timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    action: i % 2 ? "membership_created" : "user_created",
    id: `id_${i}`,
    // Multi-byte characters must never be split between chunks.
    email: `zoë-😀-${i}@example.com`,
    row: i,
  };
}

async function readBack(path: string, chunkSize: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const read of readAuditLogBackward(path, { chunkSize })) ids.push(read.id);
  return ids;
}

Deno.test("an audit log reads back newest first at any chunk size", async () => {
  const path = await tempPath({ suffix: ".jsonl" });
  const log = await openAuditLog(path);
  const entries = Array.from({ length: 50 }, (_, i) => entry(i));
  await log.write(entries.slice(0, 20));
  await log.write(entries.slice(20));
  await log.close();
  const expected = entries.map((e) => e.id).reverse();
  for (const chunkSize of [1, 7, 64, 100, 65_536]) {
    assert.deepEqual(await readBack(path, chunkSize), expected, `chunk ${chunkSize}`);
  }
  const first = parseAuditLine((await Deno.readTextFile(path)).split("\n")[0]);
  assert.equal(first?.[0].email, "zoë-😀-0@example.com");
});

Deno.test("an audit log is owner-only, appended to, and keeps only its own fields", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl`;
  const first = await openAuditLog(path);
  await first.write([{
    ...entry(1),
    password: "hunter2",
    passwordHash: "$2b$10$abc",
    previous: { firstName: "A", password: "old-secret" },
  } as AuditEntry]);
  await first.close();
  assert.equal(((await Deno.stat(path)).mode ?? 0) & 0o777, 0o600);
  const second = await openAuditLog(path);
  await second.write([entry(2)]);
  await second.close();
  const text = await Deno.readTextFile(path);
  assert.doesNotMatch(text, /hunter2|\$2b\$|old-secret|password/i);
  assert.deepEqual(await readBack(path, 64), ["id_2", "id_1"]);
  assert.deepEqual(parseAuditLine(text.split("\n")[0])?.[0].previous, { firstName: "A" });
});

Deno.test("a line torn by a crash is skipped and never glued to the next entry", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl`;
  const log = await openAuditLog(path);
  await log.write([entry(1)]);
  await log.close();
  await Deno.writeTextFile(path, '{"timestamp":"2024-01-01T00:00:00Z","action":"user_cr', {
    append: true,
  });
  const reopened = await openAuditLog(path);
  await reopened.write([entry(3)]);
  await reopened.close();
  const torn: string[] = [];
  const ids: string[] = [];
  for await (const read of readAuditLogBackward(path, { onInvalidLine: (l) => torn.push(l) })) {
    ids.push(read.id);
  }
  assert.deepEqual(ids, ["id_3", "id_1"]);
  assert.equal(torn.length, 1);
});

/** Rows of every kind a job writes, as their outcomes. */
function outcomes(): RowOutcome[] {
  const base = { byteEnd: 0, requestIds: { user: "req-u", membership: "req-m" } };
  return [
    {
      ...base,
      recordNumber: 1,
      email: "ada@example.com",
      userId: "user_1",
      user: "created",
      membership: {
        id: "om_1",
        organizationId: "org_1",
        created: true,
        roles: { previous: [], roles: ["admin"] },
      },
      factor: { id: "auth_factor_1", created: true },
      uncertain: { user: true },
    },
    {
      ...base,
      recordNumber: 2,
      email: "bob@example.com",
      userId: "user_2",
      user: "updated",
      previous: { firstName: "Bob", metadata: { tier: null } },
      changes: { firstName: "Robert", metadata: { tier: "gold" } },
    },
    {
      ...base,
      recordNumber: 3,
      email: "cy@example.com",
      userId: "user_3",
      user: "existing",
      membership: { id: "om_3", organizationId: "org_2", created: true },
      uncertain: { membership: true },
    },
    {
      ...base,
      recordNumber: 4,
      email: "dee@example.com",
      deletedUserId: "user_4",
      requestIds: { user: "req-u4", deletion: "req-d4" },
    },
    {
      ...base,
      recordNumber: 5,
      email: "eve@example.com",
      invitation: {
        id: "invitation_5",
        organizationId: "org_2",
        roleSlug: "member",
        created: true,
      },
    },
  ] as RowOutcome[];
}

Deno.test("every kind of entry reads back exactly as written, old lines and new in one file", async () => {
  const timestamp = "2024-01-01T00:00:00.000Z";
  const entries: AuditEntry[] = [
    organizationAuditEntry(
      { id: "org_1", name: "Acme", externalId: "acme", createdAtMs: 0 },
      { row: 1, requestId: "req-o" },
    ),
    ...outcomes().flatMap((outcome) => auditEntriesOf(outcome, timestamp)),
    { timestamp, action: "role_created", id: "role_1", roleSlug: "admin", requestId: "req-r" },
    { timestamp, action: "permission_created", id: "users:read" },
  ];
  assert.deepEqual(entries.map((entry) => entry.action), [
    "organization_created",
    "user_created",
    "membership_created",
    "membership_roles_updated",
    "totp_factor_enrolled",
    "user_updated",
    "membership_created",
    "user_created",
    "user_deleted",
    "invitation_sent",
    "role_created",
    "permission_created",
  ]);
  assert.deepEqual(entries.filter((entry) => entry.uncertain).map((entry) => entry.id), [
    "user_1",
    "om_3",
  ]);
  const path = await tempPath({ suffix: ".jsonl" });
  // A line an earlier build wrote (one entry, long keys) first.
  const old = { timestamp, action: "user_created", id: "user_0", email: "old@example.com", row: 9 };
  await Deno.writeTextFile(path, JSON.stringify(old) + "\n");
  const log = await openAuditLog(path);
  await log.write(entries);
  await log.close();
  const expected = [old, ...entries.map(auditRecord)];
  assert.deepEqual(await readAuditLog(path), expected);
  const backward: AuditEntry[] = [];
  for await (const read of readAuditLogBackward(path, { chunkSize: 50 })) backward.push(read);
  assert.deepEqual(backward, expected.reverse());
});

Deno.test("a row's writes share one line that names its time, row, email and user once", async () => {
  const path = await tempPath({ suffix: ".jsonl" });
  const log = await openAuditLog(path);
  const userId = "user_01JD8Z3K4M0000000000000001";
  await log.write(auditEntriesOf({
    recordNumber: 123_456,
    byteEnd: 0,
    email: "grace.hopper@example.com",
    userId,
    user: "created",
    membership: { id: "om_01JD8Z3K4M0000000000000001", organizationId: "org_1", created: true },
    requestIds: {
      user: "6f0e1c7a-58e6-4b8e-9f64-0c5d7d1f2a31",
      membership: "0b7d3c1e-2f4a-4c69-8d3e-5a6b7c8d9e0f",
    },
  }, "2024-01-01T00:00:00.000Z"));
  await log.close();
  const text = await Deno.readTextFile(path);
  assert.equal(text.trimEnd().split("\n").length, 1);
  for (const once of [userId, "grace.hopper@example.com", "2024-01-01T00:00:00.000Z", "123456"]) {
    assert.equal(text.split(once).length - 1, 1, once);
  }
  // One entry a line with long keys took 493 bytes for this row.
  assert.ok(text.length <= 300, `${text.length} bytes`);
});

/** The bytes of a file as any gzip reader sees them (concatenated members are one stream). */
async function gunzipped(path: string): Promise<string> {
  return new TextDecoder().decode(gunzipSync(await Deno.readFile(path)));
}

Deno.test("a .gz log is one gzip file of one member a write, read back newest first at flat memory", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl.gz`;
  const entries = Array.from({ length: 60 }, (_, i) => entry(i));
  const first = await openAuditLog(path);
  for (let i = 0; i < 40; i += 10) await first.write(entries.slice(i, i + 10));
  await first.close();
  // A second session appends members to the same file.
  const second = await openAuditLog(path);
  await second.write(entries.slice(40, 41));
  await second.write(entries.slice(41));
  await second.close();
  assert.equal(((await Deno.stat(path)).mode ?? 0) & 0o777, 0o600);
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
  // What a standard reader (zcat) prints is the compact lines, every entry once.
  const text = await gunzipped(path);
  assert.equal(text.trimEnd().split("\n").length, 60);
  assert.deepEqual(text.split("\n").flatMap((line) => parseAuditLine(line) ?? []), entries);
  assert.ok(bytes.length < new TextEncoder().encode(text).length / 2, `${bytes.length} bytes`);
  assert.deepEqual(await readBack(path, 64), entries.map((e) => e.id).reverse());
  assert.deepEqual((await readAuditLog(path)).map((e) => e.id), entries.map((e) => e.id));
  assert.equal(await countAuditLines(path), 60);
});

Deno.test("a gzip member torn by a crash is skipped, then cut off when the log is opened, so zcat reads every later entry", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl.gz`;
  const log = await openAuditLog(path);
  await log.write([entry(1), entry(2)]);
  await log.close();
  const whole = (await Deno.stat(path)).size;
  // SIGKILL mid-write: only part of the next member reached the disk.
  const next = await openAuditLog(path);
  await next.write([entry(3), entry(4)]);
  await next.close();
  const grown = await Deno.readFile(path);
  await Deno.writeFile(path, grown.subarray(0, whole + Math.floor((grown.length - whole) / 2)));
  const torn: string[] = [];
  const ids: string[] = [];
  for await (const read of readAuditLogBackward(path, { onInvalidLine: (l) => torn.push(l) })) {
    ids.push(read.id);
  }
  assert.deepEqual(ids, ["id_2", "id_1"]);
  assert.equal(torn.length, 1);
  assert.match(torn[0], /bytes at byte \d+ are not a whole gzip member/);
  assert.deepEqual((await readAuditLog(path)).map((e) => e.id), ["id_1", "id_2"]);
  // The resume's session: the torn member goes, the rows it held are written again.
  const reopened = await openAuditLog(path);
  await reopened.write([entry(3), entry(4)]);
  await reopened.close();
  assert.deepEqual(await readBack(path, 64), ["id_4", "id_3", "id_2", "id_1"]);
  assert.deepEqual(
    (await gunzipped(path)).trimEnd().split("\n").map((line) => parseAuditLine(line)?.[0].id),
    ["id_1", "id_2", "id_3", "id_4"],
  );
});

Deno.test("a .gz log of a resumed job does not write again what the cut-off rows wrote past the committed length", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl.gz`;
  const log = await openAuditLog(path);
  await log.write([entry(1)]);
  await log.flush();
  const committed = (await Deno.stat(path)).size;
  await log.write([entry(2)]);
  await log.close();
  const resumed = await openAuditLog(path, { writtenAfter: committed });
  await resumed.write([entry(2), entry(3)]);
  await resumed.close();
  assert.deepEqual((await readAuditLog(path)).map((e) => e.id), ["id_1", "id_2", "id_3"]);
});

Deno.test("a .gz log never holds a secret, and a plain log keeps its form whatever its name", async () => {
  const dir = await tempDir();
  const path = `${dir}/audit.jsonl.gz`;
  const log = await openAuditLog(path);
  await log.write([{
    ...entry(1),
    password: "hunter2",
    passwordHash: "$2b$10$abc",
    previous: { firstName: "A", password: "old-secret" },
  } as AuditEntry]);
  await log.close();
  assert.doesNotMatch(await gunzipped(path), /hunter2|\$2b\$|old-secret|password/i);
  // A plain log renamed .gz (or a job an earlier build started) goes on in plain lines.
  const plain = `${dir}/plain.gz`;
  await Deno.writeTextFile(plain, JSON.stringify(auditRecord(entry(1))) + "\n");
  const more = await openAuditLog(plain);
  await more.write([entry(2)]);
  await more.close();
  assert.equal((await Deno.readTextFile(plain)).trimEnd().split("\n").length, 2);
  assert.deepEqual(await readBack(plain, 64), ["id_2", "id_1"]);
});

Deno.test("a gzip member whose checksum does not match is reported and skipped; the members before it still read", async () => {
  const path = `${await tempDir()}/audit.jsonl.gz`;
  const log = await openAuditLog(path);
  for (const i of [1, 2, 3]) await log.write([entry(i)]);
  await log.close();
  const bytes = await Deno.readFile(path);
  // A byte of the last member's CRC, as a bad disk block would change it.
  bytes[bytes.length - 6] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const damaged: string[] = [];
  const ids: string[] = [];
  for await (const read of readAuditLogBackward(path, { onInvalidLine: (l) => damaged.push(l) })) {
    ids.push(read.id);
  }
  assert.deepEqual(ids, ["id_2", "id_1"]);
  assert.equal(damaged.length, 1);
  assert.match(damaged[0], /^the gzip member at byte \d+ is damaged$/);
});
