/**
 * The migration package writer's memory of what it wrote (`convert`): exact
 * (a user, an organization, a membership each written once, even when two
 * keys share a fingerprint), and a kept key never keeps the text it was
 * sliced from alive (the CSV reader hands out fields as slices of the text of
 * the ~16 rows decoded with them).
 */

import assert from "node:assert/strict";
import { KeyIndex } from "../src/report/_key_index.ts";
import { MigrationPackageWriter } from "../src/report/migration_package.ts";
import { evalScript, tempDir } from "./_cli.ts";

Deno.test("KeyIndex numbers distinct keys exactly, even when two share a fingerprint", () => {
  // Every key gets the same fingerprint: only the byte comparison tells them apart.
  const keys = new KeyIndex({ fingerprint: () => [7, 9] });
  const seen: Array<[number, boolean]> = [];
  for (
    const key of [
      "ada@example.com",
      "bob@example.com",
      "ada@example.com",
      "cy@example.com",
      "bob@example.com",
    ]
  ) {
    seen.push([keys.indexOf(key), keys.isNew]);
  }
  assert.deepEqual(seen, [[0, true], [1, true], [0, false], [2, true], [1, false]]);
  assert.equal(keys.size, 3);
});

Deno.test("KeyIndex tells keys apart that UTF-8 would not (lone surrogates) and non-ASCII ones", () => {
  const keys = new KeyIndex();
  const lone = [
    "a\ud800",
    "a\udc00",
    "a\ufffd",
    "a\ud800",
    "zoë@example.com",
    "zoe@example.com",
    "zoë@example.com",
  ];
  const numbers = lone.map((key) => [keys.indexOf(key), keys.isNew]);
  assert.deepEqual(numbers, [[0, true], [1, true], [2, true], [0, false], [3, true], [4, true], [
    3,
    false,
  ]]);
});

Deno.test("the package writer writes a person once, an organization once and a membership once", async () => {
  const dir = await tempDir();
  const writer = await MigrationPackageWriter.create(dir);
  const acme = { kind: "external_id", externalId: "acme", name: "Acme" } as const;
  const beta = { kind: "id", id: "org_01BETA" } as const;
  let recordNumber = 0;
  for (
    const [email, organization] of [
      ["Ada@example.com", acme],
      ["ada@example.com", beta],
      ["bob@example.com", undefined],
      ["ADA@example.com", acme],
      ["bob@example.com", acme],
      ["ada@example.com", beta],
    ] as const
  ) {
    recordNumber++;
    writer.add({
      recordNumber,
      byteEnd: 0,
      email,
      emailKey: email.toLowerCase(),
      organization,
      original: {},
    });
  }
  const counts = await writer.close({ provider: "csv" });
  assert.deepEqual([counts.users, counts.organizations, counts.memberships], [2, 2, 3]);
  const users = (await Deno.readTextFile(`${dir}/users.csv`)).trim().split("\n").slice(1);
  assert.deepEqual(users.map((line) => line.split(",")[0]), ["Ada@example.com", "bob@example.com"]);
  const memberships = (await Deno.readTextFile(`${dir}/organization_memberships.csv`)).trim().split(
    "\n",
  )
    .slice(1).map((line) => line.split(",").slice(0, 6).join(","));
  assert.deepEqual(memberships, [
    "Ada@example.com,,,,acme,Acme",
    "ada@example.com,,,org_01BETA,,",
    "bob@example.com,,,,acme,Acme",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the package writer keeps under 130 bytes a person written, and none of the text around its keys", async () => {
  // Each row's email and organization are slices of a 3 KiB text of their
  // own, as the CSV reader's fields are slices of the text of the rows
  // decoded with theirs: a kept slice would hold its text (over 3,000 bytes
  // a row). The bound is on what stays after a full GC, in the heap and in
  // typed arrays, per distinct email: a Set of the emails and another of
  // the (email, organization) pairs, what the writer kept before, took
  // about 160 bytes; the writer's KeyIndex and membership array about 100.
  const script = `
    import { MigrationPackageWriter } from ${
    JSON.stringify(new URL("../src/report/migration_package.ts", import.meta.url).href)
  };
    const rows = 100_000;
    const pad = "x".repeat(1024);
    const dir = await Deno.makeTempDir();
    const writer = await MigrationPackageWriter.create(dir);
    // Warm up (the writer's first tables, the CSV stringifier), then measure.
    writer.add({ recordNumber: 0, byteEnd: 0, email: "w@example.com", emailKey: "w@example.com", original: {} });
    await writer.flush();
    gc();
    const before = Deno.memoryUsage();
    for (let i = 1; i <= rows; i++) {
      const text = pad + "person." + i + "@example.com," + pad + "org-" + (i % 100) + "-external," + pad;
      const email = text.slice(1024, text.indexOf(",", 1024));
      const orgStart = text.indexOf(",", 1024) + 1 + 1024;
      const externalId = text.slice(orgStart, text.indexOf(",", orgStart));
      writer.add({
        recordNumber: i, byteEnd: 0, email, emailKey: email,
        organization: { kind: "external_id", externalId }, original: {},
      });
      if (i % 1000 === 0) await writer.flush();
    }
    await writer.flush();
    gc();
    const after = Deno.memoryUsage();
    console.log((after.heapUsed + after.external - before.heapUsed - before.external) / rows);
    await writer.close({ provider: "csv" });
    await Deno.remove(dir, { recursive: true });`;
  const bytesPerRow = Number(await evalScript(script, ["--v8-flags=--expose-gc"]));
  assert.ok(bytesPerRow < 130, `${bytesPerRow.toFixed(1)} bytes kept a person`);
});
