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

import { isAscii } from "./_text.ts";

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
 */
export function parseMetadata(value: unknown): ParsedMetadata {
  if (value === undefined || value === null) return { ok: true, metadata: undefined };
  let parsed = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text === "") return { ok: true, metadata: undefined };
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
