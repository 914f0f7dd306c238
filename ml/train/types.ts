/**
 * What a trainer hands to the model bundle: one XGBoost JSON model per predictor, with everything the
 * manifest needs to serve it (feature names and order) and to trust it (metrics, data hash).
 */
import type { RulInterval } from '../../lambdas/core/model/interval.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';

import type { AlertThresholds, Calibration } from '../../lambdas/core/model/decision.ts';

export type PredictorKind =
  /** P(the asset fails within `horizon` clock units); binary:logistic. Feeds Prediction.failureProbability. */
  | 'failure'
  /** Remaining useful life in clock units; a regression objective. Feeds Prediction.rul. */
  | 'rul'
  /** P(this component fails within `horizon`); binary:logistic. Feeds Prediction.componentFailure[component]. */
  | 'component-failure';

export interface PredictorArtifact {
  /** Unique within the asset model, e.g. `failure`, `rul`, `failure-comp2`. */
  readonly name: string;
  readonly kind: PredictorKind;
  readonly component?: string;
  /** Prediction horizon in clock units (failure predictors). */
  readonly horizon?: number;
  /** For `rul`: the cap applied to the training target (e.g. 125 cycles). */
  readonly rulCap?: number;
  /** XGBoost JSON text as written by ml/gbdt (or by xgboost itself). */
  readonly modelJson: string;
  /** Names of the model's input features, in its column order: a subset of the feature engine's names. */
  readonly featureNames: readonly string[];
  /** For `rul`: the prediction interval's calibration (ml/train/conformal.ts). */
  readonly interval?: RulInterval;
  /** Decision threshold for classifiers (probability at which an alert-worthy failure is predicted). */
  readonly threshold?: number;
  /** Classifiers: raw output → calibrated probability, fitted on validation data (ml/train/decision.ts). */
  readonly calibration?: Calibration;
  /** Classifiers: WATCH / WARNING / CRITICAL on the calibrated probability, chosen on validation data. */
  readonly alertThresholds?: AlertThresholds;
  /** Held-out metrics, e.g. { rmse, nasaScore } or { prAuc, rocAuc, f1 }. */
  readonly metrics: Readonly<Record<string, number>>;
  /** sha256 (hex) of the training data as read (file bytes, or a canonical serialisation of generated data). */
  readonly trainingDataHash: string;
  /** Where the training data came from, human-readable. */
  readonly trainingData: string;
  readonly trainingRows: number;
  readonly params: Readonly<Record<string, number | string>>;
}

export interface AssetModelPredictors {
  readonly modelId: string;
  readonly predictors: readonly PredictorArtifact[];
  /**
   * The rows the predictors were trained on (the union over predictors, every column any of them
   * reads): the bundle writer bins it into the drift reference (ml/bundle/reference.ts). @default none
   */
  readonly trainingMatrix?: TrainingMatrix;
}
