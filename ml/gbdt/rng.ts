/**
 * Small seeded PRNG (mulberry32). Sampling must be reproducible from the seed alone, so
 * `Math.random` is never used in training.
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    // Mix the seed so that nearby seeds do not give correlated first draws.
    this.s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0x27d4eb2f) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
