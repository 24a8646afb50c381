/**
 * The README is a short tour that stays true, and the reference in docs/ is
 * reachable from it: every local link resolves, and the table of contents
 * lists every page.
 */

import assert from "node:assert/strict";
import { v8FlagsArgument } from "../src/cli/v8_flags.ts";

const ROOT = new URL("../", import.meta.url);

async function markdownFiles(): Promise<URL[]> {
  const files = [new URL("README.md", ROOT)];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith(".md")) files.push(new URL(entry.name, dir));
    }
  };
  await walk(new URL("docs/", ROOT));
  return files;
}

Deno.test("README is a short tour with the two set-up commands, install and one real import", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  assert.ok(readme.split("\n").length <= 120, "README stays short");
  assert.match(readme, /^deno task demo /m);
  assert.match(readme, /^deno task test /m);
  assert.match(readme, /^deno task install /m);
  assert.match(readme, /^workos-importer --csv users\.csv /m);
  assert.match(readme, /^## More$/m);
  assert.match(readme, /\]\(docs\/README\.md\)/);
  // Every task the README runs exists.
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks);
  for (const [, task] of readme.matchAll(/^deno task ([\w:-]+)/gm)) {
    assert.ok(tasks.includes(task), `deno task ${task}`);
  }
});

Deno.test("every local link in README.md and docs/ resolves, and docs/README.md lists every page", async () => {
  const files = await markdownFiles();
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
      const path = new URL(target.split("#")[0], file);
      await Deno.stat(path).catch(() => assert.fail(`${file.pathname}: broken link "${target}"`));
    }
  }
  const toc = await Deno.readTextFile(new URL("docs/README.md", ROOT));
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md") && entry.name !== "README.md") {
      assert.ok(toc.includes(`](${entry.name})`), `docs/README.md links ${entry.name}`);
    }
  }
});

Deno.test("docs/permissions.md's narrowest command passes the V8 flags the launchers pass", async () => {
  const page = await Deno.readTextFile(new URL("docs/permissions.md", ROOT));
  assert.ok(
    page.includes(`${v8FlagsArgument()} `),
    `docs/permissions.md shows ${v8FlagsArgument()}`,
  );
});
