/**
 * Turns a row's organization reference into a WorkOS organization id:
 * `org_id` is used as given, `org_external_id` is looked up (once per
 * organization, however many rows name it) and, when missing and a name is
 * given, created (at most once).
 *
 * @module
 */

import type { OrganizationRef } from "../types.ts";
import { WorkOSApiError, type WorkOSClient } from "../workos/client.ts";
import {
  ensureOrganization,
  findOrganizationByExternalId,
  type WorkOSOrganization,
} from "../workos/organizations.ts";
import { type CacheStats, CoalescingCache } from "./organization_cache.ts";
import { organizationKey } from "./organization_key.ts";

/** A cached answer: the organization id, or `null` when WorkOS has none. */
export type CachedOrganization = { id: string } | null;

/** A row's organization could not be resolved. */
export class OrganizationResolutionError extends Error {
  override name = "OrganizationResolutionError";
  /** HTTP status of the failing answer, if any. */
  readonly httpStatus?: number;
  /** WorkOS error code, if any. */
  readonly workosCode?: string;
  /** `X-Request-ID` of the failing answer, if any. */
  readonly requestId?: string;

  /**
   * @param message What went wrong and how to fix it.
   * @param options Details from the failing answer.
   *
   * @example Usage
   * ```ts
   * import { OrganizationResolutionError } from "./organization_resolver.ts";
   * const error = new OrganizationResolutionError("Organization not found", { httpStatus: 404 });
   * console.log(error.httpStatus); // 404
   * ```
   */
  constructor(
    message: string,
    options: { httpStatus?: number; workosCode?: string; requestId?: string } = {},
  ) {
    super(message);
    this.httpStatus = options.httpStatus;
    this.workosCode = options.workosCode;
    this.requestId = options.requestId;
  }
}

/** Options for {@linkcode OrganizationResolver}. */
export interface OrganizationResolverOptions {
  /** Organizations kept in the cache (10,000). */
  capacity?: number;
  /** Called once for each organization this resolver created. */
  onCreated?(organization: WorkOSOrganization): void;
  /**
   * Whether an organization found by lookup was made by this import (a
   * resumed job's earlier session a crash cut off): it then counts in
   * {@linkcode OrganizationResolver.created}.
   */
  isOwn?(organization: WorkOSOrganization): boolean;
}

/**
 * Resolves organization references through a coalescing LRU cache.
 *
 * @example Usage
 * ```ts
 * import { OrganizationResolver } from "./organization_resolver.ts";
 * // org_id references need no API call.
 * const resolver = new OrganizationResolver(undefined);
 * console.log(await resolver.resolve({ kind: "id", id: "org_123" })); // "org_123"
 * ```
 */
export class OrganizationResolver {
  readonly #client?: WorkOSClient;
  readonly #cache: CoalescingCache<CachedOrganization>;
  readonly #onCreated?: (organization: WorkOSOrganization) => void;
  readonly #isOwn?: (organization: WorkOSOrganization) => boolean;
  #created = 0;

  /**
   * @param client The WorkOS client; `undefined` resolves only `org_id` references.
   * @param options Cache capacity and a creation callback.
   */
  constructor(client: WorkOSClient | undefined, options: OrganizationResolverOptions = {}) {
    this.#client = client;
    this.#cache = new CoalescingCache({ capacity: options.capacity });
    this.#onCreated = options.onCreated;
    this.#isOwn = options.isOwn;
  }

  /** Cache hits, misses and size. */
  get cacheStats(): CacheStats {
    return this.#cache.stats;
  }

  /** Organizations this resolver created. */
  get created(): number {
    return this.#created;
  }

  /**
   * The cached entries, for saving in a checkpoint.
   *
   * @returns Key and answer pairs.
   */
  entries(): Array<[string, CachedOrganization]> {
    return this.#cache.entries();
  }

  /**
   * Restores cached entries saved earlier.
   *
   * @param entries Key and answer pairs from {@linkcode OrganizationResolver.entries}.
   */
  restore(entries: Iterable<[string, CachedOrganization]>): void {
    for (const [key, value] of entries) this.#cache.set(key, value);
  }

  /**
   * The WorkOS organization id for a reference.
   *
   * @param ref The row's (or the flags') organization.
   * @returns The organization id.
   * @throws {OrganizationResolutionError} When it is missing and cannot be created.
   */
  async resolve(ref: OrganizationRef): Promise<string> {
    if (ref.kind === "id") {
      const cached = await this.#cache.get(
        organizationKey(ref),
        () => Promise.resolve({ id: ref.id }),
      );
      return (cached as { id: string }).id;
    }
    const client = this.#client;
    if (!client) {
      throw new OrganizationResolutionError(
        `Cannot resolve organization "${ref.externalId}": no WorkOS client`,
      );
    }
    const key = organizationKey(ref);
    const found = await this.#cache.get(key, () => this.#find(client, ref.externalId));
    if (found) return found.id;
    const name = ref.name;
    if (!name) {
      // Another row of the same organization may be creating it right now
      // (it shared this lookup): its answer is this row's too, so that rows
      // succeed or fail alike whatever the concurrency.
      const settled = await this.#cache.update(key, (current) => Promise.resolve(current ?? null));
      if (settled) return settled.id;
      throw new OrganizationResolutionError(
        `Organization not found: "${ref.externalId}": add an "org_name" to create it, or create it in WorkOS first`,
        { httpStatus: 404 },
      );
    }
    const made = await this.#cache.update(
      key,
      (current) => current ? Promise.resolve(current) : this.#create(client, ref.externalId, name),
    );
    return (made as { id: string }).id;
  }

  async #find(client: WorkOSClient, externalId: string): Promise<CachedOrganization> {
    try {
      const organization = await findOrganizationByExternalId(client, externalId);
      if (organization && this.#isOwn?.(organization)) this.#created++;
      return organization ? { id: organization.id } : null;
    } catch (error) {
      throw toResolutionError(error, `Cannot look up organization "${externalId}"`);
    }
  }

  async #create(
    client: WorkOSClient,
    externalId: string,
    name: string,
  ): Promise<CachedOrganization> {
    try {
      const { value, created } = await ensureOrganization(client, externalId, { name });
      if (created) {
        this.#created++;
        this.#onCreated?.(value);
      }
      return { id: value.id };
    } catch (error) {
      throw toResolutionError(error, `Cannot create organization "${externalId}"`);
    }
  }
}

function toResolutionError(error: unknown, context: string): Error {
  if (!(error instanceof WorkOSApiError)) return error as Error;
  return new OrganizationResolutionError(`${context}: ${error.message}`, {
    httpStatus: error.failure.status,
    workosCode: error.failure.code,
    requestId: error.requestId,
  });
}
