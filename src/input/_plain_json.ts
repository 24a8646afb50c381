// Whether the strings of JSON users are plain (every character printable
// ASCII), told from their bytes or from their decoded text without looking at
// each value: validation then need not look for odd characters. In JSON that
// is all ASCII, only an escape (a backslash) or a DEL can put anything else
// into a string: a raw control character is not JSON.

const BACKSLASH = 0x5c;
const DEL = 0x7f;

/**
 * Whether every string of a JSON value's bytes is printable ASCII: no byte
 * of 0x7F or above and no backslash.
 */
export function isPlainJson(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= DEL || c === BACKSLASH) return false;
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

  /** Whether [from, to) holds no backslash and no DEL; `from` never goes down between calls. */
  isPlain(from: number, to: number): boolean {
    if (this.#backslash === -2 || (this.#backslash !== -1 && this.#backslash < from)) {
      this.#backslash = this.#text.indexOf("\\", from);
    }
    if (this.#del === -2 || (this.#del !== -1 && this.#del < from)) {
      this.#del = this.#text.indexOf("\x7f", from);
    }
    return (this.#backslash === -1 || this.#backslash >= to) &&
      (this.#del === -1 || this.#del >= to);
  }
}
