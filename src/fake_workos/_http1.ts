/**
 * A minimal HTTP/1.1 server over `Deno.listen`.
 *
 * `Deno.serve` always sends the status line and headers before the body, so
 * it cannot drop a connection without answering; the fake must be able to
 * close a socket after reading a request and before writing anything, which
 * is what a client sees when a server or proxy dies mid-request. This server
 * handles what HTTP clients send to an API (keep-alive, Content-Length and
 * chunked bodies, `Expect: 100-continue`) and nothing more.
 *
 * @module
 */

/** A parsed request. */
export interface HttpRequest {
  method: string;
  /** Path and query, as sent. */
  target: string;
  /** The Authorization header, if any. */
  authorization: string | null;
  /** The body, decoded as UTF-8 ("" when none). */
  body: string;
}

/** A JSON answer. */
export interface HttpReply {
  status: number;
  /** JSON text. */
  body: string;
  /** Sent as `Retry-After` when set. */
  retryAfter?: number;
  /** The body's type; default `application/json`. */
  contentType?: string;
}

/** Handler result that closes the connection without answering. */
export const DROP: unique symbol = Symbol("drop");

/** What a handler returns. */
export type HandlerResult = HttpReply | typeof DROP;

/** Answers one request. */
export type Handler = (request: HttpRequest) => HandlerResult | Promise<HandlerResult>;

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CONTINUE = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

class ProtocolError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Buffered reads from one connection. */
class ConnReader {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Makes room for `need` bytes from the read position, then reads once. */
  async #fill(need: number): Promise<boolean> {
    if (this.#buf.length - this.#start < need || this.#end === this.#buf.length) {
      const length = this.#end - this.#start;
      if (need > this.#buf.length || length === this.#buf.length) {
        const bigger = new Uint8Array(Math.max(need, this.#buf.length * 2));
        bigger.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = bigger;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = length;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Index, relative to the read position, of the first CRLF CRLF at or after `from`. */
  #findHeadEnd(from: number): number {
    const buf = this.#buf;
    const end = this.#end;
    let i = this.#start + from;
    while (i + 3 < end) {
      const cr = buf.indexOf(13, i);
      if (cr < 0 || cr + 3 >= end) return -1;
      if (buf[cr + 1] === 10 && buf[cr + 2] === 13 && buf[cr + 3] === 10) {
        return cr - this.#start;
      }
      i = cr + 1;
    }
    return -1;
  }

  /** The next request head (without the blank line), or null at a clean end of stream. */
  async readHead(): Promise<string | null> {
    let scanned = 0;
    let headEnd = this.#findHeadEnd(0);
    while (headEnd < 0) {
      if (this.buffered > MAX_HEAD_BYTES) throw new ProtocolError(431, "Request head too large");
      scanned = Math.max(0, this.buffered - 3);
      if (!(await this.#fill(this.buffered + 1))) {
        if (this.buffered === 0) return null;
        throw new ProtocolError(400, "Connection closed inside a request head");
      }
      headEnd = this.#findHeadEnd(scanned);
    }
    const head = decoder.decode(this.#buf.subarray(this.#start, this.#start + headEnd));
    this.#start += headEnd + 4;
    return head;
  }

  /** Exactly `n` bytes, decoded as UTF-8. */
  async readText(n: number): Promise<string> {
    while (this.buffered < n) {
      if (!(await this.#fill(n))) throw new ProtocolError(400, "Connection closed inside a body");
    }
    const text = decoder.decode(this.#buf.subarray(this.#start, this.#start + n));
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return text;
  }

  /** One CRLF-terminated line, for chunked bodies. */
  async readLine(): Promise<string> {
    while (true) {
      const lf = this.#buf.subarray(this.#start, this.#end).indexOf(10);
      if (lf >= 0) {
        const line = decoder.decode(this.#buf.subarray(this.#start, this.#start + lf));
        this.#start += lf + 1;
        return line.endsWith("\r") ? line.slice(0, -1) : line;
      }
      if (this.buffered > MAX_HEAD_BYTES) throw new ProtocolError(400, "Chunk line too long");
      if (!(await this.#fill(this.buffered + 1))) {
        throw new ProtocolError(400, "Connection closed inside a chunked body");
      }
    }
  }
}

async function readChunked(reader: ConnReader): Promise<string> {
  const parts: string[] = [];
  let total = 0;
  while (true) {
    const size = parseInt((await reader.readLine()).split(";")[0], 16);
    if (!Number.isFinite(size) || size < 0) throw new ProtocolError(400, "Bad chunk size");
    if (size === 0) break;
    total += size;
    if (total > MAX_BODY_BYTES) throw new ProtocolError(413, "Body too large");
    parts.push(await reader.readText(size));
    await reader.readLine();
  }
  while ((await reader.readLine()) !== "") {
    // Trailers carry nothing the fake needs.
  }
  return parts.join("");
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function encodeReply(reply: HttpReply, keepAlive: boolean, withBody: boolean): Uint8Array {
  const body = encoder.encode(reply.body);
  let head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Unknown"}\r\n` +
    `Content-Type: ${reply.contentType ?? "application/json"}\r\n` +
    `X-Request-ID: ${crypto.randomUUID()}\r\n` +
    `Content-Length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\n`;
  if (reply.retryAfter !== undefined) head += `Retry-After: ${reply.retryAfter}\r\n`;
  if (!keepAlive) head += "Connection: close\r\n";
  head += "\r\n";
  // The head is ASCII, so its string length is its byte length.
  const out = new Uint8Array(head.length + (withBody ? body.length : 0));
  encoder.encodeInto(head, out);
  if (withBody) out.set(body, head.length);
  return out;
}

/** Accepts connections on a listener and serves each with `handler`. */
export class Http1Server {
  #listener: Deno.TcpListener;
  readonly #handler: Handler;
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #address: { hostname: string; port: number };
  #accepting: Promise<void>;
  #refusing = false;
  #closed = false;

  constructor(listener: Deno.TcpListener, handler: Handler) {
    this.#listener = listener;
    this.#address = { hostname: listener.addr.hostname, port: listener.addr.port };
    this.#handler = handler;
    this.#accepting = this.#accept(listener);
  }

  /**
   * Stops listening and closes every open connection, so that clients see
   * connections refused (and reused ones reset) until {@linkcode accept}.
   */
  refuse(): void {
    if (this.#closed || this.#refusing) return;
    this.#refusing = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed by its task.
      }
    }
  }

  /** Listens again on the same address after {@linkcode refuse}. */
  accept(): void {
    if (this.#closed || !this.#refusing) return;
    const listener = Deno.listen(this.#address);
    this.#listener = listener;
    this.#refusing = false;
    const previous = this.#accepting;
    this.#accepting = previous.then(() => this.#accept(listener));
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // Not every platform allows it; answers are single writes anyway.
      }
      this.#conns.add(conn);
      const task = this.#serve(conn).finally(() => {
        this.#conns.delete(conn);
        this.#tasks.delete(task);
        try {
          conn.close();
        } catch {
          // Already closed by a drop or by close().
        }
      });
      this.#tasks.add(task);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const reader = new ConnReader(conn);
    try {
      while (!this.#closed) {
        const head = await reader.readHead();
        if (head === null) return;
        const lines = head.split("\r\n");
        const requestLine = lines[0].split(" ");
        if (requestLine.length !== 3 || !requestLine[2].startsWith("HTTP/1.")) {
          throw new ProtocolError(400, "Malformed request line");
        }
        const [method, target, version] = requestLine;
        let contentLength = 0;
        let chunked = false;
        let authorization: string | null = null;
        let keepAlive = version === "HTTP/1.1";
        let expectContinue = false;
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i];
          const colon = line.indexOf(":");
          if (colon <= 0) throw new ProtocolError(400, "Malformed header line");
          const name = line.slice(0, colon).toLowerCase();
          switch (name) {
            case "content-length": {
              contentLength = Number(line.slice(colon + 1).trim());
              if (!Number.isInteger(contentLength) || contentLength < 0) {
                throw new ProtocolError(400, "Bad Content-Length");
              }
              break;
            }
            case "transfer-encoding":
              chunked = line.slice(colon + 1).toLowerCase().includes("chunked");
              break;
            case "authorization":
              authorization = line.slice(colon + 1).trim();
              break;
            case "connection": {
              const value = line.slice(colon + 1).trim().toLowerCase();
              if (value === "close") keepAlive = false;
              else if (value === "keep-alive") keepAlive = true;
              break;
            }
            case "expect":
              expectContinue = line.slice(colon + 1).trim().toLowerCase() === "100-continue";
              break;
          }
        }
        if (contentLength > MAX_BODY_BYTES) throw new ProtocolError(413, "Body too large");
        if (expectContinue && (chunked || contentLength > 0) && reader.buffered === 0) {
          await writeAll(conn, CONTINUE);
        }
        const body = chunked
          ? await readChunked(reader)
          : contentLength > 0
          ? await reader.readText(contentLength)
          : "";
        let result: HandlerResult;
        try {
          const pending = this.#handler({ method, target, authorization, body });
          result = pending instanceof Promise ? await pending : pending;
        } catch (error) {
          result = {
            status: 500,
            body: JSON.stringify({ message: `Fake WorkOS failed: ${String(error)}` }),
          };
        }
        if (result === DROP || this.#closed) return;
        await writeAll(conn, encodeReply(result, keepAlive, method !== "HEAD"));
        if (!keepAlive) return;
      }
    } catch (error) {
      if (error instanceof ProtocolError && !this.#closed) {
        const reply = { status: error.status, body: JSON.stringify({ message: error.message }) };
        await writeAll(conn, encodeReply(reply, false, true)).catch(() => {});
      }
      // Anything else is the peer going away, which ends the connection.
    }
  }

  /** Stops accepting, closes every connection and waits for their tasks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed by its task.
      }
    }
    await this.#accepting;
    await Promise.allSettled([...this.#tasks]);
  }
}
