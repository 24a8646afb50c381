// Whether the strings of JSON users are plain (every character printable
// ASCII), told from their bytes or from their decoded text without looking at
// each value: validation then need not look for odd characters. In JSON that
// is all ASCII, only an escape or a DEL can put anything else into a string
// (a raw control character is not JSON), and of the escapes only `\"`, `\\`
// and `\/` are sure to stand for printable ASCII. Those are common: a
// Firebase user's `customAttributes` is JSON in a string, all escaped quotes.

const QUOTE = 0x22;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const DEL = 0x7f;

/** Whether the escape `\` + this character stands for a printable ASCII character. */
function isPlainEscape(c: number): boolean {
  return c === QUOTE || c === BACKSLASH || c === SLASH;
}

/**
 * Whether every string of a JSON value's bytes is printable ASCII: no byte
 * of 0x7F or above, and no escape but `\"`, `\\` and `\/`.
 */
export function isPlainJson(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= DEL) return false;
    if (c === BACKSLASH) {
      if (!isPlainEscape(bytes[i + 1])) return false;
      i++;
    }
  }
  return true;
}

/**
 * Answers {@linkcode isPlainJson} for stretches of one ASCII text (its
 * offsets are its bytes'), asked in order: each search starts where the
 * last one left off, so the text is searched once in all.
 */
export class PlainStretches {
  readonly #text: string;
  /** The next backslash and DEL at or after the last stretch asked about: -1 none, -2 not yet searched. */
  #backslash = -2;
  #del = -2;

  /** @param text Decoded JSON whose every character is ASCII. */
  constructor(text: string) {
    this.#text = text;
  }

  /**
   * Whether [from, to) (a whole JSON value) holds no DEL and no escape but
   * `\"`, `\\` and `\/`; `from` never goes down between calls.
   */
  isPlain(from: number, to: number): boolean {
    const text = this.#text;
    if (this.#del === -2 || (this.#del !== -1 && this.#del < from)) {
      this.#del = text.indexOf("\x7f", from);
    }
    if (this.#del !== -1 && this.#del < to) return false;
    if (this.#backslash === -2 || (this.#backslash !== -1 && this.#backslash < from)) {
      this.#backslash = text.indexOf("\\", from);
    }
    while (this.#backslash !== -1 && this.#backslash < to) {
      if (!isPlainEscape(text.charCodeAt(this.#backslash + 1))) return false;
      // The escaped character is passed over: `\\` escapes the second backslash.
      this.#backslash = text.indexOf("\\", this.#backslash + 2);
    }
    return true;
  }
}
