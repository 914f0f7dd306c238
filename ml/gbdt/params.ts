/** Objectives the trainer supports; names and semantics follow xgboost. */
export type Objective = 'binary:logistic' | 'reg:squarederror' | 'count:poisson';

/** Evaluation metrics; names follow xgboost's `eval_metric`. */
export type EvalMetric = 'logloss' | 'auc' | 'rmse' | 'poisson-nloglik';

/** Hyperparameters. Names are xgboost's in camelCase; defaults are xgboost 1.7's. */
export interface TrainParams {
  /** @default 'reg:squarederror' */
  objective: Objective;
  /** Boosting rounds (trees). @default 10 (xgboost's `num_boost_round`) */
  nRounds: number;
  /** Learning rate. @default 0.3 */
  eta: number;
  /** @default 6 */
  maxDepth: number;
  /** L2 regularisation of leaf weights. @default 1 */
  lambda: number;
  /** L1 regularisation of leaf weights. @default 0 */
  alpha?: number;
  /** Minimum loss reduction to make a split (`min_split_loss`). @default 0 */
  gamma: number;
  /** Minimum hessian sum in each child. @default 1 */
  minChildWeight: number;
  /** Fraction of rows sampled (Bernoulli) per tree. @default 1 */
  subsample: number;
  /** Fraction of features sampled per tree. @default 1 */
  colsampleBytree: number;
  /** Maximum value bins per feature (the missing bin is extra). @default 256 */
  maxBin: number;
  /** Initial prediction in output (probability) space. @default 0.5 (xgboost 1.7 does not estimate it) */
  baseScore?: number;
  /** Seed of the row and column sampler. @default 0 */
  seed: number;
  /** Stop when the validation metric has not improved for this many rounds. @default undefined (off) */
  earlyStoppingRounds?: number;
  /** @default logloss for logistic, rmse for squared error, poisson-nloglik for Poisson */
  evalMetric?: EvalMetric;
  /** Weight multiplier of positive rows (logistic only). @default 1 */
  scalePosWeight?: number;
  /** Clip of each leaf weight; 0 = off. @default 0, and 0.7 for count:poisson as in xgboost */
  maxDeltaStep?: number;
  /** Also compute the metric on the training set each round (costs a pass, a sort for AUC). @default false */
  evalTrain?: boolean;
}

/** Parameters after defaults are applied. */
export interface ResolvedParams extends Required<Omit<TrainParams, 'earlyStoppingRounds'>> {
  earlyStoppingRounds: number | undefined;
}

/** A parameter is out of range or inconsistent. */
export class TrainParamError extends Error {
  override name = 'TrainParamError';
}

/** The training or validation data cannot be used as given. */
export class TrainInputError extends Error {
  override name = 'TrainInputError';
}

const DEFAULT_METRIC: Record<Objective, EvalMetric> = {
  'binary:logistic': 'logloss',
  'reg:squarederror': 'rmse',
  'count:poisson': 'poisson-nloglik',
};

/** Applies xgboost 1.7's defaults and rejects values xgboost would reject (or that make no sense). */
export function resolveParams(p: Partial<TrainParams>): ResolvedParams {
  const objective = p.objective ?? 'reg:squarederror';
  if (!(objective in DEFAULT_METRIC))
    throw new TrainParamError(`unsupported objective '${String(objective)}'`);
  const r: ResolvedParams = {
    objective,
    nRounds: p.nRounds ?? 10,
    eta: p.eta ?? 0.3,
    maxDepth: p.maxDepth ?? 6,
    lambda: p.lambda ?? 1,
    alpha: p.alpha ?? 0,
    gamma: p.gamma ?? 0,
    minChildWeight: p.minChildWeight ?? 1,
    subsample: p.subsample ?? 1,
    colsampleBytree: p.colsampleBytree ?? 1,
    maxBin: p.maxBin ?? 256,
    baseScore: p.baseScore ?? 0.5,
    seed: p.seed ?? 0,
    earlyStoppingRounds: p.earlyStoppingRounds,
    evalMetric: p.evalMetric ?? DEFAULT_METRIC[objective],
    scalePosWeight: p.scalePosWeight ?? 1,
    // xgboost's learner sets max_delta_step 0.7 for Poisson unless the user gave one.
    maxDeltaStep: p.maxDeltaStep ?? (objective === 'count:poisson' ? 0.7 : 0),
    evalTrain: p.evalTrain ?? false,
  };
  const check = (ok: boolean, msg: string): void => {
    if (!ok) throw new TrainParamError(msg);
  };
  check(Number.isInteger(r.nRounds) && r.nRounds >= 1, `nRounds must be an integer ≥ 1, got ${r.nRounds}`);
  check(r.eta > 0 && Number.isFinite(r.eta), `eta must be > 0, got ${r.eta}`);
  check(
    Number.isInteger(r.maxDepth) && r.maxDepth >= 1 && r.maxDepth <= 30,
    `maxDepth must be an integer in [1, 30], got ${r.maxDepth}`,
  );
  check(r.lambda >= 0 && Number.isFinite(r.lambda), `lambda must be ≥ 0, got ${r.lambda}`);
  check(r.alpha >= 0 && Number.isFinite(r.alpha), `alpha must be ≥ 0, got ${r.alpha}`);
  check(r.gamma >= 0 && Number.isFinite(r.gamma), `gamma must be ≥ 0, got ${r.gamma}`);
  check(r.minChildWeight >= 0 && Number.isFinite(r.minChildWeight), `minChildWeight must be ≥ 0`);
  check(r.subsample > 0 && r.subsample <= 1, `subsample must be in (0, 1], got ${r.subsample}`);
  check(
    r.colsampleBytree > 0 && r.colsampleBytree <= 1,
    `colsampleBytree must be in (0, 1], got ${r.colsampleBytree}`,
  );
  check(
    Number.isInteger(r.maxBin) && r.maxBin >= 2 && r.maxBin <= 65000,
    `maxBin must be an integer in [2, 65000], got ${r.maxBin}`,
  );
  check(Number.isInteger(r.seed), `seed must be an integer, got ${r.seed}`);
  check(r.maxDeltaStep >= 0 && Number.isFinite(r.maxDeltaStep), `maxDeltaStep must be ≥ 0`);
  check(r.scalePosWeight > 0 && Number.isFinite(r.scalePosWeight), `scalePosWeight must be > 0`);
  if (r.earlyStoppingRounds !== undefined) {
    check(
      Number.isInteger(r.earlyStoppingRounds) && r.earlyStoppingRounds >= 1,
      `earlyStoppingRounds must be an integer ≥ 1, got ${r.earlyStoppingRounds}`,
    );
  }
  if (objective === 'binary:logistic') {
    check(r.baseScore > 0 && r.baseScore < 1, `baseScore must be in (0, 1) for logistic, got ${r.baseScore}`);
  } else if (objective === 'count:poisson') {
    check(r.baseScore > 0 && Number.isFinite(r.baseScore), `baseScore must be > 0 for Poisson`);
  } else {
    check(Number.isFinite(r.baseScore), `baseScore must be finite`);
  }
  if (r.evalMetric === 'auc') check(objective === 'binary:logistic', 'auc needs binary:logistic');
  return r;
}
