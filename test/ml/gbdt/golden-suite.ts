import { beforeAll, describe, expect, it } from 'vitest';
import { scaled } from '../../support/env.ts';
import { type CaseResult, type TrainerCase, type TrainerScale, trainCases } from '../../golden/trainer/cases.ts';
import { firstBitDifference, walkMargins } from './walk.ts';

/** What xgboost 1.7.4 made of the cases: its metrics and its margins for our models. */
export interface TrainerReference {
  readonly results: Readonly<Record<string, CaseResult>>;
  margins(name: string, split: 'train' | 'test'): Float32Array;
}

/**
 * Golden tests against Debian's xgboost 1.7.4 (test/golden/trainer/golden.py): models written by the TS
 * trainer must load in xgboost and give our margins bit for bit, and on the same data the TS trainer's
 * test metrics must be close to xgboost `tree_method=hist`'s. `reference` gets xgboost's side, either from
 * the committed set or from a live run.
 */
export function trainerParity(
  title: string,
  scale: TrainerScale,
  reference: (cases: readonly TrainerCase[]) => TrainerReference | Promise<TrainerReference>,
): void {
  describe(title, () => {
    const cases: TrainerCase[] = [];
    let ref: TrainerReference;

    beforeAll(async () => {
      cases.push(...trainCases(scale));
      ref = await reference(cases);
      // The figures docs/trainer.md quotes.
      console.info(`golden metrics (test rows): ${JSON.stringify(ref.results)}`);
    }, scaled(600_000));

    it('has xgboost’s side of every case', () => {
      expect(Object.keys(ref.results).sort()).toEqual(cases.map((c) => c.name).sort());
    });

    it('writes models that xgboost loads with every tree', () => {
      for (const c of cases) expect(ref.results[c.name]?.ts_num_trees, c.name).toBe(c.booster.trees.length);
      const sampled = cases.find((c) => c.name === 'sampled')!;
      expect(sampled.booster.trees.length).toBeLessThan(scale.rounds);
    });

    it('gives xgboost margins equal to our training-time margins bit for bit on the training rows', () => {
      for (const c of cases) expect(firstBitDifference(ref.margins(c.name, 'train'), c.booster.trainMargins), c.name).toBe(-1);
    });

    it('gives xgboost margins equal to a raw x < cond walk and to our validation margins on held-out rows', () => {
      for (const c of cases) {
        const xgbTest = ref.margins(c.name, 'test');
        expect(firstBitDifference(xgbTest, walkMargins(c.booster, c.test.x, c.test.n, c.test.f)), c.name).toBe(-1);
        expect(firstBitDifference(xgbTest, c.booster.validMargins), c.name).toBe(-1);
      }
    });

    it(`matches xgboost hist on logistic: AUC and log loss within ${scale.logisticTolerance}`, () => {
      const r = ref.results.logistic!;
      expect(Math.abs(r.ts.auc! - r.xgb!.auc!)).toBeLessThan(scale.logisticTolerance);
      expect(Math.abs(r.ts.logloss! - r.xgb!.logloss!)).toBeLessThan(scale.logisticTolerance);
      expect(r.ts.auc!).toBeGreaterThan(0.8);
    });

    it('matches xgboost hist on squared error: RMSE within 2%', () => {
      const r = ref.results.squarederror!;
      expect(Math.abs(r.ts.rmse! / r.xgb!.rmse! - 1)).toBeLessThan(0.02);
    });

    it('matches xgboost hist on Poisson: mean deviance within 2%', () => {
      const r = ref.results.poisson!;
      expect(Math.abs(r.ts.poisson_deviance! / r.xgb!.poisson_deviance! - 1)).toBeLessThan(0.02);
    });
  });
}

/** Reads xgboost's margins for case `name` from a folder golden.py wrote. */
export function readMargins(read: (file: string) => Buffer, name: string, split: 'train' | 'test'): Float32Array {
  const buf = read(`${name}.xgb_${split}_margin.f32`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
