/**
 * NDJSON input end to end: the real CLI against the fake WorkOS, with the
 * upsert header, a malformed line, name splitting and email hygiene.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";

function envOf(fake: { url: string; apiKey: string }): Record<string, string> {
  return { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
}

Deno.test("NDJSON with an upsert header updates existing users and reports a malformed line by its line number", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const acme = fake.state.addOrganization({ name: "Acme", externalId: "acme" });
  const old = fake.state.addUser({ email: "old@nd.test", firstName: "Old", lastName: "Name" });
  const ndjson = await tempFile(
    [
      '{"_mode":"upsert"}',
      '{"email":"old@nd.test","first_name":"Renamed","org_external_id":"acme"}',
      '{"email": "broken@nd.test", "first_name": ',
      '{"email":"  Ada@ND.test ","name":"Ada King Lovelace","metadata":{"team":"math"},"org_id":"' +
      acme.id + '","role_slug":"admin"}',
      "",
      '{"email":"grace@nd.test","name":"Grace Hopper","last_name":"Murray","email_verified":true}',
    ].join("\n") + "\n",
    ".ndjson",
  );
  const dir = await tempDir();
  const result = await runCli(["--input", ndjson, "--errors-out", `${dir}/errors.jsonl`], {
    env: envOf(fake),
  });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /Status: Completed with errors/);
  assert.match(result.stdout, /Users updated: 1/);

  // The upsert header means --on-existing update.
  const updated = fake.state.getUser(old.id);
  assert.equal(updated?.firstName, "Renamed");
  assert.equal(updated?.lastName, "Name", "fields the row does not give stay");
  assert.equal(fake.state.membershipsOfUser(old.id)[0]?.organizationId, acme.id);

  // Email hygiene and name splitting; explicit last_name wins over the split.
  const ada = fake.state.findUserByEmail("ada@nd.test");
  assert.equal(ada?.firstName, "Ada");
  assert.equal(ada?.lastName, "King Lovelace");
  assert.deepEqual(ada?.metadata, { team: "math" });
  assert.equal(fake.state.membershipsOfUser(ada?.id ?? "")[0]?.roleSlug, "admin");
  const grace = fake.state.findUserByEmail("grace@nd.test");
  assert.equal(grace?.firstName, "Grace");
  assert.equal(grace?.lastName, "Murray");
  assert.equal(grace?.emailVerified, true);

  // The malformed line is a row error with its line number, not a crash.
  assert.equal(fake.state.findUserByEmail("broken@nd.test"), undefined);
  const errors = (await Deno.readTextFile(`${dir}/errors.jsonl`)).trim().split("\n").map((
    line,
  ) => JSON.parse(line));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].recordNumber, 3);
  assert.equal(errors[0].errorType, "validation");
  assert.match(errors[0].errorMessage, /line 3/);
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, "no stack trace");
});

Deno.test("NDJSON is detected from the first byte, and --format ndjson forces it", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const text = '{"email":"one@nd.test"}\n{"email":"two@nd.test"}\n';
  const detected = await tempFile(text, ".txt");
  const first = await runCli(["--input", detected], { env: envOf(fake) });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(fake.state.userCount(), 2);

  const forced = await tempFile('{"email":"three@nd.test"}\n', ".csv");
  const second = await runCli(["--input", forced, "--format", "ndjson"], { env: envOf(fake) });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.ok(fake.state.findUserByEmail("three@nd.test"));
});

Deno.test("NDJSON without the upsert header adopts existing users unchanged", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const old = fake.state.addUser({ email: "keep@nd.test", firstName: "Keep" });
  const ndjson = await tempFile('{"email":"KEEP@nd.test","first_name":"Changed"}\n', ".ndjson");
  const result = await runCli(["--input", ndjson], { env: envOf(fake) });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(fake.state.getUser(old.id)?.firstName, "Keep");
  assert.equal(fake.state.userCount(), 1);
  assert.match(result.stdout, /Already existed: 1/);
});
