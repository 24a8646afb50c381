/**
 * csv-stringify, loaded when a CSV file is first opened for writing rather
 * than with the modules that may write one: an npm package starts Deno's
 * Node compatibility layer (several MiB of resident memory), which a dry run
 * or `validate` without a CSV output never needs.
 *
 * @module
 */

import type { stringify } from "csv-stringify/sync";

/** csv-stringify's synchronous `stringify`. */
export type CsvStringify = typeof stringify;

let loaded: CsvStringify | undefined;

/**
 * Loads csv-stringify (once) and gives its `stringify`.
 *
 * @returns The function.
 *
 * @example Usage
 * ```ts
 * import { loadCsvStringify } from "./_csv_stringify.ts";
 * const stringify = await loadCsvStringify();
 * console.log(stringify([["a", "b,c"]])); // a,"b,c"
 * ```
 */
export async function loadCsvStringify(): Promise<CsvStringify> {
  return loaded ??= (await import("csv-stringify/sync")).stringify;
}
