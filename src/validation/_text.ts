// Small string measurements shared by the validators.

/** Whether every character is ASCII. */
export function isAscii(text: string): boolean {
  // A loop beats a regular expression on the short values of a row.
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * `value` as a string of its own, for a value kept after its row (a cache
 * key): the CSV reader's values longer than 12 characters are slices of the
 * text of the few rows decoded with theirs, and V8 keeps a slice's whole
 * parent alive, so a cache of such keys would hold about a kilobyte each.
 * Trimming a fresh concatenation flattens it into a new string that shares
 * nothing with `value`'s parent. Shorter values are copies already.
 */
export function ownString(value: string): string {
  return value.length < 13 ? value : (value + " ").trimEnd();
}

/** Length of a string in UTF-8 bytes, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (isPair(text, i)) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Length of a string in Unicode code points (what people call characters). */
export function codePointLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (isPair(text, i)) i++;
    count++;
  }
  return count;
}

function isPair(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** A character in a value that WorkOS stores but that may be a mistake, or that it cannot store. */
export interface OddCharacter {
  /** `true` for what WorkOS cannot store (NUL, an unpaired surrogate): a row error. */
  unstorable: boolean;
  /** What it is, e.g. `a line break`, `a NUL character`. */
  what: string;
}

/**
 * Finds the character of a value to speak about: a NUL or an unpaired
 * surrogate (WorkOS cannot store those), else a line break, tab or other
 * control character (WorkOS stores them; they are worth a warning).
 *
 * @param text The value.
 * @returns The character found, or `undefined` for ordinary text.
 */
export function oddCharacter(text: string): OddCharacter | undefined {
  if (isOrdinary(text)) return undefined;
  const control = CONTROL.test(text);
  if (!control && text.isWellFormed()) return undefined;
  if (text.includes("\u0000")) return { unstorable: true, what: "a NUL character (U+0000)" };
  if (!text.isWellFormed()) {
    return { unstorable: true, what: "an unpaired UTF-16 surrogate (broken text)" };
  }
  if (/[\n\r]/.test(text)) return { unstorable: false, what: "a line break" };
  if (text.includes("\t")) return { unstorable: false, what: "a tab" };
  const found = CONTROL.exec(text)?.[0] ?? "";
  const code = found.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
  return { unstorable: false, what: `the control character U+${code}` };
}

/** No control character and no surrogate at all: what almost every value is. */
function isOrdinary(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}
