/**
 * The standard C-MAPSS test protocol for the turbofan RUL model: train on every training engine (no
 * test data touches training or model choice), predict each test engine at its last observed cycle,
 * compare with the RUL file, repeat over seeds. Works on any C-MAPSS-format files (FD001…FD004).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { rulBounds } from '../../lambdas/core/model/interval.ts';
import { type CmapssFile, parseCmapss, parseRul } from '../datasets/cmapss.ts';
import { rmse } from './metrics.ts';
import {
  CmapssDataError,
  nasaScore,
  predictLastCycle,
  RUL_CAP,
  type ReplayedSet,
  replayCmapss,
  trainRulModel,
} from '../train/turbofan.ts';

/** Options of {@link evaluateCmapss}. */
export interface CmapssEvalOptions {
  /** Training trajectories (run to failure). */
  readonly train: string;
  /** Test trajectories (cut before failure). */
  readonly test: string;
  /** True RUL of each test engine at its last cycle, in test-file order. */
  readonly rul: string;
  /** Number of seeds (1…N); each changes the validation split and the sampling. @default 5 */
  readonly seeds?: number;
  /** The caller prints JSON: no progress lines are sent to `log`. @default false */
  readonly json?: boolean;
  /** Receives progress lines (one per seed). @default none */
  readonly log?: (line: string) => void;
  /** Early-stopping ceiling of each training run (lower it for quick checks). @default RUL_PARAMS.nRounds (6000) */
  readonly maxRounds?: number;
  /** Cap of the training target and of the truth in `rmse`/`nasaScore`. @default 125 */
  readonly cap?: number;
}

/** One seed's figures. */
export interface CmapssSeedResult {
  readonly seed: number;
  /** Truth capped at `cap`, the usual protocol. */
  readonly rmse: number;
  readonly nasaScore: number;
  /** Against the raw RUL file. */
  readonly rmseUncapped: number;
  readonly nasaScoreUncapped: number;
  /** RMSE of the early-stopped model on its validation engines (rows with true RUL ≤ 145). */
  readonly validRmse: number;
  /** Share of test engines whose true RUL lies in the 90 % interval (an upper bound at the cap is open). */
  readonly intervalCoverage: number;
  /** Median of upper − lower over the test engines, cycles. */
  readonly intervalMedianWidth: number;
  readonly bestRounds: number;
  readonly rounds: number;
  readonly trainingSeconds: number;
}

/** The evaluation result; `rmse`/`nasaScore` are means over seeds. */
export interface CmapssEvalResult {
  /** E.g. `FD001`, from the test file name (else the file's base name). */
  readonly dataset: string;
  readonly rmse: number;
  readonly rmseSd: number;
  readonly nasaScore: number;
  readonly nasaScoreSd: number;
  readonly rmseUncapped: number;
  readonly nasaScoreUncapped: number;
  /** Means over seeds of the per-seed interval figures (see {@link CmapssSeedResult}). */
  readonly intervalCoverage: number;
  readonly intervalMedianWidth: number;
  /** Nominal level of the interval. */
  readonly intervalLevel: number;
  readonly cap: number;
  readonly perSeed: readonly CmapssSeedResult[];
  readonly engines: { readonly train: number; readonly test: number };
  /** Per test engine: raw true RUL, the capped truth, and the prediction averaged over seeds. */
  readonly predictions: readonly {
    unit: number;
    true: number;
    trueCapped: number;
    pred: number;
    /** Interval bounds averaged over seeds. */
    lower: number;
    upper: number;
  }[];
  /** Total over seeds (replay excluded). */
  readonly trainingSeconds: number;
  readonly params: Readonly<Record<string, number | string>>;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CmapssDataError(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

function meanSd(a: readonly number[]): { mean: number; sd: number } {
  const m = a.reduce((s, x) => s + x, 0) / a.length;
  const v = a.length > 1 ? a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1) : 0;
  return { mean: m, sd: Math.sqrt(v) };
}


function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Interval figures of one seed. Truth is the raw RUL: an upper bound held at the cap means "the cap or
 * more" (the model learns min(RUL, cap)), so it covers any truth above it.
 */
export function intervalFigures(
  bounds: readonly { lower: number; upper: number }[],
  truth: readonly number[],
  cap: number,
): { coverage: number; medianWidth: number } {
  let covered = 0;
  bounds.forEach((b, i) => {
    const t = truth[i]!;
    if (t >= b.lower && (t <= b.upper || b.upper >= cap)) covered++;
  });
  return { coverage: covered / bounds.length, medianWidth: median(bounds.map((b) => b.upper - b.lower)) };
}

/** Dataset label from a test file name: `test_FD003.txt` → `FD003`. */
export function datasetName(testPath: string): string {
  const b = basename(testPath);
  return /(FD\d{3})/i.exec(b)?.[1]?.toUpperCase() ?? b;
}

/**
 * Evaluates the turbofan RUL model on a C-MAPSS train/test/RUL triple.
 * @throws CmapssFormatError for malformed files; CmapssDataError when the RUL file and the test file
 *   disagree on the engine count or a file cannot be read.
 */
export function evaluateCmapss(opts: CmapssEvalOptions): CmapssEvalResult {
  const seeds = opts.seeds ?? 5;
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new CmapssDataError(`seeds must be a positive integer, got ${seeds}`);
  const cap = opts.cap ?? RUL_CAP;
  const log = opts.json ? undefined : opts.log;
  const trainFile: CmapssFile = parseCmapss(read(opts.train, 'train'), opts.train);
  const testFile: CmapssFile = parseCmapss(read(opts.test, 'test'), opts.test);
  const truth = parseRul(read(opts.rul, 'RUL'), opts.rul);
  if (truth.length !== testFile.engines.length) {
    throw new CmapssDataError(
      `${opts.rul} has ${truth.length} RUL values but ${opts.test} has ${testFile.engines.length} engines`,
    );
  }
  const trainSet: ReplayedSet = replayCmapss(trainFile);
  const testSet: ReplayedSet = replayCmapss(testFile);
  const capped = truth.map((t) => Math.min(t, cap));
  const perSeed: CmapssSeedResult[] = [];
  const sumPred = new Float64Array(truth.length);
  const sumLower = new Float64Array(truth.length);
  const sumUpper = new Float64Array(truth.length);
  let level = 0;
  let params: Readonly<Record<string, number | string>> = {};
  for (let seed = 1; seed <= seeds; seed++) {
    const t0 = performance.now();
    const model = trainRulModel(trainSet, {
      seed,
      cap,
      ...(opts.maxRounds !== undefined ? { maxRounds: opts.maxRounds } : {}),
    });
    const trainingSeconds = (performance.now() - t0) / 1000;
    const pred = predictLastCycle(model.modelJson, model.featureNames, testSet);
    for (let i = 0; i < pred.length; i++) sumPred[i] = sumPred[i]! + pred[i]!;
    // As the scorer serves it: the prediction floored at 0, the interval around it held at the cap.
    const bounds = Array.from(pred, (p) => rulBounds(model.interval, Math.max(0, p), cap));
    bounds.forEach((b, i) => {
      sumLower[i] = sumLower[i]! + b.lower;
      sumUpper[i] = sumUpper[i]! + b.upper;
    });
    const iv = intervalFigures(bounds, truth, cap);
    level = model.interval.level;
    params = { ...model.params, features: model.featureNames.join(',') };
    const r: CmapssSeedResult = {
      seed,
      rmse: rmse(pred, capped),
      nasaScore: nasaScore(pred, capped),
      rmseUncapped: rmse(pred, truth),
      nasaScoreUncapped: nasaScore(pred, truth),
      validRmse: model.validRmse,
      intervalCoverage: iv.coverage,
      intervalMedianWidth: iv.medianWidth,
      bestRounds: model.bestRounds,
      rounds: model.rounds,
      trainingSeconds,
    };
    perSeed.push(r);
    log?.(
      `seed ${seed}: RMSE ${r.rmse.toFixed(2)}  NASA score ${r.nasaScore.toFixed(1)}  ` +
        `interval coverage ${r.intervalCoverage.toFixed(2)}, median width ${r.intervalMedianWidth.toFixed(1)}  ` +
        `(validation RMSE ${r.validRmse.toFixed(2)}, ${r.rounds} trees, ${trainingSeconds.toFixed(1)} s)`,
    );
  }
  const rm = meanSd(perSeed.map((p) => p.rmse));
  const ns = meanSd(perSeed.map((p) => p.nasaScore));
  return {
    dataset: datasetName(opts.test),
    rmse: rm.mean,
    rmseSd: rm.sd,
    nasaScore: ns.mean,
    nasaScoreSd: ns.sd,
    rmseUncapped: meanSd(perSeed.map((p) => p.rmseUncapped)).mean,
    nasaScoreUncapped: meanSd(perSeed.map((p) => p.nasaScoreUncapped)).mean,
    intervalCoverage: meanSd(perSeed.map((p) => p.intervalCoverage)).mean,
    intervalMedianWidth: meanSd(perSeed.map((p) => p.intervalMedianWidth)).mean,
    intervalLevel: level,
    cap,
    perSeed,
    engines: { train: trainFile.engines.length, test: testFile.engines.length },
    predictions: testFile.engines.map((e, i) => ({
      unit: e.unit,
      true: truth[i]!,
      trueCapped: capped[i]!,
      pred: sumPred[i]! / seeds,
      lower: sumLower[i]! / seeds,
      upper: sumUpper[i]! / seeds,
    })),
    trainingSeconds: perSeed.reduce((s, p) => s + p.trainingSeconds, 0),
    params,
  };
}
