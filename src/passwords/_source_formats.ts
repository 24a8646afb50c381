/**
 * The hash formats other systems write (Django, Werkzeug, passlib), taken
 * apart into the PHC parts WorkOS's format is written from, and the formats
 * WorkOS cannot take at all.
 *
 * @module
 */

import { decodeAdaptedBase64, decodeBase64, decodeHex, utf8 } from "./_encoding.ts";
import type { PhcParts } from "./_phc.ts";
import type { WorkOSHashType } from "./_types.ts";

/** A source-format hash read into WorkOS terms. */
export type SourceReading =
  /** PHC parts to check and write. */
  | { kind: "phc"; type: WorkOSHashType; format: string; parts: PhcParts }
  /** A hash text (with a wrapper removed) to read again as WorkOS's own format. */
  | { kind: "text"; format: string; text: string }
  /** Recognized, but it cannot become a WorkOS hash; `reason` says why. */
  | { kind: "unusable"; format: string; reason: string };

const DJANGO_DKLEN_SCRYPT = 64;
const WERKZEUG_DKLEN_SCRYPT = 64;

/**
 * Reads a hash written by Django, Werkzeug or passlib; `undefined` when the
 * text is none of theirs.
 *
 * @param text The hash text.
 * @returns What it is in WorkOS terms.
 *
 * @example A Django pbkdf2 hash
 * ```ts
 * import { readSourceFormat } from "./_source_formats.ts";
 * import { equal } from "node:assert/strict";
 *
 * const reading = readSourceFormat("pbkdf2_sha256$600000$salt$aGFzaA==");
 * equal(reading?.kind, "phc");
 * ```
 */
export function readSourceFormat(text: string): SourceReading | undefined {
  return readDjango(text) ?? readWerkzeug(text) ?? readPasslib(text) ?? readUnusable(text);
}

function pbkdf2Parts(
  format: string,
  digest: string,
  iterations: string,
  salt: Uint8Array,
  hash: Uint8Array,
): SourceReading {
  if (digest === "sha1") {
    return {
      kind: "unusable",
      format,
      reason: "pbkdf2 with sha1, which WorkOS does not take (sha256 or sha512 only)",
    };
  }
  return {
    kind: "phc",
    type: "pbkdf2",
    format,
    parts: { id: "pbkdf2", params: [["i", iterations], ["d", digest]], salt, hash },
  };
}

function malformed(format: string, what: string): SourceReading {
  return { kind: "unusable", format, reason: `a ${format} hash whose ${what}` };
}

// Django: <algorithm>$<fields…>, https://docs.djangoproject.com/en/stable/topics/auth/passwords/
function readDjango(text: string): SourceReading | undefined {
  const pbkdf2 = text.match(/^pbkdf2_(sha256|sha1|sha512)\$(\d+)\$([^$]*)\$([^$]*)$/);
  if (pbkdf2) {
    const [, digest, iterations, salt, hash] = pbkdf2;
    const bytes = decodeBase64(hash);
    if (!bytes || bytes.length === 0) return malformed("Django pbkdf2", "hash is not base64");
    if (salt === "") return malformed("Django pbkdf2", "salt is empty");
    return pbkdf2Parts("django-pbkdf2", digest, iterations, utf8(salt), bytes);
  }
  const scrypt = text.match(/^scrypt\$([^$]+)\$(\d+)\$(\d+)\$(\d+)\$([^$]+)$/);
  if (scrypt) {
    const [, salt, n, r, p, hash] = scrypt;
    const bytes = decodeBase64(hash);
    if (!bytes || bytes.length === 0) return malformed("Django scrypt", "hash is not base64");
    return {
      kind: "phc",
      type: "scrypt",
      format: "django-scrypt",
      parts: {
        id: "scrypt",
        params: [["n", n], ["r", r], ["p", p], ["kl", String(bytes.length || DJANGO_DKLEN_SCRYPT)]],
        salt: utf8(salt),
        hash: bytes,
      },
    };
  }
  if (/^argon2\$argon2(id|i|d)\$/.test(text)) {
    return { kind: "text", format: "django-argon2", text: text.slice("argon2".length) };
  }
  if (/^bcrypt\$\$2[aby]\$/.test(text)) {
    return { kind: "text", format: "django-bcrypt", text: text.slice("bcrypt$".length) };
  }
  if (text.startsWith("bcrypt_sha256$")) {
    return {
      kind: "unusable",
      format: "django-bcrypt-sha256",
      reason:
        "Django's bcrypt_sha256 (bcrypt of a SHA-256 of the password), which WorkOS does not take",
    };
  }
  const weak = text.match(/^(sha1|md5|unsalted_sha1|unsalted_md5|crypt)\$/);
  if (weak) {
    return {
      kind: "unusable",
      format: `django-${weak[1]}`,
      reason: `Django's ${weak[1]}, which WorkOS does not take`,
    };
  }
  return undefined;
}

// Werkzeug: <method>$<salt>$<hex>, method "pbkdf2:sha256:600000" or "scrypt:32768:8:1".
function readWerkzeug(text: string): SourceReading | undefined {
  const match = text.match(/^((?:pbkdf2|scrypt)(?::[A-Za-z0-9]+)*)\$([^$]*)\$([0-9a-fA-F]+)$/);
  if (!match) return undefined;
  const [, method, salt, hex] = match;
  const hash = decodeHex(hex);
  if (!hash || hash.length === 0) return malformed("Werkzeug", "hash is not hex");
  if (salt === "") return malformed("Werkzeug", "salt is empty");
  const parts = method.split(":");
  if (parts[0] === "pbkdf2") {
    const digest = parts[1] ?? "sha256";
    if (parts[2] === undefined) {
      return {
        kind: "unusable",
        format: "werkzeug-pbkdf2",
        reason:
          `a Werkzeug pbkdf2 hash without its iteration count ("pbkdf2:${digest}:<iterations>$…"): ` +
          "write the count your Werkzeug version used",
      };
    }
    if (!/^\d+$/.test(parts[2])) {
      return malformed("Werkzeug pbkdf2", "iteration count is not a number");
    }
    return pbkdf2Parts("werkzeug-pbkdf2", digest, parts[2], utf8(salt), hash);
  }
  const [n = "32768", r = "8", p = "1"] = parts.slice(1);
  if (![n, r, p].every((value) => /^\d+$/.test(value))) {
    return malformed("Werkzeug scrypt", "parameters are not numbers");
  }
  return {
    kind: "phc",
    type: "scrypt",
    format: "werkzeug-scrypt",
    parts: {
      id: "scrypt",
      params: [["n", n], ["r", r], ["p", p], ["kl", String(hash.length || WERKZEUG_DKLEN_SCRYPT)]],
      salt: utf8(salt),
      hash,
    },
  };
}

// passlib: $pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>
function readPasslib(text: string): SourceReading | undefined {
  const match = text.match(/^\$pbkdf2(?:-(sha256|sha512|sha1))?\$(\d+)\$([^$]*)\$([^$]*)$/);
  if (!match) return undefined;
  const [, digest = "sha1", iterations, saltText, hashText] = match;
  const salt = decodeAdaptedBase64(saltText);
  const hash = decodeAdaptedBase64(hashText);
  if (!salt || !hash || salt.length === 0 || hash.length === 0) {
    return malformed("passlib pbkdf2", "salt or hash is not base64");
  }
  return pbkdf2Parts("passlib-pbkdf2", digest, iterations, salt, hash);
}

const UNUSABLE: [RegExp, string, string][] = [
  [/^\$1\$/, "md5-crypt", "an md5-crypt hash"],
  [/^\$apr1\$/, "apr1", "an Apache md5 (apr1) hash"],
  [/^\$5\$/, "sha256-crypt", "a sha256-crypt hash"],
  [/^\$6\$/, "sha512-crypt", "a sha512-crypt hash"],
  [/^\$[PH]\$/, "phpass", "a phpass (WordPress/phpBB) hash"],
  [/^\$2x\$/, "bcrypt-2x", "a bcrypt $2x$ hash (the buggy variant)"],
  [/^\{(SHA|SHA1)\}/i, "ldap-sha", "an unsalted SHA-1 hash ({SHA})"],
  [/^\{(MD5|SMD5)\}/i, "ldap-md5", "an MD5 hash"],
  [/^\{(SHA256|SHA384|SHA512)\}/i, "ldap-sha2", "an unsalted SHA-2 hash"],
  [
    /^\{(SSHA384|SSHA512)\}/i,
    "ldap-ssha512",
    "a salted SHA-384/512 hash, which WorkOS does not take",
  ],
  [/^\{CRYPT\}/i, "ldap-crypt", "a crypt(3) hash"],
  [/^[0-9a-fA-F]{32}$/, "md5", "what looks like an unsalted MD5 hash (32 hex digits)"],
  [/^[0-9a-fA-F]{40}$/, "sha1", "what looks like an unsalted SHA-1 hash (40 hex digits)"],
  [/^[0-9a-fA-F]{64}$/, "sha256", "what looks like an unsalted SHA-256 hash (64 hex digits)"],
  [/^[0-9a-fA-F]{128}$/, "sha512", "what looks like an unsalted SHA-512 hash (128 hex digits)"],
];

function readUnusable(text: string): SourceReading | undefined {
  for (const [pattern, format, reason] of UNUSABLE) {
    if (pattern.test(text)) return { kind: "unusable", format, reason };
  }
  return undefined;
}

/**
 * Hash type names people write for algorithms WorkOS does not take, with
 * what to call them in a message.
 *
 * @example Usage
 * ```ts
 * import { UNSUPPORTED_TYPE_NAMES } from "./_source_formats.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(UNSUPPORTED_TYPE_NAMES.md5, "MD5");
 * ```
 */
export const UNSUPPORTED_TYPE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  md5: "MD5",
  sha1: "unsalted SHA-1",
  sha: "unsalted SHA-1",
  sha256: "unsalted SHA-256",
  sha512: "unsalted SHA-512",
  ssha512: "salted SHA-512",
  "md5-crypt": "md5-crypt",
  "sha512-crypt": "sha512-crypt",
  "sha256-crypt": "sha256-crypt",
  phpass: "phpass",
  crypt: "crypt(3)",
  plain: "plain-text",
  plaintext: "plain-text",
});
