/**
 * Reporting's public face: the audit log's entries, which undo reads back.
 *
 * @module
 */

export type { AuditAction, AuditEntry, AuditLog, AuditUserValues } from "./audit_log.ts";
