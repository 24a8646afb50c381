// The compact form a batch of mapped records crosses from the read worker to
// the main thread in. A structured clone of a batch of records copies each
// record and each of its fields as an object of its own, which costs about
// what the JSON.parse that made them did; this form is three flat things: a
// list of the batch's column names, numbers (typed arrays, moved, not
// copied) and one text holding every value one after another, which the
// main thread cuts back into fields (row errors and warnings are text
// entries too). A record with a value that is not text travels as it is.
// A record's checked metadata object (`checkedMetadata`) crosses as its
// keys and values, text entries too, so that the main thread does not
// parse the metadata text for it.

import type { SourceRecord } from "../../types.ts";

/** Numbers per record in {@linkcode EncodedBatch.records}. */
const RECORD_WIDTH = 4;
const PLAIN = 1;
const TIDY = 2;
/** The record is the next of {@linkcode EncodedBatch.others}. */
const OTHER = 4;
/**
 * The record's `checkedMetadata` follows its text entries: an entry of how
 * many keys it has, then one per key (the key's index in `keys`, the
 * value's length), whose values follow the record's other texts.
 */
const METADATA = 8;
/** A text entry that is the record's `parseError`, not a field. */
const PARSE_ERROR_KEY = 0xffffffff;
/** A text entry that is one of the record's `warnings`, not a field. */
const WARNING_KEY = 0xfffffffe;

/** A batch of records in the form it crosses a worker boundary. */
export interface EncodedBatch {
  /** The column names the batch's text fields use, by index. */
  keys: string[];
  /** Per record: its number, its byte end, its flags, its count of text entries. */
  records: Float64Array;
  /**
   * Per text entry (a field, the parse error, a warning): the index of its
   * name in `keys` (or what it is), the length of its text; then a record's
   * checked metadata, if it has some (see `METADATA`).
   */
  entries: Uint32Array;
  /** Every text entry, one after another. */
  text: string;
  /** The records not in the compact form (a value that is not text), in order. */
  others: SourceRecord[];
}

/**
 * Encodes a batch of records.
 *
 * @returns The batch and the buffers to transfer with it.
 *
 * @example A round trip
 * ```ts
 * import { decodeBatch, encodeBatch } from "./_batch_codec.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const batch = [{ recordNumber: 1, fields: { email: "ada@example.com" }, byteEnd: 30, tidy: true }];
 * const [encoded, transfer] = encodeBatch(batch);
 * deepEqual(decodeBatch(structuredClone(encoded, { transfer })), batch);
 * ```
 */
export function encodeBatch(batch: readonly SourceRecord[]): [EncodedBatch, ArrayBuffer[]] {
  const encoder = new BatchEncoder(batch.length);
  encoder.add(batch);
  return encoder.finish();
}

/**
 * Encodes reader batches one after another into one encoded batch, each as
 * it is read (its records are garbage before the next one is read): a
 * message's batches cross as one, so that each message pays for one set of
 * keys, typed arrays and text, not one per 32 KiB chunk (encode, clone and
 * decode of 200K users' batches four to a message: Firebase 130-160 ->
 * 100-160 ms, median 160 -> 120; Auth0 130-180 -> 120-190, median 150 ->
 * 140; seven rounds in one process).
 *
 * @example Two batches, one encoded batch
 * ```ts
 * import { BatchEncoder, decodeBatch } from "./_batch_codec.ts";
 * import { equal } from "node:assert/strict";
 *
 * const encoder = new BatchEncoder();
 * encoder.add([{ recordNumber: 1, fields: { email: "a@example.com" }, byteEnd: 14 }]);
 * encoder.add([{ recordNumber: 2, fields: { email: "b@example.com" }, byteEnd: 28 }]);
 * const [encoded] = encoder.finish();
 * equal(decodeBatch(encoded).length, 2);
 * ```
 */
export class BatchEncoder {
  #keys: string[] = [];
  #keyIndex = new Map<string, number>();
  #records: Float64Array<ArrayBuffer>;
  /** Records added. */
  #count = 0;
  #entries: Uint32Array<ArrayBuffer>;
  #used = 0;
  // Built by concatenation, not as a list joined at the end: V8 keeps the
  // pieces as a rope that posting copies flat once, and the batch's
  // encoding takes about half the time (a list of about 600 strings a
  // batch, pushed and joined, cost more than the copy).
  #text = "";
  #others: SourceRecord[] = [];

  /** @param expected About how many records will be added (the arrays grow past it). */
  constructor(expected = 512) {
    this.#records = new Float64Array(Math.max(1, expected) * RECORD_WIDTH);
    this.#entries = new Uint32Array(Math.max(1, expected) * 2 * 8);
  }

  /** How many records were added since the last {@linkcode finish}. */
  get size(): number {
    return this.#count;
  }

  /** Adds a batch's records after those added before. */
  add(batch: readonly SourceRecord[]): void {
    const keys = this.#keys;
    const keyIndex = this.#keyIndex;
    if ((this.#count + batch.length) * RECORD_WIDTH > this.#records.length) {
      const larger = new Float64Array(
        Math.max(this.#records.length * 2, (this.#count + batch.length) * RECORD_WIDTH),
      );
      larger.set(this.#records);
      this.#records = larger;
    }
    const records = this.#records;
    let entries = this.#entries;
    let used = this.#used;
    let text = this.#text;
    const others = this.#others;
    for (let r = 0; r < batch.length; r++) {
      const record = batch[r];
      const at = (this.#count + r) * RECORD_WIDTH;
      records[at] = record.recordNumber;
      records[at + 1] = record.byteEnd;
      const first = used;
      /** The record's texts, added to the batch's once the record is known to be compact. */
      let own = "";
      let compact = true;
      const fields = record.fields;
      for (const key in fields) {
        const value = fields[key];
        if (typeof value !== "string" || key === "__proto__") {
          compact = false;
          break;
        }
        let index = keyIndex.get(key);
        if (index === undefined) {
          index = keys.length;
          keys.push(key);
          keyIndex.set(key, index);
        }
        if (used + 2 > entries.length) entries = grown(entries);
        entries[used] = index;
        entries[used + 1] = value.length;
        used += 2;
        own += value;
      }
      const metadata = record.checkedMetadata;
      // A "__proto__" key would be the object's prototype when set again.
      if (metadata !== undefined && Object.hasOwn(metadata, "__proto__")) compact = false;
      if (!compact) {
        // Undone: the record travels as it is.
        used = first;
        records[at + 2] = OTHER;
        others.push(record);
        continue;
      }
      const { parseError, warnings } = record;
      if (parseError !== undefined) {
        if (used + 2 > entries.length) entries = grown(entries);
        entries[used] = PARSE_ERROR_KEY;
        entries[used + 1] = parseError.length;
        used += 2;
        own += parseError;
      }
      if (warnings !== undefined) {
        for (const warning of warnings) {
          if (used + 2 > entries.length) entries = grown(entries);
          entries[used] = WARNING_KEY;
          entries[used + 1] = warning.length;
          used += 2;
          own += warning;
        }
      }
      records[at + 3] = (used - first) / 2;
      let flags = (record.plain === true ? PLAIN : 0) | (record.tidy === true ? TIDY : 0);
      if (metadata !== undefined) {
        flags |= METADATA;
        if (used + 2 > entries.length) entries = grown(entries);
        const counted = used;
        used += 2;
        let count = 0;
        for (const key in metadata) {
          let index = keyIndex.get(key);
          if (index === undefined) {
            index = keys.length;
            keys.push(key);
            keyIndex.set(key, index);
          }
          const value = metadata[key];
          if (used + 2 > entries.length) entries = grown(entries);
          entries[used] = index;
          entries[used + 1] = value.length;
          used += 2;
          own += value;
          count++;
        }
        entries[counted] = count;
      }
      records[at + 2] = flags;
      text += own;
    }
    this.#count += batch.length;
    this.#entries = entries;
    this.#used = used;
    this.#text = text;
  }

  /**
   * The records added, encoded, and the buffers to transfer with them; the
   * encoder is then empty, to be used again.
   */
  finish(): [EncodedBatch, ArrayBuffer[]] {
    const records = this.#records.slice(0, this.#count * RECORD_WIDTH);
    const kept = this.#entries.slice(0, this.#used);
    const encoded = {
      keys: this.#keys,
      records,
      entries: kept,
      text: this.#text,
      others: this.#others,
    };
    this.#keys = [];
    this.#keyIndex = new Map();
    this.#count = 0;
    this.#used = 0;
    this.#text = "";
    this.#others = [];
    return [encoded, [records.buffer, kept.buffer]];
  }
}

function grown(entries: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const larger = new Uint32Array(entries.length * 2);
  larger.set(entries);
  return larger;
}

/**
 * The records of an {@linkcode encodeBatch}ed batch, as they were.
 *
 * @param encoded The batch as it crossed.
 * @param into The records to add the batch's to, in order (a new list without it).
 * @returns `into`, with the batch's records after the ones it held.
 *
 * @example See {@linkcode encodeBatch}
 * ```ts
 * import { decodeBatch, encodeBatch } from "./_batch_codec.ts";
 * import { equal } from "node:assert/strict";
 *
 * const [encoded] = encodeBatch([{ recordNumber: 7, fields: {}, byteEnd: 9, parseError: "Cannot parse line 7: bad" }]);
 * equal(decodeBatch(encoded)[0].parseError, "Cannot parse line 7: bad");
 * ```
 */
export function decodeBatch(encoded: EncodedBatch, into: SourceRecord[] = []): SourceRecord[] {
  const { keys, records, entries, text, others } = encoded;
  const count = records.length / RECORD_WIDTH;
  const batch = into;
  let entry = 0;
  let pos = 0;
  let other = 0;
  for (let r = 0; r < count; r++) {
    const at = r * RECORD_WIDTH;
    const flags = records[at + 2];
    if ((flags & OTHER) !== 0) {
      batch.push(others[other++]);
      continue;
    }
    const fields: Record<string, unknown> = {};
    // Made as the mappers make a record (`mapped`, then MappedReader's
    // flags): its properties in their order, so that the records of a
    // message and those of lines handed over share a shape, and validation
    // reading either stays monomorphic.
    const record: SourceRecord = { recordNumber: records[at], byteEnd: records[at + 1], fields };
    const end = entry + records[at + 3] * 2;
    for (; entry < end; entry += 2) {
      const key = entries[entry];
      const length = entries[entry + 1];
      const value = text.slice(pos, pos + length);
      pos += length;
      if (key < WARNING_KEY) fields[keys[key]] = value;
      else if (key === PARSE_ERROR_KEY) record.parseError = value;
      else (record.warnings ??= []).push(value);
    }
    if ((flags & METADATA) !== 0) {
      const metadataEnd = entry + 2 + entries[entry] * 2;
      const metadata: Record<string, string> = {};
      for (entry += 2; entry < metadataEnd; entry += 2) {
        const length = entries[entry + 1];
        metadata[keys[entries[entry]]] = text.slice(pos, pos + length);
        pos += length;
      }
      record.checkedMetadata = metadata;
    }
    if ((flags & PLAIN) !== 0) record.plain = true;
    if ((flags & TIDY) !== 0) record.tidy = true;
    batch.push(record);
  }
  return batch;
}
