/**
 * Timers for latency and slow answers that can all be cancelled at once, so
 * that closing the fake never leaves a timer or a connection behind.
 *
 * @module
 */

/** A set of cancellable waits. */
export class Delays {
  readonly #pending = new Map<ReturnType<typeof setTimeout>, () => void>();
  #closed = false;

  /** Resolves `true` after `ms`, or `false` as soon as {@linkcode Delays.close} is called. */
  wait(ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(timer);
        resolve(true);
      }, ms);
      this.#pending.set(timer, () => resolve(false));
    });
  }

  /** Cancels every pending wait. */
  close(): void {
    this.#closed = true;
    for (const [timer, cancel] of this.#pending) {
      clearTimeout(timer);
      cancel();
    }
    this.#pending.clear();
  }
}
