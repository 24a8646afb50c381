/**
 * The one door to WorkOS. Every request goes through here so that three rules
 * hold everywhere: each request takes a slot of the right rate budget first,
 * transient failures are retried by exactly one policy (ours; the SDK's own
 * retry loop is switched off), and the `X-Request-ID` of every answer is
 * captured for error files.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { WorkOS } from "@workos-inc/node";
import { type Clock, systemClock } from "../limits/clock.ts";
import { RateBudget, type RequestKind } from "../limits/rate_budget.ts";
import { Deadlines } from "./_deadlines.ts";
import { retry, type RetryDecision } from "../limits/retry.ts";
import {
  type ApiFailure,
  describeApiError,
  isTransient,
  mayHaveApplied,
  RequestTimeoutError,
} from "./errors.ts";

/** The default WorkOS API location. */
export const DEFAULT_API_URL = "https://api.workos.com";

/** Options for {@linkcode WorkOSClient}. */
export interface WorkOSClientOptions {
  /** WorkOS secret key (`sk_...`). */
  apiKey: string;
  /** API base URL; default `https://api.workos.com`. */
  apiUrl?: string;
  /** Shared rate budget; default: WorkOS's limits at 50 writes/s. */
  budget?: RateBudget;
  /** Per-request timeout in milliseconds; default 30,000. */
  requestTimeoutMs?: number;
  /** Retries after the first attempt for transient failures; default 5. */
  maxRetries?: number;
  /** Time source, for tests. */
  clock?: Clock;
  /** Aborts waits and in-flight requests (a second Ctrl+C). */
  signal?: AbortSignal;
}

/** Counters of what the client did, for progress lines and the summary. */
export interface ClientStats {
  /** Requests sent, every attempt counted. */
  requests: number;
  /** Attempts that were retries. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
}

/** A request that failed for good: retries exhausted, or not worth retrying. */
export class WorkOSApiError extends Error {
  override name = "WorkOSApiError";
  /** What went wrong. */
  readonly failure: ApiFailure;
  /** `X-Request-ID` of the last answer, when the server answered. */
  readonly requestId?: string;
  /**
   * @param failure What went wrong.
   * @param requestId The request id of the failing answer.
   *
   * @example Usage
   * ```ts
   * import { WorkOSApiError } from "./client.ts";
   * const error = new WorkOSApiError({ kind: "http", status: 422, codes: [], message: "Bad" });
   * console.log(error.failure.status); // 422
   * ```
   */
  constructor(failure: ApiFailure, requestId?: string) {
    super(failure.message);
    this.failure = failure;
    this.requestId = requestId;
  }
}

/** What {@linkcode WorkOSClient.ensure} found or made. */
export interface Ensured<T> {
  value: T;
  /** `true` when this call created it (ghost successes included). */
  created: boolean;
  /**
   * Found by the lookup that follows a create which may have landed: most
   * likely that create made it (`created` is `true`), but it may have been
   * there before, made by someone else. Callers that can tell (its
   * `createdAt`, a journal) should.
   */
  uncertain?: boolean;
}

/** How to create something idempotently with {@linkcode WorkOSClient.ensure}. */
export interface EnsureSteps<T> {
  /** Budget the create takes. */
  kind: RequestKind;
  /** Budget the lookup takes. */
  lookupKind: RequestKind;
  /** The create call. */
  create(sdk: WorkOS): Promise<T>;
  /** Finds what the create would have made; `undefined` when absent. */
  lookup(sdk: WorkOS): Promise<T | undefined>;
  /** Whether a failed create means "it exists already". */
  exists(failure: ApiFailure): boolean;
}

interface RequestRecord {
  requestId?: string;
  /** The body of a 4xx answer, kept for the server's own error messages. */
  errorBody?: string;
}

const requestContext = new AsyncLocalStorage<RequestRecord>();

/**
 * Receives the request id of every request that succeeds inside
 * {@linkcode traceRequests}, so that audit entries can name the request that
 * made each write.
 */
export interface RequestTrace {
  /** `X-Request-ID` of the last successful request, if the server sent one. */
  lastRequestId?: string;
}

const traceContext = new AsyncLocalStorage<RequestTrace>();

/**
 * Runs `call` with `trace` collecting the request id of each request that
 * succeeds inside it (through any number of awaits and retries).
 *
 * @param trace The object to record request ids on.
 * @param call The work to trace.
 * @returns What `call` returned.
 *
 * @example Usage
 * ```ts ignore
 * const trace: RequestTrace = {};
 * await traceRequests(trace, () => ensureUser(client, row));
 * console.log(trace.lastRequestId);
 * ```
 */
export function traceRequests<T>(trace: RequestTrace, call: () => Promise<T>): Promise<T> {
  return traceContext.run(trace, call);
}

/**
 * The trace of the innermost {@linkcode traceRequests} around the caller.
 *
 * @returns The trace, or `undefined` outside of one.
 *
 * @example Usage
 * ```ts
 * import { currentTrace } from "./client.ts";
 * console.log(currentTrace()); // undefined
 * ```
 */
export function currentTrace(): RequestTrace | undefined {
  return traceContext.getStore();
}

/**
 * A WorkOS SDK instance wrapped with the importer's budget, retry and
 * request-id rules.
 *
 * @example Usage
 * ```ts ignore
 * import { WorkOSClient } from "./client.ts";
 * const client = new WorkOSClient({ apiKey: "sk_test_123", apiUrl: "http://127.0.0.1:4100" });
 * const user = await client.read("read", (sdk) => sdk.userManagement.getUser("user_123"));
 * ```
 */
export class WorkOSClient {
  /** The official SDK instance every call goes through. */
  readonly sdk: WorkOS;
  /** The budget every request takes a slot of. */
  readonly budget: RateBudget;
  /** What the client did so far. */
  readonly stats: ClientStats = { requests: 0, retries: 0, rateLimited: 0 };
  readonly #maxRetries: number;
  readonly #clock: Clock;
  readonly #signal?: AbortSignal;

  /**
   * @param options Key, location, limits.
   */
  constructor(options: WorkOSClientOptions) {
    const url = new URL(options.apiUrl ?? DEFAULT_API_URL);
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    const https = url.protocol === "https:";
    this.budget = options.budget ?? new RateBudget({ clock: options.clock });
    this.#maxRetries = options.maxRetries ?? 5;
    this.#clock = options.clock ?? systemClock;
    this.#signal = options.signal;
    this.sdk = new WorkOS(options.apiKey, {
      apiHostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      https,
      // One retry policy governs: ours. The SDK's would multiply attempts and
      // ignore the shared budget.
      maxRetries: 0,
      // Our fetch wrapper enforces the timeout; the SDK's must never fire first.
      timeout: timeoutMs + 60_000,
      fetchFn: createFetch(timeoutMs, options.signal),
    });
  }

  /**
   * Runs one request: takes a budget slot, sends, and on failure throws a
   * {@linkcode WorkOSApiError}. A 429 pauses the whole budget for its
   * `Retry-After`, so every worker waits, not only this one.
   *
   * @param kind Which budget the request takes.
   * @param call The SDK call.
   * @returns What the SDK returned.
   */
  async attempt<T>(kind: RequestKind, call: (sdk: WorkOS) => Promise<T>): Promise<T> {
    await this.budget.acquire(kind, this.#signal);
    this.stats.requests++;
    const record: RequestRecord = {};
    try {
      const result = await requestContext.run(record, () => call(this.sdk));
      const trace = traceContext.getStore();
      if (trace && record.requestId !== undefined) trace.lastRequestId = record.requestId;
      return result;
    } catch (error) {
      const failure = describeApiError(withServerDetails(error, record.errorBody));
      if (failure.status === 429) {
        this.stats.rateLimited++;
        this.budget.pause((failure.retryAfterSeconds ?? 1) * 1000);
      }
      throw new WorkOSApiError(failure, record.requestId);
    }
  }

  /**
   * Runs a request that changes nothing, retrying transient failures.
   *
   * @param kind Which budget the request takes.
   * @param call The SDK call.
   * @returns What the SDK returned.
   */
  read<T>(kind: RequestKind, call: (sdk: WorkOS) => Promise<T>): Promise<T> {
    return retry(() => this.attempt(kind, call), {
      maxRetries: this.#maxRetries,
      decide: (error) => this.#decide(error),
      clock: this.#clock,
      signal: this.#signal,
      onRetry: () => this.stats.retries++,
    });
  }

  /**
   * Runs a request whose absence of an answer leaves its effect unknown
   * (delete, update). Retries transient failures; the caller makes the
   * request idempotent (a repeated delete that answers 404 is a success).
   *
   * @param kind Which budget the request takes.
   * @param call The SDK call.
   * @returns What the SDK returned.
   */
  write<T>(kind: RequestKind, call: (sdk: WorkOS) => Promise<T>): Promise<T> {
    return this.read(kind, call);
  }

  /**
   * Creates something exactly once, whatever the network does.
   *
   * When a create fails in a way that may hide a success (timeout, dropped
   * connection, 5xx: "ghost success"), the next attempt first looks for what
   * it would have created and adopts it. When the server says it exists
   * already, it is looked up and adopted (`created: false`).
   *
   * @param steps How to create, look up and recognize "exists already".
   * @returns What was found or made.
   */
  ensure<T>(steps: EnsureSteps<T>): Promise<Ensured<T>> {
    // What earlier attempts learned: a create that failed ambiguously may
    // have landed; a create answered "exists" tells whose the thing is.
    let mayExist = false;
    let existing: { ours: boolean; error: WorkOSApiError } | undefined;
    let createFailed = false;
    // Each lookup and create is one attempt of this one retry loop, so
    // --max-retries bounds the whole operation, not each step of it.
    return retry(async (): Promise<Ensured<T>> => {
      createFailed = false;
      if (mayExist || existing) {
        const found = await this.attempt(steps.lookupKind, steps.lookup);
        if (found !== undefined) {
          if (existing) return { value: found, created: existing.ours };
          // Our earlier attempt may have made it, or it was there before that
          // attempt failed without landing: only the caller can tell.
          return { value: found, created: true, uncertain: true };
        }
        if (existing) throw existing.error;
      }
      try {
        return { value: await this.attempt(steps.kind, steps.create), created: true };
      } catch (error) {
        if (!(error instanceof WorkOSApiError) || !steps.exists(error.failure)) {
          createFailed = true;
          throw error;
        }
        // After an ambiguous create whose lookup found nothing, "exists"
        // means that create landed late: what exists is ours.
        existing = { ours: mayExist, error };
        const found = await this.attempt(steps.lookupKind, steps.lookup);
        if (found === undefined) throw error;
        return { value: found, created: existing.ours };
      }
    }, {
      maxRetries: this.#maxRetries,
      decide: (error) => {
        const decision = this.#decide(error);
        if (
          decision.retry && createFailed && error instanceof WorkOSApiError &&
          mayHaveApplied(error.failure)
        ) {
          mayExist = true;
        }
        return decision;
      },
      clock: this.#clock,
      signal: this.#signal,
      onRetry: () => this.stats.retries++,
    });
  }

  #decide(error: unknown): RetryDecision {
    if (!(error instanceof WorkOSApiError) || !isTransient(error.failure)) return { retry: false };
    if (error.failure.status === 429) {
      // The budget is already paused for Retry-After; waiting that long here
      // too keeps this request from jumping the queue.
      return {
        retry: true,
        afterMs: (error.failure.retryAfterSeconds ?? 1) * 1000,
        rateLimited: true,
      };
    }
    return { retry: true };
  }
}

/**
 * The SDK's 422 exception keeps only the error codes ("role_not_found"), not
 * WorkOS's messages ("Role 'boss' does not exist…"), which are what a user
 * needs in an error file: give the error the answer's body as `rawData`,
 * where the failure description looks for them, unless it has one.
 */
function withServerDetails(error: unknown, body: string | undefined): unknown {
  if (body === undefined || typeof error !== "object" || error === null) return error;
  if ((error as { rawData?: unknown }).rawData !== undefined) return error;
  try {
    const rawData: unknown = JSON.parse(body);
    if (typeof rawData === "object" && rawData !== null) {
      Object.defineProperty(error, "rawData", { value: rawData, configurable: true });
    }
  } catch {
    // Not JSON: the SDK's own message stands.
  }
  return error;
}

function createFetch(timeoutMs: number, signal?: AbortSignal): typeof fetch {
  // One deadline queue instead of a timer and two abort signals per request:
  // at thousands of requests a second those were a tenth of the CPU.
  const deadlines = new Deadlines(timeoutMs, signal);
  const allowedHosts = new Set<string>();
  return async function fetchWithTimeout(input, init) {
    ensureNetPermission(input, allowedHosts);
    // The SDK's own signal is left out: its timeout is set to fire after ours.
    const deadline = deadlines.start();
    let response: Response;
    try {
      response = await fetch(input, {
        ...init,
        body: unretriedBody(init?.body),
        signal: deadline.signal,
      });
    } catch (error) {
      deadline.finish();
      if (deadline.timedOut) throw new RequestTimeoutError(timeoutMs);
      throw error;
    }
    const record = requestContext.getStore();
    if (record) record.requestId = response.headers.get("x-request-id") ?? undefined;
    // The deadline covers the answer's body too: it ends once the SDK has
    // read it (the SDK reads every body with text()).
    const text = response.text.bind(response);
    const clientError = response.status >= 400 && response.status < 500;
    response.text = () =>
      text().then((body) => {
        if (record && clientError) record.errorBody = body;
        return body;
      }).finally(() => deadline.finish());
    return response;
  };
}

/**
 * Refuses a request Deno would refuse, before fetch sees it: a fetch with a
 * Blob body that is denied net access leaves an operation pending that keeps
 * the process alive (Deno 2.9). Hosts already granted are remembered.
 */
function ensureNetPermission(input: RequestInfo | URL, allowedHosts: Set<string>): void {
  const host = new URL(input instanceof Request ? input.url : input).host;
  if (allowedHosts.has(host)) return;
  const descriptor = { name: "net", host } as const;
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") state = Deno.permissions.requestSync(descriptor).state;
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires net access to "${host}", run again with the --allow-net flag`,
    );
  }
  allowedHosts.add(host);
}

/**
 * Deno's fetch silently sends a request again when a reused connection closes
 * before the answer, once, for any body it keeps as bytes (a string): a
 * second retry policy under ours, which turns a dropped create that the
 * server applied into a duplicate whose answer says the user existed
 * already. A Blob body is sent the same way (with its Content-Length) but
 * never replayed, so every attempt reaches the server at most once and our
 * retry, with its lookup first, decides.
 */
function unretriedBody(body: BodyInit | null | undefined): BodyInit | null | undefined {
  if (typeof body !== "string" || body === "") return body;
  return new Blob([body]);
}
