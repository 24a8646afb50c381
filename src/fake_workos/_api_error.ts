/**
 * The error answers the fake gives, in WorkOS's wire shapes.
 *
 * @module
 */

/** One field-level problem in a 422 answer. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** An error answer: HTTP status and JSON body. */
export class ApiError {
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    this.status = status;
    this.body = body;
  }

  /** A one-line description, for seeding errors thrown to test code. */
  describe(): string {
    const errors = this.body.errors;
    const details = Array.isArray(errors)
      ? errors.map((error: { message?: string }) => error.message).join("; ")
      : "";
    const message = String(this.body.message ?? "");
    return details ? `${message}: ${details}` : message;
  }
}

/** 422 with WorkOS's validation shape. */
export function validationError(errors: FieldError[]): ApiError {
  return new ApiError(422, {
    message: "Validation failed",
    code: "invalid_request_parameters",
    errors,
  });
}

/** 422 for a single field. */
export function fieldError(field: string, code: string, message: string): ApiError {
  return validationError([{ field, code, message }]);
}

/** 404 for an object that does not exist, e.g. `User not found: 'user_1'.` */
export function notFound(entity: string, id: string): ApiError {
  return new ApiError(404, {
    message: `${entity} not found: '${id}'.`,
    code: "entity_not_found",
    entity_id: id,
  });
}
