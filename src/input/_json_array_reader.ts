// Streams the elements of a JSON list of users (a top-level `[…]`, or the
// list under one key of a top-level object such as `{"users":[…]}`, several
// such objects one after another as paged exports write them) without loading
// the document: a byte scanner finds where each element starts and ends, and
// only the element is parsed. Each record's `byteEnd` is just past its
// element's closing byte, so a resume seeks there and goes on with the `,` or
// `]` that follows. The elements a chunk completes in one list are decoded
// and parsed together (what lies between them is commas and spaces, so
// `[` + that text + `]` is their list): one decode and one parse per chunk
// instead of one per user, and a user per user again only when that fails.

import { InputError } from "../errors.ts";
import type { SourceRecord } from "../types.ts";
import type { ByteSource } from "./_byte_source.ts";
import { ChunkedRecordReader } from "./_chunked_reader.ts";
import { emptyBytes, MAX_RECORD_BYTES } from "./_bytes.ts";
import { isPlainJson, PlainStretches } from "./_plain_json.ts";
import { decodeUtf8 } from "./_utf8.ts";

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LF = 0x0a;

/** Bytes that matter inside a value outside strings: 1 quote, 2 opening, 3 closing. */
const VALUE_BYTES = new Uint8Array(256);
VALUE_BYTES[QUOTE] = 1;
VALUE_BYTES[OPEN_BRACE] = 2;
VALUE_BYTES[OPEN_BRACKET] = 2;
VALUE_BYTES[CLOSE_BRACE] = 3;
VALUE_BYTES[CLOSE_BRACKET] = 3;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where the scanner is outside the elements. */
enum At {
  /** Between top-level values. */
  Top,
  /** In a wrapper object, before a key or `}`. */
  WrapperKey,
  /** In a wrapper object, after a key, before `:`. */
  WrapperColon,
  /** In a wrapper object, before a value. */
  WrapperValue,
  /** In a wrapper object, after a value, before `,` or `}`. */
  WrapperAfterValue,
  /** In the list, before an element or `]`. */
  ListItem,
  /** In the list, after an element, before `,` or `]`. */
  ListAfterItem,
}

/** How the scanner finds the list. */
export interface JsonListShape {
  /** Keys of a top-level object whose value is the list (`["users"]`). */
  keys: readonly string[];
  /** Whether a top-level `[…]` is the list itself. */
  topLevelList: boolean;
  /**
   * Each user's keys as the export writes them, not lower-cased (its mapper
   * reads them so): no copy of every user.
   */
  keepKeys?: boolean;
  /** Names the format in messages: `a Firebase export`. */
  label: string;
}

/** The state to resume with: just after an element of the list. */
export interface JsonListResume {
  /** Whether the list is inside a wrapper object. */
  wrapped: boolean;
}

/** Streams the elements of a JSON list as records numbered from 1. */
export class JsonListRecordReader extends ChunkedRecordReader {
  readonly #shape: JsonListShape;
  #at: At;
  #wrapped: boolean;
  /** Whether the wrapper holds the list (for the message when none does). */
  #listSeen = false;
  #recordNumber: number;
  /** Absolute offset of the next byte to scan. */
  #pos: number;
  // A value being scanned: an element (captured) or a wrapper value (skipped).
  #valueStart = -1;
  #capturing = false;
  #depth = 0;
  #inString = false;
  #escape = false;
  /** A primitive value (number, true, …) being skipped. */
  #primitive = false;
  /** A wrapper key being read. */
  #key: number[] | null = null;
  #keyEscape = false;
  #lastKey = "";
  /** An element too long to keep: skipped to its end, then a row error. */
  #tooLong = false;
  /**
   * Elements of one list completed in the buffer being processed and not
   * parsed yet: their start and end offsets (absolute) and numbers, in order.
   */
  #pendingStarts: number[] = [];
  #pendingEnds: number[] = [];
  #pendingNumbers: number[] = [];
  /** Whether a list ended since the pending elements began. */
  #listEnded = false;

  /**
   * @param source Positioned at the start of the input, or just after an
   *   element when resuming.
   * @param lastRecordNumber The number of the element before the position.
   * @param resume How to continue after an element; absent at the start.
   */
  constructor(
    source: ByteSource,
    shape: JsonListShape,
    lastRecordNumber: number,
    resume?: JsonListResume,
  ) {
    super(source);
    this.#shape = shape;
    this.#recordNumber = lastRecordNumber;
    this.#pos = source.position;
    this.#at = resume === undefined ? At.Top : At.ListAfterItem;
    this.#wrapped = resume?.wrapped ?? false;
    this.#listSeen = resume !== undefined;
  }

  protected override process(
    buf: Uint8Array,
    base: number,
    eof: boolean,
    batch: SourceRecord[],
  ): Uint8Array {
    let i = this.#pos - base;
    const end = buf.length;
    const lines: LineRun = {
      text: undefined,
      start: 0,
      retryAt: 0,
      more: false,
      after: -1,
      scanned: 0,
    };
    while (i < end) {
      if (this.#valueStart !== -1) {
        i = this.#scanValue(buf, base, i, batch);
        continue;
      }
      if (this.#key !== null) {
        i = this.#scanKey(buf, i);
        continue;
      }
      if (
        i >= lines.retryAt && !this.countOnly &&
        (this.#at === At.ListItem || this.#at === At.ListAfterItem)
      ) {
        const next = this.#readLines(buf, base, i, batch, lines);
        if (next > i) {
          i = next;
          continue;
        }
      }
      const c = buf[i];
      if (isSpace(c)) {
        i++;
        continue;
      }
      i = this.#structural(c, base + i) ? i + 1 : i;
    }
    this.#pos = base + end;
    this.#flush(buf, base, batch);
    if (eof) this.#finish(batch);
    if (this.#valueStart !== -1 && this.#capturing) {
      const keep = this.#valueStart - base;
      return keep <= 0 ? buf : buf.subarray(keep);
    }
    return emptyBytes();
  }

  /** Handles one structural byte outside values; `false` when a value starts at it. */
  #structural(c: number, offset: number): boolean {
    switch (this.#at) {
      case At.Top:
        if (c === OPEN_BRACE && this.#shape.keys.length > 0) {
          this.#at = At.WrapperKey;
          this.#wrapped = true;
          return true;
        }
        if (c === OPEN_BRACKET && this.#shape.topLevelList) {
          this.#at = At.ListItem;
          this.#wrapped = false;
          return true;
        }
        throw this.#shapeError(offset, this.#expected());
      case At.WrapperKey:
        if (c === QUOTE) {
          this.#key = [];
          this.#keyEscape = false;
          return true;
        }
        if (c === CLOSE_BRACE) {
          this.#endWrapper(offset);
          return true;
        }
        throw this.#shapeError(offset, "a key");
      case At.WrapperColon:
        if (c === COLON) {
          this.#at = At.WrapperValue;
          return true;
        }
        throw this.#shapeError(offset, '":"');
      case At.WrapperValue:
        if (c === OPEN_BRACKET && this.#shape.keys.includes(this.#lastKey)) {
          this.#at = At.ListItem;
          this.#listSeen = true;
          return true;
        }
        this.#startValue(offset, false, c);
        return false;
      case At.WrapperAfterValue:
        if (c === COMMA) {
          this.#at = At.WrapperKey;
          return true;
        }
        if (c === CLOSE_BRACE) {
          this.#endWrapper(offset);
          return true;
        }
        throw this.#shapeError(offset, '"," or "}"');
      case At.ListItem:
        if (c === CLOSE_BRACKET) {
          this.#endList();
          return true;
        }
        this.#startValue(offset, true, c);
        return false;
      case At.ListAfterItem:
        if (c === COMMA) {
          this.#at = At.ListItem;
          return true;
        }
        if (c === CLOSE_BRACKET) {
          this.#endList();
          return true;
        }
        throw this.#shapeError(offset, '"," or "]" after a user');
    }
  }

  #endList(): void {
    this.#at = this.#wrapped ? At.WrapperAfterValue : At.Top;
    // The next list's elements are parsed apart from this one's.
    this.#listEnded = true;
  }

  #endWrapper(offset: number): void {
    if (!this.#listSeen) {
      const keys = this.#shape.keys.map((key) => `"${key}"`).join(" or ");
      throw new InputError(
        `Cannot read the input as ${this.#shape.label}: the object that ends at byte ${offset} has no ${keys} list`,
      );
    }
    this.#listSeen = false;
    this.#at = At.Top;
  }

  #startValue(offset: number, capture: boolean, c: number): void {
    this.#valueStart = offset;
    this.#capturing = capture;
    this.#tooLong = false;
    this.#depth = 0;
    this.#inString = false;
    this.#escape = false;
    this.#primitive = c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== QUOTE;
  }

  /** Scans a value from `i`; returns where scanning stopped. */
  #scanValue(buf: Uint8Array, base: number, i: number, batch: SourceRecord[]): number {
    const end = buf.length;
    if (this.#primitive) {
      // A number, true, false or null: ends before a delimiter.
      while (i < end) {
        const c = buf[i];
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) {
          this.#endValue(buf, base, base + i, batch);
          return i;
        }
        i++;
      }
      return i;
    }
    while (i < end) {
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          i++;
          continue;
        }
        // Jump to the next quote or backslash.
        let j = i;
        while (j < end) {
          const c = buf[j];
          if (c === QUOTE || c === BACKSLASH) break;
          j++;
        }
        if (j === end) {
          i = end;
          break;
        }
        if (buf[j] === BACKSLASH) {
          this.#escape = true;
        } else {
          this.#inString = false;
          if (this.#depth === 0) {
            this.#endValue(buf, base, base + j + 1, batch);
            return j + 1;
          }
        }
        i = j + 1;
        continue;
      }
      const kind = VALUE_BYTES[buf[i]];
      if (kind === 1) {
        this.#inString = true;
      } else if (kind === 2) {
        this.#depth++;
      } else if (kind === 3) {
        this.#depth--;
        if (this.#depth === 0) {
          this.#endValue(buf, base, base + i + 1, batch);
          return i + 1;
        }
      }
      i++;
    }
    if (this.#capturing && base + i - this.#valueStart > MAX_RECORD_BYTES) {
      // Too long to keep: scan on without the bytes, report at the end.
      this.#capturing = false;
      this.#tooLong = true;
    }
    return i;
  }

  #endValue(buf: Uint8Array, base: number, endOffset: number, batch: SourceRecord[]): void {
    const start = this.#valueStart;
    const capturing = this.#capturing;
    const tooLong = this.#tooLong;
    this.#valueStart = -1;
    this.#capturing = false;
    this.#tooLong = false;
    if (this.#at === At.WrapperValue) {
      this.#at = At.WrapperAfterValue;
      return;
    }
    this.#at = At.ListAfterItem;
    const recordNumber = ++this.#recordNumber;
    this.recordsFound++;
    if (this.countOnly) return;
    if (tooLong) {
      this.#flush(buf, base, batch);
      batch.push(failed(
        recordNumber,
        endOffset,
        `user ${recordNumber} is longer than ${MAX_RECORD_BYTES} bytes: check the export`,
      ));
      return;
    }
    if (!capturing) return;
    if (this.#listEnded) this.#flush(buf, base, batch);
    this.#pendingStarts.push(start);
    this.#pendingEnds.push(endOffset);
    this.#pendingNumbers.push(recordNumber);
  }

  /** Parses the pending elements into `batch`: together, or one by one when that fails. */
  #flush(buf: Uint8Array, base: number, batch: SourceRecord[]): void {
    this.#listEnded = false;
    const count = this.#pendingNumbers.length;
    if (count === 0) return;
    const starts = this.#pendingStarts;
    const ends = this.#pendingEnds;
    const numbers = this.#pendingNumbers;
    this.#pendingStarts = [];
    this.#pendingEnds = [];
    this.#pendingNumbers = [];
    let values: unknown;
    let text = "";
    if (count > 1) {
      text = decodeUtf8(buf.subarray(starts[0] - base, ends[count - 1] - base)) ?? "";
      try {
        values = text === "" ? undefined : JSON.parse(`[${text}]`);
      } catch {
        values = undefined;
      }
    }
    if (!Array.isArray(values) || values.length !== count) {
      for (let k = 0; k < count; k++) {
        const bytes = buf.subarray(starts[k] - base, ends[k] - base);
        const record = parseElement(bytes, numbers[k], ends[k], this.#shape.keepKeys);
        if (record.parseError === undefined && isPlainJson(bytes)) record.plain = true;
        batch.push(record);
      }
      return;
    }
    // All ASCII (one character a byte), the text's offsets are the bytes':
    // each user is plain unless a backslash or DEL falls within it.
    const ascii = text.length === ends[count - 1] - starts[0];
    const stretches = ascii ? new PlainStretches(text) : undefined;
    for (let k = 0; k < count; k++) {
      const record = recordOf(values[k], numbers[k], ends[k], this.#shape.keepKeys);
      if (record.parseError === undefined) {
        if (stretches !== undefined) {
          if (stretches.isPlain(starts[k] - starts[0], ends[k] - starts[0])) record.plain = true;
        } else if (isPlainJson(buf.subarray(starts[k] - base, ends[k] - base))) {
          record.plain = true;
        }
      }
      batch.push(record);
    }
  }

  /**
   * Reads the users of whole lines from `from` while each line holds one
   * user and nothing else but a comma (as exports write them): a line
   * whose text (between the comma before and the comma after) parses as an
   * object is exactly one element, since a string holds no line break. No
   * byte is scanned, and the line's offsets are its bytes' (the lines are
   * decoded once, and only when all ASCII). Returns where the scanner goes
   * on: at the first line that is not such a line, which it reads itself.
   */
  #readLines(
    buf: Uint8Array,
    base: number,
    from: number,
    batch: SourceRecord[],
    lines: LineRun,
  ): number {
    if (
      lines.more && typeof lines.text === "string" &&
      from === lines.start + lines.text.length && lines.after > from
    ) {
      // The line here is the one not all ASCII that the text stopped at.
      lines.scanned++;
      lines.retryAt = lines.scanned <= MAX_SCANNED_LINES ? lines.after : Infinity;
      return from;
    }
    if (
      lines.text === undefined ||
      (lines.more && (lines.text === null || from >= lines.start + lines.text.length))
    ) {
      lines.text = decodeLines(buf, from, lines);
    }
    const text = lines.text;
    if (text === null || from < lines.start || from >= lines.start + text.length) {
      // A line with a character that is not ASCII: the scanner reads it,
      // and the lines after it are tried again (a few times a buffer).
      lines.retryAt = lines.more && lines.scanned <= MAX_SCANNED_LINES ? lines.after : Infinity;
      return from;
    }
    const plain = lines.plain as PlainStretches;
    let at = from - lines.start;
    while (at < text.length) {
      const newline = text.indexOf("\n", at);
      let p = at;
      while (p < newline && isSpace(text.charCodeAt(p))) p++;
      let q = newline;
      while (q > p && isSpace(text.charCodeAt(q - 1))) q--;
      let state = this.#at;
      if (p < q && state === At.ListAfterItem && text.charCodeAt(p) === COMMA) {
        state = At.ListItem;
        p++;
        while (p < q && isSpace(text.charCodeAt(p))) p++;
      }
      if (p === q) {
        this.#at = state;
        at = newline + 1;
        continue;
      }
      if (state !== At.ListItem) break;
      let after = At.ListAfterItem;
      if (text.charCodeAt(q - 1) === COMMA) {
        after = At.ListItem;
        q--;
        while (q > p && isSpace(text.charCodeAt(q - 1))) q--;
      }
      if (text.charCodeAt(p) !== OPEN_BRACE || text.charCodeAt(q - 1) !== CLOSE_BRACE) break;
      let value: unknown;
      try {
        value = JSON.parse(text.slice(p, q));
      } catch {
        break;
      }
      // Elements the scanner found before this line come first.
      this.#flush(buf, base, batch);
      this.recordsFound++;
      const record = recordOf(
        value,
        ++this.#recordNumber,
        base + lines.start + q,
        this.#shape.keepKeys,
      );
      if (record.parseError === undefined && plain.isPlain(p, q)) record.plain = true;
      batch.push(record);
      this.#at = after;
      at = newline + 1;
    }
    if (at < text.length) lines.retryAt = lines.start + text.indexOf("\n", at) + 1;
    return lines.start + at;
  }

  /** Reads a wrapper key's bytes from `i`. */
  #scanKey(buf: Uint8Array, i: number): number {
    const key = this.#key as number[];
    for (; i < buf.length; i++) {
      const c = buf[i];
      if (this.#keyEscape) {
        this.#keyEscape = false;
        key.push(c);
      } else if (c === BACKSLASH) {
        this.#keyEscape = true;
        key.push(c);
      } else if (c === QUOTE) {
        this.#lastKey = decodeKey(key);
        this.#key = null;
        this.#at = At.WrapperColon;
        return i + 1;
      } else if (key.length < 1024) {
        key.push(c);
      }
    }
    return i;
  }

  #finish(batch: SourceRecord[]): void {
    if (this.#valueStart !== -1 && this.#at === At.ListItem) {
      const recordNumber = ++this.#recordNumber;
      this.recordsFound++;
      this.#valueStart = -1;
      if (!this.countOnly) {
        batch.push(failed(
          recordNumber,
          this.#pos,
          `the file ends inside user ${recordNumber}: the export is cut off: export it again`,
        ));
      }
      return;
    }
    if (this.#at !== At.Top || this.#key !== null || this.#valueStart !== -1) {
      throw new InputError(
        `Cannot read the input as ${this.#shape.label}: the file ends before the list is closed: the export is cut off: export it again`,
      );
    }
  }

  #expected(): string {
    const keys = this.#shape.keys.map((key) => `{"${key}":[…]}`);
    if (this.#shape.topLevelList) keys.push("[…]");
    return keys.join(" or ");
  }

  #shapeError(offset: number, expected: string): InputError {
    return new InputError(
      `Cannot read the input as ${this.#shape.label}: expected ${expected} at byte ${offset}`,
    );
  }
}

/** The whole lines of one buffer, decoded once for {@linkcode JsonListRecordReader}'s line reading. */
interface LineRun {
  /** The text of the lines (`undefined`: not decoded yet; `null`: none, or not all ASCII). */
  text: string | null | undefined;
  /** Where the text starts in the buffer. */
  start: number;
  /** The buffer index before which the lines are not tried again. */
  retryAt: number;
  plain?: PlainStretches;
  /**
   * The text stops before the buffer's last whole line (at a line that is
   * not all ASCII, or at the window's end): the lines after it are decoded
   * when the reader gets there.
   */
  more: boolean;
  /** Where the line after the first one that is not all ASCII starts (when the text stops at it; else -1). */
  after: number;
  /** Lines that were not all ASCII, left to the scanner in this buffer. */
  scanned: number;
}

/**
 * Lines not all ASCII that a buffer's line reading passes to the scanner
 * before the rest of the buffer goes to it: each costs a decode of a
 * window, and a buffer of such lines is the scanner's anyway.
 */
const MAX_SCANNED_LINES = 8;

/** The bytes decoded at a time after a line that was not all ASCII. */
const LINE_WINDOW = 8 * 1024;

const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * The whole lines of `buf` from `from` up to the first that is not all
 * ASCII (one character a byte, so that a character's index is its byte's);
 * `null` when the first is not, or there is no whole line.
 */
function decodeLines(buf: Uint8Array, from: number, lines: LineRun): string | null {
  lines.more = false;
  lines.after = -1;
  let last = buf.lastIndexOf(LF);
  if (last < from) return null;
  // The first text of a buffer goes to its last line; after a line not all
  // ASCII, a window at a time, so that many such lines cost no more than a
  // few decodes of the buffer.
  if (lines.scanned > 0 && last + 1 - from > LINE_WINDOW) {
    const windowLast = buf.lastIndexOf(LF, from + LINE_WINDOW);
    if (windowLast >= from) {
      last = windowLast;
      lines.more = true;
    }
  }
  let text = decodeUtf8(buf.subarray(from, last + 1));
  if (text === undefined) {
    lines.more = false;
    return null;
  }
  if (text.length !== last + 1 - from) {
    const high = text.search(NOT_ASCII);
    if (high === -1) {
      lines.more = false;
      return null;
    }
    lines.more = true;
    lines.after = buf.indexOf(LF, from + high) + 1;
    const cut = text.lastIndexOf("\n", high);
    if (cut === -1) {
      lines.scanned++;
      return null;
    }
    text = text.slice(0, cut + 1);
  }
  lines.start = from;
  lines.plain = new PlainStretches(text);
  return text;
}

function decodeKey(bytes: number[]): string {
  try {
    return JSON.parse(`"${strictDecoder.decode(new Uint8Array(bytes))}"`);
  } catch {
    return "";
  }
}

function parseElement(
  bytes: Uint8Array,
  recordNumber: number,
  byteEnd: number,
  keepKeys: boolean | undefined,
): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(strictDecoder.decode(bytes));
  } catch {
    // The parser's message may quote a password hash: only say where.
    return failed(recordNumber, byteEnd, `user ${recordNumber} is not valid JSON or not UTF-8`);
  }
  return recordOf(value, recordNumber, byteEnd, keepKeys);
}

/** Lower-cased keys, by key: exports repeat the same few keys on every user. */
const lowerKeys = new Map<string, string>();
const MAX_LOWER_KEYS = 10_000;

function recordOf(
  value: unknown,
  recordNumber: number,
  byteEnd: number,
  keepKeys: boolean | undefined,
): SourceRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return failed(recordNumber, byteEnd, `user ${recordNumber} is not a JSON object`);
  }
  const object = value as Record<string, unknown>;
  if (keepKeys === true) return { recordNumber, fields: object, byteEnd };
  // Keys already in lower case (Auth0's are) leave the parsed user as it is.
  for (const key in object) {
    if (lowerOf(key) !== key) return { recordNumber, fields: lowered(object), byteEnd };
  }
  return { recordNumber, fields: object, byteEnd };
}

function lowerOf(key: string): string {
  let lower = lowerKeys.get(key);
  if (lower === undefined) {
    lower = key.toLowerCase();
    if (lowerKeys.size < MAX_LOWER_KEYS) lowerKeys.set(key, lower);
  }
  return lower;
}

function lowered(object: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key in object) fields[lowerOf(key)] = object[key];
  return fields;
}

function failed(recordNumber: number, byteEnd: number, problem: string): SourceRecord {
  return {
    recordNumber,
    fields: {},
    byteEnd,
    parseError: `Cannot parse row ${recordNumber}: ${problem}`,
  };
}
