/**
 * A local HTTP server that behaves like the WorkOS API for everything the
 * importer touches (users, organizations, memberships, invitations), with
 * WorkOS's rate limits and knobs for latency and faults, so that the importer
 * can be exercised through the official SDK over real HTTP without reaching
 * WorkOS.
 *
 * @module
 */

import { Api, type ControlHooks, type GhostStyle, type Knobs, type OutageMode } from "./_api.ts";
import { Delays } from "./_delays.ts";
import { Http1Server } from "./_http1.ts";
import { SeededRandom } from "./_random.ts";
import { RateLimiter } from "./_rate_limiter.ts";
import { Stats } from "./_stats.ts";
import { Store, type StoreConfig } from "./_store.ts";
import { type AddUserInput, FakeState, type FakeUser } from "./state.ts";

export type { GhostStyle, OutageMode } from "./_api.ts";

const OUTAGE_MODES: ReadonlySet<string> = new Set([
  "none",
  "unavailable",
  "hang",
  "refuse",
  "unauthorized",
]);

/** The API key the fake accepts unless told otherwise. */
export const DEFAULT_API_KEY = "sk_test_fake_workos";

/** How long a "slow" answer waits unless told otherwise: past the SDK's 60 s timeout. */
export const DEFAULT_SLOW_MS = 65_000;

/** Rate-limit settings. */
export interface RateLimitOptions {
  /**
   * Multiplies the request count of every limit (500 user-management writes
   * per 10 s, 1,000 user-management reads per 10 s, 6,000 requests per 60 s);
   * windows keep their length. `0.01` gives 5 / 10 / 60. Default 1.
   */
  scale?: number;
}

/** Added latency for every API request. */
export interface LatencyOptions {
  /** Fixed delay in milliseconds. Default 0. */
  fixedMs?: number;
  /** Plus a uniformly random delay up to this many milliseconds. Default 0. */
  jitterMs?: number;
}

/**
 * Injected faults, each a probability from 0 to 1 per API request (the
 * `/__fake/` routes and {@linkcode FakeState} are never faulted).
 */
export interface FaultOptions {
  /** Answer 500, 502 or 503 (one third each) without doing the request. */
  failureRate?: number;
  /** Close the connection after reading the request, without answering or doing it. */
  dropRate?: number;
  /** Do the request, but answer only after {@linkcode FaultOptions.slowMs}. */
  slowRate?: number;
  /** Delay of slow answers. Default 65,000 ms (past the SDK's default timeout). */
  slowMs?: number;
  /**
   * For successful writes (POST, PUT, DELETE): keep the write, then answer 500
   * or drop the connection: the case that breaks naive retry logic.
   */
  ghostRate?: number;
  /** How ghost writes are answered: `"error"` (500), `"drop"`, or `"both"` (default, 50/50). */
  ghostStyle?: GhostStyle;
}

/** Options for {@linkcode startFakeWorkOS}. */
export interface FakeWorkOSOptions {
  /** Port on the loopback interface; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  hostname?: string;
  /** The API key requests must carry as `Authorization: Bearer <key>`. Default `sk_test_fake_workos`. */
  apiKey?: string;
  /**
   * How a duplicate email is answered: 400 `user_creation_error` /
   * `email_not_available` (default, what WorkOS answers) or 409
   * `user_already_exists` (what some WorkOS servers answer).
   */
  duplicateEmailStatus?: 400 | 409;
  /** WorkOS's rate limits, on by default; `false` turns them off. */
  rateLimits?: false | RateLimitOptions;
  /** Added latency. */
  latency?: LatencyOptions;
  /** Injected faults. */
  faults?: FaultOptions;
  /**
   * Role slugs that exist in the environment. Default `["member", "admin"]`.
   * The default role of new memberships is `member` when listed, else the first.
   */
  roles?: string[];
  /**
   * Whether a membership may have several roles (WorkOS's "Multiple Roles"
   * setting). Default `false`, as in WorkOS: more than one role is answered
   * 422 `multiple_roles_not_enabled`.
   */
  multipleRoles?: boolean;
  /** Seed of the fault and jitter dice, for replayable fault patterns. Default 1. */
  seed?: number;
}

/** A running fake WorkOS. */
export interface FakeWorkOS {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The API key it accepts. */
  readonly apiKey: string;
  /** The interface it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** Inspection and seeding, without HTTP. */
  readonly state: FakeState;
  /**
   * Changes knobs while running. `latency` and `faults` are merged field by
   * field; `rateLimits` is replaced (with fresh windows); `port` and
   * `hostname` cannot change.
   *
   * @example Turn faults on for one part of a test
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   *
   * await using fake = await startFakeWorkOS();
   * fake.configure({ faults: { failureRate: 0.2, ghostRate: 0.05 } });
   * fake.configure({ faults: { failureRate: 0 } }); // ghostRate stays 0.05
   * ```
   */
  configure(options: Partial<FakeWorkOSOptions>): void;
  /**
   * Answers every API request with 429 for `durationMs`, with `Retry-After`
   * set to `retryAfterSeconds` or, by default, the whole seconds left.
   *
   * @example A 30 s 429 storm
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.rateLimitStorm(30_000);
   * const response = await fetch(`${fake.url}/organizations`, {
   *   headers: { authorization: `Bearer ${fake.apiKey}` },
   * });
   * await response.body?.cancel();
   * assert.equal(response.status, 429);
   * assert.equal(response.headers.get("retry-after"), "30");
   * ```
   */
  rateLimitStorm(durationMs: number, retryAfterSeconds?: number): void;
  /**
   * Starts an outage of every API request (the `/__fake/` routes keep
   * working, except while the port is closed), for `durationMs` or until
   * the next call: `unavailable` answers 503 with a gateway's HTML page,
   * `hang` never answers (the connection closes when the outage ends),
   * `refuse` closes the port (connections refused, open ones reset),
   * `unauthorized` answers 401 as for a revoked key. `none` ends it. Also
   * `POST /__fake/outage` with `{ "mode": …, "durationMs": … }`.
   *
   * @example A 2 s outage behind a gateway
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS();
   * fake.outage("unavailable", { durationMs: 2_000 });
   * const response = await fetch(`${fake.url}/organizations`, {
   *   headers: { authorization: `Bearer ${fake.apiKey}` },
   * });
   * assert.equal(response.status, 503);
   * assert.match(await response.text(), /<html>/);
   * fake.outage("none");
   * assert.equal(fake.outageRequests, 1);
   * ```
   */
  outage(mode: OutageMode, options?: { durationMs?: number }): void;
  /** API requests that met an outage (a refused connection is not a request). */
  readonly outageRequests: number;
  /**
   * People signing up on their own while an import runs: once the API has
   * created `afterUserCreates` more users (counted from this call), `users`
   * are added, as {@linkcode FakeState.addUser} adds them, right after that
   * create. Also `POST /__fake/sign-ups` with `{"afterUserCreates": 20,
   * "users": [{"email": "…"}]}`, and `POST /__fake/users` adds one now.
   *
   * @example A sign-up right after the first create
   * ```ts
   * import { startFakeWorkOS } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeWorkOS({ rateLimits: false });
   * const signedUp = fake.signUpDuring([{ email: "zoe@example.com" }], { afterUserCreates: 1 });
   * await fetch(`${fake.url}/user_management/users`, {
   *   method: "POST",
   *   headers: { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" },
   *   body: JSON.stringify({ email: "ada@example.com" }),
   * }).then((response) => response.body?.cancel());
   * assert.equal((await signedUp)[0].email, "zoe@example.com");
   * assert.equal(fake.state.userCount(), 2);
   * ```
   */
  signUpDuring(users: AddUserInput[], options: { afterUserCreates: number }): Promise<FakeUser[]>;
  /** Stops the server, dropping open connections and pending answers. */
  close(): Promise<void>;
  /** Same as {@linkcode FakeWorkOS.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Resolved {
  apiKey: string;
  duplicateEmailStatus: 400 | 409;
  rateLimits: false | { scale: number };
  latency: Required<LatencyOptions>;
  faults: Required<FaultOptions>;
  roles: string[];
  multipleRoles: boolean;
  seed: number;
}

function checkRate(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(`Cannot use "${name}": ${value} is not a probability from 0 to 1`);
  }
  return value;
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`Cannot use "${name}": ${value} is not a duration in milliseconds`);
  }
  return value;
}

function resolve(options: Partial<FakeWorkOSOptions>, base?: Resolved): Resolved {
  const apiKey = options.apiKey ?? base?.apiKey ?? DEFAULT_API_KEY;
  if (typeof apiKey !== "string" || apiKey === "") {
    throw new TypeError('Cannot use "apiKey": it must be a non-empty string');
  }
  const duplicateEmailStatus = options.duplicateEmailStatus ?? base?.duplicateEmailStatus ?? 400;
  if (duplicateEmailStatus !== 400 && duplicateEmailStatus !== 409) {
    throw new RangeError(
      `Cannot use "duplicateEmailStatus": ${duplicateEmailStatus} is not 400 or 409`,
    );
  }
  let rateLimits: Resolved["rateLimits"] = base?.rateLimits ?? { scale: 1 };
  if (options.rateLimits !== undefined) {
    if (options.rateLimits === false) {
      rateLimits = false;
    } else {
      const scale = options.rateLimits.scale ?? 1;
      if (typeof scale !== "number" || !(scale > 0 && scale <= 1000)) {
        throw new RangeError(`Cannot use "rateLimits.scale": ${scale} is not in (0, 1000]`);
      }
      rateLimits = { scale };
    }
  }
  const latency = { ...base?.latency, ...options.latency };
  const faults = { ...base?.faults, ...options.faults };
  const ghostStyle = faults.ghostStyle ?? "both";
  if (ghostStyle !== "error" && ghostStyle !== "drop" && ghostStyle !== "both") {
    throw new RangeError(
      `Cannot use "faults.ghostStyle": "${ghostStyle}" is not error, drop or both`,
    );
  }
  const roles = options.roles ?? base?.roles ?? ["member", "admin"];
  if (
    !Array.isArray(roles) || roles.length === 0 ||
    roles.some((role) => typeof role !== "string" || role === "")
  ) {
    throw new TypeError('Cannot use "roles": it must be a non-empty list of role slugs');
  }
  const seed = options.seed ?? base?.seed ?? 1;
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new TypeError(`Cannot use "seed": ${seed} is not a number`);
  }
  return {
    apiKey,
    duplicateEmailStatus,
    rateLimits,
    latency: {
      fixedMs: checkMs("latency.fixedMs", latency.fixedMs, 0),
      jitterMs: checkMs("latency.jitterMs", latency.jitterMs, 0),
    },
    faults: {
      failureRate: checkRate("faults.failureRate", faults.failureRate),
      dropRate: checkRate("faults.dropRate", faults.dropRate),
      slowRate: checkRate("faults.slowRate", faults.slowRate),
      slowMs: checkMs("faults.slowMs", faults.slowMs, DEFAULT_SLOW_MS),
      ghostRate: checkRate("faults.ghostRate", faults.ghostRate),
      ghostStyle,
    },
    roles: [...roles],
    multipleRoles: options.multipleRoles ?? base?.multipleRoles ?? false,
    seed,
  };
}

function storeConfig(resolved: Resolved): StoreConfig {
  return {
    duplicateEmailStatus: resolved.duplicateEmailStatus,
    roles: new Set(resolved.roles),
    defaultRole: resolved.roles.includes("member") ? "member" : resolved.roles[0],
    multipleRoles: resolved.multipleRoles,
  };
}

function knobs(resolved: Resolved): Knobs {
  return {
    apiKey: resolved.apiKey,
    latencyFixedMs: resolved.latency.fixedMs,
    latencyJitterMs: resolved.latency.jitterMs,
    ...resolved.faults,
  };
}

function limiter(resolved: Resolved): RateLimiter | null {
  return resolved.rateLimits ? new RateLimiter(resolved.rateLimits.scale) : null;
}

class RunningFake implements FakeWorkOS {
  readonly hostname: string;
  readonly port: number;
  readonly url: string;
  readonly state: FakeState;
  #resolved: Resolved;
  readonly #store: Store;
  readonly #stats: Stats;
  readonly #api: Api;
  readonly #delays = new Delays();
  readonly #server: Http1Server;
  #closing: Promise<void> | undefined;
  #outageTimer?: ReturnType<typeof setTimeout>;

  constructor(listener: Deno.TcpListener, resolved: Resolved) {
    this.hostname = listener.addr.hostname;
    this.port = listener.addr.port;
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    this.url = `http://${host}:${this.port}`;
    this.#resolved = resolved;
    this.#store = new Store(storeConfig(resolved));
    this.#stats = new Stats();
    this.state = new FakeState(this.#store, this.#stats, () => {
      this.#api.limiter = limiter(this.#resolved);
      this.#api.stormUntil = 0;
    });
    const control: ControlHooks = {
      configure: (options) => this.configure(options as Partial<FakeWorkOSOptions>),
      reset: () => this.state.reset(),
      storm: (durationMs, retryAfterSeconds) => this.rateLimitStorm(durationMs, retryAfterSeconds),
      outage: (mode, durationMs) => this.outage(mode, { durationMs }),
      status: () => this.#status(),
      addUser: (input) => this.state.addUser(input as unknown as AddUserInput),
      signUps: (afterUserCreates, users) => {
        this.signUpDuring(users as unknown as AddUserInput[], { afterUserCreates })
          .catch(() => {/* seen in the fake's user count */});
      },
    };
    this.#api = new Api(
      { store: this.#store, stats: this.#stats, delays: this.#delays, control },
      knobs(resolved),
      limiter(resolved),
      new SeededRandom(resolved.seed),
    );
    this.#server = new Http1Server(listener, this.#api.handle);
    this.#api.onUserCreated = () => this.#userCreated();
  }

  readonly #signUps: Array<{
    remaining: number;
    users: AddUserInput[];
    resolve(users: FakeUser[]): void;
    reject(error: unknown): void;
  }> = [];

  signUpDuring(users: AddUserInput[], options: { afterUserCreates: number }): Promise<FakeUser[]> {
    const remaining = options.afterUserCreates;
    if (!Number.isInteger(remaining) || remaining < 0) {
      return Promise.reject(
        new RangeError(`Cannot use "afterUserCreates": ${remaining} is not a whole number >= 0`),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<FakeUser[]>();
    this.#signUps.push({ remaining, users: [...users], resolve, reject });
    if (remaining === 0) this.#userCreated(0);
    return promise;
  }

  #userCreated(count = 1): void {
    for (const signUp of [...this.#signUps]) {
      signUp.remaining -= count;
      if (signUp.remaining > 0) continue;
      this.#signUps.splice(this.#signUps.indexOf(signUp), 1);
      try {
        signUp.resolve(signUp.users.map((user) => this.state.addUser(user)));
      } catch (error) {
        signUp.reject(error);
      }
    }
  }

  get apiKey(): string {
    return this.#resolved.apiKey;
  }

  configure(options: Partial<FakeWorkOSOptions>): void {
    if (options.port !== undefined && options.port !== this.port) {
      throw new RangeError('Cannot change "port" of a running fake');
    }
    if (options.hostname !== undefined && options.hostname !== this.hostname) {
      throw new RangeError('Cannot change "hostname" of a running fake');
    }
    const resolved = resolve(options, this.#resolved);
    this.#resolved = resolved;
    this.#store.config = storeConfig(resolved);
    this.#api.setKnobs(knobs(resolved));
    if (options.rateLimits !== undefined) this.#api.limiter = limiter(resolved);
    if (options.seed !== undefined) this.#api.random = new SeededRandom(resolved.seed);
  }

  rateLimitStorm(durationMs: number, retryAfterSeconds?: number): void {
    checkMs("durationMs", durationMs, 0);
    if (
      retryAfterSeconds !== undefined &&
      !(Number.isInteger(retryAfterSeconds) && retryAfterSeconds >= 1)
    ) {
      throw new RangeError(
        `Cannot use "retryAfterSeconds": ${retryAfterSeconds} is not a whole number of seconds >= 1`,
      );
    }
    this.#api.stormUntil = performance.now() + durationMs;
    this.#api.stormRetryAfter = retryAfterSeconds;
  }

  outage(mode: OutageMode, options: { durationMs?: number } = {}): void {
    if (!OUTAGE_MODES.has(mode)) {
      throw new RangeError(
        `Cannot start an outage: "${mode}" is not none, unavailable, hang, refuse or unauthorized`,
      );
    }
    const durationMs = options.durationMs;
    if (durationMs !== undefined) checkMs("durationMs", durationMs, 0);
    clearTimeout(this.#outageTimer);
    this.#outageTimer = undefined;
    const api = this.#api;
    if (api.outageMode === "hang" && mode !== "hang") api.releaseHung();
    if (mode === "refuse") this.#server.refuse();
    else this.#server.accept();
    api.outageMode = mode;
    if (mode !== "none" && durationMs !== undefined) {
      this.#outageTimer = setTimeout(() => this.outage("none"), durationMs);
    }
  }

  get outageRequests(): number {
    return this.#api.outageRequests;
  }

  #status(): Record<string, unknown> {
    const state = this.state;
    return {
      users: state.userCount(),
      organizations: state.organizationCount(),
      memberships: state.membershipCount(),
      invitations: state.invitationCount(),
      totalRequests: state.totalRequests,
      requestCounts: state.requestCounts,
      rateLimitedCount: state.rateLimitedCount,
      faultCounts: state.faultCounts,
      outage: this.#api.outageMode,
      outageRequests: this.#api.outageRequests,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#outageTimer);
      this.#api.releaseHung();
      this.#delays.close();
      await this.#server.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a fake WorkOS on the loopback interface.
 *
 * Point the official SDK at it with `apiHostname`, `port` and `https: false`
 * (and `maxRetries: 0` when the caller does its own retrying).
 *
 * @param options Port, key, limits, latency, faults, roles, seed.
 * @returns The running fake; close it (or use `await using`) when done.
 *
 * @example Create a user through the SDK
 * ```ts
 * import { WorkOS } from "@workos-inc/node";
 * import assert from "node:assert/strict";
 * import { startFakeWorkOS } from "./server.ts";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: false });
 * const workos = new WorkOS(fake.apiKey, {
 *   apiHostname: fake.hostname,
 *   port: fake.port,
 *   https: false,
 *   maxRetries: 0,
 * });
 * const user = await workos.userManagement.createUser({ email: "ada@example.com" });
 * assert.equal(fake.state.findUserByEmail("ada@example.com")?.id, user.id);
 * ```
 */
export function startFakeWorkOS(options: FakeWorkOSOptions = {}): Promise<FakeWorkOS> {
  try {
    const resolved = resolve(options);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new RangeError(`Cannot use "port": ${port} is not a TCP port`);
    }
    const listener = Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port });
    return Promise.resolve(new RunningFake(listener, resolved));
  } catch (error) {
    return Promise.reject(error);
  }
}
