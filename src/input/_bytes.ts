// Byte helpers shared by the input readers.

/**
 * The longest record (CSV) or line (NDJSON) accepted. A user record is far
 * smaller; anything longer is almost always a quote that is never closed, so
 * the record becomes a row error instead of growing the buffer without end.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * `a` followed by `b`, copying only when both hold bytes and `b` does not
 * follow `a` in the same buffer (chunks handed on from one large read do),
 * nor follow bytes equal to `a`'s: a record carried over from a chunk that
 * was itself a copy (the first of a large read, joined to the record that
 * began in the read before) still lies in the read's buffer just before
 * `b`, and a view of it keeps every later chunk of that read from being
 * copied too.
 */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset) {
    return new Uint8Array(a.buffer, a.byteOffset, a.length + b.length);
  }
  if (b.byteOffset >= a.length && a.length <= MAX_RECORD_BYTES) {
    const start = b.byteOffset - a.length;
    if (equalBytes(new Uint8Array(b.buffer, start, a.length), a)) {
      return new Uint8Array(b.buffer, start, a.length + b.length);
    }
  }
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  // From the end: a carried record's last bytes differ soonest from another's.
  for (let i = x.length - 1; i >= 0; i--) if (x[i] !== y[i]) return false;
  return true;
}

/** An empty byte array. */
export function emptyBytes(): Uint8Array {
  return EMPTY;
}

/** Length of the UTF-8 byte order mark at the start of `bytes` (3 or 0). */
export function stripBom(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/** Whether `bytes` starts with a UTF-16 byte order mark (either order). */
export function hasUtf16Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}
