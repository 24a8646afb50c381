import { GenericServerException } from "@workos-inc/node";
import assert from "node:assert/strict";
import { type FakeWorkOS, type FakeWorkOSOptions, startFakeWorkOS } from "../testing.ts";
import { recordingSdk } from "./_recording_sdk.ts";

function start(options: FakeWorkOSOptions): Promise<FakeWorkOS> {
  return startFakeWorkOS({ rateLimits: false, ...options });
}

/** What the SDK throws when the connection dies without an answer. */
function assertNetworkError(error: unknown): true {
  assert.ok(error instanceof Error);
  assert.ok(!("status" in error), "no HTTP status for a dropped connection");
  assert.ok(error.cause instanceof TypeError, `cause: ${String(error.cause)}`);
  return true;
}

Deno.test("latency delays every answer by at least the fixed part", async () => {
  await using fake = await start({ latency: { fixedMs: 80, jitterMs: 20 } });
  const { workos } = recordingSdk(fake);
  const started = performance.now();
  await workos.userManagement.createUser({ email: "slowish@example.com" });
  // A lower bound only: timers never fire early, but a busy machine can be late.
  assert.ok(performance.now() - started >= 75);
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("failureRate answers 500, 502 or 503 and does not apply the write", async () => {
  await using fake = await start({ faults: { failureRate: 1 } });
  const { workos, last } = recordingSdk(fake);
  const statuses = new Set<number>();
  for (let i = 0; i < 30; i++) {
    await assert.rejects(
      () => workos.userManagement.createUser({ email: `f${i}@example.com` }),
      (error) => {
        assert.ok(error instanceof GenericServerException);
        assert.ok([500, 502, 503].includes(error.status), String(error.status));
        statuses.add(error.status);
        return true;
      },
    );
    assert.ok(last().headers.get("x-request-id"));
  }
  assert.deepEqual([...statuses].sort(), [500, 502, 503]);
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.faultCounts.failure, 30);
});

Deno.test("dropRate closes the connection without an answer: a TypeError from fetch", async () => {
  await using fake = await start({ faults: { dropRate: 1 } });
  await assert.rejects(
    () =>
      fetch(`${fake.url}/user_management/users/user_1`, {
        headers: { authorization: `Bearer ${fake.apiKey}` },
      }),
    TypeError,
  );
  const { workos, answers } = recordingSdk(fake);
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "drop@example.com" }),
    assertNetworkError,
  );
  assert.equal(answers.length, 0, "no HTTP answer reached the client");
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.faultCounts.drop, 2);
});

Deno.test("dropped connections leave no half-open state: the next request works", async () => {
  await using fake = await start({ faults: { dropRate: 1 } });
  const { workos } = recordingSdk(fake);
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "a@example.com" }),
    assertNetworkError,
  );
  fake.configure({ faults: { dropRate: 0 } });
  await workos.userManagement.createUser({ email: "a@example.com" });
  assert.equal(fake.state.userCount(), 1);
});

Deno.test("slowRate answers after the client's timeout; the write lands late", async () => {
  await using fake = await start({ faults: { slowRate: 1, slowMs: 300 } });
  const { workos } = recordingSdk(fake, { timeout: 50 });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "late@example.com" }),
    (error: { status?: number; message?: string }) => {
      assert.equal(error.status, 408);
      return true;
    },
  );
  assert.equal(fake.state.userCount(), 0);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(fake.state.userCount(), 1, "the slow write was applied after the timeout");
  assert.equal(fake.state.faultCounts.slow, 1);
});

Deno.test("ghost writes are applied, then answered 500", async () => {
  await using fake = await start({ faults: { ghostRate: 1, ghostStyle: "error" } });
  const { workos, last } = recordingSdk(fake);
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "ghost@example.com" }),
    (error) => {
      assert.ok(error instanceof GenericServerException);
      assert.equal(error.status, 500);
      return true;
    },
  );
  assert.equal(last().status, 500);
  assert.ok(last().headers.get("x-request-id"));
  assert.equal(fake.state.findUserByEmail("ghost@example.com")?.email, "ghost@example.com");
  // A naive retry now hits the duplicate.
  fake.configure({ faults: { ghostRate: 0 } });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "ghost@example.com" }),
    (error: { status?: number }) => error.status === 400,
  );
  assert.equal(fake.state.userCount(), 1);
  assert.equal(fake.state.faultCounts.ghost, 1);
});

Deno.test("ghost writes are applied, then the connection is dropped", async () => {
  await using fake = await start({ faults: { ghostRate: 1, ghostStyle: "drop" } });
  const { workos, answers } = recordingSdk(fake);
  const org = fake.state.addOrganization({ name: "Acme" });
  const user = fake.state.addUser({ email: "member@example.com" });
  await assert.rejects(
    () =>
      workos.userManagement.createOrganizationMembership({
        userId: user.id,
        organizationId: org.id,
      }),
    assertNetworkError,
  );
  assert.equal(answers.length, 0);
  assert.equal(fake.state.membershipCount(), 1);
  // Reads are never ghosts.
  const list = await workos.userManagement.listOrganizationMemberships({ userId: user.id });
  assert.equal(list.data.length, 1);
  // Failed writes are not ghosts either: nothing was applied.
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "bad" }),
    (error: { status?: number }) => error.status === 422,
  );
  assert.equal(fake.state.faultCounts.ghost, 1);
});

Deno.test("ghostStyle both mixes 500s and drops; deletes can be ghosts too", async () => {
  await using fake = await start({ faults: { ghostRate: 1 }, seed: 7 });
  const { workos } = recordingSdk(fake);
  const kinds = new Set<string>();
  for (let i = 0; i < 16; i++) {
    const user = fake.state.addUser({ email: `g${i}@example.com` });
    await workos.userManagement.deleteUser(user.id).then(
      () => kinds.add("ok"),
      (error: { status?: number }) => kinds.add(error.status === 500 ? "500" : "drop"),
    );
  }
  assert.deepEqual([...kinds].sort(), ["500", "drop"]);
  assert.equal(fake.state.userCount(), 0);
  assert.equal(fake.state.faultCounts.ghost, 16);
});

Deno.test("the same seed replays the same fault pattern", async () => {
  async function pattern(): Promise<string> {
    await using fake = await start({ faults: { failureRate: 0.5 }, seed: 42 });
    const { workos } = recordingSdk(fake);
    let outcome = "";
    for (let i = 0; i < 24; i++) {
      outcome += await workos.userManagement.createUser({ email: `p${i}@example.com` }).then(
        () => ".",
        () => "x",
      );
    }
    return outcome;
  }
  const first = await pattern();
  assert.match(first, /x/);
  assert.match(first, /\./);
  assert.equal(await pattern(), first);
});

Deno.test("configure changes knobs at runtime and merges fault fields", async () => {
  await using fake = await start({});
  const { workos } = recordingSdk(fake);
  await workos.userManagement.createUser({ email: "a@example.com" });
  fake.configure({ faults: { failureRate: 1 } });
  await assert.rejects(() => workos.userManagement.createUser({ email: "b@example.com" }));
  fake.configure({ faults: { dropRate: 0 } });
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "b@example.com" }),
    GenericServerException,
  );
  fake.configure({ faults: { failureRate: 0 } });
  await workos.userManagement.createUser({ email: "b@example.com" });
  assert.equal(fake.state.userCount(), 2);
  assert.throws(() => fake.configure({ faults: { dropRate: 2 } }), RangeError);
  assert.throws(() => fake.configure({ port: fake.port + 1 }), RangeError);
  await assert.rejects(() => startFakeWorkOS({ latency: { fixedMs: -1 } }), RangeError);
});

Deno.test("faults never touch inspection: state and /__fake/ routes", async () => {
  await using fake = await start({
    faults: { dropRate: 1 },
    latency: { fixedMs: 5_000 },
  });
  fake.state.addUser({ email: "seeded@example.com" });
  const response = await fetch(`${fake.url}/__fake/status`, {
    headers: { authorization: `Bearer ${fake.apiKey}` },
  });
  assert.equal(response.status, 200);
  assert.ok(response.headers.get("x-request-id"));
  const status = await response.json();
  assert.equal(status.users, 1);
  assert.deepEqual(status.faultCounts, { failure: 0, drop: 0, slow: 0, ghost: 0 });
  assert.equal(fake.state.totalRequests, 0);
});

Deno.test("close cancels pending slow answers and drops their connections", async () => {
  const fake = await start({ faults: { slowRate: 1, slowMs: 60_000 } });
  const { workos } = recordingSdk(fake);
  const pending = workos.userManagement.createUser({ email: "never@example.com" });
  pending.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  await fake.close();
  await assert.rejects(pending, assertNetworkError);
  assert.equal(fake.state.userCount(), 0);
});
