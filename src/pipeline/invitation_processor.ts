/**
 * `--invite`: what happens to one valid row when the import sends WorkOS
 * invitations instead of creating users. The row's organization is resolved
 * (and created, when the row names it) like an import's; an invitation is
 * sent unless one is already pending for the same email and organization;
 * sends are paced at `--invite-rate` per second.
 *
 * @module
 */

import type { UserRow } from "../types.ts";
import { type Clock, systemClock } from "../limits/clock.ts";
import { SlidingWindow } from "../limits/sliding_window.ts";
import { CoalescingCache } from "../organizations/organization_cache.ts";
import type { OrganizationResolver } from "../organizations/organization_resolver.ts";
import { traceRequests, type WorkOSClient } from "../workos/client.ts";
import { ensureInvitation } from "../workos/invitations.ts";
import type { RowOutcome } from "../outcome/mod.ts";
import { failRow, type OrganizationMode, RowTrace, startRow } from "./row_processor.ts";
import { COALESCING_SLOT_BYTES, stringBytes } from "./person_cache.ts";
import type { RowRunner } from "./run_import.ts";

/** Options for {@linkcode InvitationProcessor}. */
export interface InvitationProcessorOptions {
  mode: OrganizationMode;
  /** Days until an invitation expires (7; WorkOS allows 1 to 30). */
  expiresInDays?: number;
  /** Invitations sent per second at most (10). */
  invitesPerSecond?: number;
  /**
   * Estimated bytes the invitations remembered to recognize repeat rows may
   * take (16 MiB, about 90,000): past it, a repeat row finds the pending
   * invitation with a lookup.
   */
  cacheBytes?: number;
  /** Time source, for tests. */
  clock?: Clock;
  /** Aborts waits for a send slot. */
  signal?: AbortSignal;
}

/**
 * Hands out send slots at most `perSecond` per second, one at a time, as an
 * exact sliding window: whole-number rates allow that many sends in any
 * second; a fractional rate is kept over a longer window (2.5/s is 2 sends in
 * any 800 ms).
 */
class SendPacer {
  readonly #window: SlidingWindow;
  readonly #clock: Clock;
  #chain: Promise<void> = Promise.resolve();

  constructor(perSecond: number, clock: Clock) {
    if (!Number.isFinite(perSecond) || perSecond <= 0) {
      throw new RangeError(
        `Cannot pace invitations: "${perSecond}" is not a positive number per second`,
      );
    }
    const limit = Math.max(1, Math.floor(perSecond));
    this.#window = new SlidingWindow({ limit, windowMs: (limit / perSecond) * 1000 });
    this.#clock = clock;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    const granted = this.#chain.then(async () => {
      const now = this.#clock.now();
      const at = this.#window.earliestGrant(now);
      if (at > now) await this.#clock.sleep(at - now, signal);
      this.#window.record(Math.max(at, this.#clock.now()));
    });
    // A waiter aborted mid-sleep must not stall the ones behind it.
    this.#chain = granted.catch(() => {});
    return granted;
  }
}

interface Sent {
  id: string;
  created: boolean;
  requestId?: string;
}

/**
 * Sends one invitation per valid row.
 *
 * @example Usage
 * ```ts ignore
 * const processor = new InvitationProcessor(client, resolver, { mode: { kind: "multi" } });
 * const outcome = await processor.process(row);
 * console.log(outcome.invitation?.created);
 * ```
 */
export class InvitationProcessor implements RowRunner {
  readonly #client: WorkOSClient;
  readonly #resolver: OrganizationResolver;
  readonly #options: InvitationProcessorOptions;
  readonly #pacer: SendPacer;
  /** The invitation id of each email and organization pair sent or found: nothing else. */
  readonly #sent: CoalescingCache<string>;

  /**
   * @param client The WorkOS client.
   * @param resolver Resolves organizations (shared cache).
   * @param options Mode, lifetime and rate.
   */
  constructor(
    client: WorkOSClient,
    resolver: OrganizationResolver,
    options: InvitationProcessorOptions,
  ) {
    this.#client = client;
    this.#resolver = resolver;
    this.#options = options;
    this.#pacer = new SendPacer(options.invitesPerSecond ?? 10, options.clock ?? systemClock);
    this.#sent = new CoalescingCache({
      capacity: Infinity,
      maxBytes: options.cacheBytes ?? 16 * 2 ** 20,
      // The cache's own slot, and the invitation id it keeps for each pair.
      sizeOf: (key, id) => COALESCING_SLOT_BYTES + stringBytes(key) + stringBytes(id),
    });
  }

  /**
   * Runs one valid row to its end. Never throws for a row-level failure: the
   * outcome carries the error (an unknown role fails the row with WorkOS's
   * message).
   *
   * @param row The validated row.
   * @returns What happened.
   */
  async process(row: UserRow): Promise<RowOutcome> {
    const { outcome, organizationId } = await startRow(row, this.#options.mode, this.#resolver);
    if (outcome.error) return outcome;
    // Rows of one person and organization share one invitation; two rows in
    // flight at once must not both find none pending and both send.
    // Only the row that sends (or finds) the invitation learns whether it was sent.
    let sent: Sent | undefined;
    try {
      const id = await this.#sent.get(`${row.emailKey}\u0000${organizationId ?? ""}`, async () => {
        sent = await this.#send(row, organizationId);
        return sent.id;
      });
      outcome.invitation = {
        id,
        organizationId,
        roleSlug: row.roleSlug,
        created: sent?.created === true,
      };
      if (sent?.created) outcome.requestIds = { invitation: sent.requestId };
      return outcome;
    } catch (error) {
      return failRow(outcome, row, "invitation", error);
    }
  }

  async #send(row: UserRow, organizationId: string | undefined): Promise<Sent> {
    const trace = new RowTrace(row.recordNumber);
    const { value, created } = await traceRequests(trace, () =>
      ensureInvitation(this.#client, {
        email: row.email,
        organizationId,
        roleSlug: row.roleSlug,
        expiresInDays: this.#options.expiresInDays ?? 7,
        locale: row.locale,
      }, { beforeSend: () => this.#pacer.acquire(this.#options.signal) }));
    return { id: value.id, created, requestId: created ? trace.lastRequestId : undefined };
  }
}
