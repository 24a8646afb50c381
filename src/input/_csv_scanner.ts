// The byte-level CSV record scanner. It finds where one record's fields start
// and end in a byte buffer, so that byte offsets are exact whatever the text
// encoding does, and so that a broken record can be skipped without losing
// the records after it.
//
// Dialect: RFC 4180 with comma (or another one-byte) separators and CRLF, LF
// or CR line breaks. Leniencies: spaces or tabs (unless tab separates) around
// a quoted value are ignored, and a quote inside an unquoted value is kept as
// text.

/** The default separator byte. */
export const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** Field flag: the value was quoted. */
export const QUOTED = 1;
/** Field flag: the quoted value holds doubled quotes to unescape. */
export const ESCAPED = 2;

/** Scan outcome: the record is complete. */
export const RECORD = 0;
/** Scan outcome: the buffer ends inside the record; more bytes are needed. */
export const NEED_MORE = 1;
/** Scan outcome: a quoted value is followed by text other than a separator. */
export const TEXT_AFTER_QUOTE = 2;
/** Scan outcome: the input ends inside a quoted value. */
export const UNCLOSED_QUOTE = 3;

export type ScanOutcome =
  | typeof RECORD
  | typeof NEED_MORE
  | typeof TEXT_AFTER_QUOTE
  | typeof UNCLOSED_QUOTE;

/** Where a scanned record's fields lie; reused from record to record. */
export class ScannedRecord {
  /** Index just past the record's line break (or the end of the input). */
  end = 0;
  /** Index just past the last field's bytes (before the line break). */
  contentEnd = 0;
  fieldCount = 0;
  /** Whether any byte is 0x80 or above (the record is not plain ASCII). */
  nonAscii = false;
  /** Whether any field has the {@linkcode ESCAPED} flag (doubled quotes to unescape). */
  escaped = false;
  /**
   * Whether every byte of every value is printable ASCII (0x20–0x7E): then
   * no value holds a control character, a line break or non-ASCII text, and
   * validation need not look for them.
   */
  plain = true;
  /** For a failed scan, the index of the field at fault. */
  errorField = 0;
  /** Triples of [start, end, flags] per field. */
  bounds: Int32Array = new Int32Array(3 * 32);
  /** The byte between fields. */
  readonly separator: number;

  constructor(separator: number = COMMA) {
    this.separator = separator;
  }

  push(start: number, end: number, flags: number): void {
    const at = this.fieldCount * 3;
    if (at + 3 > this.bounds.length) {
      const grown = new Int32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[at] = start;
    this.bounds[at + 1] = end;
    this.bounds[at + 2] = flags;
    this.fieldCount++;
  }
}

/**
 * Scans one record in `buf[start..limit)`. `eof` says whether `limit` is the
 * end of the input; without it a record that reaches `limit` needs more bytes
 * (even a lone CR, which may be the first half of CRLF).
 */
export function scanRecord(
  buf: Uint8Array,
  start: number,
  limit: number,
  eof: boolean,
  out: ScannedRecord,
): ScanOutcome {
  const len = limit;
  const separator = out.separator;
  // Padding around a quoted value is spaces, and tabs unless a tab separates.
  const padTab = separator === TAB ? SPACE : TAB;
  out.fieldCount = 0;
  // Negative once any value byte is outside 0x20–0x7E.
  let odd = 0;
  let escaped = false;
  let i = start;
  for (;;) {
    let q = i;
    while (q < len && (buf[q] === SPACE || buf[q] === padTab)) q++;
    let j: number;
    if (q < len && buf[q] === QUOTE) {
      j = q + 1;
      const valueStart = j;
      let flags = QUOTED;
      let valueEnd: number;
      for (;;) {
        if (j >= len) {
          if (!eof) return NEED_MORE;
          out.errorField = out.fieldCount;
          return UNCLOSED_QUOTE;
        }
        const c = buf[j];
        if (c === QUOTE) {
          if (j + 1 >= len && !eof) return NEED_MORE;
          if (j + 1 < len && buf[j + 1] === QUOTE) {
            flags |= ESCAPED;
            escaped = true;
            j += 2;
            continue;
          }
          valueEnd = j;
          j++;
          break;
        }
        odd |= (c - 0x20) | (0x7e - c);
        j++;
      }
      while (j < len && (buf[j] === SPACE || buf[j] === padTab)) j++;
      out.push(valueStart, valueEnd, flags);
      if (j < len) {
        const c = buf[j];
        if (c !== separator && c !== LF && c !== CR) {
          out.errorField = out.fieldCount - 1;
          return TEXT_AFTER_QUOTE;
        }
      }
    } else {
      j = i;
      while (j < len) {
        const c = buf[j];
        if (c === separator || c === LF || c === CR) break;
        odd |= (c - 0x20) | (0x7e - c);
        j++;
      }
      out.push(i, j, 0);
    }
    if (j >= len) {
      if (!eof) return NEED_MORE;
      out.contentEnd = j;
      out.end = j;
      break;
    }
    const c = buf[j];
    if (c === separator) {
      i = j + 1;
      continue;
    }
    out.contentEnd = j;
    if (c === LF) {
      out.end = j + 1;
    } else if (j + 1 < len) {
      out.end = buf[j + 1] === LF ? j + 2 : j + 1;
    } else {
      if (!eof) return NEED_MORE;
      out.end = j + 1;
    }
    break;
  }
  out.plain = odd >= 0;
  out.escaped = escaped;
  out.nonAscii = !out.plain && hasHighByte(buf, start, out.contentEnd);
  return RECORD;
}

/** Whether any byte of `buf[start..end)` is 0x80 or above. */
function hasHighByte(buf: Uint8Array, start: number, end: number): boolean {
  let high = 0;
  for (let i = start; i < end; i++) high |= buf[i];
  return (high & 0x80) !== 0;
}

/**
 * Index just past the first line break at or after `start`, or -1 when there
 * is none in `buf` (a CR at the very end counts only at the end of input).
 */
export function indexAfterLineBreak(buf: Uint8Array, start: number, eof: boolean): number {
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === LF) return i + 1;
    if (c === CR) {
      if (i + 1 < buf.length) return buf[i + 1] === LF ? i + 2 : i + 1;
      return eof ? i + 1 : -1;
    }
  }
  return -1;
}

/** Whether every field of a scanned record is empty or only spaces/tabs. */
export function isBlankRecord(buf: Uint8Array, record: ScannedRecord): boolean {
  const { bounds, fieldCount } = record;
  for (let f = 0; f < fieldCount; f++) {
    for (let i = bounds[f * 3], end = bounds[f * 3 + 1]; i < end; i++) {
      const c = buf[i];
      if (c !== SPACE && c !== TAB) return false;
    }
  }
  return true;
}
