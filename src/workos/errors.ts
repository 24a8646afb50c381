/**
 * Turns whatever the WorkOS SDK (or the network under it) threw into one
 * plain description the importer can decide on: retry, adopt, or report.
 *
 * @module
 */

import { retryable } from "../limits/retry.ts";

/** Thrown by the importer's own fetch wrapper when a request outlives `--request-timeout`. */
export class RequestTimeoutError extends Error {
  override name = "RequestTimeoutError";
  /** The timeout that was exceeded, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * @param timeoutMs The timeout that was exceeded.
   *
   * @example Usage
   * ```ts
   * import { RequestTimeoutError } from "./errors.ts";
   * const error = new RequestTimeoutError(30_000);
   * console.log(error.message); // "Request timed out after 30000 ms"
   * ```
   */
  constructor(timeoutMs: number) {
    super(`Request timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** What went wrong with one API request, in the terms the importer decides on. */
export interface ApiFailure {
  /**
   * `http` when the server answered, `network` when it did not, `timeout`
   * when it was too slow, `permission` when Deno refused to send it.
   */
  kind: "http" | "network" | "timeout" | "permission";
  /** HTTP status, when the server answered. */
  status?: number;
  /** WorkOS error code: the top-level `code`, or the first entry of `errors`. */
  code?: string;
  /** Every error code WorkOS gave (top level and `errors[]`). */
  codes: string[];
  /** Human-readable message. */
  message: string;
  /** `Retry-After` in seconds, for 429. */
  retryAfterSeconds?: number;
  /** The server answered with a body that is not JSON (a gateway's error page). */
  notJson?: boolean;
}

interface ErrorLike {
  status?: unknown;
  code?: unknown;
  errors?: unknown;
  message?: unknown;
  retryAfter?: unknown;
  rawData?: unknown;
  cause?: unknown;
  name?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === "object" && value !== null ? value as ErrorLike : undefined;
}

function errorCodes(error: ErrorLike): string[] {
  const codes: string[] = [];
  if (typeof error.code === "string") codes.push(error.code);
  const rawData = asErrorLike(error.rawData);
  if (rawData && typeof rawData.code === "string" && !codes.includes(rawData.code)) {
    codes.push(rawData.code);
  }
  const lists = [error.errors, rawData?.errors];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const code = asErrorLike(entry)?.code;
      if (typeof code === "string" && !codes.includes(code)) codes.push(code);
    }
  }
  return codes;
}

/** The first error in a `cause` chain that the SDK wrapped, or the error itself. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = asErrorLike(current)?.cause;
    if (cause === undefined) return current;
    current = cause;
  }
  return current;
}

/**
 * Describes an error thrown by a WorkOS SDK call.
 *
 * The SDK throws typed exceptions carrying `status` for HTTP answers, and
 * wraps network failures (and our own timeouts) as `Error("Unexpected error")`
 * with the original in `cause`.
 *
 * @param error What the SDK call threw.
 * @returns The failure in the importer's terms.
 *
 * @example Usage
 * ```ts
 * import { describeApiError, RequestTimeoutError } from "./errors.ts";
 * const failure = describeApiError(new Error("x", { cause: new RequestTimeoutError(10) }));
 * console.log(failure.kind); // "timeout"
 * ```
 */
export function describeApiError(error: unknown): ApiFailure {
  const root = rootCause(error);
  if (root instanceof RequestTimeoutError) {
    return { kind: "timeout", message: root.message, codes: [] };
  }
  if (root instanceof Deno.errors.NotCapable || root instanceof Deno.errors.PermissionDenied) {
    // Retrying cannot help: the request never left this process.
    return { kind: "permission", message: (root as Error).message, codes: [] };
  }
  if (asErrorLike(root)?.name === "TimeoutError") {
    // The timeout fired while the body was still arriving.
    return { kind: "timeout", message: "Request timed out while reading the answer", codes: [] };
  }
  const like = asErrorLike(error);
  if (like && typeof like.status === "number") {
    const codes = errorCodes(like);
    const failure: ApiFailure = {
      kind: "http",
      status: like.status,
      codes,
      code: codes[0],
      message: httpMessage(like, codes),
    };
    if (typeof like.retryAfter === "number" && Number.isFinite(like.retryAfter)) {
      failure.retryAfterSeconds = like.retryAfter;
    }
    return failure;
  }
  const rootLike = asErrorLike(root);
  const rawStatus = (root as { rawStatus?: unknown } | undefined)?.rawStatus;
  if (typeof rawStatus === "number") {
    // The SDK's ParseError: the server answered, but not with JSON (a
    // gateway's error page). Its status still decides retry or not.
    const failure: ApiFailure = {
      kind: "http",
      status: rawStatus,
      codes: [],
      message: `Unexpected answer from WorkOS: HTTP ${rawStatus} with a body that is not JSON`,
      notJson: true,
    };
    const headers = (root as { rawHeaders?: unknown }).rawHeaders;
    const retryAfter = headers instanceof Headers ? Number(headers.get("retry-after")) : NaN;
    if (headers instanceof Headers && headers.has("retry-after") && Number.isFinite(retryAfter)) {
      failure.retryAfterSeconds = retryAfter;
    }
    return failure;
  }
  const message = typeof rootLike?.message === "string" && rootLike.message
    ? rootLike.message
    : String(root);
  return { kind: "network", message: `Network error: ${message}`, codes: [] };
}

function httpMessage(error: ErrorLike, codes: string[]): string {
  // The SDK rewrites 422 messages into a multi-line list of codes; the server's
  // own message (kept in rawData or errors[]) reads better in an error file.
  const details: string[] = [];
  const rawData = asErrorLike(error.rawData);
  const lists = [error.errors, rawData?.errors];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const message = asErrorLike(entry)?.message;
      if (typeof message === "string" && !details.includes(message)) details.push(message);
    }
  }
  const base = typeof rawData?.message === "string"
    ? rawData.message
    : typeof error.message === "string"
    ? error.message.trim()
    : "Request failed";
  if (details.length > 0 && !details.every((detail) => base.includes(detail))) {
    return `${base.split("\n")[0]}: ${details.join("; ")}`;
  }
  return base || (codes[0] ?? "Request failed");
}

/**
 * Whether a failure is transient and the request should be tried again.
 *
 * @param failure The described failure.
 * @returns `true` for 408, 429, 500, 502, 503, 504, network errors and timeouts.
 *
 * @example Usage
 * ```ts
 * import { isTransient } from "./errors.ts";
 * console.log(isTransient({ kind: "http", status: 503, codes: [], message: "" })); // true
 * ```
 */
export function isTransient(failure: ApiFailure): boolean {
  if (failure.kind === "permission") return false;
  if (failure.kind !== "http") return true;
  return failure.status !== undefined && retryable(failure.status);
}

/**
 * Whether a failure is the world's rather than the row's: no answer, a
 * timeout, a 5xx (a gateway's HTML page included), a 408, a 429, or the key
 * refused (401, 403). Such a failure never fails a row: the run waits or
 * stops.
 *
 * @param failure The described failure.
 * @returns `true` for a run condition.
 *
 * @example Usage
 * ```ts
 * import { isRunCondition } from "./errors.ts";
 * console.log(isRunCondition({ kind: "network", codes: [], message: "" })); // true
 * console.log(isRunCondition({ kind: "http", status: 422, codes: [], message: "" })); // false
 * ```
 */
export function isRunCondition(failure: ApiFailure): boolean {
  if (failure.kind === "permission") return false;
  if (failure.kind !== "http") return true;
  if (isKeyRefusal(failure)) return true;
  const status = failure.status ?? 0;
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Whether WorkOS refused the API key: 401 or 403.
 *
 * @param failure The described failure.
 * @returns `true` for 401 and 403.
 *
 * @example Usage
 * ```ts
 * import { isKeyRefusal } from "./errors.ts";
 * console.log(isKeyRefusal({ kind: "http", status: 401, codes: [], message: "" })); // true
 * ```
 */
export function isKeyRefusal(failure: ApiFailure): boolean {
  return failure.kind === "http" && (failure.status === 401 || failure.status === 403);
}

const STATUS_TEXT: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * A short reason for a run condition, for one-line messages:
 * `503 Service Unavailable`, `no answer within 30 s`, `connection refused`.
 *
 * @param failure The described failure.
 * @returns The reason, in lower case unless it starts with a status.
 *
 * @example Usage
 * ```ts
 * import { failureReason } from "./errors.ts";
 * console.log(failureReason({ kind: "http", status: 503, codes: [], message: "" }));
 * // 503 Service Unavailable
 * ```
 */
export function failureReason(failure: ApiFailure): string {
  if (failure.kind === "http") {
    const status = failure.status ?? 0;
    const text = STATUS_TEXT[status] ?? "error";
    return failure.notJson ? `${status} ${text}, not a JSON answer` : `${status} ${text}`;
  }
  if (failure.kind === "timeout") return failure.message.replace(/^Request /, "").toLowerCase();
  const message = failure.message.replace(/^Network error: /, "");
  if (/refused/i.test(message)) return "connection refused";
  if (/reset/i.test(message)) return "connection reset";
  if (/closed|incomplete|unexpected end|eof/i.test(message)) return "connection closed";
  if (/dns|lookup|resolve|not known/i.test(message)) return "host not found";
  return message.split("\n")[0].slice(0, 120);
}

/**
 * Whether a failed write may nevertheless have been applied by the server,
 * so that the next attempt must look before it writes again.
 *
 * A 429 is refused before any work is done; a dropped connection, a timeout or
 * a 5xx may hide a write that happened ("ghost success").
 *
 * @param failure The described failure.
 * @returns `true` when the write may have been applied.
 *
 * @example Usage
 * ```ts
 * import { mayHaveApplied } from "./errors.ts";
 * console.log(mayHaveApplied({ kind: "network", codes: [], message: "" })); // true
 * ```
 */
export function mayHaveApplied(failure: ApiFailure): boolean {
  if (failure.kind === "permission") return false;
  if (failure.kind !== "http") return true;
  return failure.status !== undefined && failure.status !== 429 && isTransient(failure);
}

const DUPLICATE_EMAIL_CODES: ReadonlySet<string> = new Set([
  "email_not_available",
  "user_already_exists",
  "email_already_exists",
]);

/**
 * Whether a create-user failure means the email already belongs to a user:
 * HTTP 400 `email_not_available`, or 409 as some WorkOS servers answer.
 *
 * @param failure The described failure of a create-user call.
 * @returns `true` when the user exists already.
 *
 * @example Usage
 * ```ts
 * import { isDuplicateEmail } from "./errors.ts";
 * console.log(isDuplicateEmail({
 *   kind: "http", status: 400, codes: ["user_creation_error", "email_not_available"], message: "",
 * })); // true
 * ```
 */
export function isDuplicateEmail(failure: ApiFailure): boolean {
  if (failure.kind !== "http") return false;
  if (failure.status === 409) return true;
  return failure.codes.some((code) => DUPLICATE_EMAIL_CODES.has(code));
}

/**
 * Whether a create failure means "it exists already" for resources other than
 * users (organizations by external id, memberships): a 409, or a 400/422 whose
 * code speaks of something already existing or taken.
 *
 * @param failure The described failure.
 * @returns `true` when the resource exists already.
 *
 * @example Usage
 * ```ts
 * import { isAlreadyExists } from "./errors.ts";
 * console.log(isAlreadyExists({ kind: "http", status: 409, codes: [], message: "" })); // true
 * ```
 */
export function isAlreadyExists(failure: ApiFailure): boolean {
  if (failure.kind !== "http") return false;
  if (failure.status === 409) return true;
  if (failure.status !== 400 && failure.status !== 422) return false;
  return failure.codes.some((code) => /already|exists|taken|not_available|duplicate/.test(code));
}
