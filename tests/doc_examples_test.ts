/**
 * The JSDoc examples run as tests (`deno test --doc`) in every CI run and on
 * every developer's machine, so an example that makes a temporary file or
 * folder removes it again: 325 examples run on each `deno task test`, and
 * the ones that did not clean up left 37 entries in the system's temporary
 * folder every time.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function sourceFiles(): Promise<URL[]> {
  const files = [new URL("mod.ts", ROOT), new URL("testing.ts", ROOT)];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        files.push(new URL(entry.name, dir));
      }
    }
  };
  await walk(new URL("src/", ROOT));
  return files;
}

/** Each fenced TypeScript example in a file's JSDoc, with its first line. */
function examples(text: string): { line: number; code: string }[] {
  const found: { line: number; code: string }[] = [];
  const lines = text.split("\n");
  let start = -1;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === "* ```ts" || line === "* ```typescript") start = index;
    else if (line === "* ```" && start >= 0) {
      found.push({ line: start + 1, code: lines.slice(start + 1, index).join("\n") });
      start = -1;
    }
  }
  return found;
}

Deno.test("every JSDoc example that makes a temporary file or folder removes it", async () => {
  const leaks: string[] = [];
  let checked = 0;
  for (const file of await sourceFiles()) {
    const text = await Deno.readTextFile(file);
    for (const example of examples(text)) {
      const made = example.code.match(/Deno\.makeTemp(File|Dir)(Sync)?\(/g)?.length ?? 0;
      if (made === 0) continue;
      checked++;
      const removed = example.code.match(/Deno\.remove(Sync)?\(/g)?.length ?? 0;
      if (removed < made) {
        const path = file.pathname.slice(new URL(ROOT).pathname.length);
        leaks.push(`${path}:${example.line} makes ${made} and removes ${removed}`);
      }
    }
  }
  assert.ok(checked >= 20, `found ${checked} examples with temporary files; the scan is broken`);
  assert.deepEqual(leaks, []);
});
