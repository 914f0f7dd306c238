import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/models.ts';
import type { AssetModel } from '../../../lambdas/core/catalog/types.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { type AlertThresholds, type Calibration, calibrate, riskFromProbability } from '../../../lambdas/core/model/decision.ts';
import { loadXgboostModel, predictBatch } from '../../../lambdas/core/model/index.ts';
import { createBundleScorer } from '../../../lambdas/core/model/scorer.ts';
import { bundlePolicies } from '../../../lambdas/core/pipeline.ts';
import type { FeatureRow, Twin } from '../../../lambdas/core/twin/twin.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { writeBundle } from '../../../ml/bundle/write.ts';
import { train } from '../../../ml/gbdt/index.ts';
import type { AssetModelPredictors } from '../../../ml/train/types.ts';

const MODELS: readonly AssetModel[] = [CENTRIFUGAL_PUMP, TURBOFAN, INDUSTRIAL_MACHINE];
/** A calibration that moves every raw output: raw 0.5 becomes 0.1. */
const calibration: Calibration = { method: 'isotonic', x: [0.1, 0.5, 0.9], y: [0.01, 0.1, 0.6], rows: 300, positives: 30 };
const thresholds: AlertThresholds = { watch: 0.04, warning: 0.08, critical: 0.3, basis: 'test' };

/** A tiny failure classifier on the first two of the model's engine features, with the decisions above. */
function predictorsOf(model: AssetModel): AssetModelPredictors {
  const names = featureNames(model).slice(0, 2);
  const n = 200;
  const x = Float32Array.from({ length: n * 2 }, (_, i) => (i * 7919) % 97);
  const y = Float32Array.from({ length: n }, (_, i) => (x[i * 2]! > 48 ? 1 : 0));
  const booster = train({ objective: 'binary:logistic', nRounds: 5, maxDepth: 2, eta: 0.3 }, { x, n, f: 2, y, featureNames: names });
  return {
    modelId: model.id,
    predictors: [
      {
        name: 'failure',
        kind: 'failure',
        horizon: model.clock === 'time' ? 86_400_000 : 30,
        threshold: 0.5,
        calibration,
        alertThresholds: thresholds,
        modelJson: booster.toXgboostJson(),
        featureNames: names,
        metrics: { prAuc: 1 },
        trainingDataHash: 'test',
        trainingData: 'test',
        trainingRows: n,
        params: { nRounds: 5 },
      },
    ],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pdm-bundle-decisions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeBundle(dir, MODELS.map(predictorsOf), { createdAt: '2026-01-01T00:00:00.000Z' });
const bundle = readBundle(dir);

describe('bundle decisions for every asset model', () => {
  it.each(MODELS.map((m) => [m.id, m] as const))('%s: the twin reads the manifest thresholds', (_id, model) => {
    const policies = bundlePolicies(bundle)(model);

    expect(policies.risk.decisions?.failure).toEqual(thresholds);
    // So the twin's health enters WARNING at the model's own WARNING probability, not at a fixed 0.7.
    const anchors = policies.health.enter;
    expect(riskFromProbability(0.08, policies.risk.decisions!.failure!, anchors)).toBeCloseTo(anchors.WARNING, 12);
    expect(riskFromProbability(0.07, policies.risk.decisions!.failure!, anchors)).toBeLessThan(anchors.WARNING);
  });

  it.each(MODELS.map((m) => [m.id, m] as const))(
    '%s: the scorer serves the calibrated probability and its risk on the model thresholds',
    (_id, model) => {
      const names = featureNames(model);
      const vectors = [10, 40, 60, 90].map((v) => {
        const vector = new Float64Array(names.length);
        vector[0] = v;
        vector[1] = v / 2;
        return vector;
      });
      const rows = vectors.map(
        (vector, i): FeatureRow => ({
          seq: i,
          ts: i,
          t: i,
          vector,
          anomaly: { score: 0, contributions: {} } as unknown as FeatureRow['anomaly'],
        }),
      );
      const entry = bundle.models.get(model.id)!.failure!;
      const raw = predictBatch(
        loadXgboostModel(predictorsOf(model).predictors[0]!.modelJson),
        Float32Array.from(vectors.flatMap((v) => [v[0]!, v[1]!])),
        vectors.length,
      );

      const predictions = createBundleScorer(bundle)(model, {} as Twin, rows);

      predictions.forEach((p, i) => {
        expect(p?.failureProbability).toBe(calibrate(entry.entry.calibration, raw[i]!));
        expect(p?.failureProbability).not.toBe(raw[i]);
      });
    },
  );
});
