/**
 * Cursor pagination the way the WorkOS list endpoints do it: objects in id
 * (= creation) order, `limit` per page, `after`/`before` cursors that are
 * object ids, and `list_metadata` telling whether more pages exist.
 *
 * @module
 */

/** One request's pagination parameters, already validated. */
export interface PageQuery {
  limit: number;
  order: "asc" | "desc";
  after: string | null;
  before: string | null;
}

/** One page of ids and the cursors to the neighbouring pages. */
export interface Page {
  ids: string[];
  before: string | null;
  after: string | null;
}

/**
 * Pages through `ids`, which must be sorted ascending; entries for which
 * `isLive` is false are skipped (lazily deleted objects).
 */
export function paginate(
  ids: readonly string[],
  isLive: (id: string) => boolean,
  query: PageQuery,
): Page {
  const n = ids.length;
  const asc = query.order === "asc";
  const at = asc ? (i: number) => ids[i] : (i: number) => ids[n - 1 - i];
  const out: string[] = [];
  let first = -1;
  let last = -1;
  if (query.before !== null && query.after === null) {
    const end = asc ? lowerBound(ids, query.before) : n - upperBound(ids, query.before);
    for (let i = end - 1; i >= 0 && out.length < query.limit; i--) {
      const id = at(i);
      if (!isLive(id)) continue;
      out.push(id);
      if (last === -1) last = i;
      first = i;
    }
    out.reverse();
  } else {
    let start = 0;
    if (query.after !== null) {
      start = asc ? upperBound(ids, query.after) : n - lowerBound(ids, query.after);
    }
    for (let i = start; i < n && out.length < query.limit; i++) {
      const id = at(i);
      if (!isLive(id)) continue;
      out.push(id);
      if (first === -1) first = i;
      last = i;
    }
  }
  if (out.length === 0) return { ids: out, before: null, after: null };
  let hasBefore = false;
  for (let i = first - 1; i >= 0; i--) {
    if (isLive(at(i))) {
      hasBefore = true;
      break;
    }
  }
  let hasAfter = false;
  for (let i = last + 1; i < n; i++) {
    if (isLive(at(i))) {
      hasAfter = true;
      break;
    }
  }
  return {
    ids: out,
    before: hasBefore ? out[0] : null,
    after: hasAfter ? out[out.length - 1] : null,
  };
}

function alwaysLive(): boolean {
  return true;
}

/** Pages through a small, fully live, ascending list of ids. */
export function paginateAll(ids: readonly string[], query: PageQuery): Page {
  return paginate(ids, alwaysLive, query);
}

/** Index of the first element `>= key`. */
function lowerBound(ids: readonly string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element `> key`. */
function upperBound(ids: readonly string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An append-only, ascending list of ids whose deletions are lazy: deleting
 * only bumps a counter, and the list is compacted once most of it is dead, so
 * that deleting a million objects one by one stays linear.
 */
export class IdList {
  #ids: string[] = [];
  #dead = 0;
  readonly #isLive: (id: string) => boolean;

  constructor(isLive: (id: string) => boolean) {
    this.#isLive = isLive;
  }

  /** Appends an id; ids must arrive in ascending order. */
  push(id: string): void {
    this.#ids.push(id);
  }

  /** Records that one id of the list is no longer live. */
  deleted(): void {
    this.#dead++;
    if (this.#dead > 64 && this.#dead * 2 > this.#ids.length) {
      this.#ids = this.#ids.filter(this.#isLive);
      this.#dead = 0;
    }
  }

  /** Forgets every id. */
  clear(): void {
    this.#ids = [];
    this.#dead = 0;
  }

  /** Live ids in ascending order. */
  live(): string[] {
    return this.#dead === 0 ? this.#ids.slice() : this.#ids.filter(this.#isLive);
  }

  /** One page of live ids. */
  page(query: PageQuery): Page {
    return paginate(this.#ids, this.#isLive, query);
  }

  /** Number of entries, dead ones included. */
  get size(): number {
    return this.#ids.length - this.#dead;
  }
}
