/**
 * Parsing and checking of user metadata against WorkOS's limits.
 *
 * WorkOS documents its metadata limits at
 * https://workos.com/docs/authkit/metadata: up to 10 key-value pairs per
 * user, keys up to 40 characters, values up to 600 characters, both ASCII
 * only. Values are strings (metadata is string to string).
 *
 * @module
 */

import { isAscii, ownString } from "./_text.ts";

/**
 * WorkOS's documented metadata limits.
 *
 * @example Read a limit
 * ```ts
 * import { METADATA_LIMITS } from "./metadata.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(METADATA_LIMITS.maxKeys, 10);
 * ```
 */
export const METADATA_LIMITS: Readonly<{
  maxKeys: number;
  maxKeyLength: number;
  maxValueLength: number;
}> = Object.freeze({ maxKeys: 10, maxKeyLength: 40, maxValueLength: 600 });

/** The result of {@linkcode parseMetadata}. */
export type ParsedMetadata =
  | {
    ok: true;
    /** The metadata, or `undefined` when the value was blank or absent. */
    metadata: Record<string, string> | undefined;
  }
  | {
    ok: false;
    /** What is wrong and how to fix it; no final period, no row prefix. */
    reason: string;
  };

/**
 * Parses a metadata value from a CSV cell (a string holding a JSON object) or
 * an NDJSON field (an object, or a string holding one), and checks it against
 * {@linkcode METADATA_LIMITS}. A blank string, `null` and `undefined` mean no
 * metadata.
 *
 * With `plain` (the caller knows the text is printable ASCII, as a CSV
 * reader that checked the bytes does), a flat object of strings is read in
 * one pass instead of through `JSON.parse`; the result is the same. With
 * `keep: false` as well (a dry run or `validate`, which never read a row's
 * metadata), such an object is only checked, not built: the result is then
 * `{ ok: true, metadata: undefined }`, as for a blank value, and any other
 * value gives what it would without `keep`.
 *
 * @example Parse a CSV cell
 * ```ts
 * import { parseMetadata } from "./metadata.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseMetadata('{"plan":"pro"}'), { ok: true, metadata: { plan: "pro" } });
 * deepEqual(parseMetadata(" "), { ok: true, metadata: undefined });
 * deepEqual(parseMetadata('{"seats":5}'), {
 *   ok: false,
 *   reason: 'key "seats" holds a number: WorkOS metadata values must be strings, write "5"',
 * });
 * ```
 *
 * @example Check a cell without keeping its object
 * ```ts
 * import { parseMetadata } from "./metadata.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const options = { plain: true, keep: false };
 * deepEqual(parseMetadata('{"plan":"pro"}', options), { ok: true, metadata: undefined });
 // A repeated key is left to JSON.parse, whose last value wins.
 * deepEqual(parseMetadata('{"plan":"pro","plan":"max"}', options), {
 *   ok: true,
 *   metadata: { plan: "max" },
 * });
 * ```
 */
export function parseMetadata(
  value: unknown,
  options?: { plain?: boolean; keep?: boolean },
): ParsedMetadata {
  if (value === undefined || value === null) return { ok: true, metadata: undefined };
  let parsed = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text === "") return { ok: true, metadata: undefined };
    // Almost every cell is a flat object of short strings without escapes:
    // read it in one pass; anything else goes the whole way below, for its
    // exact message.
    if (options?.plain && !text.includes("\\")) {
      if (options.keep === false) {
        if (readFlatObject(text)) return CHECKED;
      } else {
        const flat: Record<string, string> = {};
        if (readFlatObject(text, flat)) return { ok: true, metadata: flat };
      }
    }
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's message quotes the input, so it is not passed on.
      return {
        ok: false,
        reason: 'is not valid JSON: write a JSON object such as {"plan":"pro"}',
      };
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      reason: `is ${describe(parsed)}, not a JSON object: write an object such as {"plan":"pro"}`,
    };
  }
  return checkObject(parsed as Record<string, unknown>);
}

const QUOTE = 0x22;
const SPACE = 0x20;

/** What a cell only checked gives: one frozen result, not one a row. */
const CHECKED: ParsedMetadata = Object.freeze({ ok: true, metadata: undefined });

/**
 * Whether `text` is a JSON object of strings within
 * {@linkcode METADATA_LIMITS}, read in one pass from text that is printable
 * ASCII without a backslash (so without escapes), only spaces between
 * tokens; when `object` is given, its keys and values are stored in it.
 * `false` for anything else (a non-string value, a limit passed, a repeated
 * or `__proto__` key, text that is not JSON), which the caller then reads
 * with `JSON.parse` and judges as it always has: this answers only when that
 * would say the same. Keys are compared where they lie in `text`, so a cell
 * only checked (a dry run, `validate`) builds no object and no string.
 */
function readFlatObject(text: string, object?: Record<string, string>): boolean {
  const { maxKeys, maxKeyLength, maxValueLength } = METADATA_LIMITS;
  const end = text.length;
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(end - 1) !== 0x7d) return false;
  let count = 0;
  let i = skipSpaces(text, 1);
  if (i === end - 1) return true;
  const starts = KEY_STARTS;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return false;
    const keyStart = i + 1;
    const keyEnd = stringEnd(text, keyStart);
    if (keyEnd < 0) return false;
    const keyLength = keyEnd - keyStart;
    if (keyLength === 0 || keyLength > maxKeyLength || count === maxKeys) return false;
    if (keyLength === 9 && text.startsWith("__proto__", keyStart)) return false;
    for (let k = 0; k < count; k++) {
      if (
        KEY_LENGTHS[k] === keyLength && sameText(text, starts[k], keyStart, keyLength)
      ) return false;
    }
    starts[count] = keyStart;
    KEY_LENGTHS[count++] = keyLength;
    i = skipSpaces(text, keyEnd + 1);
    if (text.charCodeAt(i) !== 0x3a) return false;
    i = skipSpaces(text, i + 1);
    if (text.charCodeAt(i) !== QUOTE) return false;
    const valueEnd = stringEnd(text, i + 1);
    if (valueEnd < 0 || valueEnd - i - 1 > maxValueLength) return false;
    if (object !== undefined) {
      object[knownKey(text, keyStart, keyEnd)] = text.slice(i + 1, valueEnd);
    }
    i = skipSpaces(text, valueEnd + 1);
    const c = text.charCodeAt(i);
    if (c === 0x7d) return i === end - 1;
    if (c !== 0x2c) return false;
    i = skipSpaces(text, i + 1);
  }
}

/** Where {@linkcode readFlatObject} found the keys of the cell it reads, and their lengths. */
const KEY_STARTS = new Int32Array(METADATA_LIMITS.maxKeys);
const KEY_LENGTHS = new Int32Array(METADATA_LIMITS.maxKeys);

/** Whether `text` holds the same `length` characters at `a` and at `b`. */
function sameText(text: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) {
    if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  }
  return true;
}

/**
 * Metadata keys seen so far (at most {@linkcode MAX_KNOWN_KEYS}): the rows of
 * a file mostly repeat a few. A key found here is the same string each row,
 * which V8 has already made a property name; a fresh slice would be hashed
 * and looked up in the string table for its store and for `Object.hasOwn`.
 */
const knownKeys: string[] = [];
const MAX_KNOWN_KEYS = 32;

/** The key `text[start..end)`, as a known key when it is one. */
function knownKey(text: string, start: number, end: number): string {
  const length = end - start;
  for (let k = 0; k < knownKeys.length; k++) {
    const key = knownKeys[k];
    if (key.length === length && text.startsWith(key, start)) return key;
  }
  const key = text.slice(start, end);
  // A string of its own: a slice would keep the reader's text alive.
  if (knownKeys.length < MAX_KNOWN_KEYS) knownKeys.push(ownString(key));
  return key;
}

function skipSpaces(text: string, from: number): number {
  while (text.charCodeAt(from) === SPACE) from++;
  return from;
}

/**
 * Index of the quote closing a string that starts at `from`, or -1 (the
 * callers' text has no backslash, so no escape). `indexOf`, not a loop of
 * `charCodeAt`: a cell is a slice of the reader's run text, and each
 * `charCodeAt` of a slice finds its parent again (a 1M-row file's cells
 * checked in 116 ms against 180 ms in isolation).
 */
function stringEnd(text: string, from: number): number {
  return text.indexOf('"', from);
}

function checkObject(object: Record<string, unknown>): ParsedMetadata {
  const keys = Object.keys(object);
  const { maxKeys, maxKeyLength, maxValueLength } = METADATA_LIMITS;
  if (keys.length > maxKeys) {
    return {
      ok: false,
      reason: `has ${keys.length} keys: WorkOS allows at most ${maxKeys}, remove some`,
    };
  }
  for (const key of keys) {
    if (key === "") return { ok: false, reason: "has an empty key: give every value a name" };
    if (!isAscii(key)) {
      return {
        ok: false,
        reason: `key ${JSON.stringify(key)} is not ASCII: WorkOS metadata keys must be ASCII`,
      };
    }
    if (key.length > maxKeyLength) {
      return {
        ok: false,
        reason: `key ${
          JSON.stringify(key)
        } is ${key.length} characters long: WorkOS allows at most ${maxKeyLength}`,
      };
    }
    const item = object[key];
    if (typeof item !== "string") {
      const hint = typeof item === "number" || typeof item === "boolean" ? `, write "${item}"` : "";
      return {
        ok: false,
        reason: `key ${JSON.stringify(key)} holds ${
          describe(item)
        }: WorkOS metadata values must be strings${hint}`,
      };
    }
    if (!isAscii(item)) {
      return {
        ok: false,
        reason: `key ${
          JSON.stringify(key)
        } has a value that is not ASCII: WorkOS metadata values must be ASCII`,
      };
    }
    if (item.length > maxValueLength) {
      return {
        ok: false,
        reason: `key ${
          JSON.stringify(key)
        } has a value of ${item.length} characters: WorkOS allows at most ${maxValueLength}`,
      };
    }
  }
  return { ok: true, metadata: object as Record<string, string> };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "string":
      return "a string";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
