/**
 * The project's own WorkOS types: what `src/workos` hands the pipeline is
 * converted from the SDK's answer, times as milliseconds with the
 * milliseconds kept (the exactly-once rules compare them with the run's
 * start, to the millisecond).
 */

import assert from "node:assert/strict";
import { startFakeWorkOS } from "../testing.ts";
import { RateBudget } from "../src/limits/rate_budget.ts";
import { WorkOSClient } from "../src/workos/client.ts";
import { ensureUser, findUserByEmail } from "../src/workos/users.ts";
import { ensureMembership, findMembership } from "../src/workos/memberships.ts";
import { ensureOrganization, findOrganizationByExternalId } from "../src/workos/organizations.ts";
import { ensureInvitation } from "../src/workos/invitations.ts";

Deno.test("times reach the pipeline as milliseconds, milliseconds included", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const client = new WorkOSClient({
    apiKey: fake.apiKey,
    apiUrl: fake.url,
    budget: new RateBudget({ writesPerSecond: 1_000 }),
  });
  const seeded = fake.state.addUser({
    email: "seeded@types.test",
    firstName: "Ada",
    createdAt: "2024-01-02T03:04:05.678Z",
  });
  const found = await findUserByEmail(client, "seeded@types.test");
  assert.deepEqual(found, {
    id: seeded.id,
    email: "seeded@types.test",
    firstName: "Ada",
    lastName: null,
    emailVerified: false,
    externalId: null,
    metadata: {},
    createdAtMs: Date.parse("2024-01-02T03:04:05.678Z"),
    updatedAtMs: Date.parse(seeded.updatedAt),
  });

  const { value: user } = await ensureUser(client, {
    recordNumber: 1,
    byteEnd: 0,
    email: "new@types.test",
    emailKey: "new@types.test",
    original: {},
  });
  assert.equal(user.createdAtMs, Date.parse(fake.state.getUser(user.id)?.createdAt ?? ""));

  const { value: organization } = await ensureOrganization(client, "acme", { name: "Acme" });
  assert.equal(
    organization.createdAtMs,
    Date.parse(fake.state.findOrganizationByExternalId("acme")?.createdAt ?? ""),
  );
  assert.deepEqual(await findOrganizationByExternalId(client, "acme"), organization);

  const { value: membership } = await ensureMembership(client, user.id, {
    organizationId: organization.id,
  });
  assert.deepEqual(await findMembership(client, user.id, organization.id), membership);
  assert.equal(membership.status, "active");
  assert.ok(Number.isFinite(membership.createdAtMs));

  const { value: invitation } = await ensureInvitation(client, {
    email: "invitee@types.test",
    organizationId: organization.id,
    expiresInDays: 3,
  });
  assert.equal(invitation.state, "pending");
  assert.equal(invitation.organizationId, organization.id);
  assert.ok(Number.isFinite(invitation.expiresAtMs));
});
