/** The simulator's seeded generator lives in the core, shared with the trainer. */
export { Rng, seedFor } from '../lambdas/core/random.ts';
