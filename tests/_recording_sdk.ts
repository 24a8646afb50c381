/**
 * The WorkOS SDK as the importer builds it (its own retries off), pointed at
 * a fake and recording every raw answer, so tests can assert status codes,
 * headers and bodies the SDK itself does not expose.
 *
 * @module
 */

import { WorkOS } from "@workos-inc/node";
import type { FakeWorkOS } from "../testing.ts";

/** One raw answer as the fake sent it. */
export interface Recorded {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

/** Options for {@linkcode recordingSdk}. */
export interface RecordingSdkOptions {
  /** The key to send (the fake's own by default). */
  apiKey?: string;
  /** The SDK's request timeout in ms. */
  timeout?: number;
}

/**
 * An SDK client for the fake that records every answer.
 *
 * @param fake The fake to talk to.
 * @param options Key and timeout.
 * @returns The client, the answers so far, and the latest one.
 */
export function recordingSdk(
  fake: FakeWorkOS,
  options: RecordingSdkOptions = {},
): { workos: WorkOS; answers: Recorded[]; last: () => Recorded } {
  const answers: Recorded[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    answers.push({
      method: init?.method ?? "GET",
      url: String(input),
      status: response.status,
      headers: response.headers,
      body: await response.clone().text(),
    });
    return response;
  };
  const workos = new WorkOS(options.apiKey ?? fake.apiKey, {
    apiHostname: fake.hostname,
    port: fake.port,
    https: false,
    maxRetries: 0,
    timeout: options.timeout,
    fetchFn,
  });
  return { workos, answers, last: () => answers[answers.length - 1] };
}
