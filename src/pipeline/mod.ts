/**
 * The import pipeline's public face: one import (`importUsers`), the tenant
 * plan (`planTenant`), the file check (`validateFile`), and the types their
 * options and results use.
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
} from "./import_users.ts";
export type { OnExisting, OrganizationMode } from "./row_processor.ts";
export type { PlanReport } from "./dry_run_plan.ts";
export {
  type OrganizationPrediction,
  type OrganizationStatus,
  planTenant,
  type RowPrediction,
  type TenantPlan,
  type TenantPlanOptions,
  type UserPrediction,
} from "./tenant_plan.ts";
export {
  validateFile,
  type ValidateFileOptions,
  type ValidationReport,
  type ValidationReportError,
  type ValidationReportWarning,
} from "./validate_file.ts";
