/**
 * Strict decoders for the encodings password hashes come in (standard and
 * URL-safe base64, passlib's adapted base64, hex) and the unpadded base64
 * that PHC strings use.
 *
 * @module
 */

import { Buffer } from "node:buffer";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Decodes standard or URL-safe base64, padded or not; `undefined` when the
 * text is not base64 (a length that cannot be, a stray character).
 *
 * @param text The encoded text.
 * @returns The bytes, or `undefined`.
 *
 * @example Padded and unpadded decode alike
 * ```ts
 * import { decodeBase64 } from "./_encoding.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeBase64("c2FsdA=="), decodeBase64("c2FsdA"));
 * deepEqual(decodeBase64("not base64!"), undefined);
 * ```
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text) && !BASE64_URL.test(text)) return undefined;
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) return undefined;
  if (text.length !== body.length && text.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(body.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
}

/**
 * Decodes passlib's "adapted base64" (`.` for `+`, no padding).
 *
 * @param text The encoded text.
 * @returns The bytes, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { decodeAdaptedBase64 } from "./_encoding.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(decodeAdaptedBase64("c2FsdA")?.length, 4);
 * ```
 */
export function decodeAdaptedBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9./]*$/.test(text)) return undefined;
  return decodeBase64(text.replace(/\./g, "+"));
}

/**
 * Decodes hex (either case); `undefined` when it is not whole bytes of hex.
 *
 * @param text The encoded text.
 * @returns The bytes, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { decodeHex } from "./_encoding.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeHex("00ff"), new Uint8Array([0, 255]));
 * deepEqual(decodeHex("0f0"), undefined);
 * ```
 */
export function decodeHex(text: string): Uint8Array | undefined {
  if (!HEX.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "hex"));
}

/**
 * Encodes bytes as PHC's B64: standard base64 without `=` padding.
 *
 * @param bytes The bytes.
 * @returns The encoded text.
 *
 * @example Usage
 * ```ts
 * import { encodePhcBase64 } from "./_encoding.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(encodePhcBase64(new TextEncoder().encode("salt")), "c2FsdA");
 * ```
 */
export function encodePhcBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

/**
 * Encodes text as UTF-8 bytes (Django and Werkzeug salts are text).
 *
 * @param text The text.
 * @returns The bytes.
 *
 * @example Usage
 * ```ts
 * import { utf8 } from "./_encoding.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(utf8("salt").length, 4);
 * ```
 */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
