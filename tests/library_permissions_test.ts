/**
 * Used as a library without net permission, an import fails its rows at
 * once, naming the refused access, instead of retrying a request that can
 * never leave the process.
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { tempPath } from "./_cli.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

Deno.test("importUsers without --allow-net fails rows without retrying them", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const script = `
    import { importUsers } from ${JSON.stringify(MOD)};
    const summary = await importUsers([{ email: "a@perm.test" }, { email: "b@perm.test" }], {
      apiKey: "sk_test_fake_workos",
      apiUrl: ${JSON.stringify(fake.url)},
      onRow: (outcome) => console.log(JSON.stringify(outcome.error ?? null)),
    });
    console.log(JSON.stringify({ failures: summary.failures, retries: summary.retries }));
  `;
  const path = await tempPath({ suffix: ".ts" });
  await Deno.writeTextFile(path, script);
  const output = await new Deno.Command(Deno.execPath(), {
    // Everything but net.
    args: ["run", "--no-prompt", "--config", CONFIG, "--allow-read", "--allow-env", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const summary = JSON.parse(lines.at(-1) ?? "{}");
  assert.deepEqual(summary, { failures: 2, retries: 0 });
  for (const line of lines.slice(0, -1)) {
    const error = JSON.parse(line);
    assert.equal(error.errorType, "user_create");
    assert.match(error.errorMessage, /net access/);
  }
  assert.equal(fake.state.totalRequests, 0);
});
