/**
 * AI4I 2020 binary benchmark (`Machine failure`), our GBDT against xgboost 1.7.4 hist on the same rows.
 * Protocol (docs/ai4i.md): stratified 80/20 split per seed, a stratified 20% validation slice of the
 * training part for early stopping and the F1 threshold, test metrics from the model JSON as the product
 * loads it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import {
  type Ai4iRow,
  ai4iFeatureNames,
  ai4iFeatures,
  ai4iLabels,
  loadAi4i,
} from '../datasets/ai4i.ts';
import { type TrainParams, train } from '../gbdt/index.ts';
import { Rng } from '../gbdt/rng.ts';
import {
  averagePrecision,
  bestF1Threshold,
  type MeanSd,
  meanSd,
  metricsAt,
  rocAuc,
} from './metrics.ts';

/** Default data file, relative to the working directory (the project root). */
export const AI4I_DEFAULT_FILE = '../shared/data/ai4i2020/ai4i2020.csv';

const BASELINE_SCRIPT = fileURLToPath(new URL('../../test/golden/ai4i/baseline.py', import.meta.url));

/**
 * Hyperparameters of both models. No row/column sampling, so the two implementations differ only in
 * binning details and float order, and the comparison measures the trainer rather than sampler noise.
 */
export const AI4I_PARAMS: Readonly<
  Required<Omit<TrainParams, 'alpha' | 'scalePosWeight' | 'maxDeltaStep' | 'evalTrain'>>
> = {
  objective: 'binary:logistic',
  nRounds: 1000,
  eta: 0.05,
  maxDepth: 6,
  lambda: 1,
  gamma: 0,
  minChildWeight: 1,
  subsample: 1,
  colsampleBytree: 1,
  maxBin: 256,
  baseScore: 0.5,
  seed: 0,
  earlyStoppingRounds: 50,
  evalMetric: 'logloss',
};

export interface Ai4iOptions {
  /** @default AI4I_DEFAULT_FILE */
  readonly file?: string;
  /** Split seed of the headline run. @default 1 */
  readonly seed?: number;
  /** Split seeds averaged for mean ± sd: seed, seed+1, …. @default 1 */
  readonly seeds?: number;
  /** Called before each split seed runs, then before the baseline, with finished/total steps. */
  readonly onProgress?: (done: number, total: number, step: string) => void;
  /** Add ΔT, power and wear × torque. @default true */
  readonly derived?: boolean;
  /** Run the xgboost baseline on the same rows. @default true */
  readonly xgboost?: boolean;
  /** Interpreter that has python3-xgboost and python3-sklearn. @default $PDM_PYTHON, else '/usr/bin/python3' */
  readonly python?: string;
  /** Keep the headline split's test labels and our scores in the result (for PR/ROC plots). @default false */
  readonly keepTestScores?: boolean;
}

export interface Ai4iScores {
  readonly prAuc: number;
  readonly rocAuc: number;
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
  /** Chosen on the validation slice, never on test. */
  readonly threshold: number;
  readonly bestIteration: number;
}

export interface Ai4iSeedResult {
  readonly seed: number;
  readonly ours: Ai4iScores;
  readonly xgboost: Ai4iScores | null;
  /** sklearn's PR-AUC/ROC-AUC of our test predictions (cross-check of the TS metric code). */
  readonly oursBySklearn: { readonly prAuc: number; readonly rocAuc: number } | null;
  /** Largest |p_ours − p_xgboost-loading-our-JSON| on test rows. */
  readonly maxScoringDiff: number | null;
}

export interface Ai4iResult extends Ai4iScores {
  readonly dataset: 'ai4i2020';
  readonly file: string;
  readonly sha256: string;
  readonly rows: number;
  readonly positives: number;
  readonly split: { readonly train: number; readonly valid: number; readonly test: number };
  readonly seed: number;
  readonly features: readonly string[];
  readonly params: Readonly<Record<string, number | string>>;
  /** Accuracy of always predicting "no failure" on the headline test split. */
  readonly majorityAccuracy: number;
  readonly xgboost: (Ai4iScores & { readonly version: string }) | null;
  /** ours − xgboost, headline seed. */
  readonly diff: { readonly prAuc: number; readonly rocAuc: number; readonly f1: number } | null;
  readonly perSeed: readonly Ai4iSeedResult[];
  readonly summary: {
    readonly seeds: readonly number[];
    readonly ours: Readonly<Record<'prAuc' | 'rocAuc' | 'f1', MeanSd>>;
    readonly xgboost: Readonly<Record<'prAuc' | 'rocAuc' | 'f1', MeanSd>> | null;
  };
  /** With `keepTestScores`: the headline split's test labels and our probabilities. */
  readonly testPredictions?: { readonly labels: readonly number[]; readonly ours: readonly number[] };
}

/** xgboost (or sklearn) is not importable by the configured interpreter. */
export class XgboostUnavailableError extends Error {
  override name = 'XgboostUnavailableError';
}

export interface Ai4iSplit {
  readonly train: Uint32Array;
  readonly valid: Uint32Array;
  readonly test: Uint32Array;
}

function shuffle(a: number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/**
 * Stratified split: per class, a seeded shuffle, then `testShare` of the class to test and
 * `validShare` of the rest to validation. Every index lands in exactly one part.
 */
export function stratifiedSplit(
  y: ArrayLike<number>,
  seed: number,
  testShare = 0.2,
  validShare = 0.2,
): Ai4iSplit {
  const rng = new Rng(seed);
  const train: number[] = [];
  const valid: number[] = [];
  const test: number[] = [];
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if ((y[i]! > 0.5 ? 1 : 0) === cls) idx.push(i);
    shuffle(idx, rng);
    const nTest = Math.round(idx.length * testShare);
    const rest = idx.length - nTest;
    const nValid = Math.round(rest * validShare);
    test.push(...idx.slice(0, nTest));
    valid.push(...idx.slice(nTest, nTest + nValid));
    train.push(...idx.slice(nTest + nValid));
  }
  const sorted = (a: number[]) => Uint32Array.from(a).sort();
  return { train: sorted(train), valid: sorted(valid), test: sorted(test) };
}

function take(x: Float32Array, f: number, idx: Uint32Array): Float32Array {
  const out = new Float32Array(idx.length * f);
  for (let i = 0; i < idx.length; i++) out.set(x.subarray(idx[i]! * f, idx[i]! * f + f), i * f);
  return out;
}

function takeY(y: Float32Array, idx: Uint32Array): Float32Array {
  return Float32Array.from(idx, (i) => y[i]!);
}

interface SeedRun {
  readonly seed: number;
  readonly ours: Ai4iScores;
  readonly modelJson: string;
  readonly testScores: Float64Array;
  readonly yTest: Float32Array;
  readonly split: Ai4iSplit;
}

function runSeed(x: Float32Array, y: Float32Array, names: string[], seed: number): SeedRun {
  const f = names.length;
  const split = stratifiedSplit(y, seed);
  const booster = train(
    { ...AI4I_PARAMS },
    { x: take(x, f, split.train), n: split.train.length, f, y: takeY(y, split.train), featureNames: names },
    { x: take(x, f, split.valid), n: split.valid.length, f, y: takeY(y, split.valid) },
  );
  const modelJson = booster.toXgboostJson();
  // Score through the product's evaluator from the written JSON: the metric is what would be served.
  const model = loadXgboostModel(modelJson);
  const yValid = takeY(y, split.valid);
  const yTest = takeY(y, split.test);
  const validScores = predictBatch(model, take(x, f, split.valid), split.valid.length);
  const testScores = predictBatch(model, take(x, f, split.test), split.test.length);
  const cut = bestF1Threshold(validScores, yValid);
  const at = metricsAt(testScores, yTest, cut.threshold);
  return {
    seed,
    modelJson,
    testScores,
    yTest,
    split,
    ours: {
      prAuc: averagePrecision(testScores, yTest),
      rocAuc: rocAuc(testScores, yTest),
      f1: at.f1,
      precision: at.precision,
      recall: at.recall,
      threshold: cut.threshold,
      bestIteration: booster.bestIteration,
    },
  };
}

interface BaselineCase {
  readonly seed: number;
  readonly xgboost: Ai4iScores;
  readonly oursBySklearn: { prAuc: number; rocAuc: number; maxAbsDiffVsXgboostScoring: number };
}

const APT_HINT =
  'install the Debian packages (sudo apt-get install -y python3-xgboost python3-sklearn) and run them with ' +
  '/usr/bin/python3 (or point PDM_PYTHON at an interpreter that has them), or pass --no-xgboost to skip the baseline';

/** Writes every seed's exact rows to CSV and runs the Python baseline once for all of them. */
function runBaseline(
  runs: readonly SeedRun[],
  x: Float32Array,
  y: Float32Array,
  names: string[],
  python: string,
): { version: string; cases: BaselineCase[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pdm-ai4i-'));
  try {
    const f = names.length;
    const cases = runs.map((r) => {
      const lines = [`split,label,${names.join(',')}`];
      const emit = (part: string, idx: Uint32Array) => {
        for (const i of idx) {
          const row = Array.from(x.subarray(i * f, i * f + f), (v) => String(v));
          lines.push(`${part},${y[i]},${row.join(',')}`);
        }
      };
      emit('train', r.split.train);
      emit('valid', r.split.valid);
      emit('test', r.split.test);
      const csv = `seed${r.seed}.csv`;
      const model = `seed${r.seed}.model.json`;
      writeFileSync(join(dir, csv), `${lines.join('\n')}\n`);
      writeFileSync(join(dir, model), r.modelJson);
      return {
        seed: r.seed,
        csv,
        model,
        params: { ...AI4I_PARAMS },
        oursTest: Array.from(r.testScores),
        oursThreshold: r.ours.threshold,
      };
    });
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
    const res = spawnSync(python, [BASELINE_SCRIPT, dir], { encoding: 'utf8', timeout: 600_000 });
    if (res.error || res.status !== 0) {
      const detail = res.error ? res.error.message : res.stderr.trim().split('\n').slice(-3).join(' | ');
      if (/No module named|ENOENT/.test(detail)) {
        throw new XgboostUnavailableError(`xgboost baseline cannot run (${detail}); ${APT_HINT}`);
      }
      throw new Error(`xgboost baseline failed: ${detail}`);
    }
    const out = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { xgboost_version: string; cases: BaselineCase[] };
    return { version: out.xgboost_version, cases: out.cases };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Feature names, features and labels as the benchmark builds them (the leakage tests read this). */
export function ai4iDesign(rows: readonly Ai4iRow[], derived = true) {
  const names = ai4iFeatureNames(derived);
  return { names, x: ai4iFeatures(rows, derived), y: ai4iLabels(rows) };
}

/**
 * Runs the benchmark. Throws {@link XgboostUnavailableError} (with an apt hint) when the baseline is
 * requested but xgboost cannot be imported.
 */
export function evaluateAi4i(opts: Ai4iOptions = {}): Ai4iResult {
  const file = opts.file ?? AI4I_DEFAULT_FILE;
  const seed = opts.seed ?? 1;
  const nSeeds = opts.seeds ?? 1;
  const derived = opts.derived ?? true;
  const data = loadAi4i(file);
  const { names, x, y } = ai4iDesign(data.rows, derived);
  const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
  const total = seeds.length + (opts.xgboost === false ? 0 : 1);
  const runs = seeds.map((s, i) => {
    opts.onProgress?.(i, total, `seed ${s}`);
    return runSeed(x, y, names, s);
  });
  if (opts.xgboost !== false) opts.onProgress?.(seeds.length, total, 'xgboost baseline');
  const baseline =
    opts.xgboost === false ? null : runBaseline(runs, x, y, names, opts.python ?? (process.env.PDM_PYTHON || '/usr/bin/python3'));
  const perSeed: Ai4iSeedResult[] = runs.map((r, i) => {
    const b = baseline?.cases[i];
    return {
      seed: r.seed,
      ours: r.ours,
      xgboost: b ? b.xgboost : null,
      oursBySklearn: b ? { prAuc: b.oursBySklearn.prAuc, rocAuc: b.oursBySklearn.rocAuc } : null,
      maxScoringDiff: b ? b.oursBySklearn.maxAbsDiffVsXgboostScoring : null,
    };
  });
  const head = perSeed[0]!;
  const headRun = runs[0]!;
  const testNeg = headRun.split.test.reduce((a, i) => a + (y[i]! > 0.5 ? 0 : 1), 0);
  const stat = (pick: (s: Ai4iSeedResult) => Ai4iScores | null) => {
    const vals = perSeed.map(pick);
    if (vals.some((v) => v === null)) return null;
    const ok = vals as Ai4iScores[];
    return {
      prAuc: meanSd(ok.map((v) => v.prAuc)),
      rocAuc: meanSd(ok.map((v) => v.rocAuc)),
      f1: meanSd(ok.map((v) => v.f1)),
    };
  };
  const { seed: _s, ...params } = AI4I_PARAMS;
  return {
    dataset: 'ai4i2020',
    file,
    sha256: data.sha256,
    rows: data.rows.length,
    positives: y.reduce((a, v) => a + v, 0),
    split: {
      train: headRun.split.train.length,
      valid: headRun.split.valid.length,
      test: headRun.split.test.length,
    },
    seed,
    features: names,
    params: { ...params, trainerSeed: AI4I_PARAMS.seed },
    ...head.ours,
    majorityAccuracy: testNeg / headRun.split.test.length,
    xgboost: head.xgboost && baseline ? { ...head.xgboost, version: baseline.version } : null,
    diff: head.xgboost
      ? {
          prAuc: head.ours.prAuc - head.xgboost.prAuc,
          rocAuc: head.ours.rocAuc - head.xgboost.rocAuc,
          f1: head.ours.f1 - head.xgboost.f1,
        }
      : null,
    perSeed,
    summary: { seeds, ours: stat((s) => s.ours)!, xgboost: stat((s) => s.xgboost) },
    ...(opts.keepTestScores
      ? { testPredictions: { labels: Array.from(headRun.yTest), ours: Array.from(headRun.testScores) } }
      : {}),
  };
}

const f4 = (v: number) => v.toFixed(4);
const ms = (m: MeanSd) => `${f4(m.mean)} ± ${f4(m.sd)}`;

/** Human-readable report of {@link evaluateAi4i}'s result. */
export function formatAi4iReport(r: Ai4iResult): string {
  const lines = [
    `AI4I 2020: ${r.rows} rows, ${r.positives} failures; split train/valid/test ${r.split.train}/${r.split.valid}/${r.split.test} (seed ${r.seed})`,
    `features: ${r.features.join(', ')}`,
    `majority-class accuracy on test: ${f4(r.majorityAccuracy)}`,
    `ours:    PR-AUC ${f4(r.prAuc)}  ROC-AUC ${f4(r.rocAuc)}  F1 ${f4(r.f1)}  P ${f4(r.precision)}  R ${f4(r.recall)}  (threshold ${f4(r.threshold)}, ${r.bestIteration + 1} trees)`,
  ];
  if (r.xgboost && r.diff) {
    const b = r.xgboost;
    lines.push(
      `xgboost: PR-AUC ${f4(b.prAuc)}  ROC-AUC ${f4(b.rocAuc)}  F1 ${f4(b.f1)}  P ${f4(b.precision)}  R ${f4(b.recall)}  (threshold ${f4(b.threshold)}, ${b.bestIteration + 1} trees, xgboost ${b.version})`,
      `ours − xgboost: PR-AUC ${f4(r.diff.prAuc)}  ROC-AUC ${f4(r.diff.rocAuc)}  F1 ${f4(r.diff.f1)}`,
    );
  }
  if (r.summary.seeds.length > 1) {
    const s = r.summary;
    lines.push(
      `over split seeds ${s.seeds.join(', ')}: ours PR-AUC ${ms(s.ours.prAuc)}, ROC-AUC ${ms(s.ours.rocAuc)}, F1 ${ms(s.ours.f1)}`,
    );
    if (s.xgboost) {
      lines.push(
        `                  xgboost PR-AUC ${ms(s.xgboost.prAuc)}, ROC-AUC ${ms(s.xgboost.rocAuc)}, F1 ${ms(s.xgboost.f1)}`,
      );
    }
  }
  return lines.join('\n');
}
