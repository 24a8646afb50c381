/**
 * The CLI's V8 flags (`src/cli/v8_flags.ts`): every launcher passes them, V8
 * really takes them, and none is a hard cap on the heap.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { V8_FLAGS, v8FlagsArgument } from "../src/cli/v8_flags.ts";
import { installArgs } from "../scripts/install.ts";
import { compileArgs } from "../scripts/compile.ts";
import { evalScript } from "./_cli.ts";

Deno.test("the import task, the installed command and the binary all pass the CLI's V8 flags", () => {
  const flags = v8FlagsArgument();
  assert.ok(denoJson.tasks.import.split(" ").includes(flags), denoJson.tasks.import);
  assert.ok(installArgs({ checkout: new URL("file:///src/importer/") }).includes(flags));
  assert.ok(compileArgs({ output: "dist/workos-importer" }).includes(flags));
});

/**
 * Heap figures of a script that churns through short-lived objects, run with
 * `flags`: the new space's median size over the rounds, read after each one
 * (a single reading can catch the new space mid-collection: with the flags it
 * is 8 MiB in most rounds and briefly about 20 in a few, without them 64).
 */
async function heapAfterChurn(flags: string[]): Promise<{ limitMiB: number; newSpaceMiB: number }> {
  const script = `
    import v8 from "node:v8";
    const kept = [];
    const sizes = [];
    for (let round = 0; round < 15; round++) {
      const batch = [];
      for (let i = 0; i < 200_000; i++) batch.push({ i, text: "row " + i });
      kept.push(batch);
      if (kept.length > 3) kept.shift();
      const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
      sizes.push(newSpace.space_size / 2 ** 20);
    }
    sizes.sort((a, b) => a - b);
    console.log(JSON.stringify({
      limitMiB: v8.getHeapStatistics().heap_size_limit / 2 ** 20,
      newSpaceMiB: sizes[Math.floor(sizes.length / 2)],
    }));`;
  return JSON.parse(await evalScript(script, flags));
}

Deno.test("V8 takes the CLI's flags (a small young generation), and they cap no heap", async () => {
  const [defaults, tuned] = await Promise.all([
    heapAfterChurn([]),
    heapAfterChurn([v8FlagsArgument()]),
  ]);
  // The young generation stays at two 4 MB semi-spaces instead of growing to V8's large-machine size.
  assert.ok(tuned.newSpaceMiB <= 8, `new space ${tuned.newSpaceMiB} MiB with the flags`);
  assert.ok(
    defaults.newSpaceMiB > tuned.newSpaceMiB,
    `new space ${defaults.newSpaceMiB} MiB without the flags`,
  );
  // No hard cap: the heap may still grow as far as V8's default allows (the
  // limit differs only by the smaller young generation).
  assert.ok(
    tuned.limitMiB >= defaults.limitMiB * 0.95,
    `heap limit ${tuned.limitMiB} MiB with the flags, ${defaults.limitMiB} MiB without`,
  );
  for (const flag of V8_FLAGS) {
    assert.doesNotMatch(flag, /max-old-space-size|max-heap-size|max-old-generation/);
  }
});
