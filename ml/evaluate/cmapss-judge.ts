/**
 * Model-choice harness for the turbofan RUL trainer that never reads the test file: each of five
 * seeded 80/20 splits of the *training* engines trains the whole trainer (folds, early stopping,
 * bagging) on the 80 and judges it on every cycle of the 20 with true RUL ≤ 145 (the test range),
 * truth capped at 125. Variants are overrides of {@link trainRulModel}'s options.
 *
 *   npx tsx ml/evaluate/cmapss-judge.ts [variant,variant…]     # default: every variant below
 *
 * About 3.5 min per variant on this 2-core machine. Figures and the decision: docs/cmapss.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import { parseCmapss } from '../datasets/cmapss.ts';
import { type ReplayedSet, replayCmapss, type RulTrainOptions, RUL_CAP, splitUnits, trainRulModel } from '../train/turbofan.ts';

export const JUDGE_VARIANTS: Readonly<Record<string, RulTrainOptions>> = {
  base: {},
  folds10: { folds: 10 },
  depth5: { params: { maxDepth: 5 } },
  depth3: { params: { maxDepth: 3 } },
  mcw20: { params: { minChildWeight: 20 } },
  mcw100: { params: { minChildWeight: 100 } },
  col03: { params: { colsampleBytree: 0.3 } },
  col08: { params: { colsampleBytree: 0.8 } },
  sub06: { params: { subsample: 0.6 } },
  lambda5: { params: { lambda: 5 } },
};

/** Judge RMSE of one split: the trainer on the other engines, every judged cycle with true RUL ≤ 145. */
export function judgeSplit(all: ReplayedSet, split: number, variant: RulTrainOptions): number {
  const { train, valid } = splitUnits(all.engines.map((e) => e.unit), 0.2, 100 + split);
  const model = trainRulModel({ names: all.names, engines: all.engines.filter((e) => train.has(e.unit)) }, { seed: split, ...variant });
  const compiled = loadXgboostModel(model.modelJson);
  const idx = model.featureNames.map((n) => all.names.indexOf(n));
  let sq = 0;
  let n = 0;
  for (const e of all.engines) {
    if (!valid.has(e.unit)) continue;
    const rows = new Float32Array(e.vectors.length * idx.length);
    e.vectors.forEach((v, k) => idx.forEach((j, c) => (rows[k * idx.length + c] = v[j]!)));
    const p = predictBatch(compiled, rows, e.vectors.length);
    const fail = e.cycles[e.cycles.length - 1]!;
    for (let k = 0; k < p.length; k++) {
      const left = fail - e.cycles[k]!;
      if (left > 145) continue;
      sq += (Math.max(0, p[k]!) - Math.min(RUL_CAP, left)) ** 2;
      n++;
    }
  }
  return Math.sqrt(sq / n);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = (process.argv[2] ?? Object.keys(JUDGE_VARIANTS).join(',')).split(',');
  const unknown = names.filter((v) => !Object.hasOwn(JUDGE_VARIANTS, v));
  if (unknown.length > 0) {
    process.stderr.write(`unknown variant(s) ${unknown.join(', ')}; known: ${Object.keys(JUDGE_VARIANTS).join(', ')}\n`);
    process.exit(2);
  }
  const path = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'cmapss', 'train_FD001.txt');
  const all = replayCmapss(parseCmapss(readFileSync(path, 'utf8'), path));
  for (const name of names) {
    const per = [1, 2, 3, 4, 5].map((s) => judgeSplit(all, s, JUDGE_VARIANTS[name]!));
    const mean = per.reduce((a, b) => a + b, 0) / per.length;
    process.stdout.write(`${name.padEnd(8)} judge RMSE ${mean.toFixed(3)}  per split ${per.map((x) => x.toFixed(2)).join(' ')}\n`);
  }
}
