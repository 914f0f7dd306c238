/**
 * Anomaly scoring: the plain-JSON shapes a fitted baseline, the streaming state and a result take.
 * Baselines are fitted offline (`ml/anomaly`) and shipped as JSON; the core only evaluates them.
 */

/** Candidate methods; all are evaluated as a quadratic form on standardised (optionally EWMA-smoothed) readings. */
export type AnomalyMethod =
  /** Per-sensor robust z (median/MAD), combined by RMS. */
  | 'robust-z'
  /** Per-sensor robust z (median/MAD), combined by the largest |z|. */
  | 'robust-z-max'
  /** Mahalanobis distance with a shrunk correlation matrix; reconstruction-based contributions. */
  | 'mahalanobis'
  /** PCA squared prediction error (Q statistic); contributions are squared residuals. */
  | 'pca-spe';

export const ANOMALY_METHODS: readonly AnomalyMethod[] = [
  'robust-z',
  'robust-z-max',
  'mahalanobis',
  'pca-spe',
];

/** Two healthy quantiles of a statistic: the calibration maps `q50 → 0.1` and `q99 → 0.5`. */
export interface Calibration {
  q50: number;
  q99: number;
}

export interface AnomalyParams {
  /** Per sensor, in `sensors` order: z = (x̃ − center) / scale, with x̃ the EWMA-smoothed reading. */
  center: number[];
  scale: number[];
  /**
   * EWMA weight of the newest reading, in (0, 1]; 1 scores each sample on its own.
   * Smoothing lowers healthy noise (so smaller shifts reach the threshold) at the cost of delay.
   */
  ewmaAlpha: number;
  /**
   * Symmetric matrix M of the quadratic form d² = zᵀMz (row-major, p×p), or `null` for the identity
   * (independent sensors). Mahalanobis: inverse of the shrunk correlation; PCA: I − VVᵀ.
   */
  matrix: number[][] | null;
  /**
   * How a sensor's contribution is derived from g = Mz: `rbc` divides g_j² by M_jj (reconstruction-based
   * contribution: the drop in d² if sensor j alone were corrected), `residual` takes g_j² as is.
   */
  contribution: 'rbc' | 'residual';
  /** `rms`: statistic sqrt(d² / present); `max`: the largest per-sensor statistic. */
  combine: 'rms' | 'max';
  /** Healthy quantiles of the combined statistic. */
  calibration: Calibration;
  /** Healthy quantiles of each sensor's own statistic |g_j| / sqrt(w_j), in `sensors` order. */
  sensorCalibration: Calibration[];
  /** Fit details kept for provenance (shrinkage, components kept, …); not read by the scorer. */
  notes?: Record<string, number | string>;
}

export interface AnomalyBaseline {
  version: 1;
  method: AnomalyMethod;
  modelId: string;
  /** Sensors scored, in the order of every per-sensor array in `params`. */
  sensors: string[];
  params: AnomalyParams;
  /** Provenance of the healthy data the baseline was fitted on. */
  fittedOn: { source: string; rows: number };
}

/**
 * Streaming state: the EWMA of each sensor's raw reading (`null` until first seen), in `sensors` order.
 * Small plain JSON (≈ 25 bytes per sensor), so it can live in the twin item.
 */
export interface AnomalyState {
  v: 1;
  /** `${method}:${modelId}` of the baseline it belongs to: a state from another baseline is rejected. */
  key: string;
  ewma: Array<number | null>;
}

export interface AnomalyResult {
  /** Calibrated anomaly level in [0, 1]: ~99% of healthy samples score below 0.5. */
  score: number;
  /** Share of the anomaly per baseline sensor: ≥ 0, summing to 1 when `score > 0` ("root cause"). */
  contributions: Record<string, number>;
  /** Each sensor's own calibrated anomaly level in [0, 1]; 0 for sensors missing from the sample. */
  sensorScores: Record<string, number>;
}
