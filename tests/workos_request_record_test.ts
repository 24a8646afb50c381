/**
 * The client hands each attempt's request record (its shorter timeout; where
 * the answer's `X-Request-ID` and a 4xx body go) to its fetch wrapper in one
 * synchronous stretch, without an `AsyncLocalStorage` frame per request
 * (see `sending` in src/workos/client.ts). That holds only while every SDK
 * method the client calls reaches its `fetchFn` before its first `await`.
 * These tests call each of them through the client against the fake and
 * check that the answer's request id arrived; and they check that the list
 * here names every SDK method the source calls, so a new call cannot skip
 * the check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import {
  type RequestTrace,
  traceRequests,
  WorkOSApiError,
  WorkOSClient,
} from "../src/workos/client.ts";

/** An SDK call as the client takes it (the SDK's own types, without importing it here). */
type Call = Parameters<WorkOSClient["attempt"]>[1];

const USER = "user_01HXYZ0000000000000000000";
const ORGANIZATION = "org_01HXYZ0000000000000000000";

/** Every SDK method the importer calls, with arguments the fake can answer (or refuse). */
const CALLS: Record<string, Call> = {
  "userManagement.createUser": (sdk) =>
    sdk.userManagement.createUser({ email: "record.user@example.com" }),
  "userManagement.listUsers": (sdk) => sdk.userManagement.listUsers({ limit: 1 }),
  "userManagement.getUser": (sdk) => sdk.userManagement.getUser(USER),
  "userManagement.updateUser": (sdk) =>
    sdk.userManagement.updateUser({ userId: USER, firstName: "Ada" }),
  "userManagement.deleteUser": (sdk) => sdk.userManagement.deleteUser(USER),
  "userManagement.authenticateWithPassword": (sdk) =>
    sdk.userManagement.authenticateWithPassword({
      clientId: "client_123",
      email: "record.user@example.com",
      password: "not the password",
    }),
  "userManagement.createOrganizationMembership": (sdk) =>
    sdk.userManagement.createOrganizationMembership({ userId: USER, organizationId: ORGANIZATION }),
  "userManagement.listOrganizationMemberships": (sdk) =>
    sdk.userManagement.listOrganizationMemberships({ userId: USER, limit: 1 }),
  "userManagement.updateOrganizationMembership": (sdk) =>
    sdk.userManagement.updateOrganizationMembership("om_123", { roleSlug: "admin" }),
  "userManagement.deleteOrganizationMembership": (sdk) =>
    sdk.userManagement.deleteOrganizationMembership("om_123"),
  "userManagement.listInvitations": (sdk) =>
    sdk.userManagement.listInvitations({ email: "record.user@example.com", limit: 1 }),
  "userManagement.sendInvitation": (sdk) =>
    sdk.userManagement.sendInvitation({ email: "invited.user@example.com" }),
  "organizations.createOrganization": (sdk) =>
    sdk.organizations.createOrganization({ name: "Record Org", externalId: "record-org" }),
  "organizations.getOrganization": (sdk) => sdk.organizations.getOrganization(ORGANIZATION),
  "organizations.getOrganizationByExternalId": (sdk) =>
    sdk.organizations.getOrganizationByExternalId("record-org"),
  "organizations.deleteOrganization": (sdk) => sdk.organizations.deleteOrganization(ORGANIZATION),
  "multiFactorAuth.listUserAuthFactors": (sdk) =>
    sdk.multiFactorAuth.listUserAuthFactors({ userId: USER, limit: 100, order: "asc" }),
  "multiFactorAuth.createUserAuthFactor": (sdk) =>
    sdk.multiFactorAuth.createUserAuthFactor({
      userId: USER,
      type: "totp",
      totpIssuer: "Record",
      totpUser: "record.user@example.com",
      totpSecret: "JBSWY3DPEHPK3PXP",
    }),
  "multiFactorAuth.deleteFactor": (sdk) => sdk.multiFactorAuth.deleteFactor("auth_factor_123"),
  "authorization.listEnvironmentRoles": (sdk) => sdk.authorization.listEnvironmentRoles(),
  "authorization.listOrganizationRoles": (sdk) =>
    sdk.authorization.listOrganizationRoles(ORGANIZATION),
  "authorization.listPermissions": (sdk) =>
    sdk.authorization.listPermissions({ limit: 100, order: "asc" }),
  "authorization.createPermission": (sdk) =>
    sdk.authorization.createPermission({ slug: "records:read", name: "records:read" }),
  "authorization.getPermission": (sdk) => sdk.authorization.getPermission("records:read"),
  "authorization.deletePermission": (sdk) => sdk.authorization.deletePermission("records:read"),
  "authorization.createEnvironmentRole": (sdk) =>
    sdk.authorization.createEnvironmentRole({ slug: "recorder", name: "Recorder" }),
  "authorization.createOrganizationRole": (sdk) =>
    sdk.authorization.createOrganizationRole(ORGANIZATION, {
      slug: "org-recorder",
      name: "Org recorder",
    }),
  "authorization.setEnvironmentRolePermissions": (sdk) =>
    sdk.authorization.setEnvironmentRolePermissions("recorder", { permissions: [] }),
  "authorization.setOrganizationRolePermissions": (sdk) =>
    sdk.authorization.setOrganizationRolePermissions(ORGANIZATION, "org-recorder", {
      permissions: [],
    }),
  "authorization.deleteOrganizationRole": (sdk) =>
    sdk.authorization.deleteOrganizationRole(ORGANIZATION, "org-recorder"),
  "post": (sdk) => sdk.post("/user_management/users", { email: "record.post@example.com" }),
};

/** The SDK methods the source calls (`sdk.<area>.<method>(`, `sdk.post(`…). */
async function sdkCallsInSource(): Promise<Set<string>> {
  const found = new Set<string>();
  async function scan(dir: URL): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await scan(url);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        for (const match of text.matchAll(/\bsdk\.(\w+)\.(\w+)\s*\(/g)) {
          found.add(`${match[1]}.${match[2]}`);
        }
        for (const match of text.matchAll(/\bsdk\.(get|post|put|patch|delete)\s*[<(]/g)) {
          found.add(match[1]);
        }
      }
    }
  }
  await scan(new URL("../src/", import.meta.url));
  return found;
}

Deno.test("the request-record check covers every SDK method the source calls", async () => {
  const missing = [...await sdkCallsInSource()].filter((name) => !(name in CALLS));
  assert.deepEqual(missing, [], "add these to CALLS in this test");
});

Deno.test("every SDK method the client calls hands its answer's request id back to the attempt", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({ apiKey: fake.apiKey, apiUrl: fake.url, maxRetries: 0 });
  const lost: string[] = [];
  for (const [name, call] of Object.entries(CALLS)) {
    const trace: RequestTrace = {};
    let requestId: string | undefined;
    try {
      await traceRequests(trace, () => client.attempt("other", call));
      requestId = trace.lastRequestId;
    } catch (error) {
      if (!(error instanceof WorkOSApiError)) throw error;
      requestId = error.requestId;
    }
    if (requestId === undefined || !/^[0-9a-f-]{36}$/.test(requestId)) lost.push(name);
  }
  assert.deepEqual(lost, [], "these calls reached fetch after an await: their record was lost");
});

Deno.test("a shorter timeout of one attempt reaches its request, and no other", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false, latency: { fixedMs: 300 } });
  const client = new WorkOSClient({ apiKey: fake.apiKey, apiUrl: fake.url, maxRetries: 0 });
  const list: Call = (sdk) => sdk.userManagement.listUsers({ limit: 1 });
  const short = client.attempt("read", list, { timeoutMs: 50 });
  const plain = client.attempt("read", list);
  const [shortResult, plainResult] = await Promise.allSettled([short, plain]);
  assert.equal(shortResult.status, "rejected");
  assert.ok(shortResult.reason instanceof WorkOSApiError);
  assert.equal(shortResult.reason.failure.kind, "timeout");
  assert.equal(plainResult.status, "fulfilled", "the next request kept the client's own timeout");
});
