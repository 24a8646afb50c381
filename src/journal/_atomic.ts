/**
 * Commits an ordered list of Deno KV mutations as few atomics as the limits
 * allow (1,000 mutations, 800 KiB in all and 80 KiB of keys per atomic).
 * The order is kept: a crash between two atomics leaves a prefix committed,
 * which is what the journal's commit protocol relies on.
 *
 * @module
 */

/** One mutation of a journal commit. */
export type Mutation =
  | { type: "set"; key: Deno.KvKey; value: unknown }
  | { type: "delete"; key: Deno.KvKey };

/** What one atomic may hold. */
export interface AtomicLimits {
  mutations: number;
  /** Keys and values together, in bytes. */
  bytes: number;
  /** Keys alone, in bytes. */
  keyBytes: number;
}

/**
 * Deno KV's limits with a margin: sizes here are estimates, so they must
 * never reach the real limits (1,000 / 819,200 / 81,920).
 */
export const SAFE_LIMITS: Readonly<AtomicLimits> = Object.freeze({
  mutations: 1000,
  bytes: 720 * 1024,
  keyBytes: 72 * 1024,
});

/**
 * An upper bound of a key's encoded size.
 *
 * @param key The key.
 * @returns Bytes.
 */
export function keySize(key: Deno.KvKey): number {
  let size = 0;
  for (const part of key) {
    // Keys are tuple-encoded: a type byte, the bytes with NULs escaped, a terminator.
    if (typeof part === "string") size += utf8Length(part) + 2;
    else if (part instanceof Uint8Array) size += escapedLength(part) + 2;
    else size += 10;
  }
  return size;
}

/**
 * The UTF-8 length of a string, a NUL counted twice (as a key escapes it),
 * without encoding it: a commit sizes thousands of keys.
 *
 * @param text The string.
 * @returns Bytes.
 */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) length += 2;
    else if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function escapedLength(bytes: Uint8Array): number {
  let length = bytes.length;
  for (const byte of bytes) if (byte === 0) length++;
  return length;
}

/**
 * An upper bound of a value's serialized size. Byte arrays are exact; strings
 * count two bytes a character (V8 stores non-Latin-1 strings that way); other
 * values count twice their JSON.
 *
 * @param value The value.
 * @returns Bytes.
 */
export function valueSize(value: unknown): number {
  if (value instanceof Uint8Array) return value.length + 16;
  if (typeof value === "string") return value.length * 2 + 16;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return 16;
  if (Array.isArray(value) && value.every((item) => typeof item === "number")) {
    return value.length * 10 + 16;
  }
  return (JSON.stringify(value)?.length ?? 0) * 2 + 16;
}

/**
 * Splits mutations, in order, into groups that each fit one atomic.
 *
 * @param mutations The mutations in commit order.
 * @param limits The limits of one atomic.
 * @returns The groups, in order.
 */
export function splitMutations(
  mutations: readonly Mutation[],
  limits: AtomicLimits = SAFE_LIMITS,
): Mutation[][] {
  const groups: Mutation[][] = [];
  let group: Mutation[] = [];
  let bytes = 0;
  let keyBytes = 0;
  for (const mutation of mutations) {
    const keyCost = keySize(mutation.key);
    const cost = keyCost + (mutation.type === "set" ? valueSize(mutation.value) : 0);
    if (cost > limits.bytes || keyCost > limits.keyBytes) {
      throw new RangeError(
        `Cannot commit the journal: one entry needs ${cost} bytes, more than an atomic holds`,
      );
    }
    if (
      group.length > 0 &&
      (group.length >= limits.mutations || bytes + cost > limits.bytes ||
        keyBytes + keyCost > limits.keyBytes)
    ) {
      groups.push(group);
      group = [];
      bytes = 0;
      keyBytes = 0;
    }
    group.push(mutation);
    bytes += cost;
    keyBytes += keyCost;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Commits mutations in order, one atomic per group of
 * {@linkcode splitMutations}.
 *
 * @param kv The database.
 * @param mutations The mutations in commit order.
 * @param limits The limits of one atomic.
 * @returns How many atomics were committed.
 */
export async function commitInOrder(
  kv: Deno.Kv,
  mutations: readonly Mutation[],
  limits: AtomicLimits = SAFE_LIMITS,
): Promise<number> {
  const groups = splitMutations(mutations, limits);
  for (const group of groups) {
    const atomic = kv.atomic();
    for (const mutation of group) {
      if (mutation.type === "set") atomic.set(mutation.key, mutation.value);
      else atomic.delete(mutation.key);
    }
    const result = await atomic.commit();
    // Without checks an atomic cannot fail a check; a false result is a bug.
    if (!result.ok) throw new Error("Cannot commit the journal: Deno KV refused an atomic");
  }
  return groups.length;
}
