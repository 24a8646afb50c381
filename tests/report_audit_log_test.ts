/**
 * The audit log file itself: append-only, owner-only, never a secret, read
 * back newest first whatever the chunk size, and robust to a line torn by a
 * crash.
 */

import assert from "node:assert/strict";
import { type AuditEntry, openAuditLog, readAuditLogBackward } from "../src/report/audit_log.ts";

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
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  const log = await openAuditLog(path);
  const entries = Array.from({ length: 50 }, (_, i) => entry(i));
  await log.write(entries.slice(0, 20));
  await log.write(entries.slice(20));
  await log.close();
  const expected = entries.map((e) => e.id).reverse();
  for (const chunkSize of [1, 7, 64, 100, 65_536]) {
    assert.deepEqual(await readBack(path, chunkSize), expected, `chunk ${chunkSize}`);
  }
  const first = (await Deno.readTextFile(path)).split("\n")[0];
  assert.equal(JSON.parse(first).email, "zoë-😀-0@example.com");
});

Deno.test("an audit log is owner-only, appended to, and keeps only its own fields", async () => {
  const dir = await Deno.makeTempDir();
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
  assert.deepEqual(JSON.parse(text.split("\n")[0]).previous, { firstName: "A" });
});

Deno.test("a line torn by a crash is skipped and never glued to the next entry", async () => {
  const dir = await Deno.makeTempDir();
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
