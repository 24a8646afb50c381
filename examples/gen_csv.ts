/**
 * Generates a multi-organization CSV of made-up users for tests and
 * benchmarks, streamed to disk (a million rows never sit in memory) and
 * deterministic for a seed.
 *
 * ```sh
 * deno task gen-csv <rows> <orgs> <out> [--with-errors] [--seed <n>] [--persons-in-orgs <k>]
 * deno task gen-csv 1000000 1000 /tmp/users-1m.csv --with-errors
 * ```
 *
 * Columns: `email, first_name, last_name, email_verified, external_id,
 * metadata, org_external_id, org_name` (and `org_id` before
 * `org_external_id` with `--with-errors`, which needs it for one kind of
 * invalid row). The first `orgs` people get one organization each, in
 * order, so every organization has rows when there are enough; later people
 * get one by hash. Emails are unique but for `--persons-in-orgs`.
 *
 * - `--with-errors`: about 1 % of rows are invalid, in turn: a bad email (no
 *   `@`, two `@`, a space), metadata that is not JSON, both `org_id` and
 *   `org_external_id`, an `email_verified` that is not a boolean. The count
 *   is printed.
 * - `--seed <n>`: another seed, another file (default 1).
 * - `--persons-in-orgs <k>`: about 1 % of the people appear in `k`
 *   organizations, on rows `rows / k` apart (for the membership paths).
 *
 * @example Generate a small file from code
 * ```ts
 * import { generateCsv } from "./gen_csv.ts";
 * import assert from "node:assert/strict";
 *
 * const out = await Deno.makeTempFile({ suffix: ".csv" });
 * const result = await generateCsv(out, { rows: 1_000, orgs: 10, withErrors: true });
 * assert.equal(result.rows, 1_000);
 * assert.ok(result.invalidRows > 0);
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Options for {@linkcode generateCsv}. */
export interface GenerateCsvOptions {
  /** Data rows to write (the header is extra). */
  rows: number;
  /** Organizations to spread them over. */
  orgs: number;
  /** Make about 1 % of rows invalid in varied ways. */
  withErrors?: boolean;
  /** The seed: the same options give the same bytes. Default 1. */
  seed?: number;
  /** Put about 1 % of people in this many organizations, on rows far apart. Default 1. */
  personsInOrgs?: number;
}

/** What {@linkcode generateCsv} wrote. */
export interface GenerateCsvResult {
  /** Data rows written. */
  rows: number;
  /** Rows made invalid on purpose (0 without `withErrors`). */
  invalidRows: number;
}

const FIRST_NAMES = [
  "Ada",
  "Grace",
  "Alan",
  "Katherine",
  "Linus",
  "Margaret",
  "Dennis",
  "Barbara",
  "Ken",
  "Frances",
  "Edsger",
  "Radia",
  "Donald",
  "Hedy",
  "Tim",
  "Joan",
  "Guido",
  "Sophie",
  "Bjarne",
  "Carol",
  "James",
  "Anita",
  "John",
  "Lynn",
];
const LAST_NAMES = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Johnson",
  "Torvalds",
  "Hamilton",
  "Ritchie",
  "Liskov",
  "Thompson",
  "Allen",
  "Dijkstra",
  "Perlman",
  "Knuth",
  "Lamarr",
  "Berners-Lee",
  "Clarke",
  "van Rossum",
  "Wilson",
  "Stroustrup",
  "Shaw",
  "Gosling",
  "Borg",
  "McCarthy",
  "Conway",
];
const DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "Marketing", "Operations"];
const COMPANY_WORDS = ["Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Hooli", "Acme"];

// Salts keep the hashes of one row independent of each other.
const SALT_PERSON = 0x2545f491;
const SALT_ORG = 0x68e31da4;
const SALT_ERROR = 0x1b873593;

/** A 32-bit hash of (seed, salt, n): murmur3's finalizer, enough to look random and fast. */
function hash(seed: number, salt: number, n: number): number {
  let h = (seed ^ salt ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot generate CSV: "${name}" must be an integer ≥ ${min}, got ${value}`,
    );
  }
}

/** Writes text to a file or stdout in large chunks. */
class ChunkedOutput {
  #sink: Deno.FsFile | typeof Deno.stdout;
  #encoder = new TextEncoder();
  #buffer = new Uint8Array(0);
  #owned: boolean;

  constructor(sink: Deno.FsFile | typeof Deno.stdout, owned: boolean) {
    this.#sink = sink;
    this.#owned = owned;
  }

  async write(text: string): Promise<void> {
    // Reusing one buffer spares the garbage collector a megabyte per chunk.
    if (this.#buffer.length < text.length * 3) this.#buffer = new Uint8Array(text.length * 3);
    const bytes = this.#buffer.subarray(0, this.#encoder.encodeInto(text, this.#buffer).written);
    let offset = 0;
    while (offset < bytes.length) offset += await this.#sink.write(bytes.subarray(offset));
  }

  close(): void {
    if (this.#owned) this.#sink.close();
  }
}

// About 1 MiB of text per write: few syscalls, little memory.
const ROWS_PER_CHUNK = 8_192;
// One person in this many appears in several organizations with `personsInOrgs`.
const MULTI_ORG_EVERY = 100;

/**
 * Writes a generated multi-organization CSV to `out` (a path, or "-" for
 * stdout). See the module documentation for the columns and options.
 *
 * @example Two runs with one seed write the same bytes
 * ```ts
 * import { generateCsv } from "./gen_csv.ts";
 * import assert from "node:assert/strict";
 *
 * const a = await Deno.makeTempFile({ suffix: ".csv" });
 * const b = await Deno.makeTempFile({ suffix: ".csv" });
 * await generateCsv(a, { rows: 100, orgs: 4, seed: 7 });
 * await generateCsv(b, { rows: 100, orgs: 4, seed: 7 });
 * assert.equal(await Deno.readTextFile(a), await Deno.readTextFile(b));
 * ```
 *
 * @param out The file to write, replaced if it exists, or "-" for stdout.
 * @param options Sizes, seed and kinds of rows.
 * @returns How many rows were written and how many of them are invalid.
 */
export async function generateCsv(
  out: string,
  options: GenerateCsvOptions,
): Promise<GenerateCsvResult> {
  const { rows, orgs } = options;
  const withErrors = options.withErrors ?? false;
  const seed = (options.seed ?? 1) >>> 0;
  const k = options.personsInOrgs ?? 1;
  checkCount("rows", rows, 0);
  checkCount("orgs", orgs, 1);
  checkCount("personsInOrgs", k, 1);
  if (k > orgs) {
    throw new RangeError(
      `Cannot generate CSV: "personsInOrgs" is ${k} but there are only ${orgs} organizations`,
    );
  }

  const width = Math.max(5, String(orgs).length);
  const orgColumns: string[] = [];
  const orgDomains: string[] = [];
  for (let i = 0; i < orgs; i++) {
    const word = COMPANY_WORDS[hash(seed, SALT_ORG, i) % COMPANY_WORDS.length];
    orgColumns.push(`org-${pad(i + 1, width)},${word} ${pad(i + 1, width)} Inc`);
    orgDomains.push(`${word.toLowerCase()}${pad(i + 1, width)}.example.com`);
  }
  const emailNames = FIRST_NAMES.map((first) => first.toLowerCase());
  const emailLastNames = LAST_NAMES.map((last) => last.toLowerCase().replace(/[^a-z]/g, ""));
  const metadataPrefixes = DEPARTMENTS.map((department) =>
    `"{""department"":""${department}"",""employee_id"":""E`
  );

  // Organizations are dealt out one per person first, so each gets a row.
  function homeOrg(person: number): number {
    return person <= orgs ? person - 1 : hash(seed, SALT_ORG, person) % orgs;
  }

  // With k > 1 the rows fall into k segments; the people of segment 0 whose
  // offset is a multiple of MULTI_ORG_EVERY come back at the same offset of
  // every later segment, in the next organization along.
  const segment = Math.max(1, Math.ceil(rows / k));

  const output = out === "-"
    ? new ChunkedOutput(Deno.stdout, false)
    : new ChunkedOutput(await Deno.open(out, { write: true, create: true, truncate: true }), true);
  let invalidRows = 0;
  try {
    let text = "email,first_name,last_name,email_verified,external_id,metadata," +
      (withErrors ? "org_id," : "") + "org_external_id,org_name\n";
    for (let row = 0; row < rows; row++) {
      const round = Math.floor(row / segment);
      const offset = row - round * segment;
      const repeat = round > 0 && offset % MULTI_ORG_EVERY === 0;
      const person = repeat ? offset + 1 : row + 1;
      const home = homeOrg(person);
      const org = repeat ? (home + round) % orgs : home;

      const h = hash(seed, SALT_PERSON, person);
      const firstIndex = h % FIRST_NAMES.length;
      const lastIndex = (h >>> 8) % LAST_NAMES.length;
      let email = `${emailNames[firstIndex]}.${emailLastNames[lastIndex]}.${person}@${
        orgDomains[home]
      }`;
      let verified = (h >>> 16) % 4 === 0 ? "false" : "true";
      let metadata = `${metadataPrefixes[(h >>> 20) % DEPARTMENTS.length]}${person}""}"`;
      let orgId = "";

      if (withErrors) {
        const e = hash(seed, SALT_ERROR, row);
        if (e % 100 === 0) {
          invalidRows++;
          switch ((e >>> 8) % 4) {
            case 0: {
              const variant = (e >>> 12) % 3;
              if (variant === 0) email = email.replace("@", ".at.");
              else if (variant === 1) email = email.replace("@", "@@");
              else email = email.replace(".", " ");
              break;
            }
            case 1:
              metadata = `"{""department"":""${DEPARTMENTS[(e >>> 12) % DEPARTMENTS.length]}"""`;
              break;
            case 2:
              orgId = `org_01HXYZ${pad(org + 1, 10)}`;
              break;
            default:
              verified = ["maybe", "2", "yes please"][(e >>> 12) % 3];
          }
        }
      }

      text += `${email},${FIRST_NAMES[firstIndex]},${
        LAST_NAMES[lastIndex]
      },${verified},emp-${person},${metadata},${withErrors ? orgId + "," : ""}${orgColumns[org]}\n`;
      if ((row + 1) % ROWS_PER_CHUNK === 0) {
        await output.write(text);
        text = "";
      }
    }
    await output.write(text);
  } finally {
    output.close();
  }
  return { rows, invalidRows };
}

const USAGE =
  "Usage: deno task gen-csv <rows> <orgs> <out> [--with-errors] [--seed <n>] [--persons-in-orgs <k>]";

/** A whole number from the command line; `_` may group digits ("1_000_000"). */
function parseCount(name: string, text: string): number {
  const digits = text.replaceAll("_", "");
  const value = Number(digits);
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot read ${name}: "${text}" is not a whole number\n${USAGE}`);
  }
  return value;
}

/** Runs the generator from the command line; returns the exit code. */
async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "with-errors": { type: "boolean", default: false },
      seed: { type: "string" },
      "persons-in-orgs": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 3) {
    console.error(`Cannot generate CSV: expected 3 arguments, got ${positionals.length}\n${USAGE}`);
    return 2;
  }
  const rows = parseCount("rows", positionals[0]);
  const orgs = parseCount("orgs", positionals[1]);
  const out = positionals[2];
  const started = performance.now();
  const result = await generateCsv(out, {
    rows,
    orgs,
    withErrors: values["with-errors"],
    seed: values.seed === undefined ? undefined : parseCount("--seed", values.seed),
    personsInOrgs: values["persons-in-orgs"] === undefined
      ? undefined
      : parseCount("--persons-in-orgs", values["persons-in-orgs"]),
  });
  const seconds = (performance.now() - started) / 1000;
  console.error(
    `Wrote ${result.rows} rows across ${orgs} organizations to "${out}" in ${
      seconds.toFixed(1)
    } s (${Math.round(result.rows / Math.max(seconds, 1e-3))} rows/s)`,
  );
  if (values["with-errors"]) console.error(`Invalid rows: ${result.invalidRows}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
