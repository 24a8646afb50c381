/**
 * A full disk under a job's checkpoint directory, through the real CLI
 * against the fake WorkOS: the run stops before its next write to WorkOS
 * with one line naming the file (exit 75), and after space is freed
 * `--resume` ends in the exact state with an audit log that holds every
 * object the job created exactly once. The disk is a small tmpfs, so the
 * test runs where it may mount one (as root on Linux).
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { runCli, tempDir, tempFile } from "./_cli.ts";
import { readAuditLog } from "../src/report/audit_log.ts";

async function run(command: string, args: string[]): Promise<boolean> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return output.success;
  } catch {
    return false;
  }
}

async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = await tempDir();
  const mounted = await run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
  if (mounted) await run("umount", [dir]);
  await Deno.remove(dir).catch(() => {});
  return mounted;
}

const TMPFS = await canMountTmpfs();

function usersCsv(rows: number, orgs: number): string {
  const lines = ["email,first_name,org_external_id,org_name"];
  for (let i = 1; i <= rows; i++) {
    lines.push(`disk${i}@full.test,Disk ${i},org-${i % orgs},Org ${i % orgs}`);
  }
  return lines.join("\n") + "\n";
}

interface AuditLine {
  action: string;
  id: string;
}

async function auditLines(path: string): Promise<AuditLine[]> {
  // A member a full disk tore holds no entry (and the resume cut it off).
  return await readAuditLog(path);
}

function idsOf(lines: AuditLine[], action: string): string[] {
  return lines.filter((line) => line.action === action).map((line) => line.id).sort();
}

Deno.test({
  name:
    "a full checkpoint filesystem stops the job (exit 75) naming the file; after space is freed --resume ends exact, every created object once in the audit log",
  ignore: !TMPFS,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using fake = await startFakeWorkOS({ rateLimits: false });
    const rows = 1_500;
    const orgs = 5;
    const csv = await tempFile(usersCsv(rows, orgs));
    const disk = await tempDir();
    assert.ok(await run("mount", ["-t", "tmpfs", "-o", "size=320k", "tmpfs", disk]));
    try {
      const env = { WORKOS_SECRET_KEY: fake.apiKey, WORKOS_API_URL: fake.url };
      const flags = ["--checkpoint-dir", disk, "--quiet", "--json"];
      const first = await runCli([
        "--csv",
        csv,
        "--job-id",
        "full",
        "--chunk-size",
        "50",
        "--concurrency",
        "8",
        "--rate-limit",
        "100000",
        ...flags,
      ], { env });
      assert.equal(first.code, 75, first.stderr);
      const line = first.stderr.split("\n").find((text) => text.startsWith("Error: "));
      assert.match(
        line ?? "",
        /^Error: Cannot write "[^"]*\/full\/(journal\.kv|audit\.jsonl\.gz|errors\.jsonl)": .*(No space left on device|disk is full).*: the run stopped before its next write to WorkOS/i,
      );
      assert.equal(first.stderr.includes("    at "), false, "no stack trace");
      const createdBeforeStop = fake.state.userCount();
      assert.ok(createdBeforeStop < rows, "the run stopped");
      assert.ok(
        first.stderr.includes(
          `Resume with: workos-importer --resume full --checkpoint-dir ${disk}`,
        ),
      );

      // Free space, then resume.
      assert.ok(await run("mount", ["-o", "remount,size=64m", disk]));
      const status = await runCli(["status", "full", "--checkpoint-dir", disk, "--json"]);
      const committed = (JSON.parse(status.stdout) as { rowsDone: number }).rowsDone;
      // Writes stopped once the failure was seen: only rows in flight or in
      // the batch being committed went on.
      assert.ok(
        createdBeforeStop <= committed + 3 * 50 + 8,
        `${createdBeforeStop} users, ${committed} rows committed`,
      );
      const resumed = await runCli(["--resume", "full", ...flags], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const summary = JSON.parse(resumed.stdout.trim().split("\n").at(-1) as string);
      assert.equal(summary.usersCreated, rows);
      assert.equal(summary.membershipsCreated, rows);
      assert.equal(summary.failures, 0);

      assert.equal(fake.state.userCount(), rows);
      assert.equal(fake.state.membershipCount(), rows);
      assert.equal(fake.state.organizationCount(), orgs);
      const audit = await auditLines(`${disk}/full/audit.jsonl.gz`);
      assert.deepEqual(
        idsOf(audit, "user_created"),
        fake.state.listUsers().map((user) => user.id).sort(),
        "every user once",
      );
      const memberships = fake.state.listUsers().flatMap((user) =>
        fake.state.membershipsOfUser(user.id).map((membership) => membership.id)
      );
      assert.deepEqual(
        idsOf(audit, "membership_created"),
        memberships.sort(),
        "every membership once",
      );
      assert.deepEqual(
        idsOf(audit, "organization_created"),
        fake.state.listOrganizations().map((org) => org.id).sort(),
        "every organization once",
      );
    } finally {
      await run("umount", [disk]);
    }
  },
});
