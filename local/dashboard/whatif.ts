/**
 * What-if projection for the dashboard: "if maintenance of this component is deferred N days, what do
 * the models predict for each of those days?". Pure computation over a twin and a model scorer: the
 * twin's feature state is copied, synthetic future samples continue each sensor's current trend, and the
 * real feature engine, anomaly scorer and model bundle turn them into one prediction per day.
 */
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/index.ts';
import { DEFAULT_BASELINES, scoreAnomaly } from '../../lambdas/core/anomaly/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import type { FeatureState } from '../../lambdas/core/features/index.ts';
import { featureLayout, featureVector, updateFeatureState } from '../../lambdas/core/features/index.ts';
import type { RowScorer } from '../../lambdas/core/pipeline.ts';
import type { FeatureRow, Twin } from '../../lambdas/core/twin/twin.ts';
import type { WhatIfPoint, WhatIfResult } from './source.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Longest deferral the dashboard projects; beyond it a linear trend says little. */
export const MAX_DEFER_DAYS = 90;

/** The what-if cannot be computed for this input (unknown component, no telemetry yet, bad days). */
export class WhatIfInputError extends Error {
  override readonly name: string = 'WhatIfInputError';
}

export interface ProjectWhatIfInput {
  readonly twin: Twin;
  readonly model: AssetModel;
  /** The model scorer, normally `createBundleScorer(readBundle())`. */
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
}

/** Per featurised sensor: where the projected line starts and how fast it moves per clock unit. */
interface Trend {
  readonly sensor: string;
  readonly start: number;
  readonly perUnit: number;
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

/**
 * Projects the asset's predictions over `deferDays` days of deferred maintenance.
 *
 * Method: the twin's feature state and anomaly state are copied (the twin is not modified). Each
 * featurised sensor continues on a straight line with the slope of its long rolling window (as the
 * feature engine computes it), starting from its short-window mean moved forward by half that window;
 * readings are clamped to the sensor's valid range and carry no noise (so window std/min/max shrink as
 * the windows fill with projected samples: see docs/dashboard.md for what that does to the models). Sensors without features keep
 * their latest reading. One synthetic sample per clock step (the asset's observed sampling interval for
 * time clocks, one cycle for cycle clocks) is folded into the copied feature state, so rolling windows,
 * `samples_seen`, `op_age` and every `since_maint_*` keep growing (no maintenance happens). At the end of
 * each day the feature vector is scored by `scorer`; day 0 scores the current state.
 * @throws WhatIfInputError for an unknown component, a deferral outside 1..MAX_DEFER_DAYS, or a twin
 *   without telemetry.
 */
export function projectWhatIf(input: ProjectWhatIfInput): WhatIfResult {
  const { twin, model, component, deferDays } = input;
  if (!(component in model.components)) {
    throw new WhatIfInputError(
      `unknown component "${component}" for model ${model.id}; known: ${Object.keys(model.components).join(', ')}`,
    );
  }
  if (!Number.isInteger(deferDays) || deferDays < 1 || deferDays > MAX_DEFER_DAYS) {
    throw new WhatIfInputError(`deferDays must be a whole number from 1 to ${MAX_DEFER_DAYS}, got ${deferDays}`);
  }
  if (twin.modelId !== model.id) {
    throw new WhatIfInputError(`twin ${twin.assetId} is a ${twin.modelId}, not a ${model.id}`);
  }
  const now = twin.lastT;
  if (now === null || twin.latest === null || twin.samples === 0) {
    throw new WhatIfInputError(`asset ${twin.assetId} has no telemetry yet: nothing to project from`);
  }
  const baseline = input.baseline ?? DEFAULT_BASELINES[model.id];
  if (!baseline) throw new WhatIfInputError(`no anomaly baseline for model ${model.id}`);
  const hoursPerCycle = input.hoursPerCycle ?? 2;
  if (!(Number.isFinite(hoursPerCycle) && hoursPerCycle > 0)) {
    throw new WhatIfInputError(`hoursPerCycle must be a positive number, got ${hoursPerCycle}`);
  }

  const step = stepOf(input, twin);
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
  const trends = trendsOf(model, layout, current, twin.latest.readings);
  const held: Record<string, number> = {};
  for (const [sensor, value] of Object.entries(twin.latest.readings)) {
    if (!layout.sensors.includes(sensor)) held[sensor] = value;
  }

  const rows: FeatureRow[] = [
    { seq: twin.lastSeq, ts: twin.latest.ts, t: now, vector: current, anomaly: emptyAnomaly() },
  ];
  let previousAnomaly = twin.lastAnomaly;
  let k = 0;
  for (let day = 1; day <= deferDays; day++) {
    // Rounded so that fractional steps per day (e.g. 7-minute sampling) do not drift over the horizon.
    const until = Math.round(day * stepsPerDay);
    while (k < until) {
      k += 1;
      const t = now + k * step;
      const readings: Record<string, number> = { ...held };
      for (const tr of trends) {
        const x = tr.start + tr.perUnit * (t - now);
        readings[tr.sensor] = x < tr.min ? tr.min : x > tr.max ? tr.max : x;
      }
      updateFeatureState(features, model, t, readings);
      const anomaly = scoreAnomaly(baseline, anomalyState, readings);
      if (k === until) {
        const vector = featureVector(features, model, t, ctx(previousAnomaly));
        rows.push({ seq: twin.lastSeq + k, ts: twin.latest.ts + k * msPerStep, t, vector, anomaly });
      }
      previousAnomaly = anomaly.score;
    }
  }

  const predictions = input.scorer(model, twin, rows);
  const points: WhatIfPoint[] = rows.map((_, day) => {
    const p = predictions[day] ?? null;
    return {
      day,
      failureProbability: p?.failureProbability ?? null,
      rul: p?.rul ?? null,
      componentFailure: p?.componentFailure?.[component] ?? null,
    };
  });
  return { assetId: twin.assetId, component, deferDays, method: methodText(model, step, hoursPerCycle, component), points };
}

function emptyAnomaly(): FeatureRow['anomaly'] {
  return { score: 0, contributions: {}, sensorScores: {} };
}

function trendsOf(
  model: AssetModel,
  layout: ReturnType<typeof featureLayout>,
  current: Float64Array,
  latest: Readonly<Record<string, number>>,
): Trend[] {
  const index = new Map(layout.names.map((n, i) => [n, i]));
  const short = layout.windows.find((w) => w.key === 'short')!;
  const long = layout.windows.find((w) => w.key === 'long')!;
  const out: Trend[] = [];
  for (const sensor of layout.sensors) {
    const spec = model.sensors[sensor]!;
    const slope = current[index.get(`${sensor}_slope_${long.label}`)!]!;
    const mean = current[index.get(`${sensor}_mean_${short.label}`)!]!;
    const last = latest[sensor];
    // Slopes are reported per hour (time) or per cycle; the projection moves in clock units.
    const perUnit = Number.isFinite(slope) ? slope / layout.rateScale : 0;
    // The short-window mean is less noisy than the last reading; it sits about half a window back.
    const start = Number.isFinite(mean) ? mean + perUnit * (short.length / 2) : last;
    if (start === undefined || !Number.isFinite(start)) continue;
    out.push({ sensor, start, perUnit, min: spec.min, max: spec.max });
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
    `short-window mean, without noise and within its valid range; ${cadence} is fed into a copy of the ` +
    `asset's feature state, with no maintenance, so since_maint_${component} and operating age keep ` +
    `growing. Each day's feature vector is scored by the model bundle (failure probability, RUL, ` +
    `${component} failure where the bundle has a component model). A linear extrapolation: it does not ` +
    `know about wear acceleration, load changes or repairs.`
  );
}
