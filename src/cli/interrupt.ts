/**
 * Ctrl+C and SIGTERM: the first stops taking rows and lets requests in flight
 * finish; the second abandons them.
 *
 * @module
 */

import type { Console } from "./environment.ts";

const SIGNALS: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];

/**
 * Listens for interrupts while an import runs.
 *
 * @example Usage
 * ```ts ignore
 * const interrupt = new InterruptHandler(systemConsole);
 * await importUsers(path, { stop: interrupt.stop, abort: interrupt.abort });
 * interrupt.dispose();
 * ```
 */
export class InterruptHandler {
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  readonly #listener: () => void;

  /**
   * @param console Where to say what happens.
   */
  constructor(console: Console) {
    this.#listener = () => {
      if (!this.#stop.signal.aborted) {
        console.error(
          "Stopping: no new rows; finishing requests in flight (press Ctrl+C again to abandon them)",
        );
        this.#stop.abort();
      } else if (!this.#abort.signal.aborted) {
        console.error("Abandoning requests in flight");
        this.#abort.abort();
      }
    };
    for (const signal of SIGNALS) Deno.addSignalListener(signal, this.#listener);
  }

  /** Aborted at the first interrupt: take no more rows. */
  get stop(): AbortSignal {
    return this.#stop.signal;
  }

  /** Aborted at the second interrupt: abandon requests in flight. */
  get abort(): AbortSignal {
    return this.#abort.signal;
  }

  /** Stops listening. */
  dispose(): void {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, this.#listener);
  }
}
