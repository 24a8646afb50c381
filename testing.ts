/**
 * Test helpers for projects that use workos-importer: a local fake of the
 * WorkOS API that the official SDK can talk to over real HTTP, with WorkOS's
 * rate limits, injectable faults and synchronous inspection of its state.
 *
 * @example Use it in a `deno test` suite
 * ```ts
 * import { WorkOS } from "@workos-inc/node";
 * import assert from "node:assert/strict";
 * import { startFakeWorkOS } from "./testing.ts";
 *
 * await using fake = await startFakeWorkOS();
 * const workos = new WorkOS(fake.apiKey, {
 *   apiHostname: fake.hostname,
 *   port: fake.port,
 *   https: false,
 *   maxRetries: 0,
 * });
 * await workos.organizations.createOrganization({ name: "Acme", externalId: "acme" });
 * assert.equal(fake.state.findOrganizationByExternalId("acme")?.name, "Acme");
 * ```
 *
 * @module
 */

export * from "./src/fake_workos/mod.ts";
