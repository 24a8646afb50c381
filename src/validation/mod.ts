/**
 * Validation's public face: check a whole file without a server.
 *
 * @module
 */

export {
  validateFile,
  type ValidateFileOptions,
  type ValidationReport,
  type ValidationReportError,
  type ValidationReportWarning,
} from "./validate_file.ts";
