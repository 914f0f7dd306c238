import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { parseManifest } from '../../../lambdas/core/model/bundle.ts';
import { HYPERPARAMETER_KEYS, RetrainPlanError, retrainPlan } from '../../../lambdas/core/retrain/plan.ts';

const manifest = parseManifest(readFileSync('layers/model/manifest.json', 'utf8'));

describe('retrainPlan', () => {
  it('plans every predictor of a time-clock model with its labelling target and string hyperparameters', () => {
    const plan = retrainPlan(manifest, getAssetModel('industrial-machine'));

    expect(plan.predictors.map((p) => p.predictor).sort()).toEqual(['failure', 'failure-comp1', 'failure-comp2', 'failure-comp3', 'failure-comp4']);
    const comp1 = plan.predictors.find((p) => p.predictor === 'failure-comp1')!;
    expect(comp1.target).toEqual({ kind: 'component-failure', horizonMs: 86_400_000, component: 'comp1' });
    expect(comp1.task).toBe('binary');
    expect(Object.keys(comp1.hyperparameters).sort()).toEqual([...HYPERPARAMETER_KEYS].sort());
    expect(Object.values(comp1.hyperparameters).every((v) => typeof v === 'string' && v !== '')).toBe(true);
    expect(comp1.hyperparameters.objective).toBe('binary:logistic');
  });

  it('trains an RUL predictor as a regression on its cap, with the champion tree count as rounds', () => {
    const plan = retrainPlan(manifest, getAssetModel('centrifugal-pump'), ['rul']);
    const rul = plan.predictors[0]!;
    expect(rul.target).toEqual({ kind: 'rul', rulCapMs: manifest.models['centrifugal-pump']!.predictors.find((p) => p.name === 'rul')!.rulCap });
    expect(rul.task).toBe('regression');
    expect(rul.hyperparameters.num_round).toBe(String(manifest.models['centrifugal-pump']!.predictors.find((p) => p.name === 'rul')!.numTrees));
  });

  it('skips cycle-clock models with the reason, and refuses unknown models or predictors', () => {
    const plan = retrainPlan(manifest, getAssetModel('turbofan'));
    expect(plan.predictors).toHaveLength(0);
    expect(plan.skipped[0]!.reason).toMatch(/cycle clock/);
    expect(() => retrainPlan(manifest, { id: 'nope', clock: 'time' })).toThrow(RetrainPlanError);
    expect(() => retrainPlan(manifest, getAssetModel('centrifugal-pump'), ['nope'])).toThrow(/no predictor/);
  });
});
