/**
 * A scripted HTTP proxy in front of the fake WorkOS, for faults the fake does
 * not inject by itself: answers with any status (408, 504, a gateway's HTML
 * 502) and answers that come too late. Each
 * request takes the next step of the script; once it runs out, requests are
 * forwarded unchanged.
 *
 * @module
 */

/** What the proxy does with one request. */
export type ProxyStep =
  /** Answer with this status and a WorkOS-style JSON error (or `body` as is). */
  | { status: number; body?: string; contentType?: string; retryAfter?: string }
  /** Wait, then forward (even when the client gave up meanwhile). */
  | { delayMs: number }
  /** Forward (the server applies it), then answer this instead of the server's answer. */
  | { forwardThen: { status: number; body: string } }
  /** Forward unchanged. */
  | "forward";

/** A running proxy. */
export interface FaultProxy {
  /** Base URL to give the client instead of the fake's. */
  readonly url: string;
  /** Requests the proxy received, in order (`METHOD /path`). */
  readonly received: string[];
  /** Headers of the requests the proxy received, in order. */
  readonly receivedHeaders: Headers[];
  /** Request ids the proxy answered with itself, in order. */
  readonly ownRequestIds: string[];
  /** Stops the proxy. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a proxy to `target` that runs `script` one step per request.
 *
 * @param target The fake's base URL.
 * @param script The steps, consumed in order.
 * @returns The running proxy.
 */
export function startFaultProxy(target: string, script: ProxyStep[]): FaultProxy {
  const steps = [...script];
  const received: string[] = [];
  const receivedHeaders: Headers[] = [];
  const ownRequestIds: string[] = [];
  let served = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    received.push(`${request.method} ${url.pathname}`);
    receivedHeaders.push(new Headers(request.headers));
    const step = steps.shift() ?? "forward";
    if (typeof step === "object" && "status" in step) {
      const requestId = `proxy-${++served}`;
      ownRequestIds.push(requestId);
      const headers = new Headers({
        "content-type": step.contentType ?? "application/json",
        "x-request-id": requestId,
      });
      if (step.retryAfter !== undefined) headers.set("retry-after", step.retryAfter);
      const body = step.body ??
        JSON.stringify({ message: `Injected ${step.status}`, code: `injected_${step.status}` });
      return new Response(body, { status: step.status, headers });
    }
    if (typeof step === "object" && "delayMs" in step) {
      // Like a slow server, the request is applied late even when the
      // client gave up on it meanwhile.
      await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    headers.delete("content-length");
    const forwarded = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.method === "GET" ? undefined : await request.arrayBuffer(),
    });
    if (typeof step === "object" && "forwardThen" in step) {
      await forwarded.body?.cancel();
      return new Response(step.forwardThen.body, {
        status: step.forwardThen.status,
        headers: { "content-type": "application/json", date: new Date().toUTCString() },
      });
    }
    return new Response(forwarded.body, {
      status: forwarded.status,
      headers: forwarded.headers,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    receivedHeaders,
    ownRequestIds,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
