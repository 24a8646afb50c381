/**
 * WorkOS-shaped object ids: a type prefix and a 26-character ULID.
 *
 * @module
 */

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Makes ids that sort in creation order: the ULID's time part never goes
 * back and its second part is a counter, so string order is creation order
 * and cursors keep working after the object they name is deleted.
 */
export class IdGenerator {
  #lastTime = 0;
  // A random start makes ids from different runs differ, like real ULIDs.
  readonly #salt = Math.floor(Math.random() * 2 ** 30);
  #counter = Math.floor(Math.random() * 2 ** 40);

  /**
   * Returns a new id such as `user_01M84XEN0A3K9S0Q2H7ZKD1F4B`.
   *
   * @param prefix Type prefix without the underscore, e.g. `"user"`.
   * @returns The id.
   */
  next(prefix: string): string {
    const now = Date.now();
    if (now > this.#lastTime) this.#lastTime = now;
    this.#counter++;
    return `${prefix}_${encode(this.#lastTime, 10)}${encode(this.#salt, 6)}${
      encode(this.#counter, 10)
    }`;
  }
}

function encode(value: number, length: number): string {
  let out = "";
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}
