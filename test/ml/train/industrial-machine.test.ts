import { describe, expect, it } from 'vitest';
import { INDUSTRIAL_MACHINE } from '../../../lambdas/core/catalog/models.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import { loadXgboostModel } from '../../../lambdas/core/model/index.ts';
import { trainIndustrialMachineWithReport } from '../../../ml/train/industrial-machine.ts';
import { scaled } from '../../support/env.ts';

describe('trainIndustrialMachinePredictors', () => {
  it('produces component and asset failure predictors over product features only', () => {
    // Trained up to 2015-02-12 (the trainer's `trainUntil`, as the held-out replay uses it): the same code
    // path as the whole slice in a third of the time (25 s instead of 86 s on a 2-core machine).
    const { predictors, rul } = trainIndustrialMachineWithReport({ dataDir: '../shared/data/azure_pdm', trainUntil: Date.UTC(2015, 1, 12) });
    expect(predictors.modelId).toBe('industrial-machine');
    const names = predictors.predictors.map((p) => p.name);
    expect(names.slice(0, 5)).toEqual(['failure-comp1', 'failure-comp2', 'failure-comp3', 'failure-comp4', 'failure']);
    expect(names.includes('rul')).toBe(rul.shipped);
    const engine = featureNames(INDUSTRIAL_MACHINE);
    for (const p of predictors.predictors) {
      for (const f of p.featureNames) expect(engine).toContain(f);
      expect(p.featureNames).not.toContain('op_age_h');
      const model = loadXgboostModel(p.modelJson);
      expect(model.numFeatures).toBe(p.featureNames.length);
      // 20 machines × the hours from the slice's start to the cut (the whole slice: 43,200).
      expect(p.trainingRows).toBe(19_580);
      if (p.kind === 'rul') continue;
      expect(p.horizon).toBe(86_400_000);
      expect(p.threshold).toBeGreaterThan(0);
      expect(p.threshold).toBeLessThan(1);
      expect(p.kind).toBe(p.name === 'failure' ? 'failure' : 'component-failure');
      if (p.kind === 'component-failure') expect(p.name).toBe(`failure-${p.component}`);
      // Validation ranking far above chance (positives are ~1% of rows).
      expect(p.metrics.rocAuc).toBeGreaterThan(0.9);
      expect(p.metrics.f1).toBeGreaterThan(0.3);
    }
  }, scaled(90_000));
});
