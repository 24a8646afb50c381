import { WorkOS } from "@workos-inc/node";
import assert from "node:assert/strict";
import { DEFAULT_API_KEY, startFakeWorkOS } from "../testing.ts";
import { parseServeArgs } from "../src/fake_workos/serve.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends raw bytes and reads until the server closes or `until` matches. */
async function raw(port: number, request: string, until?: RegExp): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(request));
    const buffer = new Uint8Array(65_536);
    let text = "";
    while (!until?.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

const KEY = DEFAULT_API_KEY;

Deno.test("keep-alive serves several requests, pipelined, on one connection", async () => {
  await using fake = await startFakeWorkOS();
  const get = `GET /organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n\r\n`;
  const text = await raw(
    fake.port,
    get + get + get.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n"),
  );
  assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
  assert.equal(text.match(/X-Request-ID: [0-9a-f-]{36}/g)?.length, 3);
  assert.match(text, /Connection: close/);
});

Deno.test("chunked bodies and Expect: 100-continue are understood", async () => {
  await using fake = await startFakeWorkOS();
  const body = JSON.stringify({ email: "chunked@example.com" });
  const chunked = `${body.slice(0, 10).length.toString(16)}\r\n${body.slice(0, 10)}\r\n` +
    `${body.slice(10).length.toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n`;
  const text = await raw(
    fake.port,
    `POST /user_management/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
      `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
      chunked,
  );
  assert.match(text, /^HTTP\/1\.1 201 Created/);
  assert.equal(fake.state.findUserByEmail("chunked@example.com")?.email, "chunked@example.com");

  const second = JSON.stringify({ email: "continue@example.com" });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    await conn.write(encoder.encode(
      `POST /user_management/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
        `Content-Length: ${second.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    ));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    assert.match(decoder.decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 100 Continue/);
    await conn.write(encoder.encode(second));
    let text = "";
    while (true) {
      const m = await conn.read(buffer);
      if (m === null) break;
      text += decoder.decode(buffer.subarray(0, m));
    }
    assert.match(text, /^HTTP\/1\.1 201 Created/);
  } finally {
    conn.close();
  }
});

Deno.test("requests split into tiny writes and large bodies are read whole", async () => {
  await using fake = await startFakeWorkOS();
  const name = "N".repeat(200_000);
  const body = JSON.stringify({ name, external_id: "big" });
  const head = `POST /organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    for (const char of head) {
      await conn.write(encoder.encode(char));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await conn.write(encoder.encode(body));
    const buffer = new Uint8Array(1 << 20);
    let text = "";
    while (!/"external_id":"big"/.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    assert.match(text, /^HTTP\/1\.1 201 Created/);
  } finally {
    conn.close();
  }
  assert.equal(fake.state.findOrganizationByExternalId("big")?.name.length, 200_000);
});

Deno.test("malformed requests and bodies get 400, unknown routes 404", async () => {
  await using fake = await startFakeWorkOS();
  assert.match(await raw(fake.port, "NONSENSE\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request/);
  const notJson = await raw(
    fake.port,
    `POST /organizations HTTP/1.1\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: 3\r\n` +
      `Connection: close\r\n\r\n{{{`,
  );
  assert.match(notJson, /^HTTP\/1\.1 400 Bad Request/);
  assert.match(notJson, /invalid_request_body/);
  const unknown = await raw(
    fake.port,
    `GET /nope HTTP/1.1\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(unknown, /^HTTP\/1\.1 404 Not Found/);
  assert.match(unknown, /X-Request-ID: /);
  assert.equal(fake.state.requestCounts["GET (unknown)"], 1);
});

Deno.test("parseServeArgs maps flags to options", () => {
  assert.deepEqual(parseServeArgs([]), { port: 4100, latency: {}, faults: {} });
  assert.deepEqual(
    parseServeArgs([
      "--port=0",
      "--api-key",
      "sk_test_x",
      "--rate-limit-scale",
      "0.5",
      "--duplicate-status",
      "409",
      "--latency-ms",
      "5",
      "--jitter-ms",
      "2",
      "--failure-rate",
      "0.1",
      "--drop-rate",
      "0.2",
      "--slow-rate",
      "0.3",
      "--slow-ms",
      "100",
      "--ghost-rate",
      "0.4",
      "--ghost-style",
      "drop",
      "--roles",
      "member, owner",
      "--seed",
      "9",
    ]),
    {
      port: 0,
      apiKey: "sk_test_x",
      rateLimits: { scale: 0.5 },
      duplicateEmailStatus: 409,
      latency: { fixedMs: 5, jitterMs: 2 },
      faults: {
        failureRate: 0.1,
        dropRate: 0.2,
        slowRate: 0.3,
        slowMs: 100,
        ghostRate: 0.4,
        ghostStyle: "drop",
      },
      roles: ["member", "owner"],
      seed: 9,
    },
  );
  assert.deepEqual(parseServeArgs(["--no-rate-limits"]), {
    port: 4100,
    rateLimits: false,
    latency: {},
    faults: {},
  });
  assert.equal(parseServeArgs(["-h"]), "help");
  assert.throws(() => parseServeArgs(["--duplicate-status", "401"]), RangeError);
  assert.throws(() => parseServeArgs(["--port", "abc"]), TypeError);
  assert.throws(() => parseServeArgs(["--bogus"]));
});

Deno.test("the CLI prints its URL and key, serves the SDK and stops on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      new URL("../src/fake_workos/serve.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--api-key",
      "sk_test_cli",
      "--duplicate-status",
      "409",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/API key: .*\n/.test(out)) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  const url = out.match(/^Fake WorkOS listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
  assert.ok(url, out);
  assert.match(out, /^API key: sk_test_cli$/m);

  const workos = new WorkOS("sk_test_cli", {
    apiHostname: "127.0.0.1",
    port: Number(url[2]),
    https: false,
    maxRetries: 0,
  });
  const user = await workos.userManagement.createUser({ email: "cli@example.com" });
  assert.match(user.id, /^user_/);
  await assert.rejects(
    () => workos.userManagement.createUser({ email: "cli@example.com" }),
    (error: { status?: number }) => error.status === 409,
  );

  child.kill("SIGTERM");
  while (true) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(out, /Fake WorkOS stopped/);
});
