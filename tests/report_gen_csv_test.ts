import assert from "node:assert/strict";
import { parse } from "csv-parse/stream";
import { generateCsv } from "../examples/gen_csv.ts";
import { tempDirSync } from "./_cli.ts";

const tempDir = tempDirSync({ prefix: "report_gen_csv_" });
let files = 0;

function tempPath(): string {
  return `${tempDir}/generated${++files}.csv`;
}

type Row = Record<string, string>;

async function readRows(path: string): Promise<{ header: string[]; rows: Row[] }> {
  const file = await Deno.open(path);
  const records: string[][] = [];
  for await (const record of file.readable.pipeThrough(parse())) records.push(record as string[]);
  const [header, ...data] = records;
  return {
    header,
    rows: data.map((values) => Object.fromEntries(header.map((name, i) => [name, values[i]]))),
  };
}

const COLUMNS = [
  "email",
  "first_name",
  "last_name",
  "email_verified",
  "external_id",
  "metadata",
  "org_external_id",
  "org_name",
];

/**
 * Why a generated row is invalid under the importer's rules, or undefined.
 * Independent of the generator's code, so that the two can disagree.
 */
function problem(row: Row): string | undefined {
  const email = row.email;
  const at = email.indexOf("@");
  if (
    at <= 0 || at !== email.lastIndexOf("@") || /\s/.test(email) ||
    !email.slice(at + 1).includes(".")
  ) return "email";
  try {
    const metadata = JSON.parse(row.metadata);
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      return "metadata";
    }
    if (!Object.values(metadata).every((value) => typeof value === "string")) return "metadata";
  } catch {
    return "metadata";
  }
  if ((row.org_id ?? "") !== "" && row.org_external_id !== "") return "org";
  if (!/^(true|false|1|0|yes|no)$/i.test(row.email_verified)) return "email_verified";
  if (row.org_external_id === "" || row.org_name === "" || row.external_id === "") return "blank";
  return undefined;
}

Deno.test("generateCsv writes the requested rows with the documented columns, all valid", async () => {
  const path = tempPath();
  const result = await generateCsv(path, { rows: 1_000, orgs: 10 });
  assert.deepEqual(result, { rows: 1_000, invalidRows: 0 });
  const { header, rows } = await readRows(path);
  assert.deepEqual(header, COLUMNS);
  assert.equal(rows.length, 1_000);
  assert.deepEqual(rows.filter((row) => problem(row) !== undefined), []);
  assert.equal(new Set(rows.map((row) => row.email.toLowerCase())).size, 1_000);
  assert.equal(new Set(rows.map((row) => row.external_id)).size, 1_000);
  // Every organization is used, and an external id always comes with the same name.
  const names = new Map<string, Set<string>>();
  for (const row of rows) {
    const set = names.get(row.org_external_id) ?? new Set();
    set.add(row.org_name);
    names.set(row.org_external_id, set);
  }
  assert.equal(names.size, 10);
  assert.ok([...names.values()].every((set) => set.size === 1));
  assert.deepEqual(rows.slice(0, 10).map((row) => row.org_external_id), [
    "org-00001",
    "org-00002",
    "org-00003",
    "org-00004",
    "org-00005",
    "org-00006",
    "org-00007",
    "org-00008",
    "org-00009",
    "org-00010",
  ]);
});

Deno.test("generateCsv is deterministic for a seed and differs between seeds", async () => {
  const [a, b, c] = [tempPath(), tempPath(), tempPath()];
  await generateCsv(a, { rows: 2_000, orgs: 20, seed: 42, withErrors: true });
  await generateCsv(b, { rows: 2_000, orgs: 20, seed: 42, withErrors: true });
  await generateCsv(c, { rows: 2_000, orgs: 20, seed: 43, withErrors: true });
  const [textA, textB, textC] = await Promise.all([a, b, c].map((path) => Deno.readTextFile(path)));
  assert.equal(textA, textB);
  assert.notEqual(textA, textC);
});

Deno.test("generateCsv --with-errors makes about 1% of rows invalid, each kind, and counts them", async () => {
  const path = tempPath();
  const result = await generateCsv(path, { rows: 20_000, orgs: 50, withErrors: true, seed: 3 });
  const { header, rows } = await readRows(path);
  assert.deepEqual(header, [...COLUMNS.slice(0, 6), "org_id", ...COLUMNS.slice(6)]);
  assert.equal(rows.length, 20_000);
  const problems = rows.map(problem).filter((kind) => kind !== undefined);
  assert.equal(problems.length, result.invalidRows);
  assert.ok(result.invalidRows >= 120 && result.invalidRows <= 280, `${result.invalidRows}`);
  const kinds = new Map<string, number>();
  for (const kind of problems) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  assert.deepEqual([...kinds.keys()].sort(), ["email", "email_verified", "metadata", "org"]);
  // Each bad-email variant shows up: no "@", two "@", a space.
  const badEmails = rows.map((row) => row.email).filter((email) =>
    !/^[^@\s]+@[^@\s]+$/.test(email)
  );
  assert.ok(badEmails.some((email) => !email.includes("@")));
  assert.ok(badEmails.some((email) => email.includes("@@")));
  assert.ok(badEmails.some((email) => email.includes(" ")));
});

Deno.test("generateCsv --persons-in-orgs puts some people in k organizations, far apart", async () => {
  const path = tempPath();
  const rows = 3_000;
  await generateCsv(path, { rows, orgs: 10, personsInOrgs: 3 });
  const { rows: data } = await readRows(path);
  assert.equal(data.length, rows);
  const byEmail = new Map<string, number[]>();
  data.forEach((row, index) => {
    const list = byEmail.get(row.email) ?? [];
    list.push(index);
    byEmail.set(row.email, list);
  });
  const repeated = [...byEmail.values()].filter((list) => list.length > 1);
  assert.equal(repeated.length, 10);
  for (const list of repeated) {
    assert.equal(list.length, 3);
    const orgs = new Set(list.map((index) => data[index].org_external_id));
    assert.equal(orgs.size, 3);
    for (let i = 1; i < list.length; i++) assert.ok(list[i] - list[i - 1] >= rows / 3);
    // One person, one set of names and ids.
    const people = new Set(list.map((index) => {
      const row = data[index];
      return `${row.first_name}|${row.last_name}|${row.external_id}|${row.metadata}`;
    }));
    assert.equal(people.size, 1);
  }
  assert.deepEqual(data.filter((row) => problem(row) !== undefined), []);
});

Deno.test("generateCsv writes only a header for zero rows and rejects bad sizes", async () => {
  const path = tempPath();
  assert.deepEqual(await generateCsv(path, { rows: 0, orgs: 1 }), { rows: 0, invalidRows: 0 });
  assert.equal(await Deno.readTextFile(path), COLUMNS.join(",") + "\n");
  await assert.rejects(generateCsv(path, { rows: -1, orgs: 1 }), RangeError);
  await assert.rejects(generateCsv(path, { rows: 1.5, orgs: 1 }), RangeError);
  await assert.rejects(generateCsv(path, { rows: 10, orgs: 0 }), RangeError);
  await assert.rejects(generateCsv(path, { rows: 10, orgs: 2, personsInOrgs: 3 }), RangeError);
});

Deno.test("gen_csv command line writes the file and prints the invalid row count", async () => {
  const path = tempPath();
  const script = new URL("../examples/gen_csv.ts", import.meta.url).pathname;
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-write", script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run(["5_000", "20", path, "--with-errors", "--seed", "9"]);
  const stderr = new TextDecoder().decode(ok.stderr);
  assert.equal(ok.code, 0, stderr);
  const expected = await generateCsv(tempPath(), {
    rows: 5_000,
    orgs: 20,
    withErrors: true,
    seed: 9,
  });
  assert.match(stderr, new RegExp(`^Invalid rows: ${expected.invalidRows}$`, "m"));
  assert.equal((await readRows(path)).rows.length, 5_000);

  const toStdout = await run(["10", "2", "-"]);
  assert.equal(toStdout.code, 0);
  assert.equal(new TextDecoder().decode(toStdout.stdout).split("\n").length, 12);

  const bad = await run(["ten", "2", path]);
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /Cannot read rows: "ten" is not a whole number/,
  );
  const missing = await run(["10"]);
  assert.equal(missing.code, 2);
  assert.match(new TextDecoder().decode(missing.stderr), /expected 3 arguments, got 1/);
});
