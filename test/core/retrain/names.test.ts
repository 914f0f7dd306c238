import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelPackageGroupName, RegistryNameError, SAGEMAKER_NAME, trainingJobName } from '../../../lambdas/core/retrain/names.ts';

describe('modelPackageGroupName', () => {
  it('joins stage, asset model and predictor in lower case with hyphens, never underscores', () => {
    expect(modelPackageGroupName('dev', 'industrial-machine', 'failure-comp1')).toBe('pdm-dev-industrial-machine-failure-comp1');
    expect(modelPackageGroupName('dev', 'Pump_X', 'rul.v2')).toBe('pdm-dev-pump-x-rul-v2');
  });

  it('refuses a name over 63 characters instead of truncating it into a possible collision', () => {
    expect(() => modelPackageGroupName('prod', 'a'.repeat(40), 'component-failure-bearing')).toThrow(RegistryNameError);
  });

  it('refuses parts without a letter or digit', () => {
    expect(() => modelPackageGroupName('dev', '__', 'failure')).toThrow(RegistryNameError);
  });

  it('produces only names SageMaker accepts', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), (s, m, p) => {
        try {
          const name = modelPackageGroupName(s, m, p);
          expect(name).toMatch(SAGEMAKER_NAME);
          expect(name.length).toBeLessThanOrEqual(63);
        } catch (e) {
          expect(e).toBeInstanceOf(RegistryNameError);
        }
      }),
    );
  });
});

describe('trainingJobName', () => {
  it('is a valid SageMaker name of at most 63 characters for any execution name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.integer({ min: 0, max: 99 }), (exec, i) => {
        const name = trainingJobName('staging-eu-1', Date.UTC(2026, 4, 1, 12, 30, 5), exec, i);
        expect(name).toMatch(SAGEMAKER_NAME);
        expect(name.length).toBeLessThanOrEqual(63);
      }),
    );
    expect(trainingJobName('dev', Date.UTC(2026, 4, 1, 12, 30, 5), 'drift-7f3a9c21-aaaa', 2)).toBe('pdm-dev-20260501t123005-9c21aaaa-2');
  });
});
