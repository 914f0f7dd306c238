/**
 * What one retraining run of an asset model trains: one job per eligible predictor of the deployed
 * bundle, with its target (labelling rule), task and hyperparameters for SageMaker's built-in XGBoost.
 * Pure: the manifest and catalog entry come in as data.
 *
 * Eligible: predictors of time-clock asset models (a cycle-clock model's failures are run ends, not
 * maintenance messages, so history cannot label them; `pdm train` does). Each predictor keeps the
 * champion's feature list, so the challenger is a drop-in replacement scored on the same columns.
 */
import type { AssetModel } from '../catalog/types.ts';
import type { BundleManifest, PredictorEntry } from '../model/bundle.ts';
import type { RetrainTarget } from '../history/training.ts';

/** Hyperparameter keys the state machine passes to CreateTrainingJob: the same for every job, so one task definition serves them all. */
export const HYPERPARAMETER_KEYS = ['objective', 'num_round', 'eta', 'max_depth', 'min_child_weight', 'subsample', 'colsample_bytree', 'max_bin', 'seed', 'tree_method'] as const;
export type Hyperparameters = Readonly<Record<(typeof HYPERPARAMETER_KEYS)[number], string>>;

export interface RetrainPredictorPlan {
  readonly predictor: string;
  readonly target: RetrainTarget;
  readonly task: 'binary' | 'regression';
  readonly hyperparameters: Hyperparameters;
}

export interface RetrainPlan {
  readonly assetModel: string;
  readonly predictors: readonly RetrainPredictorPlan[];
  /** Predictors of the bundle left out, with the reason. */
  readonly skipped: readonly { readonly predictor: string; readonly reason: string }[];
}

export class RetrainPlanError extends Error {
  override readonly name: string = 'RetrainPlanError';
}

const num = (params: PredictorEntry['params'], key: string): number | undefined => {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** Text SageMaker's hyperparameter validation parses as a number (no exponent, at most 6 decimals). */
const str = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toFixed(6))));

/**
 * The champion's training settings as CreateTrainingJob hyperparameters (strings: CreateTrainingJob's
 * `HyperParameters` is a string map, notes §2). `num_round` is the champion's tree count, because the
 * job trains without a validation channel and so without early stopping: the holdout is kept for the
 * evaluation only, and a model with fewer trees than rounds never meets `best_iteration` ambiguity.
 */
export function hyperparametersFor(entry: PredictorEntry): Hyperparameters {
  const p = entry.params;
  return {
    objective: entry.objective,
    num_round: str(entry.numTrees),
    eta: str(num(p, 'eta') ?? 0.1),
    max_depth: str(num(p, 'maxDepth') ?? 4),
    min_child_weight: str(num(p, 'minChildWeight') ?? 1),
    subsample: str(num(p, 'subsample') ?? 1),
    colsample_bytree: str(num(p, 'colsampleBytree') ?? 1),
    max_bin: str(num(p, 'maxBin') ?? 256),
    seed: str(num(p, 'seed') ?? 0),
    // `hist` is XGBoost's default since 2.0 (notes §2); named so the job does not depend on that default.
    tree_method: 'hist',
  };
}

function targetOf(entry: PredictorEntry): RetrainTarget | string {
  if (entry.kind === 'rul') return entry.rulCap !== undefined ? { kind: 'rul', rulCapMs: entry.rulCap } : 'an RUL predictor without rulCap';
  if (entry.horizon === undefined) return `a ${entry.kind} predictor without a horizon`;
  if (entry.kind === 'component-failure') {
    return entry.component !== undefined ? { kind: 'component-failure', horizonMs: entry.horizon, component: entry.component } : 'a component-failure predictor without a component';
  }
  return { kind: 'failure', horizonMs: entry.horizon };
}

/**
 * @param only predictor names to retrain. @default every eligible predictor
 * @throws RetrainPlanError for an asset model the bundle does not hold, or an unknown name in `only`.
 */
export function retrainPlan(manifest: BundleManifest, model: Pick<AssetModel, 'id' | 'clock'>, only?: readonly string[]): RetrainPlan {
  const entries = manifest.models[model.id]?.predictors;
  if (!entries) throw new RetrainPlanError(`the deployed model bundle has no predictors for asset model "${model.id}"`);
  const unknown = (only ?? []).filter((n) => !entries.some((e) => e.name === n));
  if (unknown.length > 0) throw new RetrainPlanError(`asset model ${model.id} has no predictor(s) ${unknown.join(', ')}`);
  const predictors: RetrainPredictorPlan[] = [];
  const skipped: { predictor: string; reason: string }[] = [];
  for (const entry of entries) {
    if (only && !only.includes(entry.name)) continue;
    if (model.clock !== 'time') {
      skipped.push({ predictor: entry.name, reason: `${model.id} runs on a ${model.clock} clock: its failures are run ends, not maintenance messages (retrain with pdm train)` });
      continue;
    }
    const target = targetOf(entry);
    if (typeof target === 'string') {
      skipped.push({ predictor: entry.name, reason: target });
      continue;
    }
    predictors.push({ predictor: entry.name, target, task: entry.kind === 'rul' ? 'regression' : 'binary', hyperparameters: hyperparametersFor(entry) });
  }
  return { assetModel: model.id, predictors, skipped };
}
