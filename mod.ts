/**
 * workos-importer as a library: import users from CSV, NDJSON or row objects
 * into WorkOS User Management from your own code and tests.
 *
 * @example Import a CSV into a fake WorkOS
 * ```ts
 * import { importUsers } from "@workos-importer/cli";
 * import { startFakeWorkOS } from "@workos-importer/cli/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "email,first_name\nada@example.com,Ada\n");
 * const summary = await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url });
 * assert.equal(summary.status, "success");
 * assert.equal(fake.state.findUserByEmail("ada@example.com")?.firstName, "Ada");
 * ```
 *
 * @module
 */

export {
  type ImportProgress,
  type ImportResult,
  type ImportSource,
  type ImportStartInfo,
  importUsers,
  type ImportUsersOptions,
} from "./src/pipeline/import_users.ts";
export type { OnExisting, RowOutcome, UserOutcome } from "./src/pipeline/row_processor.ts";
export type { PlanReport } from "./src/pipeline/dry_run_plan.ts";
export {
  createJob,
  type CreateJobOptions,
  describeInput,
  JobError,
  type JobInfo,
  type JobStatus,
  type JobTotals,
  type Journal,
  listJobs,
  readJob,
  removeJob,
  resumeJob,
  type ResumeJobOptions,
} from "./src/journal/mod.ts";
export {
  validateFile,
  type ValidateFileOptions,
  type ValidationReport,
  type ValidationReportError,
  type ValidationReportWarning,
} from "./src/validation/validate_file.ts";
export {
  type OrganizationPrediction,
  type OrganizationStatus,
  planTenant,
  type RowPrediction,
  type TenantPlan,
  type TenantPlanOptions,
  type UserPrediction,
} from "./src/pipeline/tenant_plan.ts";
export {
  undoAuditLog,
  type UndoOptions,
  type UndoStep,
  type UndoStepKind,
  type UndoStepResult,
  type UndoSummary,
} from "./src/undo/undo_job.ts";
export type { AuditAction, AuditEntry, AuditUserValues } from "./src/report/audit_log.ts";
export type {
  ErrorRecord,
  ErrorType,
  ImportStatus,
  ImportSummary,
  InputFormat,
  OrganizationRef,
  UserRow,
} from "./src/types.ts";
