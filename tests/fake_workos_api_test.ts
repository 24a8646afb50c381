import {
  BadRequestException,
  ConflictException,
  NotFoundException,
  UnauthorizedException,
  UnprocessableEntityException,
} from "@workos-inc/node";
import assert from "node:assert/strict";
import { type FakeWorkOS, type FakeWorkOSOptions, startFakeWorkOS } from "../testing.ts";
import { recordingSdk } from "./_recording_sdk.ts";
import { SAMPLE_HASHES } from "./_password_hashes.ts";

function start(options: FakeWorkOSOptions = {}): Promise<FakeWorkOS> {
  return startFakeWorkOS({ rateLimits: false, ...options });
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

Deno.test("createUser answers a WorkOS user and stores it", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const user = await workos.userManagement.createUser({
    email: "Ada.Lovelace@Example.com",
    firstName: "Ada",
    lastName: "Lovelace",
    emailVerified: true,
    externalId: "ext-ada",
    metadata: { plan: "pro" },
    passwordHash: "$2b$10$abcdefghijklmnopqrstuv",
    passwordHashType: "bcrypt",
  });
  const answer = last();
  assert.equal(answer.status, 201);
  assert.match(answer.headers.get("content-type") ?? "", /application\/json/);
  assert.ok(answer.headers.get("x-request-id"));
  const raw = JSON.parse(answer.body);
  assert.equal(raw.object, "user");
  assert.match(raw.id, /^user_[0-9A-Z]{26}$/);
  assert.equal(raw.email, "ada.lovelace@example.com");
  assert.equal(raw.email_verified, true);
  assert.equal(raw.first_name, "Ada");
  assert.equal(raw.last_name, "Lovelace");
  assert.equal(raw.external_id, "ext-ada");
  assert.deepEqual(raw.metadata, { plan: "pro" });
  assert.match(raw.created_at, ISO);
  assert.match(raw.updated_at, ISO);
  assert.equal("password_hash" in raw || "password" in raw, false);
  assert.equal(user.id, raw.id);
  assert.equal(user.email, "ada.lovelace@example.com");

  const stored = fake.state.findUserByEmail("ADA.LOVELACE@example.COM");
  assert.equal(stored?.id, user.id);
  assert.equal(stored?.hasPassword, true);
  assert.equal(stored?.passwordHashType, "bcrypt");
  assert.equal(JSON.stringify(fake.state.snapshot()).includes("$2b$10$"), false);
});

Deno.test("getUser, getUserByExternalId and listUsers find users; unknown ids answer 404", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const created = await workos.userManagement.createUser({
    email: "grace@example.com",
    externalId: "g/1 hopper",
  });
  assert.equal((await workos.userManagement.getUser(created.id)).email, "grace@example.com");
  assert.equal(
    (await workos.userManagement.getUserByExternalId("g/1 hopper")).id,
    created.id,
  );
  const list = await workos.userManagement.listUsers({ email: "GRACE@example.com" });
  assert.deepEqual(list.data.map((user) => user.id), [created.id]);
  assert.deepEqual(JSON.parse(last().body).list_metadata, { before: null, after: null });
  assert.equal(JSON.parse(last().body).object, "list");
  const none = await workos.userManagement.listUsers({ email: "nobody@example.com" });
  assert.deepEqual(none.data, []);

  await assert.rejects(
    () => workos.userManagement.getUser("user_missing"),
    (error) => {
      assert.ok(error instanceof NotFoundException);
      assert.equal(error.code, "entity_not_found");
      return true;
    },
  );
  assert.equal(last().status, 404);
  assert.ok(last().headers.get("x-request-id"));
  await assert.rejects(
    () => workos.userManagement.getUserByExternalId("nope"),
    NotFoundException,
  );
});

Deno.test("updateUser changes fields, merges metadata and keeps emails unique", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const ada = await workos.userManagement.createUser({
    email: "ada@example.com",
    metadata: { a: "1", b: "2" },
  });
  await workos.userManagement.createUser({ email: "taken@example.com" });
  const updated = await workos.userManagement.updateUser({
    userId: ada.id,
    firstName: "Ada",
    emailVerified: true,
    externalId: "ada-1",
    metadata: { b: null as unknown as string, c: "3" },
  });
  assert.equal(last().status, 200);
  assert.equal(updated.firstName, "Ada");
  assert.equal(updated.emailVerified, true);
  assert.equal(updated.externalId, "ada-1");
  assert.deepEqual(updated.metadata, { a: "1", c: "3" });
  assert.equal(fake.state.findUserByExternalId("ada-1")?.id, ada.id);

  await assert.rejects(
    () => workos.userManagement.updateUser({ userId: ada.id, email: "TAKEN@example.com" }),
    BadRequestException,
  );
  assert.deepEqual(JSON.parse(last().body), {
    message: "Could not update user.",
    code: "user_update_error",
    errors: [{ code: "email_not_available", message: "This email is not available." }],
  });
  const moved = await workos.userManagement.updateUser({
    userId: ada.id,
    email: "Ada2@Example.com",
  });
  assert.equal(moved.email, "ada2@example.com");
  assert.equal(fake.state.findUserByEmail("ada@example.com"), undefined);
  await assert.rejects(
    () => workos.userManagement.updateUser({ userId: "user_missing", firstName: "X" }),
    NotFoundException,
  );
});

Deno.test("deleteUser removes the user and its memberships", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const user = await workos.userManagement.createUser({ email: "gone@example.com" });
  const org = fake.state.addOrganization({ name: "Acme" });
  fake.state.addMembership({ userId: user.id, organizationId: org.id });
  await workos.userManagement.deleteUser(user.id);
  assert.equal(last().status, 202);
  assert.ok(last().headers.get("x-request-id"));
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.membershipCount(), 0);
  await assert.rejects(() => workos.userManagement.deleteUser(user.id), NotFoundException);
  // The email is free again.
  await workos.userManagement.createUser({ email: "gone@example.com" });
});

Deno.test("a duplicate email answers 400 email_not_available by default", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  await workos.userManagement.createUser({ email: "dup@example.com" });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "DUP@example.com", firstName: "Other" }),
    (error) => {
      assert.ok(error instanceof BadRequestException);
      assert.equal(error.status, 400);
      assert.equal(error.code, "user_creation_error");
      assert.deepEqual(error.errors, [
        { code: "email_not_available", message: "This email is not available." },
      ]);
      return true;
    },
  );
  assert.equal(last().status, 400);
  assert.ok(last().headers.get("x-request-id"));
  assert.deepEqual(JSON.parse(last().body), {
    message: "Could not create user.",
    code: "user_creation_error",
    errors: [{ code: "email_not_available", message: "This email is not available." }],
  });
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("duplicateEmailStatus 409 answers 409 user_already_exists", async () => {
  await using fake = await start({ duplicateEmailStatus: 409 });
  const { workos, last } = recordingSdk(fake);
  await workos.userManagement.createUser({ email: "dup@example.com" });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "dup@example.com" }),
    (error) => {
      assert.ok(error instanceof ConflictException);
      assert.equal(error.status, 409);
      assert.equal(error.code, "user_already_exists");
      return true;
    },
  );
  assert.equal(last().status, 409);
  assert.equal(JSON.parse(last().body).code, "user_already_exists");
  // The switch also works at runtime.
  fake.configure({ duplicateEmailStatus: 400 });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "dup@example.com" }),
    BadRequestException,
  );
});

Deno.test("a duplicate user external_id answers 400 external_id_not_available", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  await workos.userManagement.createUser({ email: "a@example.com", externalId: "same" });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "b@example.com", externalId: "same" }),
    BadRequestException,
  );
  assert.deepEqual(JSON.parse(last().body).errors, [
    { code: "external_id_not_available", message: "This external ID is not available." },
  ]);
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("invalid users answer 422 with WorkOS-style codes and create nothing", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  type CreateUser = Parameters<typeof workos.userManagement.createUser>[0];
  const cases: [CreateUser, string][] = [
    [{ email: "not-an-email" }, "email_invalid"],
    [{ email: "" }, "email_required"],
    [
      {
        email: "a@example.com",
        password: "secret-1",
        passwordHash: "x",
        passwordHashType: "bcrypt",
      },
      "password_and_password_hash_exclusive",
    ],
    [
      {
        email: "a@example.com",
        passwordHash: "x",
        passwordHashType: "md5",
      } as unknown as CreateUser,
      "password_hash_type_invalid",
    ],
    [{ email: "a@example.com", passwordHash: "x" }, "password_hash_type_required"],
    [
      { email: "a@example.com", metadata: { n: 1 } } as unknown as CreateUser,
      "metadata_invalid",
    ],
    [
      { email: "a@example.com", metadata: ["x"] } as unknown as CreateUser,
      "metadata_invalid",
    ],
    [
      {
        email: "a@example.com",
        metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])),
      },
      "metadata_too_many_keys",
    ],
  ];
  for (const [payload, code] of cases) {
    await assert.rejects(
      () => workos.userManagement.createUser(payload),
      (error) => {
        assert.ok(error instanceof UnprocessableEntityException, code);
        assert.equal(error.status, 422);
        assert.equal(error.code, "invalid_request_parameters");
        return true;
      },
    );
    const body = JSON.parse(last().body);
    assert.equal(last().status, 422);
    assert.equal(body.code, "invalid_request_parameters");
    assert.equal(body.errors[0].code, code, JSON.stringify(payload));
    assert.ok(last().headers.get("x-request-id"));
  }
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("every allowed password hash type is accepted", async () => {
  await using fake = await start();
  const { workos } = recordingSdk(fake);
  const types = Object.keys(SAMPLE_HASHES);
  for (const [i, type] of types.entries()) {
    await workos.userManagement.createUser({
      email: `hash${i}@example.com`,
      passwordHash: SAMPLE_HASHES[type],
      passwordHashType: type as "bcrypt",
    });
  }
  assert.deepEqual(fake.state.listUsers().map((user) => user.passwordHashType), types);
});

Deno.test("a wrong API key answers 401 with a request id", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake, { apiKey: "sk_test_wrong" });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "a@example.com" }),
    UnauthorizedException,
  );
  assert.equal(last().status, 401);
  assert.ok(last().headers.get("x-request-id"));
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.requestCounts["POST /user_management/users"], 1);
});

Deno.test("listUsers pages with limit, after, before and order like AutoPaginatable expects", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const ids = Array.from(
    { length: 25 },
    (_, i) => fake.state.addUser({ email: `page${i}@example.com` }).id,
  );
  const newestFirst = ids.toReversed();

  const first = await workos.userManagement.listUsers({ limit: 10 });
  assert.deepEqual(first.data.map((user) => user.id), newestFirst.slice(0, 10));
  assert.equal(first.listMetadata.after, newestFirst[9]);
  assert.equal(first.listMetadata.before, null);
  assert.match(last().url, /order=desc/);

  const second = await workos.userManagement.listUsers({ limit: 10, after: newestFirst[9] });
  assert.deepEqual(second.data.map((user) => user.id), newestFirst.slice(10, 20));
  assert.equal(second.listMetadata.before, newestFirst[10]);

  const back = await workos.userManagement.listUsers({ limit: 10, before: newestFirst[10] });
  assert.deepEqual(back.data.map((user) => user.id), newestFirst.slice(0, 10));

  const ascending = await workos.userManagement.listUsers({ limit: 5, order: "asc" });
  assert.deepEqual(ascending.data.map((user) => user.id), ids.slice(0, 5));

  // The cursor keeps working after the object it names is deleted.
  fake.state.reset();
  const kept = Array.from(
    { length: 5 },
    (_, i) => fake.state.addUser({ email: `k${i}@example.com` }).id,
  );
  await workos.userManagement.deleteUser(kept[2]);
  const afterDeleted = await workos.userManagement.listUsers({
    limit: 10,
    order: "asc",
    after: kept[2],
  });
  assert.deepEqual(afterDeleted.data.map((user) => user.id), kept.slice(3));

  const all = await (await workos.userManagement.listUsers()).autoPagination();
  assert.equal(all.length, 4);

  await assert.rejects(
    () => workos.userManagement.listUsers({ limit: 101 }),
    UnprocessableEntityException,
  );
});

Deno.test("autoPagination walks every page of a large list", async () => {
  await using fake = await start();
  const { workos } = recordingSdk(fake);
  for (let i = 0; i < 230; i++) fake.state.addUser({ email: `auto${i}@example.com` });
  const all = await (await workos.userManagement.listUsers()).autoPagination();
  assert.equal(all.length, 230);
  assert.equal(new Set(all.map((user) => user.id)).size, 230);
  assert.equal(fake.state.requestCounts["GET /user_management/users"], 4);
});

Deno.test("organizations: create, get, get by external id, list, update, delete", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const org = await workos.organizations.createOrganization({
    name: "Acme Inc.",
    externalId: "acme",
    metadata: { tier: "gold" },
  });
  assert.equal(last().status, 201);
  const raw = JSON.parse(last().body);
  assert.equal(raw.object, "organization");
  assert.match(raw.id, /^org_[0-9A-Z]{26}$/);
  assert.deepEqual(raw.domains, []);
  assert.equal(raw.external_id, "acme");
  assert.equal(org.name, "Acme Inc.");
  assert.deepEqual(org.metadata, { tier: "gold" });

  assert.equal((await workos.organizations.getOrganization(org.id)).externalId, "acme");
  assert.equal((await workos.organizations.getOrganizationByExternalId("acme")).id, org.id);
  await assert.rejects(
    () => workos.organizations.getOrganizationByExternalId("nope"),
    NotFoundException,
  );
  const listed = await workos.organizations.listOrganizations();
  assert.deepEqual(listed.data.map((item) => item.id), [org.id]);
  const renamed = await workos.organizations.updateOrganization({
    organization: org.id,
    name: "Acme Corp",
  });
  assert.equal(renamed.name, "Acme Corp");

  await assert.rejects(
    () => workos.organizations.createOrganization({ name: "Other", externalId: "acme" }),
    (error) => {
      assert.ok(error instanceof ConflictException);
      assert.equal(error.code, "external_id_already_exists");
      return true;
    },
  );
  assert.equal(last().status, 409);
  await assert.rejects(
    () => workos.organizations.createOrganization({ name: "" }),
    UnprocessableEntityException,
  );

  const user = fake.state.addUser({ email: "member@example.com" });
  fake.state.addMembership({ userId: user.id, organizationId: org.id });
  fake.state.addInvitation({ email: "invitee@example.com", organizationId: org.id });
  await workos.organizations.deleteOrganization(org.id);
  assert.equal(last().status, 202);
  assert.equal(fake.state.organizationCount(), 0);
  assert.equal(fake.state.membershipCount(), 0);
  assert.equal(fake.state.invitationCount(), 0);
  await assert.rejects(() => workos.organizations.getOrganization(org.id), NotFoundException);
  await assert.rejects(() => workos.organizations.deleteOrganization(org.id), NotFoundException);
});

Deno.test("memberships: create, list by user and organization, duplicates, roles, delete", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const org = fake.state.addOrganization({ name: "Acme" });
  const other = fake.state.addOrganization({ name: "Other" });
  const ada = fake.state.addUser({ email: "ada@example.com" });
  const bob = fake.state.addUser({ email: "bob@example.com" });

  const membership = await workos.userManagement.createOrganizationMembership({
    userId: ada.id,
    organizationId: org.id,
  });
  assert.equal(last().status, 201);
  const raw = JSON.parse(last().body);
  assert.equal(raw.object, "organization_membership");
  assert.match(raw.id, /^om_[0-9A-Z]{26}$/);
  assert.equal(raw.status, "active");
  assert.equal(raw.organization_name, "Acme");
  assert.deepEqual(raw.role, { slug: "member" });
  assert.equal(membership.userId, ada.id);

  const admin = await workos.userManagement.createOrganizationMembership({
    userId: ada.id,
    organizationId: other.id,
    roleSlug: "admin",
  });
  assert.deepEqual(admin.role, { slug: "admin" });
  await workos.userManagement.createOrganizationMembership({
    userId: bob.id,
    organizationId: org.id,
  });

  const byUser = await workos.userManagement.listOrganizationMemberships({ userId: ada.id });
  assert.deepEqual(byUser.data.map((m) => m.organizationId).sort(), [org.id, other.id].sort());
  const byOrg = await workos.userManagement.listOrganizationMemberships({
    organizationId: org.id,
  });
  assert.deepEqual(byOrg.data.map((m) => m.userId).sort(), [ada.id, bob.id].sort());
  const both = await workos.userManagement.listOrganizationMemberships({
    userId: ada.id,
    organizationId: org.id,
  });
  assert.deepEqual(both.data.map((m) => m.id), [membership.id]);
  const usersOfOrg = await workos.userManagement.listUsers({ organizationId: org.id });
  assert.deepEqual(usersOfOrg.data.map((u) => u.id).sort(), [ada.id, bob.id].sort());

  await assert.rejects(
    () =>
      workos.userManagement.createOrganizationMembership({
        userId: ada.id,
        organizationId: org.id,
      }),
    (error: { status?: number; code?: string }) => {
      assert.equal(error.status, 400);
      assert.equal(error.code, "organization_membership_already_exists");
      return true;
    },
  );
  await assert.rejects(
    () =>
      workos.userManagement.createOrganizationMembership({
        userId: bob.id,
        organizationId: other.id,
        roleSlug: "owner",
      }),
    UnprocessableEntityException,
  );
  assert.equal(JSON.parse(last().body).errors[0].code, "role_not_found");
  await assert.rejects(
    () =>
      workos.userManagement.createOrganizationMembership({
        userId: "user_missing",
        organizationId: org.id,
      }),
    NotFoundException,
  );
  await assert.rejects(
    () =>
      workos.userManagement.createOrganizationMembership({
        userId: bob.id,
        organizationId: "org_missing",
      }),
    NotFoundException,
  );

  await workos.userManagement.deleteOrganizationMembership(membership.id);
  assert.equal(last().status, 202);
  assert.equal(fake.state.membershipCount(), 2);
  await assert.rejects(
    () => workos.userManagement.deleteOrganizationMembership(membership.id),
    NotFoundException,
  );
  // Once deleted, the user can join again.
  await workos.userManagement.createOrganizationMembership({
    userId: ada.id,
    organizationId: org.id,
  });
});

Deno.test("custom roles decide which role slugs exist", async () => {
  await using fake = await start({ roles: ["viewer", "editor"] });
  const { workos } = recordingSdk(fake);
  const org = fake.state.addOrganization({ name: "Acme" });
  const user = fake.state.addUser({ email: "ada@example.com" });
  const membership = await workos.userManagement.createOrganizationMembership({
    userId: user.id,
    organizationId: org.id,
  });
  assert.deepEqual(membership.role, { slug: "viewer" });
  await assert.rejects(
    () => workos.userManagement.updateOrganizationMembership(membership.id, { roleSlug: "admin" }),
    UnprocessableEntityException,
  );
  const edited = await workos.userManagement.updateOrganizationMembership(membership.id, {
    roleSlug: "editor",
  });
  assert.deepEqual(edited.role, { slug: "editor" });
});

Deno.test("invitations: send and list by email and organization", async () => {
  await using fake = await start();
  const { workos, last } = recordingSdk(fake);
  const org = fake.state.addOrganization({ name: "Acme" });
  const invitation = await workos.userManagement.sendInvitation({
    email: "Invitee@Example.com",
    organizationId: org.id,
    expiresInDays: 3,
    roleSlug: "admin",
  });
  assert.equal(last().status, 201);
  const raw = JSON.parse(last().body);
  assert.equal(raw.object, "invitation");
  assert.match(raw.id, /^invitation_[0-9A-Z]{26}$/);
  assert.equal(raw.state, "pending");
  assert.equal(raw.email, "invitee@example.com");
  assert.equal(raw.role_slug, "admin");
  assert.equal(invitation.organizationId, org.id);
  const days = (invitation.expiresAt.getTime() - invitation.createdAt.getTime()) / 86_400_000;
  assert.equal(days, 3);

  await workos.userManagement.sendInvitation({ email: "other@example.com" });
  const byEmail = await workos.userManagement.listInvitations({ email: "INVITEE@example.com" });
  assert.deepEqual(byEmail.data.map((i) => i.id), [invitation.id]);
  const byBoth = await workos.userManagement.listInvitations({
    email: "invitee@example.com",
    organizationId: org.id,
  });
  assert.deepEqual(byBoth.data.map((i) => i.id), [invitation.id]);
  const byOrg = await workos.userManagement.listInvitations({ organizationId: org.id });
  assert.deepEqual(byOrg.data.map((i) => i.id), [invitation.id]);
  const all = await workos.userManagement.listInvitations({});
  assert.equal(all.data.length, 2);

  await assert.rejects(
    () =>
      workos.userManagement.sendInvitation({
        email: "x@example.com",
        organizationId: org.id,
        roleSlug: "owner",
      }),
    UnprocessableEntityException,
  );
  await assert.rejects(
    () => workos.userManagement.sendInvitation({ email: "x@example.com", expiresInDays: 31 }),
    UnprocessableEntityException,
  );
  await assert.rejects(
    () => workos.userManagement.sendInvitation({ email: "x@example.com", organizationId: "org_x" }),
    NotFoundException,
  );
  assert.equal(fake.state.invitationCount(), 2);
});

Deno.test("every endpoint is counted under its route pattern", async () => {
  await using fake = await start();
  const { workos } = recordingSdk(fake);
  const user = await workos.userManagement.createUser({ email: "c@example.com" });
  await workos.userManagement.getUser(user.id);
  await workos.userManagement.getUser(user.id);
  await workos.userManagement.updateUser({ userId: user.id, firstName: "C" });
  assert.deepEqual(fake.state.requestCounts, {
    "POST /user_management/users": 1,
    "GET /user_management/users/:id": 2,
    "PUT /user_management/users/:id": 1,
  });
  assert.equal(fake.state.totalRequests, 4);
});
