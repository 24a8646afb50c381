/**
 * A large report as JSON in pieces, each far below a megabyte, that join to
 * exactly what `JSON.stringify` gives: the text of a validate report of
 * 20,000 issues is 1.5–2 MB, and built whole it sat in V8's large-object
 * space (with the copy `JSON.stringify` flattens it from, and its UTF-8
 * bytes) until the next full collection, at the very end of a pass whose
 * memory peaks there.
 *
 * @module
 */

/** Characters a piece reaches before it is handed on (far below V8's large objects, 128 KiB). */
const PIECE_CHARS = 16_384;

/** Options for {@linkcode jsonPieces}. */
export interface JsonPiecesOptions {
  /** Spaces a level, as `JSON.stringify`'s third argument (0: compact, the default). */
  indent?: number;
}

/**
 * `JSON.stringify(value, null, indent)` of an object in pieces: each array
 * among its own values element by element, everything else whole.
 *
 * @param value A plain object (its own enumerable properties, as JSON has them).
 * @param options The indent.
 * @returns Pieces whose concatenation is `JSON.stringify`'s text.
 *
 * @example Usage
 * ```ts
 * import { jsonPieces } from "./_json_pieces.ts";
 * import assert from "node:assert/strict";
 *
 * const report = { rows: 2, errors: [{ row: 1 }, { row: 2 }] };
 * assert.equal([...jsonPieces(report, { indent: 2 })].join(""), JSON.stringify(report, null, 2));
 * ```
 */
export function* jsonPieces(
  value: Readonly<Record<string, unknown>>,
  options: JsonPiecesOptions = {},
): Generator<string> {
  const indent = " ".repeat(options.indent ?? 0);
  // What JSON.stringify puts between a key and its value, and after a comma.
  const colon = indent === "" ? ":" : ": ";
  const open = indent === "" ? "" : `\n${indent}`;
  const inner = indent === "" ? "" : `\n${indent}${indent}`;
  // The text of a value one level down (or two), indented as it would be there.
  const at = (text: string, prefix: string) => indent === "" ? text : text.replaceAll("\n", prefix);
  let piece = "{";
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    const whole = Array.isArray(member) && member.length > 0
      ? ""
      : JSON.stringify(member, null, indent);
    // JSON leaves out a property whose value it cannot write (undefined, a function).
    if (whole === undefined) continue;
    piece += `${first ? "" : ","}${open}${JSON.stringify(key)}${colon}`;
    first = false;
    if (whole !== "") {
      piece += at(whole, open);
      continue;
    }
    const elements = member as unknown[];
    piece += "[";
    for (let i = 0; i < elements.length; i++) {
      // An array element JSON cannot write is written as null.
      const element = JSON.stringify(elements[i], null, indent) ?? "null";
      piece += `${i === 0 ? "" : ","}${inner}${at(element, inner)}`;
      if (piece.length >= PIECE_CHARS) {
        yield piece;
        piece = "";
      }
    }
    piece += `${open}]`;
  }
  piece += first ? "}" : `${indent === "" ? "" : "\n"}}`;
  yield piece;
}

/** Where {@linkcode writePieces} writes: an open file, or `Deno.stdout`. */
export interface PieceTarget {
  /** Writes some of `bytes` at once and says how many. */
  writeSync(bytes: Uint8Array): number;
}

/**
 * Writes pieces of text to `target` through one reused buffer (each piece
 * encoded into it, never as bytes of its own). Synchronous, so that a
 * report's last line goes out whole before the process moves on.
 *
 * @param target The open file, or `Deno.stdout`.
 * @param pieces The text, in pieces of at most 16,384 characters or so (longer ones in several writes).
 *
 * @example Usage
 * ```ts
 * import { jsonPieces, writePieces } from "./_json_pieces.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * {
 *   using file = await Deno.open(path, { write: true });
 *   writePieces(file, jsonPieces({ a: [1, 2] }));
 * }
 * assert.equal(await Deno.readTextFile(path), '{"a":[1,2]}');
 * await Deno.remove(path);
 * ```
 */
export function writePieces(target: PieceTarget, pieces: Iterable<string>): void {
  const encoder = new TextEncoder();
  // Three bytes a UTF-16 unit at most, and a unit more for a split pair.
  const buffer = new Uint8Array(3 * PIECE_CHARS + 4);
  for (const piece of pieces) {
    let rest = piece;
    while (rest.length > 0) {
      const { read, written } = encoder.encodeInto(rest, buffer);
      for (let offset = 0; offset < written;) {
        offset += target.writeSync(buffer.subarray(offset, written));
      }
      rest = rest.slice(read);
    }
  }
}
