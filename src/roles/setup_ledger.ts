/**
 * What a job's setup steps (the organizations and role definitions created
 * before the first user row) have done, kept so that a SIGKILL cannot make
 * undo forget a create: a line is written before each create is sent and
 * another once it is recorded in the audit log. A resumed setup that finds
 * something it began to create and never recorded counts it as the job's,
 * marked `uncertain` as for a row a crash cut off (see docs/undo.md).
 *
 * The file is append-only JSON lines in the job's directory; it holds slugs,
 * external ids and times, never a secret.
 *
 * @module
 */

import type { AuditEntry, AuditLog } from "../report/audit_log.ts";

/** Where a job's setup steps are recorded, and the audit log their creates go to. */
export interface SetupRecorder {
  /**
   * Whether an earlier session began to create this and was cut off before
   * recording it: found now, it is the job's.
   */
  isPending(key: string): boolean;
  /** Records that a create is about to be sent. */
  intend(key: string): Promise<void>;
  /**
   * Records how a create ended: the audit entry when the job made it,
   * `undefined` when what was found is someone else's.
   */
  settle(key: string, entry: AuditEntry | undefined): Promise<void>;
  /** Keys the job created, in every session so far. */
  readonly created: ReadonlySet<string>;
}

interface LedgerLine {
  key: string;
  state: "intent" | "done";
  at: number;
  created?: boolean;
}

/**
 * Opens the setup ledger of a job (created when missing), writing creates to
 * `audit`.
 *
 * @param path The ledger file (`<job dir>/setup.jsonl`); `undefined` keeps
 *   nothing between sessions (a run without a job).
 * @param audit Where the creates are recorded for undo; none without one.
 * @returns The recorder.
 *
 * @example A create recorded, then seen by the next session
 * ```ts
 * import { openSetupLedger } from "./setup_ledger.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/setup.jsonl`;
 * const first = await openSetupLedger(path, undefined);
 * await first.intend("role:-:billing");
 * // A SIGKILL here: the next session sees the create as begun, not recorded.
 * const second = await openSetupLedger(path, undefined);
 * assert.equal(second.isPending("role:-:billing"), true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openSetupLedger(
  path: string | undefined,
  audit: AuditLog | undefined,
): Promise<SetupRecorder> {
  const pending = new Set<string>();
  const created = new Set<string>();
  if (path !== undefined) {
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    for (const line of text.split("\n")) {
      let record: LedgerLine;
      try {
        record = JSON.parse(line);
      } catch {
        // A line torn by a crash: its create is looked for again.
        continue;
      }
      if (typeof record?.key !== "string") continue;
      if (record.state === "intent") pending.add(record.key);
      else if (record.state === "done") {
        pending.delete(record.key);
        if (record.created) created.add(record.key);
      }
    }
  }
  const append = async (record: LedgerLine) => {
    if (path === undefined) return;
    await Deno.writeTextFile(path, JSON.stringify(record) + "\n", {
      append: true,
      create: true,
      mode: 0o600,
    });
  };
  return {
    created,
    isPending: (key) => pending.has(key),
    async intend(key) {
      pending.add(key);
      await append({ key, state: "intent", at: Date.now() });
    },
    async settle(key, entry) {
      // The audit entry first: a crash between the two makes the next
      // session record it again (undo takes a second entry as already done).
      if (entry !== undefined) {
        await audit?.write([entry]);
        await audit?.flush();
        created.add(key);
      }
      pending.delete(key);
      await append({ key, state: "done", at: Date.now(), created: entry !== undefined });
    },
  };
}
