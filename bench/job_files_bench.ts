/**
 * What a job leaves on disk: the real CLI imports a generated
 * multi-organization CSV (1 % invalid rows, about 1 % of the people in
 * three organizations, a hundred people an organization up to 1,000 of
 * them) as a job into the fake WorkOS with its limits off, then the journal
 * (`journal.kv` with its `-wal` and `-shm`, measured after the process
 * closed them) and the audit log (`audit.jsonl.gz`: gzip members, one per
 * committed batch) are weighed, per input row. Targets: at most 100 bytes a
 * row for the journal, 200 for the audit log. From the same log: its lines
 * uncompressed (`auditPlainBytesPerRow`, what the plain form takes), the
 * floor of a plain log (the bytes of its values alone: ids, emails, times,
 * rows, request ids, with no key or punctuation), and the whole log as one
 * gzip stream (`auditGzipBytesPerRow`, what one member for the whole job
 * would take).
 *
 * Run: `deno run -A bench/job_files_bench.ts [--rows 100000] [--quick]
 * [--concurrency 50] [--keep]`. `--quick` imports 10,000 rows; the issue's
 * figure is `--rows 1000000` (about 10 minutes at 1,800 users a second).
 * Progress goes to stderr; stdout gets exactly one JSON line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { startFakeWorkOS } from "../testing.ts";
import { generateCsv } from "../examples/gen_csv.ts";
import { emit, isQuick, logger, round, runImporter } from "./_harness.ts";

const NAME = "job_files";
const JOURNAL_TARGET = 100;
const AUDIT_TARGET = 200;
const log = logger(NAME);

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/**
 * The audit log's floor: the bytes of its values alone (every id, email,
 * time, row and request id, each as often as the log says it), without a
 * key, a quote or a comma. No plain-text format that keeps them is smaller.
 */
function auditValueBytes(text: string): number {
  const encoder = new TextEncoder();
  let bytes = 0;
  const add = (value: unknown): void => {
    if (typeof value === "string") bytes += encoder.encode(value).length;
    else if (typeof value === "number") bytes += String(value).length;
    else if (Array.isArray(value)) value.forEach(add);
    else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        // The write codes are keys in all but name.
        if (key !== "a") add(item);
      }
    }
  };
  for (const line of text.split("\n")) {
    if (line !== "") add(JSON.parse(line));
  }
  return bytes;
}

/** The audit log's lines as one gzip stream: what a single member would take. */
async function gzipBytes(text: Uint8Array): Promise<number> {
  let bytes = 0;
  const stream = new Blob([text as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rows: { type: "string" },
      concurrency: { type: "string", default: "50" },
      keep: { type: "boolean", default: false },
    },
  });
  const rows = Number(values.rows ?? (isQuick() ? 10_000 : 100_000));
  const dir = await Deno.makeTempDir({ prefix: "job_files_bench_" });
  try {
    const csv = `${dir}/users.csv`;
    const { invalidRows } = await generateCsv(csv, {
      rows,
      // A hundred people an organization, up to the 1,000 of the 1M-row
      // file: a job's few entries per organization are not a per-row cost.
      orgs: Math.min(1_000, Math.max(10, Math.round(rows / 100))),
      withErrors: true,
      personsInOrgs: 3,
    });
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const checkpoints = `${dir}/checkpoints`;
    log(`importing ${rows} rows as a job (concurrency ${values.concurrency})`);
    const run = await runImporter([
      "--csv",
      csv,
      "--job-id",
      "bench",
      "--checkpoint-dir",
      checkpoints,
      "--concurrency",
      values.concurrency,
      "--rate-limit",
      "1000000",
      "--quiet",
    ], { api: fake, relay: (line) => log(line) });
    const summary = run.summary ?? {};
    if (run.code !== 0 && run.code !== 1) {
      throw new Error(`The import exited with ${run.code}: ${run.stderrTail.join("\n")}`);
    }
    const job = `${checkpoints}/bench`;
    const kv = await sizeOf(`${job}/journal.kv`);
    const wal = await sizeOf(`${job}/journal.kv-wal`);
    const shm = await sizeOf(`${job}/journal.kv-shm`);
    const audit = await sizeOf(`${job}/audit.jsonl.gz`);
    // zcat's view of it: the compact lines.
    const plain = gunzipSync(await Deno.readFile(`${job}/audit.jsonl.gz`));
    const errors = await sizeOf(`${job}/errors.jsonl`);
    const journalBytesPerRow = round((kv + wal + shm) / rows, 1);
    const auditFloorBytesPerRow = round(auditValueBytes(new TextDecoder().decode(plain)) / rows, 1);
    const auditGzipBytesPerRow = round(await gzipBytes(plain) / rows, 1);
    const auditPlainBytesPerRow = round(plain.length / rows, 1);
    const auditBytesPerRow = round(audit / rows, 1);
    const problems: string[] = [];
    if (summary.totalRows !== rows) problems.push(`the summary counts ${summary.totalRows} rows`);
    if (summary.failures !== invalidRows) {
      problems.push(`${summary.failures} rows failed, ${invalidRows} were invalid`);
    }
    emit({
      name: NAME,
      journalBytesPerRow,
      auditBytesPerRow,
      auditPlainBytesPerRow,
      // A plain log's floor: the values an auditor needs, without keys or punctuation.
      auditFloorBytesPerRow,
      auditPlainToFloor: round(auditPlainBytesPerRow / auditFloorBytesPerRow, 2),
      rows,
      // The whole log as one gzip stream: what members per batch cost beyond it.
      auditGzipBytesPerRow,
      usersPerSecond: round(rows / (run.wallMs / 1000)),
      peakRssMiB: run.peakRssMiB,
      journalBytes: { kv, wal, shm },
      auditBytes: audit,
      errorsBytes: errors,
      usersCreated: summary.usersCreated,
      membershipsCreated: summary.membershipsCreated,
      failures: summary.failures,
      problems,
      target: { journalBytesPerRow: JOURNAL_TARGET, auditBytesPerRow: AUDIT_TARGET },
      passed: problems.length === 0 && journalBytesPerRow <= JOURNAL_TARGET &&
        auditBytesPerRow <= AUDIT_TARGET,
    });
  } finally {
    if (values.keep) log(`the job's files are in ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
