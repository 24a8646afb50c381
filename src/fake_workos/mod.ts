/**
 * A fake WorkOS API for tests and offline trial runs: start it with
 * {@linkcode startFakeWorkOS}, point the official SDK at it, inspect and seed
 * it through {@linkcode FakeState}.
 *
 * @example Usage
 * ```ts
 * import { startFakeWorkOS } from "./mod.ts";
 *
 * await using fake = await startFakeWorkOS({ rateLimits: { scale: 0.01 } });
 * console.log(fake.url, fake.state.userCount());
 * ```
 *
 * @module
 */

export {
  DEFAULT_API_KEY,
  DEFAULT_SLOW_MS,
  type FakeWorkOS,
  type FakeWorkOSOptions,
  type FaultOptions,
  type GhostStyle,
  type LatencyOptions,
  type OutageMode,
  type RateLimitOptions,
  startFakeWorkOS,
} from "./server.ts";
export {
  type AddInvitationInput,
  type AddMembershipInput,
  type AddOrganizationInput,
  type AddUserInput,
  type FakeAuthFactor,
  type FakeInvitation,
  type FakeMembership,
  type FakeOrganization,
  type FakeRole,
  type FakeSnapshot,
  FakeState,
  type FakeUser,
  type FaultCounts,
} from "./state.ts";
