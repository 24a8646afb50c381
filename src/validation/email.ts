/**
 * Email address normalization and the structural checks that catch addresses
 * which cannot be valid, before any request is spent on them.
 *
 * @module
 */

import { isAscii, utf8Length } from "./_text.ts";
import { isCommonAddress } from "./_common_address.ts";

/** The result of {@linkcode normalizeEmail}. */
export type NormalizedEmail =
  | {
    ok: true;
    /** The address as it will be sent: trimmed and Unicode NFC. */
    email: string;
    /** The identity key: the address in lower case. */
    key: string;
  }
  | {
    ok: false;
    /** What is wrong, with the value quoted; no final period. */
    reason: string;
  };

/** RFC 5321 section 4.5.3.1.1: at most 64 octets before the @. */
const MAX_LOCAL_OCTETS = 64;
/** RFC 5321 section 4.5.3.1.2: at most 255 octets after the @. */
const MAX_DOMAIN_OCTETS = 255;
/** RFC 5321 path limit (256) minus the angle brackets. */
const MAX_ADDRESS_OCTETS = 254;
/** RFC 1035: at most 63 octets per domain label. */
const MAX_LABEL_OCTETS = 63;

// Separators (spaces of every kind), controls, format characters such as
// zero-width spaces, and lone surrogates can never be part of an address
// even though they are invisible in a spreadsheet.
const INVISIBLE = /[\p{Z}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;
// Characters RFC 5322 only allows inside a quoted local part; quoted local
// parts are not accepted by common providers, so these cannot be valid.
const LOCAL_SPECIALS = '"(),:;<>[\\]';

/**
 * Trims an email address, puts it in Unicode NFC, checks that it can be a
 * valid address, and derives its identity key (lower case).
 *
 * The checks are structural: exactly one @, a non-empty part on both sides,
 * no spaces or control characters, a domain with a dot and valid labels, and
 * the RFC 5321 length limits (64 octets before the @, 255 after, 254 in all).
 * International addresses (UTF-8 local parts, Unicode domains) are accepted.
 * `ascii: true` tells it the caller knows the text is ASCII (a reader that
 * checked the bytes), which spares it looking.
 *
 * @example Normalize an address
 * ```ts
 * import { normalizeEmail } from "./email.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(normalizeEmail("  Ada@Example.com "), {
 *   ok: true,
 *   email: "Ada@Example.com",
 *   key: "ada@example.com",
 * });
 * deepEqual(normalizeEmail("ada@example"), {
 *   ok: false,
 *   reason: 'the domain "example" has no dot',
 * });
 * ```
 */
export function normalizeEmail(raw: string, options?: { ascii?: boolean }): NormalizedEmail {
  let email = raw.trim();
  if (email === "") return { ok: false, reason: "the address is empty" };
  const ascii = options?.ascii === true || isAscii(email);
  if (!ascii) email = email.normalize("NFC");

  if (ascii && isCommonAddress(email)) {
    return { ok: true, email, key: email.toLowerCase() };
  }
  const problem = findProblem(email, ascii);
  if (problem !== undefined) return { ok: false, reason: problem };
  return { ok: true, email, key: email.toLowerCase() };
}

function findProblem(email: string, ascii: boolean): string | undefined {
  const quoted = JSON.stringify(email);
  if (!ascii) {
    if (email.includes("\ufffd")) {
      return `${quoted} holds bytes that are not valid UTF-8`;
    }
    const invisible = INVISIBLE.exec(email);
    if (invisible !== null) {
      return `${quoted} contains the invisible character ${codePointName(invisible[0])}`;
    }
  } else {
    for (let i = 0; i < email.length; i++) {
      const c = email.charCodeAt(i);
      if (c <= 0x20 || c === 0x7f) {
        return `${quoted} contains ${c === 0x20 ? "a space" : codePointName(email[i])}`;
      }
    }
  }

  const at = email.indexOf("@");
  if (at === -1) return `${quoted} has no @`;
  if (email.indexOf("@", at + 1) !== -1) return `${quoted} has more than one @`;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local === "") return `${quoted} has nothing before the @`;
  if (domain === "") return `${quoted} has nothing after the @`;

  for (const special of LOCAL_SPECIALS) {
    if (local.includes(special)) {
      return `${quoted} has ${
        JSON.stringify(special)
      } before the @, which addresses cannot contain`;
    }
  }
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) {
    return `${quoted} has a dot at the start or end of the part before the @, or two dots in a row`;
  }

  const localOctets = ascii ? local.length : utf8Length(local);
  if (localOctets > MAX_LOCAL_OCTETS) {
    return `${quoted} has ${localOctets} bytes before the @, more than the ${MAX_LOCAL_OCTETS} allowed`;
  }
  const domainOctets = ascii ? domain.length : utf8Length(domain);
  if (domainOctets > MAX_DOMAIN_OCTETS) {
    return `${quoted} has ${domainOctets} bytes after the @, more than the ${MAX_DOMAIN_OCTETS} allowed`;
  }
  const octets = localOctets + 1 + domainOctets;
  if (octets > MAX_ADDRESS_OCTETS) {
    return `${quoted} is ${octets} bytes long, more than the ${MAX_ADDRESS_OCTETS} allowed`;
  }
  return findDomainProblem(domain, ascii);
}

function findDomainProblem(domain: string, ascii: boolean): string | undefined {
  const quoted = JSON.stringify(domain);
  if (!domain.includes(".")) return `the domain ${quoted} has no dot`;
  const labels = domain.split(".");
  for (const label of labels) {
    if (label === "") {
      return `the domain ${quoted} has an empty part (a dot at the start or end, or two dots in a row)`;
    }
    if ((ascii ? label.length : utf8Length(label)) > MAX_LABEL_OCTETS) {
      return `the domain ${quoted} has a part longer than ${MAX_LABEL_OCTETS} bytes`;
    }
    if (label.startsWith("-") || label.endsWith("-")) {
      return `the domain ${quoted} has a part that starts or ends with "-"`;
    }
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      const allowed = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x30 && c <= 0x39) || c === 0x2d || c >= 0x80;
      if (!allowed) {
        return `the domain ${quoted} contains ${
          JSON.stringify(label[i])
        }, which domains cannot contain`;
      }
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    return `the domain ${quoted} ends in a number, which is not a valid top-level domain`;
  }
  return undefined;
}

function codePointName(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}
