/**
 * Organizations' public face: what a journal keeps of each organization resolved.
 *
 * @module
 */

export type { CachedOrganization } from "./organization_resolver.ts";
