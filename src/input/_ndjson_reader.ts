// Reads NDJSON records (one JSON object per line) from a byte source in
// batches, with exact byte offsets; a bad line becomes a row error.

import { InputError } from "../errors.ts";
import type { SourceRecord } from "../types.ts";
import { normalizeColumnName } from "../validation/columns.ts";
import type { ByteSource } from "./_byte_source.ts";
import { ChunkedRecordReader } from "./_chunked_reader.ts";
import { concatBytes, emptyBytes, MAX_RECORD_BYTES, stripBom } from "./_bytes.ts";
import { isPlainJson, PlainStretches } from "./_plain_json.ts";
import { decodeUtf8 } from "./_utf8.ts";

const LF = 0x0a;
const CR = 0x0d;
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const NORMALIZED_KEY = /^[a-z0-9_]*$/;
/** Keys already seen to be normalized: every line repeats the same few. */
const normalizedKeys = new Set<string>();
const MAX_NORMALIZED_KEYS = 10_000;

/** The normalized keys of the last line read, in order (see `parseText`). */
const lastKeys: string[] = [];
const MAX_LAST_KEYS = 64;

function isNormalized(key: string): boolean {
  if (normalizedKeys.has(key)) return true;
  if (!NORMALIZED_KEY.test(key)) return false;
  if (normalizedKeys.size < MAX_NORMALIZED_KEYS) normalizedKeys.add(key);
  return true;
}

/** What the start of an NDJSON input says before its records. */
export interface NdjsonStart {
  /** Whether the first line was `{"_mode":"upsert"}`. */
  upsert: boolean;
  /** Absolute offset where records start. */
  end: number;
  /** Lines before that offset (the mode line and blank lines before it). */
  lines: number;
}

/**
 * Reads the optional mode line from a source positioned at the start of the
 * input. When the first non-blank line is not a mode line, its bytes are
 * given back and records start after the byte order mark, if any.
 */
export async function readNdjsonStart(source: ByteSource): Promise<NdjsonStart> {
  let buf = emptyBytes();
  let eof = false;
  for (;;) {
    const chunk = await source.read();
    if (chunk === null) eof = true;
    else buf = concatBytes(buf, chunk);
    if (buf.length < 3 && !eof) continue;
    const bom = stripBom(buf);
    const found = findModeLine(buf, bom, eof);
    if (found === "more" && buf.length <= MAX_RECORD_BYTES) continue;
    if (found !== "more" && found !== "none") {
      source.unread(buf.subarray(found.end));
      return found;
    }
    source.unread(buf.subarray(bom));
    return { upsert: false, end: bom, lines: 0 };
  }
}

/** The mode line if the first non-blank line is one; "more" when undecided. */
function findModeLine(buf: Uint8Array, start: number, eof: boolean): NdjsonStart | "none" | "more" {
  let pos = start;
  let lines = 0;
  while (pos < buf.length) {
    const newline = buf.indexOf(LF, pos);
    if (newline === -1 && !eof) return "more";
    const lineEnd = newline === -1 ? buf.length : newline;
    const next = newline === -1 ? buf.length : newline + 1;
    lines++;
    if (!isBlank(buf, pos, lineEnd)) {
      const upsert = modeOf(buf.subarray(pos, lineEnd), lines);
      return upsert === undefined ? "none" : { upsert, end: next, lines };
    }
    pos = next;
  }
  return eof ? "none" : "more";
}

/** `true`/`false` for a mode line, `undefined` for any other line. */
function modeOf(bytes: Uint8Array, lineNumber: number): boolean | undefined {
  let value: unknown;
  try {
    value = JSON.parse(strictDecoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "_mode") return undefined;
  const mode = (value as { _mode: unknown })._mode;
  if (mode === "upsert") return true;
  throw new InputError(
    `Cannot read line ${lineNumber}: "_mode" is ${JSON.stringify(mode)}: the only mode is "upsert"`,
  );
}

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/**
 * Offered a chunk's whole lines before they are parsed: `true` takes them
 * (to be read elsewhere from these bytes, by an {@linkcode NdjsonRecordReader}
 * that starts after line `lastLineNumber` at offset `base`), and this reader
 * then only counts them. The bytes are a view of the reader's buffer: the
 * taker copies what it keeps.
 */
export type HandOverLines = (lines: Uint8Array, base: number, lastLineNumber: number) => boolean;

/**
 * The most bytes of lines handed over at once: a chunk's worth and a line
 * carried into it, never a line too long to read (those stay here).
 */
const MAX_HANDED_OVER = 256 * 1024;

/** Streams NDJSON records in batches. */
export class NdjsonRecordReader extends ChunkedRecordReader {
  #lineNumber: number;
  /** An over-long line waiting for its end. */
  #skipping: SourceRecord | null = null;
  readonly #markPlain: boolean;
  readonly #handOver: HandOverLines | undefined;

  /**
   * @param source Positioned at the start of a line.
   * @param lastLineNumber Number of the line before the source position.
   * @param options `markPlain`: set `plain` on each record whose strings
   *   are all printable ASCII (a provider's mapper passes it on);
   *   `handOver`: offered each chunk's whole lines (see {@linkcode HandOverLines}).
   */
  constructor(
    source: ByteSource,
    lastLineNumber: number,
    options: { markPlain?: boolean; handOver?: HandOverLines } = {},
  ) {
    super(source);
    this.#lineNumber = lastLineNumber;
    this.#markPlain = options.markPlain ?? false;
    this.#handOver = options.handOver;
  }

  protected override process(
    buf: Uint8Array,
    base: number,
    eof: boolean,
    batch: SourceRecord[],
  ): Uint8Array {
    let pos = 0;
    if (this.#skipping !== null) {
      const newline = buf.indexOf(LF);
      if (newline === -1 && !eof) return emptyBytes();
      pos = newline === -1 ? buf.length : newline + 1;
      this.#skipping.byteEnd = base + pos;
      batch.push(this.#skipping);
      this.#skipping = null;
    }
    // The lines to parse, decoded together: one decode per chunk instead of
    // one per line. When the chunk's whole lines are ASCII (one character a
    // byte) they are decoded first and found in the text, whose search for
    // a line break is far quicker than a byte array's.
    const starts: number[] = [];
    const ends: number[] = [];
    const numbers: number[] = [];
    const byteEnds: number[] = [];
    const lines: PendingLines = { starts, ends, numbers, byteEnds, textStart: pos };
    const wholeEnd = eof ? buf.length : buf.lastIndexOf(LF) + 1;
    if (
      this.#handOver !== undefined && !this.countOnly && !eof && wholeEnd > pos &&
      wholeEnd - pos <= MAX_HANDED_OVER && buf.length - wholeEnd <= MAX_HANDED_OVER &&
      this.#handOver(buf.subarray(pos, wholeEnd), base + pos, this.#lineNumber)
    ) {
      // Read elsewhere: only counted here, blank lines as lines, not records.
      while (pos < wholeEnd) {
        const next = buf.indexOf(LF, pos) + 1;
        this.#lineNumber++;
        if (!isBlank(buf, pos, next - 1)) this.recordsFound++;
        pos = next;
      }
      return buf.subarray(pos);
    }
    if (!this.countOnly && wholeEnd > pos) {
      const text = decodeUtf8(buf.subarray(pos, wholeEnd));
      if (text !== undefined && text.length === wholeEnd - pos) lines.text = text;
      else if (text !== undefined) {
        // Not ASCII: found in the bytes, but not decoded again.
        lines.lineTexts = text.split("\n");
        lines.firstNumber = this.#lineNumber + 1;
      }
    }
    const text = lines.text;
    const textStart = pos;
    while (pos < buf.length) {
      const newline = text !== undefined && pos < wholeEnd
        ? indexOfLineBreak(text, pos - textStart, textStart)
        : buf.indexOf(LF, pos);
      if (newline === -1 && !eof) {
        if (buf.length - pos > MAX_RECORD_BYTES) {
          parseLines(buf, lines, batch, this.#markPlain);
          const lineNumber = ++this.#lineNumber;
          this.recordsFound++;
          this.#skipping = tooLong(lineNumber, 0);
          return emptyBytes();
        }
        break;
      }
      const next = newline === -1 ? buf.length : newline + 1;
      const lineEnd = newline === -1 ? buf.length : newline;
      const lineNumber = ++this.#lineNumber;
      if (lineEnd - pos > MAX_RECORD_BYTES) {
        this.recordsFound++;
        parseLines(buf, lines, batch, this.#markPlain);
        batch.push(tooLong(lineNumber, base + next));
      } else if (!isBlank(buf, pos, lineEnd)) {
        this.recordsFound++;
        if (!this.countOnly) {
          starts.push(pos);
          ends.push(lineEnd);
          numbers.push(lineNumber);
          byteEnds.push(base + next);
        }
      }
      pos = next;
    }
    parseLines(buf, lines, batch, this.#markPlain);
    return pos === 0 ? buf : buf.subarray(pos);
  }
}

/**
 * Parses the pending lines of `buf` into `batch` (and empties the lists):
 * one decode of the stretch they span, cut at its line breaks, or a decode
 * per line when the stretch is not UTF-8 (to find the line at fault).
 */
function parseLines(
  buf: Uint8Array,
  lines: PendingLines,
  batch: SourceRecord[],
  markPlain: boolean,
): void {
  const { starts, ends, numbers, byteEnds } = lines;
  const count = numbers.length;
  if (count === 0) return;
  if (lines.text !== undefined) {
    parseTextLines(lines, batch, markPlain);
    return;
  }
  let texts: string[] | undefined;
  // The number of the line that is texts[0].
  let first = numbers[0];
  let stretches: PlainStretches | undefined;
  if (lines.lineTexts !== undefined) {
    texts = lines.lineTexts;
    first = lines.firstNumber ?? first;
  } else if (count > 1) {
    const whole = decodeUtf8(buf.subarray(starts[0], ends[count - 1]));
    if (whole !== undefined) {
      texts = whole.split("\n");
      // All ASCII, the text's offsets are the bytes'.
      if (markPlain && whole.length === ends[count - 1] - starts[0]) {
        stretches = new PlainStretches(whole);
      }
    }
  }
  for (let k = 0; k < count; k++) {
    // Lines in the stretch are numbered one after another, blank ones included.
    const text = texts?.[numbers[k] - first];
    const record = text === undefined
      ? parseLine(buf.subarray(starts[k], ends[k]), numbers[k], byteEnds[k])
      : parseText(text, numbers[k], byteEnds[k]);
    if (markPlain && record.parseError === undefined) {
      const plain = stretches !== undefined
        ? stretches.isPlain(starts[k] - starts[0], ends[k] - starts[0])
        : isPlainJson(buf.subarray(starts[k], ends[k]));
      if (plain) record.plain = true;
    }
    batch.push(record);
  }
  starts.length = 0;
  ends.length = 0;
  numbers.length = 0;
  byteEnds.length = 0;
}

/** Lines found in a chunk and not parsed yet, by where they start and end (in the chunk). */
interface PendingLines {
  starts: number[];
  ends: number[];
  numbers: number[];
  /** Absolute offsets just past each line's break. */
  byteEnds: number[];
  /** The chunk's whole lines decoded, when all ASCII: their offsets are the bytes'. */
  text?: string;
  /** Where {@linkcode text} starts in the chunk. */
  textStart: number;
  /** Whether {@linkcode text} is plain, by stretch (made on first use). */
  plain?: PlainStretches;
  /** The chunk's whole lines decoded, when not all ASCII, line by line. */
  lineTexts?: string[];
  /** The number of the line that is `lineTexts[0]`. */
  firstNumber?: number;
}

/** The chunk index of the next line break in `text` (which starts at chunk index `start`), or -1. */
function indexOfLineBreak(text: string, from: number, start: number): number {
  const at = text.indexOf("\n", from);
  return at === -1 ? -1 : start + at;
}

/** {@linkcode parseLines} of lines within the decoded ASCII text: slices, no decode. */
function parseTextLines(lines: PendingLines, batch: SourceRecord[], markPlain: boolean): void {
  const { starts, ends, numbers, byteEnds, textStart } = lines;
  const text = lines.text as string;
  if (markPlain) lines.plain ??= new PlainStretches(text);
  const count = numbers.length;
  for (let k = 0; k < count; k++) {
    const from = starts[k] - textStart;
    const to = ends[k] - textStart;
    const record = parseText(text.slice(from, to), numbers[k], byteEnds[k]);
    if (markPlain && record.parseError === undefined && lines.plain?.isPlain(from, to)) {
      record.plain = true;
    }
    batch.push(record);
  }
  starts.length = 0;
  ends.length = 0;
  numbers.length = 0;
  byteEnds.length = 0;
}

function parseLine(bytes: Uint8Array, lineNumber: number, byteEnd: number): SourceRecord {
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return failed(lineNumber, byteEnd, "the line is not valid UTF-8: save the file as UTF-8");
  }
  return parseText(text, lineNumber, byteEnd);
}

function parseText(text: string, lineNumber: number, byteEnd: number): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the line, which may hold a password; only
    // the position is passed on.
    const position = /at position (\d+)/.exec(String(error))?.[1];
    const where = position === undefined ? "" : ` (near character ${Number(position) + 1})`;
    return failed(
      lineNumber,
      byteEnd,
      `the line is not valid JSON${where}: check its quotes, commas and braces`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "a list" : value === null ? "null" : `a ${typeof value}`;
    return failed(
      lineNumber,
      byteEnd,
      `the line is ${kind}, not a JSON object: write one object per line, like {"email":"ada@example.com"}`,
    );
  }
  let fields = value as Record<string, unknown>;
  // Lines of an export mostly have the keys of the line before, in its
  // order, and JSON.parse gives each key as one string kept for all: one
  // comparison a key, not a look-up.
  let k = 0;
  for (const key in fields) {
    if (key !== lastKeys[k]) {
      if (!isNormalized(key)) {
        const normalized = normalizeKeys(fields);
        if (typeof normalized === "string") {
          return failed(lineNumber, byteEnd, normalized);
        }
        fields = normalized;
        break;
      }
      if (k < MAX_LAST_KEYS) lastKeys[k] = key;
    }
    k++;
  }
  if ("_mode" in fields && Object.keys(fields).length === 1) {
    return failed(
      lineNumber,
      byteEnd,
      `"_mode" is only read from the first line: move it to line 1`,
    );
  }
  return { recordNumber: lineNumber, fields, byteEnd };
}

/** Fields under normalized names, or a problem when two names collide. */
function normalizeKeys(fields: Record<string, unknown>): Record<string, unknown> | string {
  const normalized: Record<string, unknown> = {};
  const originalNames = new Map<string, string>();
  for (const key in fields) {
    const name = normalizeColumnName(key);
    const earlier = originalNames.get(name);
    if (earlier !== undefined) {
      return `${JSON.stringify(earlier)} and ${
        JSON.stringify(key)
      } name the same field: keep only one of them`;
    }
    originalNames.set(name, key);
    normalized[name] = fields[key];
  }
  return normalized;
}

function tooLong(lineNumber: number, byteEnd: number): SourceRecord {
  return failed(
    lineNumber,
    byteEnd,
    `the line is longer than ${MAX_RECORD_BYTES} bytes: put one user on each line`,
  );
}

function failed(lineNumber: number, byteEnd: number, problem: string): SourceRecord {
  return {
    recordNumber: lineNumber,
    fields: {},
    byteEnd,
    parseError: `Cannot parse line ${lineNumber}: ${problem}`,
  };
}
