/**
 * `deno task install` puts a working `workos-importer` command on the PATH,
 * with the import task's permissions and no more: installed into a
 * temporary root and run by name from another directory.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { tempDir } from "./_cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

Deno.test("deno task install puts workos-importer on the PATH; it runs --version and a dry run", async () => {
  const root = await tempDir();
  const elsewhere = await tempDir();
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "install", "--root", root],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const installText = new TextDecoder().decode(install.stderr);
    assert.equal(install.code, 0, installText);
    assert.match(installText, /Installed: run "workos-importer --help"/);

    const shim = await Deno.readTextFile(`${root}/bin/workos-importer`);
    for (const flag of ["--allow-net", "--allow-env", "--allow-read", "--allow-write"]) {
      assert.ok(shim.includes(flag), `${flag} in ${shim}`);
    }
    assert.doesNotMatch(shim, /--allow-run|--allow-all|--allow-ffi|--allow-sys| -A /);

    // By name, from the PATH, in a directory that is not the checkout.
    const denoDir = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));
    const env = { PATH: `${root}/bin:${denoDir}:/usr/bin:/bin`, NO_COLOR: "1" };
    const version = await new Deno.Command("workos-importer", {
      args: ["--version"],
      cwd: elsewhere,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(version.code, 0, new TextDecoder().decode(version.stderr));
    assert.equal(new TextDecoder().decode(version.stdout), `workos-importer ${denoJson.version}\n`);

    const dryRun = await new Deno.Command("workos-importer", {
      args: ["--csv", `${EXAMPLES}multi-org-simple.csv`, "--dry-run", "--quiet"],
      cwd: elsewhere,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(dryRun.code, 0, new TextDecoder().decode(dryRun.stderr));
    assert.match(new TextDecoder().decode(dryRun.stdout), /Status: Would succeed/);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
