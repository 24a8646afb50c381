/**
 * `convert`: reads an input (another provider's export, or the importer's
 * own CSV or NDJSON) through the same readers and row checks the import
 * uses, and writes a migration package instead of calling WorkOS, so the
 * rows can be reviewed and edited before anything is written.
 *
 * @module
 */

import type { InputFormat } from "../types.ts";
import { openInput } from "../input/open_input.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";
import { validateRecord } from "../validation/validate_record.ts";
import { MigrationPackageWriter, type PackageCounts } from "../report/migration_package.ts";

/** Options for {@linkcode convertToPackage}. */
export interface ConvertOptions {
  /** The directory to write the package to. */
  out: string;
  /** Read another provider's export (`--from`). */
  provider?: ProviderSpec;
  /** Input columns renamed to importer columns before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
  /** Input format of the importer's own files; by default from the name or first byte. */
  format?: InputFormat;
  /** CSV column separator (`","` by default). */
  delimiter?: string;
}

/** What {@linkcode convertToPackage} wrote. */
export interface ConvertResult extends PackageCounts {
  /** Rows read (users and skipped ones). */
  totalRows: number;
}

/**
 * Converts an input file into a migration package.
 *
 * @param path The input file.
 * @param options Where to write, and how to read the input.
 * @returns The package's counts.
 *
 * @example Convert a CSV
 * ```ts
 * import { convertToPackage } from "./convert_export.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const input = `${dir}/users.csv`;
 * await Deno.writeTextFile(input, "email,org_external_id,org_name\nada@example.com,acme,Acme\nnot-an-email,,\n");
 * const result = await convertToPackage(input, { out: `${dir}/package` });
 * equal(result.users, 1);
 * equal(result.skippedUsers, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function convertToPackage(
  path: string,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const writer = await MigrationPackageWriter.create(options.out);
  let totalRows = 0;
  const input = await openInput(path, {
    format: options.format,
    delimiter: options.delimiter,
    provider: options.provider,
    columnMap: options.columnMap,
    onWarning: (message) => writer.warn(null, message),
  });
  for await (const batch of input.records) {
    for (const record of batch) {
      totalRows++;
      const result = validateRecord(record);
      if (!result.ok) {
        writer.skip(record.recordNumber, result.email, result.issues.map((issue) => issue.message));
        continue;
      }
      for (const warning of result.warnings) writer.warn(record.recordNumber, warning.message);
      writer.add(result.row);
    }
    await writer.flush();
  }
  const counts = await writer.close({
    provider: options.provider?.from ?? "csv",
    sourceFile: path,
  });
  return { ...counts, totalRows };
}
