import { Rng as Mulberry32 } from '../../lambdas/core/random.ts';

/**
 * The trainer's generator: the shared mulberry32 with the seed mixed first, so that nearby seeds do not
 * give correlated first draws. Sampling must be reproducible from the seed alone.
 */
export class Rng extends Mulberry32 {
  constructor(seed: number) {
    super((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0x27d4eb2f) >>> 0);
  }
}
