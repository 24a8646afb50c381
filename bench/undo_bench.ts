/**
 * `undo` at scale, in two parts:
 *
 * 1. Reading: `undo --dry-run` over a synthetic 1M-entry audit log (what a
 *    333k-user multi-org job writes), in the form a job writes it
 *    (`audit.jsonl.gz`, a gzip member a batch). The log is read backwards a
 *    member at a time, so memory stays flat: target peak RSS under 256 MiB.
 * 2. Doing: the real CLI imports 3,000 users into 30 new organizations of the
 *    fake WorkOS as a job (no rate limits, `--rate-limit 1000` so the budget
 *    is not what is measured), then undoes the job. Target: the fake is back to its exact
 *    snapshot from before the import; reported: undo steps per second.
 *
 * Run: `deno run -A bench/undo_bench.ts [--quick] [--entries 1000000] [--users 3000]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isDeepStrictEqual } from "node:util";
import { startFakeWorkOS } from "../testing.ts";
import { type AuditEntry, openAuditLog, readAuditLog } from "../src/report/audit_log.ts";
import { emit, isQuick, logger, round, runImporter } from "./_harness.ts";

const NAME = "undo";
const TARGET_RSS_MIB = 256;
const log = logger(NAME);

/**
 * Writes a plausible audit log the way a job does (through `openAuditLog`,
 * compressed, one member a batch of 500 rows): per user a creation and two
 * memberships, each with its request id, and an organization every 1,000
 * entries.
 */
async function writeAuditLog(path: string, entries: number): Promise<void> {
  await using log = await openAuditLog(path);
  const base = Date.UTC(2024, 0, 1);
  let batch: AuditEntry[] = [];
  for (let i = 0; i < entries; i++) {
    // A batch's entries share its time, as a job's do.
    const timestamp = new Date(base + Math.floor(i / 1500) * 250).toISOString();
    const person = Math.floor(i / 3);
    const user = `user_01HZ${String(person).padStart(22, "0")}`;
    const email = `person${person}@example.com`;
    const row = person + 1;
    if (i % 3 === 0) {
      batch.push({
        timestamp,
        action: "user_created",
        id: user,
        email,
        row,
        requestId: crypto.randomUUID(),
      });
    } else if (i % 1000 === 1) {
      const id = `org_01HZ${String(i).padStart(22, "0")}`;
      batch.push({
        timestamp,
        action: "organization_created",
        id,
        organizationId: id,
        row,
        requestId: crypto.randomUUID(),
      });
    } else {
      batch.push({
        timestamp,
        action: "membership_created",
        id: `om_01HZ${String(i).padStart(22, "0")}`,
        email,
        userId: user,
        organizationId: `org_01HZ${String(i % 500).padStart(22, "0")}`,
        row,
        requestId: crypto.randomUUID(),
      });
    }
    if (batch.length === 1500) {
      await log.write(batch);
      batch = [];
    }
  }
  await log.write(batch);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      entries: { type: "string" },
      users: { type: "string" },
    },
  });
  const entries = Number(values.entries ?? (isQuick() ? 200_000 : 1_000_000));
  const users = Number(values.users ?? (isQuick() ? 1_000 : 3_000));
  const dir = await Deno.makeTempDir({ prefix: "workos_importer_undo_bench_" });
  try {
    // 1. Reading a big log.
    const audit = `${dir}/big.jsonl.gz`;
    log(`writing a ${entries}-entry audit log`);
    await writeAuditLog(audit, entries);
    const size = (await Deno.stat(audit)).size;
    const dry = await runImporter(["undo", "--audit-file", audit, "--dry-run", "--quiet"], {
      relay: (line) => log(`  ${line}`),
      timeoutMs: 600_000,
    });
    const readSeconds = dry.wallMs / 1000;
    const read = (dry.summary?.entries as number | undefined) ?? 0;
    log(`dry run: ${round(readSeconds, 1)} s, peak ${dry.peakRssMiB} MiB`);

    // 2. Undoing a real import.
    await using fake = await startFakeWorkOS({ rateLimits: false });
    fake.state.addOrganization({ name: "Existing", externalId: "existing" });
    const before = fake.state.snapshot();
    const lines = ["email,org_external_id,org_name"];
    for (let i = 0; i < users; i++) {
      lines.push(`user${i}@undo-bench.test,org-${i % 30},Org ${i % 30}`);
      if (i % 4 === 0) lines.push(`user${i}@undo-bench.test,existing,`);
    }
    const csv = `${dir}/users.csv`;
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    const job = ["--checkpoint-dir", `${dir}/checkpoints`];
    const api = { url: fake.url, apiKey: fake.apiKey };
    const flags = ["--rate-limit", "1000", "--concurrency", "20", "--quiet"];
    log(`importing ${users} users`);
    const imported = await runImporter(["--csv", csv, "--job-id", "bench", ...job, ...flags], {
      api,
      timeoutMs: 600_000,
    });
    const steps = (await readAuditLog(`${dir}/checkpoints/bench/audit.jsonl.gz`)).length;
    log(`undoing ${steps} audit entries`);
    const undone = await runImporter(["undo", "bench", ...job, ...flags], {
      api,
      timeoutMs: 600_000,
    });
    const undoSeconds = undone.wallMs / 1000;
    const restored = isDeepStrictEqual(fake.state.snapshot(), before);
    log(`undo: ${round(undoSeconds, 1)} s, ${Math.round(steps / undoSeconds)} steps/s`);
    emit({
      name: NAME,
      auditEntries: entries,
      auditMiB: round(size / 2 ** 20, 1),
      dryRunSeconds: round(readSeconds, 2),
      dryRunEntriesPerSecond: Math.round(read / readSeconds),
      dryRunPeakRssMiB: dry.peakRssMiB,
      users,
      importExitCode: imported.code,
      undoSteps: steps,
      undoSeconds: round(undoSeconds, 2),
      undoStepsPerSecond: Math.round(steps / undoSeconds),
      undoPeakRssMiB: undone.peakRssMiB,
      restored,
      target: { dryRunPeakRssMiB: TARGET_RSS_MIB, entriesRead: entries, restored: true },
      passed: read === entries && dry.peakRssMiB < TARGET_RSS_MIB && restored &&
        imported.code === 0 && undone.code === 0,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
