/**
 * `deno task demo`: imports every bundled example into a fresh fake WorkOS
 * through the real CLI, then shows what the fake holds. Nothing leaves this
 * machine.
 *
 * @module
 */

import { startFakeWorkOS } from "../testing.ts";

const root = new URL("../", import.meta.url).pathname;

const RUNS: Array<{ title: string; args: string[] }> = [
  { title: "Users only", args: ["--csv", "examples/example-input.csv"] },
  {
    title: "Single organization, created if missing",
    args: [
      "--csv",
      "examples/single-org.csv",
      "--org-external-id",
      "acme",
      "--create-org-if-missing",
      "--org-name",
      "Acme Inc.",
    ],
  },
  { title: "Multi-organization", args: ["--csv", "examples/multi-org-simple.csv"] },
  { title: "One person in several organizations", args: ["--csv", "examples/multi-org-mixed.csv"] },
  { title: "NDJSON", args: ["--input", "examples/users.ndjson"] },
];

await using fake = await startFakeWorkOS();
console.log(`Fake WorkOS at ${fake.url} (WorkOS's own rate limits on)\n`);
let failed = false;
for (const run of RUNS) {
  console.log(`=== ${run.title}: workos-importer ${run.args.join(" ")}`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "main.ts", ...run.args, "--quiet"],
    cwd: root,
    env: { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url, NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (output.code !== 0) failed = true;
  console.log();
}
console.log(
  `The fake now holds ${fake.state.userCount()} users, ${fake.state.organizationCount()} ` +
    `organizations and ${fake.state.membershipCount()} memberships.`,
);
if (failed) Deno.exit(1);
