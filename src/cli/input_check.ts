/**
 * Checks, before any work, that the files a command line names can be used:
 * the input exists, is a file, is text and has rows; an output file's
 * directory exists. Each message names the flag the path came after, so the
 * user knows which path to fix.
 *
 * @module
 */

import { InputError, UsageError } from "./usage_error.ts";
import { openInput } from "../input/open_input.ts";
import type { InputFormat } from "../types.ts";
import type { ProviderSpec } from "../input/providers/mod.ts";

/** Options for {@linkcode checkInputFile}. */
export interface CheckInputOptions {
  /** The flag the path came after, e.g. `--csv`; absent for a positional argument. */
  flag?: string;
  /** The forced format, if any. */
  format?: InputFormat;
  /** The CSV column separator, if not a comma. */
  delimiter?: string;
  /** What the command does with the file, for messages (`import`). */
  verb?: "import" | "validate";
  /** Another provider's export (`--from`). */
  provider?: ProviderSpec;
  /** Columns renamed before reading (`--map`). */
  columnMap?: Readonly<Record<string, string>>;
}

/**
 * Checks an input file: it exists, is a file, is text (the input layer says
 * why not), has a header and at least one row. Reads only the first chunk.
 *
 * @param path The input path; `-` (standard input) is not checked.
 * @param options The flag it came after, format and delimiter.
 * @throws {UsageError} When the file does not exist.
 * @throws {InputError} When it is a directory, not text, empty, or has no rows.
 *
 * @example Usage
 * ```ts ignore
 * await checkInputFile("users.csv", { flag: "--csv" });
 * ```
 */
export async function checkInputFile(path: string, options: CheckInputOptions = {}): Promise<void> {
  if (path === "-") return;
  const after = options.flag ? `after ${options.flag}` : "";
  const verb = options.verb ?? "import";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        verb === "validate"
          ? `Cannot validate: no file "${path}": check the path${after ? ` ${after}` : ""}`
          : `Cannot find input file "${path}": check the path${after ? ` ${after}` : ""}`,
      );
    }
    throw error;
  }
  if (info.isDirectory) {
    throw new InputError(
      `Cannot read "${path}"${
        after ? ` (${after})` : ""
      }: it is a directory: give a CSV or NDJSON file`,
    );
  }
  const input = await openInput(path, {
    format: options.format,
    delimiter: options.delimiter,
    provider: options.provider,
    columnMap: options.columnMap,
    // Only the first batch is read: no read worker for it.
    firstRecordsOnly: true,
  });
  const reader = input.records.getReader();
  try {
    if (input.format === "csv" && input.columns.length === 0) {
      throw new InputError(
        `Cannot ${verb} "${path}": the file is empty: give a CSV file with an "email" header and a row per user`,
      );
    }
    while (true) {
      const batch = await reader.read();
      if (batch.done) break;
      if (batch.value.length > 0) return;
    }
    throw new InputError(
      input.format === "csv"
        ? `Cannot ${verb} "${path}": it has a header but no rows: add a row per user below the header`
        : `Cannot ${verb} "${path}": it has no records: add one JSON object per user, one a line`,
    );
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Checks that an output file can be created: its directory exists.
 *
 * @param path The file's path.
 * @param flag The flag it came after, e.g. `--errors-out`.
 * @throws {UsageError} When its directory does not exist or is not a directory.
 *
 * @example Usage
 * ```ts ignore
 * await checkOutputFile("out/errors.csv", "--errors-out");
 * ```
 */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const directory = slash < 0 ? "." : path.slice(0, slash) || "/";
  // Without read access the directory cannot be looked at; the write then says what is wrong.
  if (Deno.permissions.querySync({ name: "read", path: directory }).state !== "granted") return;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(directory);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `Cannot write "${path}": its directory "${directory}" does not exist: create it or fix the path after ${flag}`,
      );
    }
    throw error;
  }
  if (!info.isDirectory) {
    throw new UsageError(
      `Cannot write "${path}": "${directory}" is not a directory: fix the path after ${flag}`,
    );
  }
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new UsageError(
        `Cannot write "${path}": it is a directory: give a file path after ${flag}`,
      );
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
