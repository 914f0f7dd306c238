import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TURBOFAN } from '../../../lambdas/core/catalog/models.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { loadXgboostModel, predictBatch } from '../../../lambdas/core/model/index.ts';
import { type CmapssEngine, type CmapssFile, readCmapss } from '../../../ml/datasets/cmapss.ts';
import {
  averagePrecision,
  bestF1Threshold,
  nasaScore,
  predictLastCycle,
  type ReplayedSet,
  replayCmapss,
  selectRulFeatures,
  foldUnits,
  splitUnits,
  trainFailureModel,
  trainRulModel,
  trainTurbofanPredictors,
} from '../../../ml/train/turbofan.ts';
import type { AssetModelPredictors } from '../../../ml/train/types.ts';

const DATA = '../shared/data/cmapss';

/** The first `keep` cycles of an engine. */
function truncate(e: CmapssEngine, keep: number): CmapssEngine {
  return { unit: e.unit, cycles: e.cycles.slice(0, keep), values: e.values.slice(0, keep * 24) };
}

describe('nasaScore', () => {
  it('charges exp(|d|/13) − 1 for early and exp(d/10) − 1 for late predictions, summed', () => {
    expect(nasaScore([87, 110, 50], [100, 100, 50])).toBeCloseTo(2 * (Math.E - 1), 12);
  });
});

describe('averagePrecision and bestF1Threshold', () => {
  it('match values worked out by hand', () => {
    // Ranked: 0.9 (+), 0.8 (−), 0.7 (+), 0.1 (−). AP = 1·½ + ⅔·½.
    const score = [0.1, 0.9, 0.7, 0.8];
    const y = [0, 1, 1, 0];

    expect(averagePrecision(score, y)).toBeCloseTo(0.5 + 1 / 3, 12);
    // p ≥ 0.9: F1 = 2/3; p ≥ 0.7: tp 2, fp 1 → F1 = 4/5.
    expect(bestF1Threshold(score, y)).toEqual({ threshold: 0.7, f1: 0.8 });
  });
});

describe('foldUnits', () => {
  it('cuts the units into seeded, disjoint folds whose first is splitUnits\' hold-out', () => {
    const units = Array.from({ length: 100 }, (_, i) => i + 1);

    const folds = foldUnits(units, 5, 3);

    expect(folds.map((f) => f.length)).toEqual([20, 20, 20, 20, 20]);
    expect(new Set(folds.flat()).size).toBe(100);
    expect([...folds[0]!].sort()).toEqual([...splitUnits(units, 0.2, 3).valid].sort());
    expect(() => foldUnits(units.slice(0, 3), 5, 1)).toThrow(/cannot be cut into 5 folds/);
  });
});

describe('splitUnits', () => {
  it('holds out a seeded, disjoint fifth of the units and covers all of them', () => {
    const units = Array.from({ length: 100 }, (_, i) => i + 1);

    const a = splitUnits(units, 0.2, 3);
    const b = splitUnits(units, 0.2, 3);
    const c = splitUnits(units, 0.2, 4);

    expect(a.valid.size).toBe(20);
    expect(new Set([...a.train, ...a.valid]).size).toBe(100);
    expect([...a.valid].filter((u) => a.train.has(u))).toEqual([]);
    expect([...a.valid]).toEqual([...b.valid]);
    expect([...a.valid].sort()).not.toEqual([...c.valid].sort());
  });
});

describe('turbofan RUL model on C-MAPSS', () => {
  let trainFile: CmapssFile;
  let small: ReplayedSet;

  beforeAll(() => {
    trainFile = readCmapss(`${DATA}/train_FD001.txt`);
    small = replayCmapss({ engines: trainFile.engines.slice(0, 40), rows: 0 });
  });

  it('uses long-window and whole-history means and slopes, operating age and the previous anomaly score', () => {
    const names = selectRulFeatures(small);

    // 14 sensors × (mean, slope) × (30 cycles, whole history) + age + anomaly
    expect(names.length).toBe(58);
    expect(names).toContain('T30_mean_30c');
    expect(names).toContain('Ps30_slope_30c');
    expect(names).toContain('T30_mean_all');
    expect(names).toContain('Ps30_slope_all');
    expect(names).toContain('op_age_c');
    expect(names.every((n) => featureNames(TURBOFAN).includes(n))).toBe(true);
  });

  it('predicts from data up to the last observed cycle only: the future of an engine cannot change it', () => {
    // Arrange: a quick model, and engines 41–50 cut at 60 % of their life (a test-like trajectory).
    const model = trainRulModel(small, { seed: 1, maxRounds: 60 });
    const full = trainFile.engines.slice(40, 50);
    const cut = full.map((e) => truncate(e, Math.floor(e.cycles.length * 0.6)));
    const fullSet = replayCmapss({ engines: full, rows: 0 });

    // Act
    const fromCut = predictLastCycle(model.modelJson, model.featureNames, replayCmapss({ engines: cut, rows: 0 }));

    // Assert: scoring the full-history replay's row at the cut cycle gives the same numbers.
    const idx = model.featureNames.map((n) => fullSet.names.indexOf(n));
    const rows = new Float32Array(cut.length * idx.length);
    cut.forEach((e, k) => {
      const v = fullSet.engines[k]!.vectors[e.cycles.length - 1]!;
      idx.forEach((j, i) => {
        rows[k * idx.length + i] = v[j]!;
      });
    });
    const fromFull = predictBatch(loadXgboostModel(model.modelJson), rows, cut.length);
    expect(Array.from(fromCut)).toEqual(Array.from(fromFull));
    // And the cut matters: predictions at the real end of life are lower.
    const atEnd = predictLastCycle(model.modelJson, model.featureNames, fullSet);
    expect(atEnd.reduce((s, x) => s + x, 0)).toBeLessThan(fromCut.reduce((s, x) => s + x, 0));
  });

  it('serves the mean of the fold models and calibrates the interval out of fold, never on fold 0', () => {
    const m = trainRulModel(small, { seed: 2, maxRounds: 80 });
    const folds = foldUnits(
      small.engines.map((e) => e.unit),
      5,
      2,
    );

    // Five boosters of the early-stopped round count, one model file.
    expect(loadXgboostModel(m.modelJson).numTrees).toBe(5 * m.bestRounds);
    expect(m.validUnits).toEqual([...folds[0]!].sort((a, b) => a - b));
    expect(m.calibrationUnits).toEqual(folds.slice(1).flat().sort((a, b) => a - b));
    expect(m.calibrationUnits.filter((u) => m.validUnits.includes(u))).toEqual([]);
    // Every cycle of the calibration engines; with 'uncensored', those whose true RUL is below the cap.
    const cal = small.engines.filter((e) => m.calibrationUnits.includes(e.unit));
    expect(m.interval.calibrationRows).toBe(cal.reduce((s, e) => s + e.cycles.length, 0));
    const u = trainRulModel(small, { seed: 2, maxRounds: 80, calibrateOn: 'uncensored' });
    const below = cal.reduce((s, e) => s + e.cycles.filter((c) => e.cycles[e.cycles.length - 1]! - c < 125).length, 0);
    expect(u.interval.calibrationRows).toBe(below);
  });

  it('keeps the single-model refit on request', () => {
    const m = trainRulModel(small, { seed: 2, maxRounds: 80, ensemble: 'refit' });

    expect(m.trainingRows).toBe(small.engines.reduce((s, e) => s + e.vectors.length, 0));
    expect(m.rounds).toBe(Math.round(m.bestRounds * 1.2));
    expect(m.validUnits.length).toBe(8);
    expect(m.calibrationUnits).toEqual(m.validUnits);
  });

  it('calibrates the failure classifier and picks its alert thresholds on out-of-fold engines only', () => {
    const m = trainFailureModel(small, { seed: 2, maxRounds: 60 });
    const folds = foldUnits(
      small.engines.map((e) => e.unit),
      5,
      2,
    );
    const calibrationUnits = folds.slice(1).flat();

    expect(m.calibrationUnits).toEqual([...calibrationUnits].sort((a, b) => a - b));
    expect(m.calibration.method).toBe('isotonic');
    // Every cycle of folds 1–4 and of no other engine.
    const rows = small.engines.filter((e) => calibrationUnits.includes(e.unit)).reduce((s, e) => s + e.cycles.length, 0);
    expect(m.calibration.rows).toBe(rows);
    expect(m.metrics.validFailures).toBe(calibrationUnits.length);
    const t = m.alertThresholds;
    expect(0 < t.watch && t.watch < t.warning && t.warning < t.critical && t.critical <= 1).toBe(true);
    expect(t.basis).toContain('72 h');
  });
});

describe('trainTurbofanPredictors', () => {
  let bundle: AssetModelPredictors;
  /** 40 of the 100 training engines, so the ten boosters train in seconds; the rest are held out. */
  const heldOut = Array.from({ length: 60 }, (_, i) => i + 41);

  beforeAll(() => {
    bundle = trainTurbofanPredictors({ dataDir: DATA, seed: 1, excludeUnits: heldOut, maxRounds: 400 });
  }, 600_000);

  it('produces a capped RUL regressor and a 30-cycle failure classifier that the evaluator loads', () => {
    const [rul, failure] = bundle.predictors;

    expect(bundle.modelId).toBe('turbofan');
    const rows40 = readCmapss(`${DATA}/train_FD001.txt`).engines.slice(0, 40).reduce((s, e) => s + e.cycles.length, 0);
    // The fold models together saw every cycle of the 40 engines, and only those.
    expect(rul).toMatchObject({ name: 'rul', kind: 'rul', rulCap: 125, trainingRows: rows40 });
    expect(rul!.trainingData).toContain('held out');
    expect(rul!.interval).toMatchObject({ method: 'split-conformal', level: 0.9 });
    expect(rul!.interval!.bins.every((b) => b.lower < 0 && b.upper > 0)).toBe(true);
    expect(failure).toMatchObject({ name: 'failure', kind: 'failure', horizon: 30 });
    for (const p of [rul!, failure!]) {
      const m = loadXgboostModel(p.modelJson);
      expect(m.numFeatures).toBe(p.featureNames.length);
      expect(m.featureNames).toEqual(p.featureNames);
    }
    expect(loadXgboostModel(failure!.modelJson).objective).toBe('binary:logistic');
  });

  it('ships the failure calibration and thresholds fitted without the held-out engines and the test file', () => {
    const failure = bundle.predictors.find((p) => p.kind === 'failure')!;
    const kept = readCmapss(`${DATA}/train_FD001.txt`).engines.slice(0, 40);
    const folds = foldUnits(
      kept.map((e) => e.unit),
      5,
      1,
    );
    const outOfFold = new Set(folds.slice(1).flat());

    expect(failure.calibration!.rows).toBe(kept.filter((e) => outOfFold.has(e.unit)).reduce((s, e) => s + e.cycles.length, 0));
    expect(failure.metrics.validFailures).toBe(outOfFold.size);
    expect(failure.alertThresholds!.warning).toBeGreaterThan(0);
  });

  it('records the sha256 of the training file bytes (the value SOURCE.md lists)', () => {
    const own = createHash('sha256').update(readFileSync(`${DATA}/train_FD001.txt`)).digest('hex');

    for (const p of bundle.predictors) {
      expect(p.trainingDataHash).toBe(own);
      expect(p.trainingDataHash).toBe('963b5e22825b34d8b21c69e1aeb4af3e647050eb672ee8834ba4b5d91d2de0f8');
    }
  });

  it('reports held-out metrics: test RMSE for RUL, PR-AUC/ROC-AUC/F1 and a threshold for failure', () => {
    const [rul, failure] = bundle.predictors;

    // 40 engines and at most 400 rounds: well above the full model's ~10 (docs/cmapss.md, checked by
    // the evaluate test), far below the ~40 of predicting the mean.
    expect(rul!.metrics.rmse).toBeLessThan(20);
    expect(rul!.metrics.nasaScore).toBeGreaterThan(0);
    expect(failure!.threshold).toBeGreaterThan(0);
    expect(failure!.threshold).toBeLessThan(1);
    // Measured PR-AUC 0.98, ROC-AUC 0.997, F1 0.93 on the validation engines.
    expect(failure!.metrics.rocAuc).toBeGreaterThan(0.95);
    expect(failure!.metrics.prAuc).toBeGreaterThan(0.9);
    expect(failure!.metrics.f1).toBeGreaterThan(0.85);
  });
});
