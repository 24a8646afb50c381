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
 * follow `a` in the same buffer (chunks handed on from one large read do).
 */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset) {
    return new Uint8Array(a.buffer, a.byteOffset, a.length + b.length);
  }
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
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
