import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dataset,
  type Objective,
  type TrainedBooster,
  type TrainParams,
  train,
} from '../../../ml/gbdt/index.ts';
import { makeSynthetic } from '../../../ml/gbdt/synthetic.ts';
import { firstBitDifference, walkMargins } from './walk.ts';

/**
 * Golden tests against Debian's xgboost 1.7.4 (`/usr/bin/python3 test/golden/trainer/golden.py`):
 * models written by the TS trainer must load in xgboost and give our margins bit for bit, and on the
 * same data the TS trainer's test metrics must be close to xgboost `tree_method=hist`'s.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../../golden/trainer/golden.py');
const skip = process.env.PDM_SKIP_GOLDEN === '1';

const N_TRAIN = 20_000;
const N_TEST = 5_000;
const F = 20;
const ROUNDS = 150;
const COMMON: Partial<TrainParams> = { nRounds: ROUNDS, eta: 0.1, maxDepth: 6, maxBin: 256 };

interface CaseResult {
  ts: Record<string, number>;
  ts_num_trees: number;
  xgb?: Record<string, number>;
}
interface Case {
  name: string;
  objective: Objective;
  trainSet: Dataset;
  test: Dataset;
  booster: TrainedBooster;
}

describe.skipIf(skip)('trainer golden parity with xgboost 1.7.4', () => {
  let dir = '';
  const cases: Case[] = [];
  let results: Record<string, CaseResult> = {};

  beforeAll(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import xgboost, sklearn; print(xgboost.__version__)'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) {
      throw new Error(
        `golden tests need xgboost and sklearn for ${PYTHON}: run 'sudo apt-get install python3-xgboost python3-sklearn' ` +
          `(or set PDM_SKIP_GOLDEN=1 to skip). ${probe.stderr ?? ''}`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'gbdt-golden-'));
    const specs: { name: string; objective: Objective; params: Partial<TrainParams>; reference: boolean }[] =
      [
        { name: 'logistic', objective: 'binary:logistic', params: {}, reference: true },
        { name: 'squarederror', objective: 'reg:squarederror', params: {}, reference: true },
        { name: 'poisson', objective: 'count:poisson', params: {}, reference: true },
        {
          // Parity only: every optional code path at once, and early stopping that truncates.
          name: 'sampled',
          objective: 'binary:logistic',
          params: {
            subsample: 0.8,
            colsampleBytree: 0.7,
            alpha: 0.5,
            gamma: 0.2,
            scalePosWeight: 2,
            baseScore: 0.3,
            maxBin: 64,
            eta: 0.4,
            earlyStoppingRounds: 5,
            seed: 9,
          },
          reference: false,
        },
      ];
    const json: unknown[] = [];
    for (const s of specs) {
      const trainSet = makeSynthetic(N_TRAIN, F, s.objective, 101);
      const test = makeSynthetic(N_TEST, F, s.objective, 202);
      const withExtras: Dataset =
        s.name === 'sampled'
          ? {
              ...trainSet,
              weight: Float32Array.from({ length: N_TRAIN }, (_, i) => 0.5 + (i % 4)),
              featureNames: Array.from({ length: F }, (_, j) => `sensor_${j}`),
            }
          : trainSet;
      const booster = train({ ...COMMON, objective: s.objective, ...s.params }, withExtras, test);
      cases.push({ name: s.name, objective: s.objective, trainSet, test, booster });
      writeFileSync(join(dir, `${s.name}.json`), booster.toXgboostJson());
      writeFileSync(join(dir, `${s.name}.xtr`), trainSet.x);
      writeFileSync(join(dir, `${s.name}.ytr`), Float32Array.from(trainSet.y));
      writeFileSync(join(dir, `${s.name}.xte`), test.x);
      writeFileSync(join(dir, `${s.name}.yte`), Float32Array.from(test.y));
      json.push({
        name: s.name,
        objective: s.objective,
        f: F,
        x_train: `${s.name}.xtr`,
        y_train: `${s.name}.ytr`,
        x_test: `${s.name}.xte`,
        y_test: `${s.name}.yte`,
        model: `${s.name}.json`,
        rounds: ROUNDS,
        reference: s.reference,
        feature_names: withExtras.featureNames ?? null,
        nthread: 2,
        xgb_params: { objective: s.objective, eta: 0.1, max_depth: 6, max_bin: 256 },
      });
    }
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(json));
    execFileSync(PYTHON, [SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 50_000 });
    results = (
      JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { cases: Record<string, CaseResult> }
    ).cases;
  });

  afterAll(() => {
    // The figures docs/trainer.md quotes.
    console.info(`golden metrics (test rows): ${JSON.stringify(results)}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const margins = (name: string, split: 'train' | 'test'): Float32Array => {
    const buf = readFileSync(join(dir, `${name}.xgb_${split}_margin.f32`));
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  };

  it('writes models that xgboost loads with every tree', () => {
    for (const c of cases) expect(results[c.name]?.ts_num_trees, c.name).toBe(c.booster.trees.length);
    const sampled = cases.find((c) => c.name === 'sampled')!;
    expect(sampled.booster.trees.length).toBeLessThan(ROUNDS);
  });

  it('gives xgboost margins equal to our training-time margins bit for bit on the training rows', () => {
    for (const c of cases)
      expect(firstBitDifference(margins(c.name, 'train'), c.booster.trainMargins), c.name).toBe(-1);
  });

  it('gives xgboost margins equal to a raw x < cond walk and to our validation margins on held-out rows', () => {
    for (const c of cases) {
      const xgbTest = margins(c.name, 'test');
      expect(firstBitDifference(xgbTest, walkMargins(c.booster, c.test.x, c.test.n, c.test.f)), c.name).toBe(
        -1,
      );
      expect(firstBitDifference(xgbTest, c.booster.validMargins), c.name).toBe(-1);
    }
  });

  it('matches xgboost hist on logistic: AUC and log loss within 0.005', () => {
    const r = results.logistic!;
    expect(Math.abs(r.ts.auc! - r.xgb!.auc!)).toBeLessThan(0.005);
    expect(Math.abs(r.ts.logloss! - r.xgb!.logloss!)).toBeLessThan(0.005);
    expect(r.ts.auc!).toBeGreaterThan(0.8);
  });

  it('matches xgboost hist on squared error: RMSE within 2%', () => {
    const r = results.squarederror!;
    expect(Math.abs(r.ts.rmse! / r.xgb!.rmse! - 1)).toBeLessThan(0.02);
  });

  it('matches xgboost hist on Poisson: mean deviance within 2%', () => {
    const r = results.poisson!;
    expect(Math.abs(r.ts.poisson_deviance! / r.xgb!.poisson_deviance! - 1)).toBeLessThan(0.02);
  });
});
