// Streams the rows of one CSV file of a migration package as records of
// their own columns (whatever they are), for the sidecar files the importer
// joins to users.csv and for counting rows.

import type { SourceRecord } from "../../types.ts";
import { openFileSource } from "../_byte_source.ts";
import { type CsvHeader, CsvRecordReader, readCsvHeader } from "../_csv_reader.ts";

/** A CSV file's header and its rows, one batch at a time. */
export interface CsvFile {
  /** The normalized header (trimmed, lower case); empty for an empty file. */
  columns: string[];
  /** The rows in file order; rows that cannot be parsed carry `parseError`. */
  rows(): AsyncGenerator<SourceRecord>;
  /** Releases the file without reading on (reading to the end releases it too). */
  close(): void;
}

/** Opens a CSV file and reads its header. */
export async function openCsvFile(path: string): Promise<CsvFile> {
  const bytes = await openFileSource(path);
  let header: CsvHeader | null;
  try {
    header = await readCsvHeader(bytes);
  } catch (error) {
    bytes.close();
    throw error;
  }
  const columns = header?.columns ?? [];
  async function* rows(): AsyncGenerator<SourceRecord> {
    try {
      if (header === null) return;
      const reader = new CsvRecordReader(bytes, columns, 0, 0x2c, true);
      for (;;) {
        const batch = await reader.next();
        if (batch === null) return;
        yield* batch;
      }
    } finally {
      bytes.close();
    }
  }
  return { columns, rows, close: () => bytes.close() };
}

/** A trimmed cell, or `undefined` when blank. */
export function cell(record: SourceRecord, column: string): string | undefined {
  const value = record.fields[column];
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  return text === "" ? undefined : text;
}
