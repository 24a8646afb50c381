/**
 * Test helper: the one seeded random generator of the test suite, the same
 * mulberry32 the fake WorkOS rolls its fault dice with, so that every
 * simulated run and every kill moment can be replayed from its seed.
 *
 * @module
 */

import { SeededRandom } from "../src/fake_workos/_random.ts";

/**
 * A seeded source of floats in [0, 1): the same seed gives the same sequence.
 *
 * @param seed Any whole number.
 * @returns The next float, each call.
 */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}
