/**
 * Checks that imports point one way and go round in no circle:
 *
 * ```sh
 * deno run --allow-read scripts/check_layers.ts          # this repository
 * deno run --allow-read scripts/check_layers.ts ../other # another checkout
 * ```
 *
 * - The lower layers (`src/outcome`, `src/journal`, `src/report`, `src/input`,
 *   `src/validation`, `src/workos`, `src/limits`, `src/organizations`) never
 *   import `src/pipeline`, `src/undo` or `src/cli`; `src/pipeline` and
 *   `src/undo` never import `src/cli`.
 * - `npm:@workos-inc/node` is imported only inside `src/workos/`: the rest of
 *   the project sees the importer's own types (tests that drive the fake
 *   with the SDK on purpose are listed in {@linkcode SDK_USERS}).
 * - `mod.ts` and `testing.ts` re-export each folder's `mod.ts` (or a file at
 *   the top of `src/`), never a deep file.
 * - No file in `src/` imports itself through other files (type-only imports
 *   count: a cycle of types is still two modules that cannot be understood
 *   apart).
 *
 * Exits 1 and lists every problem when one is found. `tests/layers_test.ts`
 * runs the same check inside `deno task test`.
 *
 * @module
 */

import { join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Every file's imports: repository-relative path to the specifiers it imports, resolved. */
export type ImportGraph = Map<string, string[]>;

/** A rule of the form "files under `from` do not import `forbidden`". */
export interface LayerRule {
  /** Path prefixes (repository-relative) of the files the rule binds. */
  from: readonly string[];
  /** Path prefixes or bare specifiers those files must not import. */
  forbidden: readonly string[];
  /** Why, in one sentence, for the report. */
  why: string;
}

/** One import that breaks a rule. */
export interface Violation {
  /** The importing file. */
  file: string;
  /** What it imports. */
  imports: string;
  /** The rule it breaks. */
  rule: LayerRule;
}

/** An import that breaks a rule but is known, and why it stays for now. */
export interface Allowance {
  /** The importing file. */
  file: string;
  /** What it imports. */
  imports: string;
  /** Why it is allowed (and what would remove it). */
  why: string;
}

/** What {@linkcode checkLayers} found. */
export interface LayerReport {
  /** Imports that break a rule and are not allowed. */
  violations: Violation[];
  /** Import cycles, each as the files around it, the first repeated last. */
  cycles: string[][];
  /** Allowances no import needs any more: remove them. */
  unusedAllowances: Allowance[];
  /** Cycle allowances no cycle needs any more: remove them. */
  unusedCycleAllowances: CycleAllowance[];
}

const LOWER_LAYERS = [
  "src/outcome/",
  "src/journal/",
  "src/report/",
  "src/input/",
  "src/validation/",
  "src/workos/",
  "src/limits/",
  "src/organizations/",
  "src/passwords/",
] as const;

/** The only folder that may import the WorkOS SDK. */
export const SDK_SPECIFIER = "npm:@workos-inc/node";

/**
 * Files outside `src/workos/` that import the SDK on purpose: they test the
 * fake WorkOS by talking to it as the official SDK does, without the
 * importer in between.
 */
export const SDK_USERS: readonly string[] = Object.freeze([
  // Its floor "the SDK alone" measures what the SDK costs without the importer.
  "bench/littles_law_bench.ts",
  "tests/_recording_sdk.ts",
  "tests/fake_workos_api_test.ts",
  "tests/fake_workos_faults_test.ts",
  "tests/fake_workos_http_test.ts",
  "tests/fake_workos_limits_test.ts",
  "tests/fake_workos_passwords_test.ts",
  "tests/fake_workos_state_test.ts",
]);

/** The project's layer rules. */
export const RULES: readonly LayerRule[] = Object.freeze([
  {
    from: LOWER_LAYERS,
    forbidden: ["src/pipeline/", "src/undo/", "src/cli/"],
    why: "the stages below the pipeline never reach up into it or into the CLI",
  },
  {
    from: ["src/pipeline/", "src/undo/"],
    forbidden: ["src/cli/"],
    why: "the pipeline serves the CLI and the library alike",
  },
  {
    from: ["src/fake_workos/"],
    forbidden: [
      "src/pipeline/",
      "src/undo/",
      "src/cli/",
      "src/journal/",
      "src/workos/",
      "src/report/",
      "src/input/",
      "src/validation/",
      "src/limits/",
      "src/organizations/",
      "src/passwords/",
      "src/types.ts",
    ],
    why: "the fake stands in for WorkOS and knows nothing of the importer",
  },
]);

/** The library's entry points: they re-export folders' faces, never deep files. */
export const ROOT_FACES: readonly string[] = Object.freeze(["mod.ts", "testing.ts"]);

const ROOT_FACE_RULE: LayerRule = {
  from: ROOT_FACES,
  forbidden: ["src/"],
  why: "mod.ts and testing.ts re-export each folder's mod.ts (or a file at the top of src/)",
};

/**
 * Known violations, each with the reason it stays for now. Every entry is one
 * import of one file: a new import that breaks a rule still fails the check,
 * and an entry no import needs any more fails it too, so the list only
 * shrinks.
 */
export const ALLOWED: readonly Allowance[] = Object.freeze([]);

/** An import cycle that is known, and why it stays for now. */
export interface CycleAllowance {
  /** The files of the cycle, in any order. */
  files: readonly string[];
  /** Why it is allowed (and what would remove it). */
  why: string;
}

/** Known cycles. Keep it empty. */
export const ALLOWED_CYCLES: readonly CycleAllowance[] = Object.freeze([]);

/**
 * The specifiers a module imports, statically or dynamically (`import()`
 * with a string literal). Imports in comments, such as JSDoc examples, do
 * not count: only statements that start a line do, as `deno fmt` writes
 * them.
 *
 * @param source The module's text.
 * @returns The specifiers, in order, each once.
 *
 * @example Usage
 * ```ts
 * import { importsOf } from "./check_layers.ts";
 * const source = [
 *   'import { a } from "./a.ts";',
 *   "export {",
 *   "  b,",
 *   '} from "../b/mod.ts";',
 *   ' * import { c } from "./c.ts";',
 *   'const d = await import("./d.ts");',
 * ].join("\n");
 * console.log(importsOf(source)); // [ "./a.ts", "../b/mod.ts", "./d.ts" ]
 * ```
 */
export function importsOf(source: string): string[] {
  const found = new Set<string>();
  const statement = /^(?:import|export)\b(?:[^;{}"'`]|\{[^{}]*\})*?\bfrom\s*["']([^"']+)["']/gm;
  const bare = /^import\s*["']([^"']+)["']/gm;
  const dynamic = /^(?!\s*(?:\*|\/\/)).*?\bimport\(\s*["']([^"']+)["']\s*\)/gm;
  const hits: [number, string][] = [];
  for (const pattern of [statement, bare, dynamic]) {
    for (const match of source.matchAll(pattern)) hits.push([match.index, match[1]]);
  }
  hits.sort((a, b) => a[0] - b[0]);
  for (const [, specifier] of hits) found.add(specifier);
  return [...found];
}

/**
 * Reads the import graph of every `.ts` file under the given folders (and
 * the given files), relative imports resolved to repository-relative paths,
 * import-map names resolved through `deno.json`'s `imports`.
 *
 * @param root The repository root.
 * @param paths Folders and files to read, relative to the root.
 * @returns The graph.
 *
 * @example Usage
 * ```ts
 * import { readImportGraph } from "./check_layers.ts";
 * const graph = await readImportGraph(new URL("..", import.meta.url).pathname, ["src/limits"]);
 * console.log(graph.get("src/limits/mod.ts")?.includes("src/limits/semaphore.ts")); // true
 * ```
 */
export async function readImportGraph(
  root: string,
  paths: readonly string[],
): Promise<ImportGraph> {
  const importMap = await readImportMap(root);
  const graph: ImportGraph = new Map();
  for (const path of paths) {
    for (const file of await tsFiles(join(root, path))) {
      const from = toPosix(relative(root, file));
      const specifiers = importsOf(await Deno.readTextFile(file));
      graph.set(from, specifiers.map((specifier) => resolve(from, specifier, importMap)));
    }
  }
  return new Map([...graph].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Checks a graph against layer rules and for cycles among the files under
 * `cyclesUnder`.
 *
 * @param graph The import graph.
 * @param options The rules (default {@linkcode RULES} plus the SDK rule), the
 *   known violations (default {@linkcode ALLOWED}), where to look for cycles
 *   (default `src/`).
 * @returns What is wrong.
 *
 * @example A pipeline import in the journal
 * ```ts
 * import { checkLayers } from "./check_layers.ts";
 * const graph = new Map([
 *   ["src/journal/journal.ts", ["src/pipeline/import_users.ts"]],
 *   ["src/pipeline/import_users.ts", []],
 * ]);
 * const report = checkLayers(graph, { allowed: [], allowedCycles: [] });
 * console.log(report.violations[0].imports); // "src/pipeline/import_users.ts"
 * ```
 */
export function checkLayers(
  graph: ImportGraph,
  options: {
    rules?: readonly LayerRule[];
    allowed?: readonly Allowance[];
    allowedCycles?: readonly CycleAllowance[];
    cyclesUnder?: string;
  } = {},
): LayerReport {
  const rules = options.rules ?? [...RULES, sdkRule(graph)];
  const allowed = options.allowed ?? ALLOWED;
  const allowedCycles = options.allowedCycles ?? ALLOWED_CYCLES;
  const used = new Set<Allowance>();
  const violations: Violation[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      for (const rule of rules) {
        if (!rule.from.some((prefix) => file.startsWith(prefix))) continue;
        if (!rule.forbidden.some((prefix) => target.startsWith(prefix))) continue;
        const allowance = allowed.find((entry) => entry.file === file && entry.imports === target);
        if (allowance) used.add(allowance);
        else violations.push({ file, imports: target, rule });
      }
    }
  }
  for (const file of ROOT_FACES) {
    for (const target of graph.get(file) ?? []) {
      if (!target.startsWith("src/") || /^src\/[^/]+\.ts$|^src\/[^/]+\/mod\.ts$/.test(target)) {
        continue;
      }
      violations.push({ file, imports: target, rule: ROOT_FACE_RULE });
    }
  }
  const usedCycles = new Set<CycleAllowance>();
  const cycles = findCycles(graph, options.cyclesUnder ?? "src/").filter((cycle) => {
    const members = [...new Set(cycle)].sort().join("\n");
    const allowance = allowedCycles.find((entry) => [...entry.files].sort().join("\n") === members);
    if (allowance) usedCycles.add(allowance);
    return !allowance;
  });
  return {
    violations,
    cycles,
    unusedAllowances: allowed.filter((entry) => !used.has(entry)),
    unusedCycleAllowances: allowedCycles.filter((entry) => !usedCycles.has(entry)),
  };
}

/**
 * The import cycles among the files of a graph under a prefix: one cycle per
 * strongly connected group of files, as a shortest way round it.
 *
 * @param graph The import graph.
 * @param under Only files whose path starts with this take part.
 * @returns The cycles, each starting and ending with the same file.
 *
 * @example Usage
 * ```ts
 * import { findCycles } from "./check_layers.ts";
 * const graph = new Map([
 *   ["src/a.ts", ["src/b.ts"]],
 *   ["src/b.ts", ["src/a.ts"]],
 *   ["src/c.ts", ["src/a.ts"]],
 * ]);
 * console.log(findCycles(graph, "src/")); // [ [ "src/a.ts", "src/b.ts", "src/a.ts" ] ]
 * ```
 */
export function findCycles(graph: ImportGraph, under: string): string[][] {
  const edges = (file: string): string[] =>
    (graph.get(file) ?? []).filter((target) => target.startsWith(under) && graph.has(target));
  const files = [...graph.keys()].filter((file) => file.startsWith(under));
  // Tarjan's strongly connected components, iteratively.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  for (const start of files) {
    if (index.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [file, next] = frame;
      if (next === 0) {
        index.set(file, counter);
        low.set(file, counter);
        counter++;
        stack.push(file);
        onStack.add(file);
      }
      const targets = edges(file);
      if (next < targets.length) {
        frame[1]++;
        const target = targets[next];
        if (!index.has(target)) work.push([target, 0]);
        else if (onStack.has(target)) {
          low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) {
        low.set(parent[0], Math.min(low.get(parent[0]) as number, low.get(file) as number));
      }
      if (low.get(file) === index.get(file)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          group.push(member);
        } while (member !== file);
        const selfImport = edges(file).includes(file);
        if (group.length > 1 || selfImport) groups.push(group);
      }
    }
  }
  return groups.map((group) => shortestCycle(group.sort()[0], new Set(group), edges));
}

/** A shortest path from `start` back to itself inside one group (breadth first). */
function shortestCycle(
  start: string,
  group: Set<string>,
  edges: (file: string) => string[],
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const file = queue[head];
    for (const target of edges(file)) {
      if (!group.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = file; at !== start; at = previous.get(at) as string) path.unshift(at);
        path.unshift(start);
        return path;
      }
      if (previous.has(target)) continue;
      previous.set(target, file);
      queue.push(target);
    }
  }
  return [start, start];
}

/**
 * Describes a report in lines for a terminal.
 *
 * @param report What {@linkcode checkLayers} found.
 * @returns One line per problem; empty when there is none.
 *
 * @example Usage
 * ```ts
 * import { describeReport } from "./check_layers.ts";
 * console.log(describeReport({
 *   violations: [],
 *   cycles: [["src/a.ts", "src/a.ts"]],
 *   unusedAllowances: [],
 *   unusedCycleAllowances: [],
 * }));
 * // [ "Import cycle: src/a.ts -> src/a.ts" ]
 * ```
 */
export function describeReport(report: LayerReport): string[] {
  return [
    ...report.violations.map((violation) =>
      `Layer violation: "${violation.file}" imports "${violation.imports}": ${violation.rule.why}`
    ),
    ...report.cycles.map((cycle) => `Import cycle: ${cycle.join(" -> ")}`),
    ...report.unusedAllowances.map((allowance) =>
      `Unused allowance: "${allowance.file}" no longer imports "${allowance.imports}": ` +
      "remove it from ALLOWED in scripts/check_layers.ts"
    ),
    ...report.unusedCycleAllowances.map((allowance) =>
      `Unused cycle allowance: ${allowance.files.join(", ")} no longer import each other: ` +
      "remove it from ALLOWED_CYCLES in scripts/check_layers.ts"
    ),
  ];
}

/** The folders and files the project check reads. */
export const PROJECT_PATHS: readonly string[] = Object.freeze([
  "src",
  "tests",
  "bench",
  "examples",
  "scripts",
  "main.ts",
  "mod.ts",
  "testing.ts",
]);

function sdkRule(graph: ImportGraph): LayerRule {
  const files = [...graph.keys()].filter((file) =>
    !file.startsWith("src/workos/") && !SDK_USERS.includes(file)
  );
  return {
    from: files,
    forbidden: [SDK_SPECIFIER],
    why: "SDK types stay inside src/workos; use the importer's own types",
  };
}

async function readImportMap(root: string): Promise<Record<string, string>> {
  try {
    const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
    return config.imports ?? {};
  } catch {
    return {};
  }
}

function resolve(from: string, specifier: string, importMap: Record<string, string>): string {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return toPosix(normalize(join(from, "..", specifier)));
  }
  // Versions dropped: a rule names a package, whichever version is pinned.
  return (importMap[specifier] ?? specifier).replace(/^(npm:(?:@[^/]+\/)?[^@/]+)@[^/]+/, "$1");
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

async function tsFiles(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (info.isFile) return path.endsWith(".ts") ? [path] : [];
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (entry.name.startsWith(".")) continue;
    const child = join(path, entry.name);
    if (entry.isDirectory) files.push(...await tsFiles(child));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(child);
  }
  return files;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? fileURLToPath(new URL("..", import.meta.url));
  const paths: string[] = [];
  for (const path of PROJECT_PATHS) {
    if (await Deno.stat(join(root, path)).then(() => true, () => false)) paths.push(path);
  }
  const report = checkLayers(await readImportGraph(root, paths));
  const lines = describeReport(report);
  for (const line of lines) console.error(line);
  if (lines.length > 0) Deno.exit(1);
  console.log(
    `Layers and imports: no new violation or cycle (known and allowed: ${ALLOWED.length} ` +
      `imports, ${ALLOWED_CYCLES.length} cycle; see scripts/check_layers.ts)`,
  );
}
