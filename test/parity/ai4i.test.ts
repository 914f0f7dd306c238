import { describe, expect, it } from 'vitest';
import { evaluateAi4i } from '../../ml/evaluate/ai4i.ts';
import { PYTHON, requirePython } from '../support/env.ts';

const FILE = '../shared/data/ai4i2020/ai4i2020.csv';

describe('evaluateAi4i against the installed xgboost and scikit-learn (live)', () => {
  it('matches xgboost on the same rows, and scikit-learn recomputes our metrics', () => {
    requirePython(['xgboost', 'sklearn', 'numpy']);

    const r = evaluateAi4i({ file: FILE, seed: 1, seeds: 1, python: PYTHON });

    const b = r.xgboost;
    if (!b) throw new Error('xgboost baseline missing');
    expect(r.prAuc).toBeGreaterThanOrEqual(b.prAuc - 0.01);
    // sklearn recomputes our metrics from our predictions: checks the TS metric code independently.
    const check = r.perSeed[0]!.oursBySklearn!;
    expect(r.prAuc).toBeCloseTo(check.prAuc, 9);
    expect(r.rocAuc).toBeCloseTo(check.rocAuc, 9);
    // xgboost loading our JSON scores the test rows as our evaluator does.
    expect(r.perSeed[0]!.maxScoringDiff!).toBeLessThan(1e-6);
  });
});
