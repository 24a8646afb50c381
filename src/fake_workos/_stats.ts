/**
 * What the fake counts about the traffic it served.
 *
 * @module
 */

/** How many faults of each kind were injected. */
export interface FaultCounts {
  /** 500/502/503 answered instead of doing the request. */
  failure: number;
  /** Connections closed without an answer. */
  drop: number;
  /** Answers delayed by `slowMs`. */
  slow: number;
  /** Writes applied and then answered with a 500 or a dropped connection. */
  ghost: number;
}

/** Request counters, per endpoint and overall. */
export class Stats {
  readonly requests: Map<string, number> = new Map();
  total = 0;
  rateLimited = 0;
  faults: FaultCounts = { failure: 0, drop: 0, slow: 0, ghost: 0 };

  /** Counts one request to the endpoint named `key`. */
  count(key: string): void {
    this.total++;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.requests.clear();
    this.total = 0;
    this.rateLimited = 0;
    this.faults = { failure: 0, drop: 0, slow: 0, ghost: 0 };
  }
}
