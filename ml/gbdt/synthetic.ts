import type { Objective } from './params.ts';
import { Rng } from './rng.ts';
import type { Dataset } from './train.ts';

/**
 * Seeded synthetic data for tests and benchmarks: continuous, heavy-tailed and integer-valued features,
 * `nanRate` missing values, and a nonlinear target with interactions. Missing values count as 0 in the
 * signal, so missingness carries information the learned default direction can use.
 */
export function makeSynthetic(
  n: number,
  f: number,
  objective: Objective,
  seed: number,
  nanRate = 0.03,
): Dataset {
  const rng = new Rng(seed);
  const normal = (): number => {
    const u = 1 - rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const x = new Float32Array(n * f);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * f, (i + 1) * f);
    for (let j = 0; j < f; j++) {
      const kind = j % 4;
      const v =
        kind === 0
          ? normal()
          : kind === 1
            ? rng.next() * 10
            : kind === 2
              ? Math.floor(rng.next() * 7)
              : Math.exp(normal());
      row[j] = rng.next() < nanRate ? Number.NaN : v;
    }
    const v = (j: number): number => {
      const t = row[j % f]!;
      return Number.isNaN(t) ? 0 : t;
    };
    const s =
      1.2 * Math.sin(v(0) * 1.5) +
      0.25 * v(1) * (v(2) - 3) * 0.3 +
      (v(3) > 1.5 ? 0.8 : -0.4) +
      0.4 * v(4) * v(4) -
      0.3 * v(5) +
      (v(6) === 2 ? 0.7 : 0) +
      0.2 * Math.log1p(v(7)) +
      0.3 * normal();
    if (objective === 'binary:logistic') y[i] = rng.next() < 1 / (1 + Math.exp(-(s - 0.6))) ? 1 : 0;
    else if (objective === 'reg:squarederror') y[i] = s + 0.5 * normal();
    else y[i] = poisson(rng, Math.exp(0.4 * s - 0.2));
  }
  return { x, n, f, y };
}

function poisson(rng: Rng, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = rng.next();
  while (p > l) {
    k++;
    p *= rng.next();
  }
  return k;
}
