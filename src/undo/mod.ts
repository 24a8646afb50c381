/**
 * Undo's public face: take back what an import's audit log says it did.
 *
 * @module
 */

export {
  undoAuditLog,
  type UndoOptions,
  type UndoStep,
  type UndoStepKind,
  type UndoStepResult,
  type UndoSummary,
} from "./undo_job.ts";
