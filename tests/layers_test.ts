/**
 * The layer and cycle check (scripts/check_layers.ts): the project passes
 * it, and it fails on every kind of violation fed to it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ALLOWED,
  checkLayers,
  findCycles,
  type ImportGraph,
  importsOf,
  readImportGraph,
  SDK_SPECIFIER,
} from "../scripts/check_layers.ts";
import { tempDir } from "./_cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SCRIPT = new URL("../scripts/check_layers.ts", import.meta.url).pathname;

async function runCheck(root?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, ...(root ? [root] : [])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("the project has no layer violation, no import cycle and no stray SDK import", async () => {
  const result = await runCheck();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, /no new violation or cycle/);
});

Deno.test("the check reads the project's real imports", async () => {
  const graph = await readImportGraph(ROOT, ["src", "tests", "mod.ts"]);
  // Static, multi-line, dynamic, and through the import map.
  assert.ok(graph.get("src/workos/users.ts")?.includes(SDK_SPECIFIER));
  assert.ok(graph.get("src/workos/users.ts")?.includes("src/workos/client.ts"));
  assert.ok(graph.get("tests/library_test.ts")?.includes("mod.ts"));
  assert.ok(graph.get("mod.ts")?.includes("src/journal/mod.ts"));
  // An example in a comment is not an import: client.ts's JSDoc imports itself.
  assert.ok(!graph.get("src/workos/client.ts")?.includes("src/workos/client.ts"));
});

Deno.test("importsOf skips comments and finds every form of import", () => {
  const source = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { x } from "../cli/main.ts";',
    " * ```",
    " */",
    'import type { A } from "./a.ts";',
    "import {",
    "  b,",
    "  type C,",
    '} from "../b/mod.ts";',
    'export { d } from "./d.ts";',
    'export * from "./e.ts";',
    'import "./f.ts";',
    "export function g(options: { h: number }) {",
    '  return import("./i.ts");',
    "}",
    '// const j = await import("./j.ts");',
  ].join("\n");
  assert.deepEqual(importsOf(source), [
    "./a.ts",
    "../b/mod.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./i.ts",
  ]);
});

Deno.test("a lower layer importing the pipeline or the CLI fails the check", () => {
  const graph: ImportGraph = new Map([
    ["src/journal/journal.ts", ["src/pipeline/run_import.ts", "src/journal/_records.ts"]],
    ["src/journal/_records.ts", []],
    ["src/workos/client.ts", ["src/cli/main.ts"]],
    ["src/validation/validate_file.ts", ["src/pipeline/dry_run_plan.ts"]],
    ["src/report/summary.ts", ["src/undo/undo_job.ts"]],
    ["src/pipeline/run_import.ts", ["src/cli/args.ts", "src/workos/client.ts"]],
    ["src/cli/main.ts", ["src/pipeline/run_import.ts"]],
  ]);
  const report = checkLayers(graph, { allowed: [], allowedCycles: [] });
  assert.deepEqual(report.violations.map((v) => `${v.file} -> ${v.imports}`), [
    "src/journal/journal.ts -> src/pipeline/run_import.ts",
    "src/workos/client.ts -> src/cli/main.ts",
    "src/validation/validate_file.ts -> src/pipeline/dry_run_plan.ts",
    "src/report/summary.ts -> src/undo/undo_job.ts",
    "src/pipeline/run_import.ts -> src/cli/args.ts",
  ]);
  // client.ts -> cli/main.ts -> pipeline/run_import.ts -> client.ts
  assert.equal(report.cycles.length, 1);
});

Deno.test("an SDK import outside src/workos fails the check, tests included", () => {
  const graph: ImportGraph = new Map([
    ["src/workos/users.ts", [SDK_SPECIFIER]],
    ["src/pipeline/row_processor.ts", [SDK_SPECIFIER]],
    ["tests/library_test.ts", [SDK_SPECIFIER]],
    ["tests/fake_workos_api_test.ts", [SDK_SPECIFIER]],
    ["mod.ts", [SDK_SPECIFIER]],
  ]);
  const report = checkLayers(graph, { allowed: [], allowedCycles: [] });
  assert.deepEqual(report.violations.map((v) => v.file), [
    "src/pipeline/row_processor.ts",
    "tests/library_test.ts",
    "mod.ts",
  ]);
});

Deno.test("mod.ts re-exporting a deep file instead of its folder's mod.ts fails the check", () => {
  const graph: ImportGraph = new Map([
    ["mod.ts", ["src/pipeline/mod.ts", "src/types.ts", "src/pipeline/import_users.ts"]],
    ["testing.ts", ["src/fake_workos/mod.ts", "src/fake_workos/server.ts"]],
  ]);
  const report = checkLayers(graph, { rules: [], allowed: [], allowedCycles: [] });
  assert.deepEqual(report.violations.map((v) => `${v.file} -> ${v.imports}`), [
    "mod.ts -> src/pipeline/import_users.ts",
    "testing.ts -> src/fake_workos/server.ts",
  ]);
});

Deno.test("an import cycle fails the check, however long, a module importing itself too", () => {
  const graph: ImportGraph = new Map([
    ["src/a.ts", ["src/b.ts"]],
    ["src/b.ts", ["src/c.ts", "src/d.ts"]],
    ["src/c.ts", ["src/a.ts"]],
    ["src/d.ts", []],
    ["src/e.ts", ["src/e.ts"]],
    ["tests/x.ts", ["tests/y.ts"]],
    ["tests/y.ts", ["tests/x.ts"]],
  ]);
  assert.deepEqual(findCycles(graph, "src/"), [
    ["src/a.ts", "src/b.ts", "src/c.ts", "src/a.ts"],
    ["src/e.ts", "src/e.ts"],
  ]);
  const report = checkLayers(graph, { rules: [], allowed: [], allowedCycles: [] });
  assert.equal(report.cycles.length, 2);
  const allowed = checkLayers(graph, {
    rules: [],
    allowed: [],
    allowedCycles: [{ files: ["src/c.ts", "src/a.ts", "src/b.ts"], why: "known" }],
  });
  assert.deepEqual(allowed.cycles, [["src/e.ts", "src/e.ts"]]);
});

Deno.test("allowed violations pass only while they exist, and no new one passes", () => {
  const graph: ImportGraph = new Map([
    ["src/journal/journal.ts", ["src/pipeline/import_users.ts", "src/pipeline/tenant_plan.ts"]],
  ]);
  const allowed = [
    { file: "src/journal/journal.ts", imports: "src/pipeline/import_users.ts", why: "known" },
    { file: "src/journal/jobs.ts", imports: "src/pipeline/run_import.ts", why: "gone" },
  ];
  const report = checkLayers(graph, { allowed, allowedCycles: [] });
  assert.deepEqual(report.violations.map((v) => v.imports), ["src/pipeline/tenant_plan.ts"]);
  assert.deepEqual(report.unusedAllowances, [allowed[1]]);
  // The project's own list names only imports that break a rule.
  for (const entry of ALLOWED) assert.match(entry.file, /^src\/journal\//);
});

Deno.test("the script exits 1 and names the import on a tree that breaks a rule", async () => {
  const root = await tempDir();
  try {
    await Deno.mkdir(join(root, "src/report"), { recursive: true });
    await Deno.mkdir(join(root, "src/cli"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "src/report/summary.ts"),
      'import { main } from "../cli/main.ts";\nexport const x = main;\n',
    );
    await Deno.writeTextFile(
      join(root, "src/cli/main.ts"),
      'import { x } from "../report/summary.ts";\nexport function main() {\n  return x;\n}\n',
    );
    const result = await runCheck(root);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Layer violation: "src\/report\/summary\.ts" imports "src\/cli\/main\.ts"/,
    );
    assert.match(result.stderr, /Import cycle: src\/cli\/main\.ts -> src\/report\/summary\.ts/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the project's check fails if the journal imports the pipeline again, or the input readers import each other", () => {
  const graph: ImportGraph = new Map([
    ["src/journal/journal.ts", ["src/pipeline/import_users.ts", "src/outcome/mod.ts"]],
    ["src/journal/_records.ts", ["src/pipeline/run_import.ts"]],
    ["src/outcome/tally.ts", ["src/pipeline/row_processor.ts"]],
    ["src/pipeline/import_users.ts", ["src/journal/store.ts", "src/outcome/mod.ts"]],
    ["src/input/_open_reader.ts", ["src/input/open_input.ts"]],
    ["src/input/open_input.ts", ["src/input/_open_reader.ts"]],
  ]);
  // The project's own rules and allowances: none is left for these.
  const report = checkLayers(graph);
  assert.deepEqual(report.violations.map((v) => `${v.file} -> ${v.imports}`), [
    "src/journal/journal.ts -> src/pipeline/import_users.ts",
    "src/journal/_records.ts -> src/pipeline/run_import.ts",
    "src/outcome/tally.ts -> src/pipeline/row_processor.ts",
  ]);
  assert.deepEqual(report.cycles, [[
    "src/input/_open_reader.ts",
    "src/input/open_input.ts",
    "src/input/_open_reader.ts",
  ]]);
});
