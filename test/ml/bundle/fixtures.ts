/** Small, fast pump predictors on synthetic data for bundle and scorer tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { Rng } from '../../../devices/rng.ts';
import { writeBundle } from '../../../ml/bundle/write.ts';
import { train } from '../../../ml/gbdt/index.ts';
import type { AssetModelPredictors } from '../../../ml/train/types.ts';

export const PUMP = getAssetModel('centrifugal-pump');
export const ENGINE_NAMES = featureNames(PUMP);
/** Deliberately not in engine order, and with non-sensor features, so the column map is exercised. */
export const FIXTURE_FEATURES = [
  'vibration_mean_24h',
  'temperature_last',
  'anomaly_prev',
  'flow_mean_1h',
  'since_maint_bearing_h',
  'current_slope_7d',
];

/** Random engine-length vectors (float64, ~10% NaN) in which vibration/temperature drive failure. */
export function randomVectors(n: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const v = new Float64Array(ENGINE_NAMES.length);
    for (let i = 0; i < v.length; i++) v[i] = rng.next() < 0.1 ? Number.NaN : rng.normal() * 3 + 10;
    return v;
  });
}

export function fixturePredictors(seed = 7): AssetModelPredictors {
  const vectors = randomVectors(600, seed);
  const cols = FIXTURE_FEATURES.map((n) => ENGINE_NAMES.indexOf(n));
  const f = cols.length;
  const x = new Float32Array(vectors.length * f);
  const yFail = new Float32Array(vectors.length);
  const yRul = new Float32Array(vectors.length);
  vectors.forEach((v, i) => {
    cols.forEach((c, j) => {
      x[i * f + j] = v[c]!;
    });
    const vib = Number.isNaN(v[cols[0]!]!) ? 10 : v[cols[0]!]!;
    const temp = Number.isNaN(v[cols[1]!]!) ? 10 : v[cols[1]!]!;
    yFail[i] = vib + 0.5 * temp > 16 ? 1 : 0;
    yRul[i] = Math.max(0, 3_600_000 * (40 - 2 * vib - temp));
  });
  const data = { x, n: vectors.length, f, featureNames: [...FIXTURE_FEATURES] };
  const failure = train({ objective: 'binary:logistic', nRounds: 15, maxDepth: 3, eta: 0.3 }, { ...data, y: yFail });
  const rul = train({ objective: 'reg:squarederror', nRounds: 15, maxDepth: 3, eta: 0.3 }, { ...data, y: yRul });
  const common = {
    featureNames: FIXTURE_FEATURES,
    metrics: { dummy: 1 },
    trainingDataHash: 'fixture',
    trainingData: 'synthetic fixture',
    trainingRows: vectors.length,
    params: { nRounds: 15 },
  };
  return {
    modelId: 'centrifugal-pump',
    trainingMatrix: { names: FIXTURE_FEATURES, x, n: vectors.length, source: 'synthetic fixture' },
    predictors: [
      { ...common, name: 'failure', kind: 'failure', horizon: 86_400_000, threshold: 0.5, modelJson: failure.toXgboostJson() },
      {
        ...common,
        name: 'rul',
        kind: 'rul',
        rulCap: 1_209_600_000,
        // A hand-made interval (ms): ±10 h below 100 h of predicted RUL, ±50 h above.
        interval: {
          method: 'split-conformal',
          level: 0.9,
          edges: [360_000_000],
          bins: [
            { lower: -36_000_000, upper: 36_000_000, n: 300 },
            { lower: -180_000_000, upper: 180_000_000, n: 300 },
          ],
          calibrationRows: 600,
          calibration: 'fixture',
        },
        modelJson: rul.toXgboostJson(),
      },
    ],
  };
}

/** Writes the fixture bundle to a fresh temporary directory and returns it. */
export function fixtureBundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdm-bundle-'));
  writeBundle(dir, [fixturePredictors()], { createdAt: '2026-01-01T00:00:00.000Z' });
  return dir;
}
