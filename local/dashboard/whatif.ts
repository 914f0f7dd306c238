/**
 * What-if projection for the dashboard: "if maintenance of this component is deferred N days, what do
 * the models predict for each of those days?". Pure computation over a twin, the model bundle and a
 * scorer: the twin's feature state is copied, synthetic future samples continue each sensor's current
 * trend with its current noise, and the real feature engine, anomaly scorer and model bundle turn them
 * into one prediction per day.
 *
 * Two promises hold by construction, whatever the models answer:
 * - deferring never looks safer than maintaining now: risk and failure probability are running maxima
 *   over the deferral and RUL a running minimum (nothing is maintained, so wear only accumulates);
 * - where the models have no basis (no model trained on that component's failures, or projected features
 *   leaving the range they took in the models' training data) the result says so with a machine-readable
 *   reason and stops, rather than drawing a line the models cannot back.
 */
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/index.ts';
import { DEFAULT_BASELINES, scoreAnomaly } from '../../lambdas/core/anomaly/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import type { FeatureState } from '../../lambdas/core/features/index.ts';
import { featureLayout, featureVector, updateFeatureState } from '../../lambdas/core/features/index.ts';
import { type BundleAssetModel, decisionsOf, type ModelBundle } from '../../lambdas/core/model/bundle.ts';
import type { RowScorer } from '../../lambdas/core/pipeline.ts';
import { Rng, seedFor } from '../../lambdas/core/random.ts';
import { invert, SingularMatrixError } from '../../ml/anomaly/linalg.ts';
import type { FeatureRow, Prediction, RiskPolicy, Twin } from '../../lambdas/core/twin/twin.ts';
import { defaultRiskPolicy } from '../../lambdas/core/twin/twin.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';
import { type AlertThresholds, riskFromProbability } from '../../lambdas/core/model/decision.ts';
import { type FeatureRanges, readFeatureRanges } from './feature-ranges.ts';
import type { WhatIfLimit, WhatIfOutOfRange, WhatIfPoint, WhatIfResult } from './source.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Longest deferral the dashboard projects; beyond it a linear trend says little. */
export const MAX_DEFER_DAYS = 90;

/** Features named in an extrapolation limit (the ones furthest outside their range first). */
const MAX_NAMED_FEATURES = 5;

/**
 * Components whose failures the asset-level predictors (`failure`, `rul`) of each shipped asset model
 * were trained on, where the bundle has no component predictor for them. The manifest does not record
 * it, so it is read from the trainers: `ml/train/pump.ts` simulates drive-end bearing wear only;
 * C-MAPSS FD001 (`ml/train/turbofan.ts`) has one fault mode, HPC degradation; the industrial machine's
 * `failure` predictor is trained on failures of any of comp1–comp4 (`ml/train/industrial-machine.ts`).
 * An asset model or component not listed here has a basis only through a component predictor.
 */
export const ASSET_LEVEL_FAILURE_COMPONENTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['centrifugal-pump', ['bearing']],
  ['turbofan', ['hpc']],
  ['industrial-machine', ['comp1', 'comp2', 'comp3', 'comp4']],
]);

/** The what-if cannot be computed for this input (unknown component, no telemetry yet, bad days). */
export class WhatIfInputError extends Error {
  override readonly name: string = 'WhatIfInputError';
}

export interface ProjectWhatIfInput {
  readonly twin: Twin;
  readonly model: AssetModel;
  /** The bundle the scorer scores with: which predictors exist, and on what data they were trained. */
  readonly bundle: ModelBundle;
  /** The model scorer, normally `createBundleScorer(bundle)`. */
  readonly scorer: RowScorer;
  /** Component whose maintenance is deferred; must be one of the model's components. */
  readonly component: string;
  /** Days of deferral: the projection has one point per day, day 0 (now) to this day. */
  readonly deferDays: number;
  /** Anomaly baseline, which feeds the `anomaly_prev` feature. @default DEFAULT_BASELINES[model.id] */
  readonly baseline?: AnomalyBaseline;
  /** Asset attributes merged over the model's, as the pipeline does. @default the model's attributes */
  readonly attributes?: Readonly<Record<string, string | number>>;
  /** Hours one cycle takes, to convert days to cycles for cycle-clock models. @default 2 (the alert policy's) */
  readonly hoursPerCycle?: number;
  /**
   * Time between synthetic samples for time-clock models, in ms.
   * @default the asset's observed mean interval, clamped to [1 min, 1 h]; 1 h when unknown
   */
  readonly stepMs?: number;
  /** How RUL turns into risk, as in the twin. @default defaultRiskPolicy(model.clock) */
  readonly riskPolicy?: RiskPolicy;
  /** Per-feature training ranges of the bundle. @default the stored `feature-ranges.json` */
  readonly ranges?: FeatureRanges;
}

/** Per featurised sensor: where the projected line starts, how fast it moves, and its noise. */
interface Trend {
  readonly sensor: string;
  readonly start: number;
  readonly perUnit: number;
  readonly sd: number;
  readonly min: number;
  readonly max: number;
}

/** The training range of one engine feature. */
interface Span {
  readonly index: number;
  readonly min: number;
  readonly max: number;
}

function stepOf(input: ProjectWhatIfInput, twin: Twin): number {
  if (input.model.clock === 'cycle') return 1;
  if (input.stepMs !== undefined) {
    if (!(Number.isFinite(input.stepMs) && input.stepMs > 0)) {
      throw new WhatIfInputError(`stepMs must be a positive number of ms, got ${input.stepMs}`);
    }
    return input.stepMs;
  }
  if (twin.firstT === null || twin.lastT === null || twin.samples < 2) return HOUR;
  const observed = (twin.lastT - twin.firstT) / (twin.samples - 1);
  return Math.min(HOUR, Math.max(MINUTE, Math.round(observed)));
}

function validate(input: ProjectWhatIfInput): void {
  const { twin, model, component, deferDays } = input;
  // Object.hasOwn, not `in`: "constructor" or "__proto__" are not components of any model.
  if (typeof component !== 'string' || !Object.hasOwn(model.components, component)) {
    throw new WhatIfInputError(
      `unknown component "${String(component)}" for model ${model.id}; known: ${Object.keys(model.components).join(', ')}`,
    );
  }
  if (!Number.isInteger(deferDays) || deferDays < 1 || deferDays > MAX_DEFER_DAYS) {
    throw new WhatIfInputError(`deferDays must be a whole number from 1 to ${MAX_DEFER_DAYS}, got ${deferDays}`);
  }
  if (twin.modelId !== model.id) {
    throw new WhatIfInputError(`twin ${twin.assetId} is a ${twin.modelId}, not a ${model.id}`);
  }
  if (twin.lastT === null || twin.latest === null || twin.samples === 0) {
    throw new WhatIfInputError(`asset ${twin.assetId} has no telemetry yet: nothing to project from`);
  }
}

/**
 * Projects the asset's predictions over `deferDays` days of deferred maintenance.
 *
 * Method: the twin's feature state and anomaly state are copied (the twin is not modified). Each
 * featurised sensor continues on a straight line with the slope of its long rolling window (as the
 * feature engine computes it), starting from its medium-window mean moved forward by half that window,
 * with seeded Gaussian noise of its short-window standard deviation (so window std, min and max stay
 * where the models saw them), clamped to the sensor's valid range. Sensors without features keep their
 * latest reading. One synthetic sample per clock step (the asset's observed sampling interval for time
 * clocks, one cycle for cycle clocks) is folded into the copied feature state, so rolling windows,
 * `samples_seen`, `op_age` and every `since_maint_*` keep growing (no maintenance happens). At the end of
 * each day the feature vector is scored by `scorer`; day 0 scores the current state. The points are the
 * running maximum of risk and failure probabilities and the running minimum of RUL, and stop at the
 * first day a projected feature leaves its training range (see {@link WhatIfLimit}).
 * @throws WhatIfInputError for an unknown component, a deferral outside 1..MAX_DEFER_DAYS, or a twin
 *   without telemetry.
 */
export function projectWhatIf(input: ProjectWhatIfInput): WhatIfResult {
  validate(input);
  const { twin, model, component, deferDays, bundle } = input;
  const hoursPerCycle = input.hoursPerCycle ?? 2;
  if (!(Number.isFinite(hoursPerCycle) && hoursPerCycle > 0)) {
    throw new WhatIfInputError(`hoursPerCycle must be a positive number, got ${hoursPerCycle}`);
  }
  const step = stepOf(input, twin);
  const method = methodText(model, step, hoursPerCycle, component);
  const result = (points: WhatIfPoint[], limit: WhatIfLimit | null): WhatIfResult => ({
    assetId: twin.assetId,
    component,
    deferDays,
    projectedDays: Math.max(0, points.length - 1),
    limit,
    method,
    points,
  });

  const entry = bundle.models.get(model.id);
  const noBasis = basisOf(entry, model, component);
  if (noBasis) return result([], noBasis);
  const spans = spansOf(entry!, model, input.ranges ?? storedRanges());
  if (!spans) {
    return result([], {
      reason: 'no-training-ranges',
      fromDay: 1,
      message:
        `The training ranges of the ${model.id} models are not known (the bundle was trained on other data ` +
        'than the stored ranges): regenerate them with `npx tsx local/dashboard/feature-ranges-build.ts`.',
    });
  }

  const baseline = input.baseline ?? DEFAULT_BASELINES[model.id];
  if (!baseline) throw new WhatIfInputError(`no anomaly baseline for model ${model.id}`);
  const rows = projectRows(input, baseline, step, hoursPerCycle);
  const outside = firstOutOfRange(rows, spans, featureLayout(model).names);
  const kept = outside ? rows.slice(0, outside.day) : rows;
  const predictions = input.scorer(model, twin, kept);
  const points = envelope(kept, predictions, input, twin);
  if (!outside) return result(points, null);
  const names = outside.features.map((f) => f.feature).join(', ');
  return result(points, {
    reason: 'extrapolation',
    fromDay: outside.day,
    message:
      `From day ${outside.day} the projected ${names} leave${outside.features.length === 1 ? 's' : ''} the range ` +
      `seen in training: the models have no basis to say how the asset fares beyond day ${outside.day - 1}.`,
    features: outside.features,
  });
}

/** Null when the bundle has a predictor trained on failures of `component`, else the reason it has not. */
function basisOf(entry: BundleAssetModel | undefined, model: AssetModel, component: string): WhatIfLimit | null {
  if (!entry || entry.predictors.length === 0) {
    return {
      reason: 'no-model',
      fromDay: 1,
      message: `The model bundle has no model for ${model.id}: there is nothing to project with.`,
    };
  }
  if (entry.components.some((p) => p.entry.component === component)) return null;
  const assetLevel = entry.failure !== null || entry.rul !== null;
  if (assetLevel && (ASSET_LEVEL_FAILURE_COMPONENTS.get(model.id) ?? []).includes(component)) return null;
  return {
    reason: 'no-component-model',
    fromDay: 1,
    message:
      `No model in the bundle was trained on ${component} failures of a ${model.id}: ` +
      `a projection would show another component's risk under ${component}'s name.`,
  };
}

/** The synthetic rows: day 0 (the current state) and the end of each day of the deferral. */
function projectRows(
  input: ProjectWhatIfInput,
  baseline: AnomalyBaseline,
  step: number,
  hoursPerCycle: number,
): FeatureRow[] {
  const { twin, model, deferDays } = input;
  const now = twin.lastT!;
  const latest = twin.latest!;
  const stepsPerDay = model.clock === 'cycle' ? 24 / hoursPerCycle : DAY / step;
  const msPerStep = model.clock === 'cycle' ? hoursPerCycle * HOUR : step;
  const layout = featureLayout(model);
  // JSON copies: the twin is plain JSON by contract, and the projection must leave it untouched.
  const features = JSON.parse(JSON.stringify(twin.features)) as FeatureState;
  const anomalyState = JSON.parse(JSON.stringify(twin.anomaly)) as Twin['anomaly'];
  const attributes = { ...model.attributes, ...input.attributes };
  const lastMaintenance: Record<string, number | null> = {};
  for (const [name, c] of Object.entries(twin.components)) lastMaintenance[name] = c.lastMaintenance?.t ?? null;
  const ctx = (previousAnomaly: number | null) => ({
    previousAnomaly,
    lastMaintenance,
    firstSeen: twin.firstT,
    attributes,
  });

  const current = featureVector(features, model, now, ctx(twin.lastAnomaly));
  const trends = trendsOf(model, layout, current, latest.readings);
  const held: Record<string, number> = {};
  for (const [sensor, value] of Object.entries(latest.readings)) {
    if (!layout.sensors.includes(sensor)) held[sensor] = value;
  }
  // Seeded from the asset and its last sample: the same twin always projects the same future, and the
  // noise sequence does not depend on the horizon, so N days are the prefix of any longer projection.
  const rng = new Rng(seedFor(twin.lastSeq, twin.assetId));
  const noise = noiseOf(baseline, trends, rng);

  const day0Anomaly = { score: twin.lastAnomaly ?? 0, contributions: {}, sensorScores: {} };
  const rows: FeatureRow[] = [{ seq: twin.lastSeq, ts: latest.ts, t: now, vector: current, anomaly: day0Anomaly }];
  let previousAnomaly = twin.lastAnomaly;
  let k = 0;
  for (let day = 1; day <= deferDays; day++) {
    // Rounded so that fractional steps per day (e.g. 7-minute sampling) do not drift over the horizon.
    const until = Math.round(day * stepsPerDay);
    while (k < until) {
      k += 1;
      const t = now + k * step;
      const readings: Record<string, number> = { ...held };
      const z = noise();
      for (let i = 0; i < trends.length; i++) {
        const tr = trends[i]!;
        const x = tr.start + tr.perUnit * (t - now) + tr.sd * z[i]!;
        readings[tr.sensor] = x < tr.min ? tr.min : x > tr.max ? tr.max : x;
      }
      updateFeatureState(features, model, t, readings);
      const anomaly = scoreAnomaly(baseline, anomalyState, readings);
      if (k === until) {
        const vector = featureVector(features, model, t, ctx(previousAnomaly));
        rows.push({ seq: twin.lastSeq + k, ts: latest.ts + k * msPerStep, t, vector, anomaly });
      }
      previousAnomaly = anomaly.score;
    }
  }
  return rows;
}

let stored: FeatureRanges | undefined;
function storedRanges(): FeatureRanges {
  stored ??= readFeatureRanges();
  return stored;
}

/**
 * The training range of every engine feature the asset model's predictors use, or null when the
 * ranges were computed from other training data than every predictor's (`trainingDataHash`).
 */
function spansOf(entry: BundleAssetModel, model: AssetModel, ranges: FeatureRanges): Span[] | null {
  const known = Object.hasOwn(ranges, model.id) ? ranges[model.id] : undefined;
  if (!known || !entry.predictors.every((p) => p.entry.trainingDataHash === known.trainingDataHash)) return null;
  const names = featureLayout(model).names;
  const used = new Set(entry.predictors.flatMap((p) => p.entry.featureNames));
  const spans: Span[] = [];
  names.forEach((name, index) => {
    const range = used.has(name) && Object.hasOwn(known.ranges, name) ? known.ranges[name] : undefined;
    // A feature never defined in training (null) stays undefined in a projection of an asset where it
    // is undefined today: nothing to check.
    if (!range) return;
    spans.push({ index, min: range[0], max: range[1] });
  });
  return spans;
}

/** How far `v` lies outside [min, max] (0 inside). */
const distance = (s: Span, v: number) => (v < s.min ? s.min - v : v > s.max ? v - s.max : 0);

/**
 * The first projected day on which a feature lies further outside its training range than today: a
 * feature inside the range today that leaves it, or one already outside that the projection carries
 * further out. Today's values are observed, not extrapolated, so they alone never count.
 */
function firstOutOfRange(
  rows: readonly FeatureRow[],
  spans: readonly Span[],
  names: readonly string[],
): { day: number; features: WhatIfOutOfRange[] } | null {
  const today = rows[0]!.vector;
  for (let day = 1; day < rows.length; day++) {
    const vector = rows[day]!.vector;
    const out: Array<WhatIfOutOfRange & { excess: number }> = [];
    for (const s of spans) {
      const value = vector[s.index]!;
      const before = today[s.index]!;
      const grown = distance(s, value) - (Number.isFinite(before) ? distance(s, before) : 0);
      if (!(grown > 0)) continue;
      const width = s.max - s.min;
      out.push({ feature: names[s.index]!, value, min: s.min, max: s.max, excess: grown / (width > 0 ? width : 1) });
    }
    if (out.length > 0) {
      out.sort((x, y) => y.excess - x.excess);
      return {
        day,
        features: out.slice(0, MAX_NAMED_FEATURES).map(({ feature, value, min, max }) => ({ feature, value, min, max })),
      };
    }
  }
  return null;
}

/**
 * A source of standard-normal noise vectors, one entry per trend. Where the anomaly baseline is
 * Mahalanobis, the entries of its sensors are correlated as in the healthy data it was fitted on
 * (M is the inverse of that correlation): independent noise on correlated sensors looks anomalous
 * to the scorer (s ≈ 1.4 > q99 on the turbofan, see docs/anomaly.md) and would raise a healthy
 * asset's projected risk on its own.
 */
function noiseOf(baseline: AnomalyBaseline, trends: readonly Trend[], rng: Rng): () => Float64Array {
  const at = new Map(baseline.sensors.map((s, j) => [s, j]));
  const matrix = baseline.method === 'mahalanobis' ? baseline.params.matrix : null;
  let chol: number[][] | null = null;
  if (matrix) {
    try {
      chol = cholesky(invert(matrix));
    } catch (e) {
      if (!(e instanceof SingularMatrixError)) throw e;
    }
  }
  const p = baseline.sensors.length;
  const eps = new Float64Array(p);
  const out = new Float64Array(trends.length);
  return () => {
    for (let j = 0; j < p; j++) eps[j] = rng.normal();
    for (let i = 0; i < trends.length; i++) {
      const j = at.get(trends[i]!.sensor);
      if (j === undefined) {
        out[i] = rng.normal();
      } else if (chol) {
        const row = chol[j]!;
        let v = 0;
        let norm = 0;
        for (let k = 0; k <= j; k++) {
          v += row[k]! * eps[k]!;
          norm += row[k]! * row[k]!;
        }
        out[i] = v / Math.sqrt(norm); // unit variance whatever the diagonal of the inverse
      } else {
        out[i] = eps[j]!;
      }
    }
    return out;
  };
}

/** Lower-triangular L with L·Lᵀ = a, for a symmetric positive-definite a. */
function cholesky(a: readonly (readonly number[])[]): number[][] | null {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(sum > 0)) return null; // not positive definite: fall back to independent noise
        l[i]![i] = Math.sqrt(sum);
      } else {
        l[i]![j] = sum / l[j]![j]!;
      }
    }
  }
  return l;
}

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Turns the per-day predictions into points that cannot show deferral as safer: running maxima of
 * risk and failure probabilities, running minimum of RUL, all starting from today's values. Risk is the
 * twin's: the largest of the anomaly score, the failure probability, the RUL risk and the component
 * failure probabilities (the anomaly's component shares never exceed the anomaly score).
 */
function envelope(
  rows: readonly FeatureRow[],
  predictions: readonly (Prediction | null)[],
  input: ProjectWhatIfInput,
  twin: Twin,
): WhatIfPoint[] {
  const policy = input.riskPolicy ?? {
    ...defaultRiskPolicy(input.model.clock),
    decisions: decisionsOf(input.bundle.models.get(input.model.id)),
  };
  // Probabilities reach the health scale through each model's thresholds, as in the twin.
  const anchors = defaultHealthPolicy(input.model.clock).enter;
  const toRisk = (v: number, t: AlertThresholds | undefined) => (t ? riskFromProbability(v, t, anchors) : v);
  const points: WhatIfPoint[] = [];
  let risk = 0;
  let failure: number | null = null;
  let componentFailure: number | null = null;
  let rul: number | null = null;
  rows.forEach((row, day) => {
    const p = predictions[day] ?? null;
    failure = maxOf(failure, p?.failureProbability ?? null);
    componentFailure = maxOf(componentFailure, p?.componentFailure?.[input.component] ?? null);
    rul = minOf(rul, p?.rul ?? null);
    let raw = Math.max(
      row.anomaly.score,
      failure === null ? 0 : toRisk(failure, policy.decisions?.failure),
      rul === null ? 0 : 1 - rul / policy.rulHorizon,
    );
    for (const [name, v] of Object.entries(p?.componentFailure ?? {})) {
      raw = Math.max(raw, toRisk(v, policy.decisions?.components[name]));
    }
    // Today's point starts from the twin's own risk, so the line begins where the asset stands.
    if (day === 0 && twin.scores) raw = Math.max(raw, twin.scores.risk);
    risk = Math.max(risk, clamp01(raw));
    points.push({ day, risk, failureProbability: failure, rul, componentFailure });
  });
  return points;
}

function trendsOf(
  model: AssetModel,
  layout: ReturnType<typeof featureLayout>,
  current: Float64Array,
  latest: Readonly<Record<string, number>>,
): Trend[] {
  const index = new Map(layout.names.map((n, i) => [n, i]));
  const short = layout.windows.find((w) => w.key === 'short')!;
  const medium = layout.windows.find((w) => w.key === 'medium')!;
  const long = layout.windows.find((w) => w.key === 'long')!;
  const out: Trend[] = [];
  for (const sensor of layout.sensors) {
    const spec = model.sensors[sensor]!;
    const slope = current[index.get(`${sensor}_slope_${long.label}`)!]!;
    const mean = current[index.get(`${sensor}_mean_${medium.label}`)!]!;
    const std = current[index.get(`${sensor}_std_${short.label}`)!]!;
    const last = latest[sensor];
    // Slopes are reported per hour (time) or per cycle; the projection moves in clock units.
    const perUnit = Number.isFinite(slope) ? slope / layout.rateScale : 0;
    // The medium-window mean (24 h for time clocks) averages out the daily load cycle, which the short
    // window would freeze at today's phase (a pump projected at its daily peak forever); it sits about
    // half a window back on the trend.
    const start = Number.isFinite(mean) ? mean + perUnit * (medium.length / 2) : last;
    if (start === undefined || !Number.isFinite(start)) continue;
    // Noise at today's level: without it the windows' std, min and max shrink to a state no training
    // row had, which the models read as healthy.
    const sd = Number.isFinite(std) && std > 0 ? std : 0;
    out.push({ sensor, start, perUnit, sd, min: spec.min, max: spec.max });
  }
  return out;
}

function methodText(model: AssetModel, step: number, hoursPerCycle: number, component: string): string {
  const cadence =
    model.clock === 'cycle'
      ? `one sample per cycle (${hoursPerCycle} h per cycle, ${24 / hoursPerCycle} cycles per day)`
      : `one sample every ${step >= HOUR ? `${step / HOUR} h` : `${Math.round(step / MINUTE)} min`}`;
  return (
    `Each featurised sensor continues its long-window trend (the feature engine's slope) from its ` +
    `medium-window mean, with its current short-window noise, within its valid range; ${cadence} is fed ` +
    `into a copy of the asset's feature state, with no maintenance, so since_maint_${component} and ` +
    `operating age keep growing. Each day's feature vector is scored by the model bundle. Nothing is ` +
    `maintained, so wear only accumulates: risk and failure probability are the highest reached so far ` +
    `and RUL the lowest. The projection stops where a feature leaves the range it took in the training ` +
    `data. A linear extrapolation: it does not know about wear acceleration, load changes or repairs.`
  );
}
