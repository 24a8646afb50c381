import assert from "node:assert/strict";
import { WorkOS } from "@workos-inc/node";
import { type FakeWorkOS, startFakeWorkOS } from "../testing.ts";
import { firebaseScryptHash, preparePasswordHash } from "../src/passwords/mod.ts";
import {
  argon2Hash,
  bcryptHash,
  djangoPbkdf2,
  FIREBASE_CONFIG,
  firebaseExport,
  scryptPhcPadded,
  sshaHash,
} from "./_hash_fixtures.ts";

const PASSWORD = "correct horse battery staple";

function sdk(fake: FakeWorkOS): WorkOS {
  return new WorkOS(fake.apiKey, {
    apiHostname: fake.hostname,
    port: fake.port,
    https: false,
    maxRetries: 0,
    clientId: "client_fake",
  });
}

/** WorkOS's error code for a sign-in, or "ok". */
async function signIn(workos: WorkOS, email: string, password: string): Promise<string> {
  try {
    const result = await workos.userManagement.authenticateWithPassword({
      clientId: "client_fake",
      email,
      password,
    });
    assert.equal(result.user.email, email);
    assert.equal(result.authenticationMethod, "Password");
    return "ok";
  } catch (error) {
    const { status, code } = error as { status?: number; code?: string };
    return `${status} ${code}`;
  }
}

function wanted(result: ReturnType<typeof preparePasswordHash>): { hash: string; type: string } {
  if (!result.ok) throw new Error(result.problem.reason);
  return result.value;
}

Deno.test("the fake verifies every WorkOS hash type for real on password authentication", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const workos = sdk(fake);
  const firebase = firebaseScryptHash(await firebaseExport(PASSWORD), FIREBASE_CONFIG);
  const hashes: [string, { hash: string; type: string }][] = [
    ["bcrypt", wanted(preparePasswordHash(await bcryptHash(PASSWORD)))],
    ["argon2", wanted(preparePasswordHash(await argon2Hash(PASSWORD)))],
    ["scrypt", wanted(preparePasswordHash(await scryptPhcPadded(PASSWORD)))],
    ["pbkdf2", wanted(preparePasswordHash(djangoPbkdf2(PASSWORD)))],
    ["ssha", wanted(preparePasswordHash(sshaHash(PASSWORD, "ssha")))],
    ["ssha256", wanted(preparePasswordHash(sshaHash(PASSWORD, "ssha256")))],
    ["firebase-scrypt", wanted(firebase)],
  ];
  for (const [type, { hash, type: sent }] of hashes) {
    assert.equal(sent, type);
    await workos.userManagement.createUser({
      email: `${type}@example.com`,
      passwordHash: hash,
      passwordHashType: type as "bcrypt",
    });
  }
  await workos.userManagement.createUser({ email: "plain@example.com", password: PASSWORD });
  for (const [type] of hashes) {
    assert.equal(await signIn(workos, `${type}@example.com`, PASSWORD), "ok", type);
    assert.equal(
      await signIn(workos, `${type}@example.com`, `${PASSWORD}!`),
      "400 invalid_credentials",
      type,
    );
  }
  assert.equal(await signIn(workos, "plain@example.com", PASSWORD), "ok");
  assert.equal(await signIn(workos, "plain@example.com", "nope"), "400 invalid_credentials");
  assert.equal(await signIn(workos, "nobody@example.com", PASSWORD), "400 invalid_credentials");
  // Nothing of the secret is in the user's JSON or the state's view of it.
  const raw = JSON.stringify(fake.state.listUsers()) + JSON.stringify(fake.state.snapshot());
  assert.doesNotMatch(raw, /\$argon2|\$2a\$|SSHA|firebase-scrypt\$|correct horse/);
});

Deno.test("the fake verifies Firebase's published sample hash", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const workos = sdk(fake);
  const result = firebaseScryptHash({
    passwordHash:
      "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
    salt: "42xEC+ixf3L2lw==",
  }, FIREBASE_CONFIG);
  await workos.userManagement.createUser({
    email: "user1@example.com",
    passwordHash: wanted(result).hash,
    passwordHashType: "firebase-scrypt",
  });
  assert.equal(await signIn(workos, "user1@example.com", "user1password"), "ok");
  assert.equal(
    await signIn(workos, "user1@example.com", "user2password"),
    "400 invalid_credentials",
  );
});

Deno.test("the fake takes password_salt_position for ssha hashes salted before the password", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const workos = sdk(fake);
  const hash = sshaHash(PASSWORD, "ssha256", "prefix");
  await workos.post("/user_management/users", {
    email: "prefix@example.com",
    password_hash: hash,
    password_hash_type: "ssha256",
    password_salt_position: "prefix",
  });
  await workos.userManagement.createUser({
    email: "suffix@example.com",
    passwordHash: hash,
    passwordHashType: "ssha256" as "ssha",
  });
  assert.equal(await signIn(workos, "prefix@example.com", PASSWORD), "ok");
  // The same hash read as salted after the password does not match.
  assert.equal(await signIn(workos, "suffix@example.com", PASSWORD), "400 invalid_credentials");
});

Deno.test("the fake refuses hashes outside WorkOS's documented ranges", async () => {
  await using fake = await startFakeWorkOS({ rateLimits: false });
  const workos = sdk(fake);
  const cases: [string, string][] = [
    ["argon2", await argon2Hash(PASSWORD, 1024)],
    ["pbkdf2", "$pbkdf2$i=1000,d=sha256$c2FsdA$aGFzaA"],
    ["pbkdf2", "pbkdf2_sha256$600000$salt$aGFzaA=="],
    ["scrypt", "not-a-phc-string"],
    ["firebase-scrypt", "aGFzaA=="],
  ];
  for (const [type, hash] of cases) {
    await assert.rejects(
      workos.userManagement.createUser({
        email: "range@example.com",
        passwordHash: hash,
        passwordHashType: type as "bcrypt",
      }),
      (error: { status?: number; errors?: { code: string }[] }) => {
        assert.equal(error.status, 422, hash);
        return true;
      },
    );
  }
  assert.equal(fake.state.userCount(), 0);
});

Deno.test("the fake limits sign-ins to 10 per 60 seconds per email, as WorkOS does", async () => {
  await using fake = await startFakeWorkOS();
  const workos = sdk(fake);
  await workos.userManagement.createUser({ email: "limit@example.com", password: PASSWORD });
  await workos.userManagement.createUser({ email: "other@example.com", password: PASSWORD });
  for (let i = 0; i < 10; i++) {
    assert.equal(
      await signIn(workos, "limit@example.com", i === 9 ? PASSWORD : "wrong"),
      i === 9 ? "ok" : "400 invalid_credentials",
    );
  }
  assert.equal(await signIn(workos, "LIMIT@example.com", PASSWORD), "429 undefined");
  assert.equal(await signIn(workos, "other@example.com", PASSWORD), "ok");
});
