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
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/users.csv`;
 * await Deno.writeTextFile(path, "email,first_name\nada@example.com,Ada\n");
 * const summary = await importUsers(path, { apiKey: fake.apiKey, apiUrl: fake.url });
 * assert.equal(summary.status, "success");
 * assert.equal(fake.state.findUserByEmail("ada@example.com")?.firstName, "Ada");
 * await Deno.remove(dir, { recursive: true });
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
  type OnExisting,
  type OrganizationMode,
  type OrganizationPrediction,
  type OrganizationStatus,
  type PlanReport,
  planTenant,
  type RowPrediction,
  type TenantPlan,
  type TenantPlanOptions,
  type UserPrediction,
  validateFile,
  type ValidateFileOptions,
  type ValidationReport,
  type ValidationReportError,
  type ValidationReportWarning,
} from "./src/pipeline/mod.ts";
export type {
  FactorOutcome,
  ImportTally,
  RolesChange,
  RowOutcome,
  UserOutcome,
  Watermark,
} from "./src/outcome/mod.ts";
export { isRunStop, RunStopError, type RunStopKind } from "./src/limits/mod.ts";
export {
  type CheckpointState,
  createJob,
  type CreateJobOptions,
  type CutOff,
  describeInput,
  type DescribeInputOptions,
  type FinishOptions,
  type ImportJournal,
  JobError,
  type JobInfo,
  type JobInput,
  type JobOptions,
  type JobPaths,
  type JobProgress,
  type JobRecord,
  type JobsOptions,
  type JobStatus,
  type JobTotals,
  type Journal,
  type JournalTotals,
  listJobs,
  type OwnershipClaim,
  readJob,
  removeJob,
  resumeJob,
  type ResumeJobOptions,
} from "./src/journal/mod.ts";
export {
  undoAuditLog,
  type UndoOptions,
  type UndoStep,
  type UndoStepKind,
  type UndoStepResult,
  type UndoSummary,
} from "./src/undo/mod.ts";
export type { AuditAction, AuditEntry, AuditLog, AuditUserValues } from "./src/report/mod.ts";
export type { InputSource, ProviderName, ProviderSpec, ResumePoint } from "./src/input/mod.ts";
export type { CachedOrganization } from "./src/organizations/mod.ts";
export type {
  OutageEvent,
  UserChanges,
  WorkOSInvitation,
  WorkOSMembership,
  WorkOSOrganization,
  WorkOSUser,
} from "./src/workos/mod.ts";
export { InputError, UsageError, UserError, type UserErrorOptions } from "./src/errors.ts";
export type {
  ErrorRecord,
  ErrorType,
  ImportStatus,
  ImportSummary,
  InputFormat,
  OrganizationRef,
  UserRow,
} from "./src/types.ts";
