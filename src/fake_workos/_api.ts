/**
 * The request pipeline in front of the endpoints: API key check, 429 storms,
 * rate limits, injected faults and latency, in the order a real API gateway
 * would apply them, plus the `/__fake/` control routes.
 *
 * @module
 */

import type { Delays } from "./_delays.ts";
import { failed, matchEndpoint, parseBody } from "./_endpoints.ts";
import { DROP, type HandlerResult, type HttpReply, type HttpRequest } from "./_http1.ts";
import type { SeededRandom } from "./_random.ts";
import type { RateLimiter, RequestClass } from "./_rate_limiter.ts";
import type { Stats } from "./_stats.ts";
import type { Store } from "./_store.ts";
import { ApiError } from "./_api_error.ts";

/** How a ghost write is answered. */
export type GhostStyle = "error" | "drop" | "both";

/**
 * What an outage does to every API request: `unavailable` answers 503 with
 * a gateway's HTML page, `hang` never answers (the connection closes when
 * the outage ends), `refuse` closes the port (connections refused),
 * `unauthorized` answers 401 as for a revoked key; `none` ends it.
 */
export type OutageMode = "none" | "unavailable" | "hang" | "refuse" | "unauthorized";

const UNAVAILABLE_PAGE: HttpReply = {
  status: 503,
  contentType: "text/html; charset=utf-8",
  body:
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>\n",
};

/** The runtime knobs, resolved from options. */
export interface Knobs {
  apiKey: string;
  latencyFixedMs: number;
  latencyJitterMs: number;
  failureRate: number;
  dropRate: number;
  slowRate: number;
  slowMs: number;
  ghostRate: number;
  ghostStyle: GhostStyle;
}

/** What the `/__fake/` routes can do to the server. */
export interface ControlHooks {
  configure(options: Record<string, unknown>): void;
  reset(): void;
  storm(durationMs: number, retryAfterSeconds?: number): void;
  outage(mode: OutageMode, durationMs?: number): void;
  status(): Record<string, unknown>;
  /** Adds a user as if the person signed up on their own; returns it. */
  addUser(input: Record<string, unknown>): unknown;
  /** Adds users once the API has created `afterUserCreates` more users. */
  signUps(afterUserCreates: number, users: Record<string, unknown>[]): void;
}

const UNAUTHORIZED: HttpReply = {
  status: 401,
  body: JSON.stringify({ message: "Unauthorized", code: "unauthorized" }),
};
const TOO_MANY = JSON.stringify({ message: "Too many requests" });
const FAILURE_STATUSES = [500, 502, 503] as const;
const FAILURE_BODIES: Record<number, string> = {
  500: JSON.stringify({ message: "Internal Server Error" }),
  502: JSON.stringify({ message: "Bad Gateway" }),
  503: JSON.stringify({ message: "Service Unavailable" }),
};
const NO_ROUTE: HttpReply = {
  status: 404,
  body: JSON.stringify({ message: "Not Found", code: "not_found" }),
};

function classify(method: string, path: string): RequestClass {
  if (!path.startsWith("/user_management/")) return "other";
  return method === "GET" || method === "HEAD" ? "read" : "write";
}

/** Answers every request the HTTP server reads. */
export class Api {
  knobs: Knobs;
  limiter: RateLimiter | null;
  random: SeededRandom;
  stormUntil = 0;
  stormRetryAfter: number | undefined = undefined;
  /** The outage in force (`refuse` is the server's: requests never get here). */
  outageMode: OutageMode = "none";
  /** API requests that met an outage. */
  outageRequests = 0;
  readonly #hung = new Set<() => void>();
  /** Called after the API created a user (ghost writes included). */
  onUserCreated: (() => void) | undefined = undefined;
  #bearer: string;
  readonly #store: Store;
  readonly #stats: Stats;
  readonly #delays: Delays;
  readonly #control: ControlHooks;

  constructor(
    parts: { store: Store; stats: Stats; delays: Delays; control: ControlHooks },
    knobs: Knobs,
    limiter: RateLimiter | null,
    random: SeededRandom,
  ) {
    this.#store = parts.store;
    this.#stats = parts.stats;
    this.#delays = parts.delays;
    this.#control = parts.control;
    this.knobs = knobs;
    this.#bearer = `Bearer ${knobs.apiKey}`;
    this.limiter = limiter;
    this.random = random;
  }

  /** Applies new knobs. */
  setKnobs(knobs: Knobs): void {
    this.knobs = knobs;
    this.#bearer = `Bearer ${knobs.apiKey}`;
  }

  /** The HTTP handler. */
  readonly handle = (request: HttpRequest): HandlerResult | Promise<HandlerResult> => {
    const queryStart = request.target.indexOf("?");
    const path = queryStart < 0 ? request.target : request.target.slice(0, queryStart);
    if (path.startsWith("/__fake/")) return this.#controlRoute(request, path);
    const method = request.method;
    const match = matchEndpoint(method, path);
    this.#stats.count(match ? match.endpoint.key : `${method} (unknown)`);
    if (this.outageMode !== "none") {
      // In front of WorkOS: the gateway answers before the key is looked at.
      this.outageRequests++;
      if (this.outageMode === "unavailable") return UNAVAILABLE_PAGE;
      if (this.outageMode === "unauthorized") return UNAUTHORIZED;
      if (this.outageMode === "hang") {
        return new Promise((resolve) => this.#hung.add(() => resolve(DROP)));
      }
    }
    const knobs = this.knobs;
    const random = this.random;
    // Latency is the network's and the gateway's: every answer pays it, 401s and 429s too.
    let delay = knobs.latencyFixedMs;
    if (knobs.latencyJitterMs > 0) delay += random.next() * knobs.latencyJitterMs;
    if (request.authorization !== this.#bearer) return this.#after(delay, UNAUTHORIZED);

    const now = performance.now();
    if (now < this.stormUntil) {
      this.#stats.rateLimited++;
      const retryAfter = this.stormRetryAfter ??
        Math.max(1, Math.ceil((this.stormUntil - now) / 1000));
      return this.#after(delay, { status: 429, body: TOO_MANY, retryAfter });
    }
    if (this.limiter) {
      const retryAfter = this.limiter.admit(classify(method, path), now);
      if (retryAfter > 0) {
        this.#stats.rateLimited++;
        return this.#after(delay, { status: 429, body: TOO_MANY, retryAfter });
      }
    }

    const faults = this.#stats.faults;
    if (knobs.dropRate > 0 && random.next() < knobs.dropRate) {
      faults.drop++;
      return this.#after(delay, DROP);
    }
    if (knobs.failureRate > 0 && random.next() < knobs.failureRate) {
      faults.failure++;
      const status = FAILURE_STATUSES[Math.floor(random.next() * FAILURE_STATUSES.length)];
      return this.#after(delay, { status, body: FAILURE_BODIES[status] });
    }
    if (knobs.slowRate > 0 && random.next() < knobs.slowRate) {
      faults.slow++;
      delay += knobs.slowMs;
    }
    const isWrite = method !== "GET" && method !== "HEAD";
    const ghost = isWrite && knobs.ghostRate > 0 && random.next() < knobs.ghostRate;
    if (delay > 0) {
      return this.#delays.wait(delay).then((elapsed) =>
        elapsed ? this.#run(request, match, queryStart, ghost) : DROP
      );
    }
    return this.#run(request, match, queryStart, ghost);
  };

  /** Closes the connections of requests an outage left hanging. */
  releaseHung(): void {
    for (const release of this.#hung) release();
    this.#hung.clear();
  }

  /** `result` now, or after `delay` ms (a drop if the server closes meanwhile). */
  #after(delay: number, result: HandlerResult): HandlerResult | Promise<HandlerResult> {
    if (delay <= 0) return result;
    return this.#delays.wait(delay).then((elapsed) => elapsed ? result : DROP);
  }

  #run(
    request: HttpRequest,
    match: ReturnType<typeof matchEndpoint>,
    queryStart: number,
    ghost: boolean,
  ): HandlerResult | Promise<HandlerResult> {
    if (!match) return NO_ROUTE;
    const { endpoint, params } = match;
    let body: Record<string, unknown> = {};
    if (endpoint.hasBody) {
      const parsed = parseBody(request.body);
      if (parsed instanceof ApiError) return failed(parsed);
      body = parsed;
    }
    const query = new URLSearchParams(
      queryStart < 0 ? "" : request.target.slice(queryStart + 1),
    );
    const reply = endpoint.run({ store: this.#store, params, query, body, now: Date.now() });
    const isUserCreate = endpoint.key === "POST /user_management/users";
    if (reply instanceof Promise) {
      return reply.then((settled) => this.#ghosted(settled, ghost, isUserCreate));
    }
    return this.#ghosted(reply, ghost, isUserCreate);
  }

  #ghosted(reply: HttpReply, ghost: boolean, isUserCreate: boolean): HandlerResult {
    if (isUserCreate && reply.status === 201) this.onUserCreated?.();
    if (!ghost || reply.status >= 300) return reply;
    this.#stats.faults.ghost++;
    const style = this.knobs.ghostStyle;
    const drop = style === "drop" || (style === "both" && this.random.next() < 0.5);
    return drop ? DROP : { status: 500, body: FAILURE_BODIES[500] };
  }

  #controlRoute(request: HttpRequest, path: string): HttpReply {
    if (request.authorization !== this.#bearer) return UNAUTHORIZED;
    const ok = (value: unknown): HttpReply => ({ status: 200, body: JSON.stringify(value) });
    const bad = (message: string): HttpReply => ({
      status: 400,
      body: JSON.stringify({ message, code: "invalid_request" }),
    });
    const body = request.method === "POST" ? parseBody(request.body) : {};
    if (body instanceof ApiError) return failed(body);
    try {
      switch (`${request.method} ${path}`) {
        case "GET /__fake/status":
          return ok(this.#control.status());
        case "POST /__fake/reset":
          this.#control.reset();
          return ok(this.#control.status());
        case "POST /__fake/configure":
          this.#control.configure(body);
          return ok(this.#control.status());
        case "POST /__fake/outage": {
          const { mode, durationMs } = body;
          if (typeof mode !== "string") return bad('"mode" must be a string');
          this.#control.outage(
            mode as OutageMode,
            typeof durationMs === "number" ? durationMs : undefined,
          );
          return ok(this.#control.status());
        }
        case "POST /__fake/storm": {
          const { durationMs, retryAfterSeconds } = body;
          if (typeof durationMs !== "number") return bad('"durationMs" must be a number');
          this.#control.storm(
            durationMs,
            typeof retryAfterSeconds === "number" ? retryAfterSeconds : undefined,
          );
          return ok(this.#control.status());
        }
        case "POST /__fake/users":
          return { status: 201, body: JSON.stringify(this.#control.addUser(body)) };
        case "POST /__fake/sign-ups": {
          const { afterUserCreates, users } = body;
          if (typeof afterUserCreates !== "number") {
            return bad('"afterUserCreates" must be a number');
          }
          if (!Array.isArray(users)) return bad('"users" must be a list of users');
          this.#control.signUps(afterUserCreates, users);
          return ok(this.#control.status());
        }
        default:
          return NO_ROUTE;
      }
    } catch (error) {
      return bad(error instanceof Error ? error.message : String(error));
    }
  }
}
