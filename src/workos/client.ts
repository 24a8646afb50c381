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
// The SDK is loaded when a client is built (see the constructor), not with
// this module: a dry run or `validate` imports the client's module for its
// constants and errors but never sends a request.
import type { WorkOS } from "@workos-inc/node";
import { type Clock, systemClock } from "../limits/clock.ts";
import { RateBudget, type RequestKind } from "../limits/rate_budget.ts";
import { ClockSkew } from "./_clock_skew.ts";
import { Deadlines } from "./_deadlines.ts";
import { retry, type RetryDecision, type RetryOptions } from "../limits/retry.ts";
import {
  type ApiFailure,
  describeApiError,
  failureReason,
  isKeyRefusal,
  isRunCondition,
  isTransient,
  mayHaveApplied,
  RequestTimeoutError,
} from "./errors.ts";
import { type OutageEvent, OutageGate, refusedKeyStop } from "./_outage.ts";
import { RunStopError } from "../limits/run_stop.ts";

export type { OutageEvent } from "./_outage.ts";

/** How long WorkOS may be down before a run stops, unless told: 15 minutes. */
export const DEFAULT_MAX_OUTAGE_MS = 15 * 60_000;

/** How long a request may take before the client gives up on it, unless told: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** How long the preflight read waits for an answer before the run stops. */
export const PREFLIGHT_WINDOW_MS = 6_000;

/** The default WorkOS API location. */
export const DEFAULT_API_URL = "https://api.workos.com";

/**
 * An API URL without the user name and password it may carry
 * (`https://user:pass@host`): those are never sent (WorkOS is authenticated
 * with the API key), stored in a job or printed. A value that is not a URL
 * has anything between `//` and `@` masked.
 *
 * @param url The URL as given.
 * @returns The URL without credentials; unchanged when it had none.
 *
 * @example Usage
 * ```ts
 * import { withoutCredentials } from "./client.ts";
 * console.log(withoutCredentials("https://ops:hunter2@proxy.example.com:8443"));
 * // https://proxy.example.com:8443/
 * console.log(withoutCredentials("http://127.0.0.1:4100")); // http://127.0.0.1:4100
 * ```
 */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//***@");
  }
  if (parsed.username === "" && parsed.password === "") return url;
  parsed.username = "";
  parsed.password = "";
  return parsed.href;
}

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
  /**
   * Outage handling, off unless set: how long requests wait for WorkOS to
   * answer again once it is down (a request ran out of retries for a run
   * reason) before every request fails with a {@linkcode RunStopError}
   * (imports use {@linkcode DEFAULT_MAX_OUTAGE_MS}). With it, a refused key
   * (401, 403) also stops every request. Without it, a request that runs out
   * of retries throws its {@linkcode WorkOSApiError}.
   */
  maxOutageMs?: number;
  /** Told when WorkOS goes down, before each probe, and when it answers again. */
  onOutage?(event: OutageEvent): void;
  /** Longest gap between two probes while WorkOS is down, in ms (15,000; at most 30,000). */
  maxProbeGapMs?: number;
}

/** Per-request settings of {@linkcode WorkOSClient.attempt}. */
export interface AttemptOptions {
  /** A shorter timeout for this request, in ms. */
  timeoutMs?: number;
  /** Sent while WorkOS is down: the outage's probe (or the preflight). */
  probe?: boolean;
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
  /**
   * `true` when this call's create returned it, or when a create of this
   * call was ambiguous (timeout, dropped connection, 5xx, a 2xx without an
   * id) and what was found afterwards was made inside that request's own
   * time window (sent to answered or timed out, widened by the clock skew
   * measured from WorkOS's `Date` header). Anything else that exists is
   * not this call's, however recently it appeared.
   */
  created: boolean;
  /**
   * Set with `created` when the time window attributes it (a ghost
   * success), not an answer: callers that keep their own claims (a
   * journal) check them before counting it.
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
  /**
   * When WorkOS made it (its `createdAt`, ms since epoch). Without it (a
   * resource that carries no time), what is found after an ambiguous create
   * counts as this call's.
   */
  createdAtMs?(value: T): number;
}

interface RequestRecord {
  /** A timeout shorter than the client's, for this request. */
  timeoutMs?: number;
  requestId?: string;
  /** The body of a 4xx answer, kept for the server's own error messages. */
  errorBody?: string;
}

/**
 * The record of the attempt whose SDK call is running right now, between
 * {@linkcode WorkOSClient.attempt} calling into the SDK and the SDK calling
 * the fetch wrapper, which takes it. Both happen in one synchronous stretch
 * (every SDK method the client calls runs to its `fetchFn` before its first
 * `await`; tests/workos_request_record_test.ts pins it for each of them), so
 * no other attempt can be in between: an `AsyncLocalStorage.run` per attempt
 * did the same with a context frame per request.
 */
let sending: RequestRecord | undefined;

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
  /** The official SDK instance every call goes through, once loaded. */
  #sdk: WorkOS | undefined;
  /** The SDK's module loading and the instance being built; settles once. */
  readonly #sdkLoaded: Promise<WorkOS>;
  /** The budget every request takes a slot of. */
  readonly budget: RateBudget;
  /** What the client did so far. */
  readonly stats: ClientStats = { requests: 0, retries: 0, rateLimited: 0 };
  readonly #maxRetries: number;
  readonly #clock: Clock;
  readonly #signal?: AbortSignal;
  readonly #gate: OutageGate;
  readonly #waitsOutOutages: boolean;
  readonly #apiUrl: URL;
  readonly #skew = new ClockSkew();
  /** One retry policy for every request: built once, not per call. */
  readonly #retryOptions: RetryOptions;

  /**
   * @param options Key, location, limits.
   */
  constructor(options: WorkOSClientOptions) {
    const url = new URL(options.apiUrl ?? DEFAULT_API_URL);
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const https = url.protocol === "https:";
    this.budget = options.budget ?? new RateBudget({ clock: options.clock });
    this.#maxRetries = options.maxRetries ?? 5;
    this.#clock = options.clock ?? systemClock;
    this.#signal = options.signal;
    this.#apiUrl = url;
    this.#waitsOutOutages = options.maxOutageMs !== undefined;
    this.#retryOptions = {
      maxRetries: this.#maxRetries,
      decide: (error) => this.#decide(error),
      clock: this.#clock,
      signal: this.#signal,
      onRetry: () => this.stats.retries++,
    };
    this.#gate = new OutageGate({
      maxOutageMs: options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS,
      probe: async () => {
        // A probe tries again what failed: counted as a retry.
        this.stats.retries++;
        await this.attempt(
          "read",
          (sdk) => sdk.userManagement.listUsers({ limit: 1 }),
          { probe: true },
        );
      },
      describe: (error) => error instanceof WorkOSApiError ? error.failure : undefined,
      clock: this.#clock,
      onEvent: options.onOutage,
      signal: options.signal,
      maxProbeGapMs: options.maxProbeGapMs,
    });
    this.#sdkLoaded = import("@workos-inc/node").then(({ WorkOS }) =>
      this.#sdk = new WorkOS(options.apiKey, {
        apiHostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        https,
        // One retry policy governs: ours. The SDK's would multiply attempts and
        // ignore the shared budget.
        maxRetries: 0,
        // Our fetch wrapper enforces the timeout; the SDK's must never fire first.
        timeout: timeoutMs + 60_000,
        fetchFn: createFetch(timeoutMs, options.signal, this.#skew),
      })
    );
    // A failed load is the first request's error, not an unhandled rejection.
    this.#sdkLoaded.catch(() => {});
  }

  /**
   * Whether something WorkOS stamped `createdAtMs` may have been made
   * between two moments of our clock, allowing for the clock skew measured
   * from WorkOS's `Date` headers.
   *
   * @param createdAtMs WorkOS's `createdAt`, in ms since epoch.
   * @param fromMs Start of the window (local ms since epoch).
   * @param toMs End of the window (local ms since epoch).
   * @returns `true` when the time stamp falls inside the widened window.
   */
  madeWithin(createdAtMs: number, fromMs: number, toMs: number): boolean {
    return this.#skew.within(createdAtMs, fromMs, toMs);
  }

  /**
   * Runs one request: takes a budget slot, sends, and on failure throws a
   * {@linkcode WorkOSApiError}. A 429 pauses the whole budget for its
   * `Retry-After`, so every worker waits, not only this one.
   *
   * While WorkOS is down the request waits before it is sent; once the run
   * stopped (see {@linkcode WorkOSClient.halt}) it throws the
   * {@linkcode RunStopError} instead.
   *
   * @param kind Which budget the request takes.
   * @param call The SDK call.
   * @param options A shorter timeout; whether it is a probe.
   * @returns What the SDK returned.
   */
  async attempt<T>(
    kind: RequestKind,
    call: (sdk: WorkOS) => Promise<T>,
    options: AttemptOptions = {},
  ): Promise<T> {
    const sdk = this.#sdk ?? await this.#sdkLoaded;
    if (!options.probe) {
      const down = this.#gate.pass();
      if (down) await down;
    } else if (this.#gate.stopped) {
      throw this.#gate.stopped;
    }
    const answered = await this.budget.acquire(kind, this.#signal);
    // A stop may have come while this request waited for its slot.
    if (this.#gate.stopped) {
      answered();
      throw this.#gate.stopped;
    }
    this.stats.requests++;
    const record: RequestRecord = { timeoutMs: options.timeoutMs };
    try {
      let answer: Promise<T>;
      sending = record;
      try {
        answer = call(sdk);
      } finally {
        sending = undefined;
      }
      const result = await answer;
      this.#gate.noteAnswer();
      const trace = traceContext.getStore();
      if (trace && record.requestId !== undefined) trace.lastRequestId = record.requestId;
      return result;
    } catch (error) {
      const failure = describeApiError(withServerDetails(error, record.errorBody));
      if (failure.status === 429) {
        this.stats.rateLimited++;
        this.budget.pause((failure.retryAfterSeconds ?? 1) * 1000);
      }
      if (isRunCondition(failure) && !isKeyRefusal(failure)) this.#gate.noteFailure();
      else this.#gate.noteAnswer();
      throw new WorkOSApiError(failure, record.requestId);
    } finally {
      // The slot counts until the answer: however late this process sent it.
      answered();
    }
  }

  /**
   * Stops every request from now on: waiting and later requests throw
   * `stop`. For conditions the client cannot see itself (a local file that
   * cannot be written): no request starts once one is known.
   *
   * @param stop Why the run stops.
   * @returns The stop in force (the first one wins).
   */
  halt(stop: RunStopError): RunStopError {
    return this.#gate.halt(stop);
  }

  /** The condition that stopped this client's run, once one did. */
  get stopped(): RunStopError | undefined {
    return this.#gate.stopped;
  }

  /**
   * Proves the location and the key with one authenticated read before any
   * write, within `windowMs` (about 6 s): at the start an API that does not
   * answer is most likely a wrong URL, so this does not wait for an outage
   * to end.
   *
   * @param windowMs How long to try for an answer.
   * @throws {RunStopError} `refused_key` (exit 2) when WorkOS refuses the
   *   key; `unreachable` (exit 75) when no answer came in time.
   */
  async preflight(windowMs: number = PREFLIGHT_WINDOW_MS): Promise<void> {
    const deadline = this.#clock.now() + windowMs;
    let last: ApiFailure | undefined;
    for (let attempt = 0;; attempt++) {
      const remaining = deadline - this.#clock.now();
      if (remaining < 100) break;
      if (attempt > 0) this.stats.retries++;
      try {
        await this.attempt(
          "read",
          (sdk) => sdk.userManagement.listUsers({ limit: 1 }),
          { probe: true, timeoutMs: remaining },
        );
        return;
      } catch (error) {
        if (!(error instanceof WorkOSApiError)) throw error;
        last = error.failure;
        if (isKeyRefusal(last)) throw this.#gate.halt(refusedKeyStop(last));
        // Deno refused to send it: not WorkOS's answer, and every request
        // meets the same refusal, which each row reports with the flag to add.
        if (last.kind === "permission") return;
        // An answer that is neither data nor a run condition: not WorkOS.
        if (!isRunCondition(last)) break;
      }
      const pause = Math.min(250 * 2 ** attempt, 1_000, deadline - this.#clock.now());
      if (pause > 0) await this.#clock.sleep(pause, this.#signal);
    }
    const where = new URL(this.#apiUrl.href);
    where.username = "";
    where.password = "";
    const reason = last ? failureReason(last) : `no answer within ${Math.round(windowMs / 1000)} s`;
    throw this.#gate.halt(
      new RunStopError(
        "unreachable",
        `Cannot reach WorkOS at "${
          where.href.replace(/\/$/, "")
        }": ${reason}: check --api-url (or WORKOS_API_URL) and the network`,
      ),
    );
  }

  /**
   * Runs `operation` in the client's retry loop to its end, and when it
   * failed for a run reason, waits for WorkOS to answer again and runs the
   * loop again: a run condition never fails the request, only stops the run
   * (the key refused, WorkOS down for longer than `maxOutageMs`).
   */
  async #persist<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#waitsOutOutages) return await retry(operation, this.#retryOptions);
    while (true) {
      try {
        return await retry(operation, this.#retryOptions);
      } catch (error) {
        if (!(error instanceof WorkOSApiError) || !isRunCondition(error.failure)) throw error;
        if (isKeyRefusal(error.failure)) throw this.#gate.halt(refusedKeyStop(error.failure));
        if (this.#signal?.aborted) throw error;
        await this.#gate.wait(error.failure);
      }
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
    return this.#persist(() => this.attempt(kind, call));
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
    // Local send and end times of this call's creates that may have landed
    // (ambiguous failures, 2xx answers without an id): what is found later
    // is this call's only if WorkOS made it inside one of them. Recorded at
    // once, not only when retried: after an outage the loop runs again, and
    // must look before it creates.
    const windows: Array<[number, number]> = [];
    let existing: WorkOSApiError | undefined;
    const attribute = (found: T): Ensured<T> => {
      const at = steps.createdAtMs?.(found);
      const ours = at === undefined
        ? windows.length > 0
        : windows.some(([from, to]) => this.#skew.within(at, from, to));
      return ours
        ? { value: found, created: true, uncertain: true }
        : { value: found, created: false };
    };
    // Each lookup and create is one attempt of this one retry loop, so
    // --max-retries bounds the whole operation, not each step of it. After
    // an outage the loop starts again, knowing what the earlier one learned.
    return this.#persist(async (): Promise<Ensured<T>> => {
      if (windows.length > 0 || existing) {
        const found = await this.attempt(steps.lookupKind, steps.lookup);
        if (found !== undefined) return attribute(found);
        if (existing) throw existing;
      }
      const sentAt = Date.now();
      let value: T;
      try {
        value = await this.attempt(steps.kind, steps.create);
      } catch (error) {
        const status = error instanceof WorkOSApiError ? error.failure.status ?? 0 : 0;
        if (status >= 200 && status < 300) {
          // A 2xx whose body the SDK could not read: applied, but to what?
          windows.push([sentAt, Date.now()]);
          throw noIdError(status);
        }
        if (!(error instanceof WorkOSApiError) || !steps.exists(error.failure)) {
          if (error instanceof WorkOSApiError && mayHaveApplied(error.failure)) {
            windows.push([sentAt, Date.now()]);
          }
          throw error;
        }
        // "Exists": ours only if an earlier ambiguous create made it.
        existing = error;
        const found = await this.attempt(steps.lookupKind, steps.lookup);
        if (found === undefined) throw error;
        return attribute(found);
      }
      if (!hasId(value)) {
        // WorkOS said yes but not to what: whatever the lookup finds is
        // judged like a ghost success.
        windows.push([sentAt, Date.now()]);
        throw noIdError();
      }
      return { value, created: true };
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

/**
 * A create answered 2xx without an id: it may have landed, so it is retried
 * like a dropped connection (lookup first), never counted as made.
 */
function noIdError(status?: number): WorkOSApiError {
  return new WorkOSApiError({
    kind: "network",
    codes: [],
    message: `WorkOS answered the create${status ? ` with HTTP ${status}` : ""} without an id`,
  });
}

/** Whether a create's answer names what it made. */
function hasId(value: unknown): boolean {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === "string" && id !== "";
}

function createFetch(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  skew: ClockSkew,
): typeof fetch {
  // One deadline queue instead of a timer and two abort signals per request:
  // at thousands of requests a second those were a tenth of the CPU.
  const deadlines = new Deadlines(timeoutMs, signal);
  const allowed: AllowedHosts = { hosts: new Set(), origins: [] };
  return async function fetchWithTimeout(input, init) {
    ensureNetPermission(input, allowed);
    // The SDK's own signal is left out: its timeout is set to fire after ours.
    const deadline = deadlines.start();
    // Taken, so that a second fetch of the same call (none today) gets none.
    const record = sending;
    sending = undefined;
    const shorter = record?.timeoutMs !== undefined && record.timeoutMs < timeoutMs
      ? AbortSignal.timeout(Math.max(1, Math.round(record.timeoutMs)))
      : undefined;
    const sentAt = Date.now();
    let response: Response;
    try {
      response = await fetch(input, {
        ...init,
        body: unretriedBody(init?.body),
        signal: shorter ? AbortSignal.any([deadline.signal, shorter]) : deadline.signal,
      });
    } catch (error) {
      deadline.finish();
      if (deadline.timedOut) throw new RequestTimeoutError(timeoutMs);
      if (shorter?.aborted) throw new RequestTimeoutError(Math.round(record?.timeoutMs ?? 0));
      throw error;
    }
    skew.observe(response.headers.get("date"), sentAt, Date.now());
    if (record) record.requestId = response.headers.get("x-request-id") ?? undefined;
    // The deadline covers the answer's body too: it ends once the SDK has
    // read it (the SDK reads every body with text()).
    const text = response.text;
    const keepBody = record !== undefined && response.status >= 400 && response.status < 500;
    response.text = async () => {
      try {
        const body = await text.call(response);
        if (keepBody) record.errorBody = body;
        return body;
      } finally {
        deadline.finish();
      }
    };
    return response;
  };
}

/** Hosts granted net access, and their URL origins as the SDK's URLs begin. */
interface AllowedHosts {
  hosts: Set<string>;
  /** `http://host:port/` of each granted host: a URL that starts so needs no parse. */
  origins: string[];
}

/**
 * Refuses a request Deno would refuse, before fetch sees it: a fetch with a
 * Blob body that is denied net access leaves an operation pending that keeps
 * the process alive (Deno 2.9). Hosts already granted are remembered.
 */
function ensureNetPermission(input: RequestInfo | URL, allowed: AllowedHosts): void {
  // The SDK sends every request to one origin as a string: a prefix test
  // instead of a URL parse per request.
  if (typeof input === "string" && allowed.origins.some((origin) => input.startsWith(origin))) {
    return;
  }
  const url = new URL(input instanceof Request ? input.url : input);
  const host = url.host;
  if (allowed.hosts.has(host)) return;
  const descriptor = { name: "net", host } as const;
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") state = Deno.permissions.requestSync(descriptor).state;
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires net access to "${host}", run again with the --allow-net flag`,
    );
  }
  allowed.hosts.add(host);
  // Only a URL without credentials begins with its own origin.
  if (url.origin !== "null") allowed.origins.push(`${url.origin}/`);
}

/**
 * Deno's fetch silently sends a request again when a reused connection closes
 * before the answer, once, for any body it keeps as bytes (a string or a
 * `Uint8Array`): a second retry policy under ours, which turns a dropped
 * create that the server applied into a duplicate whose answer says the user
 * existed already. A Blob body is streamed instead, with its Content-Length,
 * and never replayed, so every attempt reaches the server at most once and
 * our retry, with its lookup first, decides (tests/workos_client_test.ts
 * drops a create on a reused connection and counts what arrives).
 *
 * @param body A request body as the SDK hands it to its `fetchFn`.
 * @returns The body to send: a string one as a Blob, anything else as is.
 *
 * @example Usage
 * ```ts
 * import { unretriedBody } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const body = unretriedBody('{"email":"ann@example.com"}');
 * assert.ok(body instanceof Blob);
 * assert.equal(await body.text(), '{"email":"ann@example.com"}');
 * ```
 */
export function unretriedBody(body: BodyInit | null | undefined): BodyInit | null | undefined {
  if (typeof body !== "string" || body === "") return body;
  return new StreamedBody(encoder.encode(body));
}

const encoder = new TextEncoder();

/**
 * A Blob of bytes kept in JavaScript, whose stream is those bytes in one
 * chunk. Deno's fetch streams a Blob body through `stream()`, with `size`
 * as its Content-Length. A plain Blob copies its bytes into the runtime's
 * blob store (an op, a part id, a finalizer to free it) and its stream
 * reads them back out through an async iterator, a byte stream and an op
 * per chunk: about 5 KB of garbage a request that this one does without.
 * Every reading method answers from the same bytes.
 */
class StreamedBody extends Blob {
  readonly #bytes: Uint8Array<ArrayBuffer>;

  constructor(bytes: Uint8Array<ArrayBuffer>) {
    super();
    this.#bytes = bytes;
  }

  override get size(): number {
    return this.#bytes.byteLength;
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const bytes = this.#bytes;
    return new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
  }

  override text(): Promise<string> {
    return Promise.resolve(decoder.decode(this.#bytes));
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#bytes.slice().buffer);
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return Promise.resolve(this.#bytes.slice());
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    return new Blob([this.#bytes]).slice(start, end, contentType);
  }
}

const decoder = new TextDecoder();
