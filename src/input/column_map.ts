/**
 * `--map source=target`: which input column (or, for a provider's export,
 * which field) holds one of the importer's columns, for files whose columns
 * have other names (`tenant_id` for `org_external_id`, `role` for
 * `role_slug`).
 *
 * @module
 */

import { INPUT_COLUMNS, normalizeColumnName } from "../validation/columns.ts";

/** Importer columns a mapping may name, beyond {@linkcode INPUT_COLUMNS}. */
const EXTRA_TARGETS = ["role_slugs", "totp_secret", "totp_issuer", "totp_user"];

/**
 * Parses `--map` values: each is `source=target`, or the path of a mapping
 * file with one `source=target` per line (`#` starts a comment) or a JSON
 * object of them. Sources are compared as the reader normalizes CSV headers
 * (trimmed, lower case); a provider's field may be a dotted path
 * (`app_metadata.org_id`).
 *
 * @param values The flag's values, in order; a later mapping of one source wins.
 * @param readFile Reads a mapping file (by default `Deno.readTextFileSync`).
 * @returns Source → importer column.
 * @throws {SyntaxError} A value or line is not `source=target`, or the target
 *   is not a column the importer reads.
 *
 * @example Map two columns
 * ```ts
 * import { parseColumnMap } from "./column_map.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseColumnMap(["Tenant_ID=org_external_id", "role=role_slug"]), {
 *   tenant_id: "org_external_id",
 *   role: "role_slug",
 * });
 * ```
 */
export function parseColumnMap(
  values: readonly string[],
  readFile: (path: string) => string = Deno.readTextFileSync,
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const value of values) {
    if (value.includes("=")) {
      addPair(map, value, `--map "${value}"`);
      continue;
    }
    const text = readFile(value);
    if (text.trimStart().startsWith("{")) {
      let object: unknown;
      try {
        object = JSON.parse(text);
      } catch {
        throw new SyntaxError(
          `Cannot read mapping file "${value}": it is not valid JSON: write {"source":"target"}`,
        );
      }
      for (const [source, target] of Object.entries(object as Record<string, unknown>)) {
        addPair(map, `${source}=${target}`, `mapping file "${value}"`);
      }
      continue;
    }
    text.split(/\r?\n/).forEach((line, index) => {
      const content = line.replace(/#.*$/, "").trim();
      if (content !== "") addPair(map, content, `line ${index + 1} of mapping file "${value}"`);
    });
  }
  return map;
}

/**
 * Describes a mapping for the dry run: `"tenant_id" → "org_external_id"`.
 *
 * @param map From {@linkcode parseColumnMap}.
 * @returns One line.
 *
 * @example Describe a mapping
 * ```ts
 * import { describeColumnMap } from "./column_map.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(describeColumnMap({ role: "role_slug" }), 'Column mapping: "role" → "role_slug"');
 * ```
 */
export function describeColumnMap(map: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(map).map(([source, target]) => `"${source}" → "${target}"`);
  return `Column mapping: ${pairs.join(", ")}`;
}

function addPair(map: Record<string, string>, pair: string, where: string): void {
  const at = pair.indexOf("=");
  const source = at === -1 ? "" : normalizeColumnName(pair.slice(0, at));
  const target = at === -1 ? "" : normalizeColumnName(pair.slice(at + 1));
  if (source === "" || target === "") {
    throw new SyntaxError(
      `Cannot use ${where}: write it as source=target, like tenant_id=org_external_id`,
    );
  }
  if (!INPUT_COLUMNS.includes(target) && !EXTRA_TARGETS.includes(target)) {
    throw new SyntaxError(
      `Cannot use ${where}: "${target}" is not a column the importer reads: use one of ${
        [...INPUT_COLUMNS, ...EXTRA_TARGETS].join(", ")
      }`,
    );
  }
  map[source] = target;
}
