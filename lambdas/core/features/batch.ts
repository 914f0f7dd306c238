/**
 * Reference implementation of the feature semantics, recomputed from the full sample list. It shares
 * only the layout (window lengths, bucket widths, names) and the non-window context features with the
 * streaming engine: the window statistics are computed here from the raw samples, in two passes, so
 * tests comparing both catch errors in the rings, the Welford merges and the eviction logic. Slow and
 * allocating by design: for tests and training sanity checks, never for the hot path.
 */
import type { AssetModel } from '../catalog/index.ts';
import { type FeatureContext, FeatureInputError, writeContext } from './engine.ts';
import { batchEventCounts, type FeatureEvent } from './events.ts';
import { historyStats, sensorsReset } from './history.ts';
import { bucketIndex, featureLayout } from './layout.ts';

export interface FeatureSample {
  readonly t: number;
  readonly readings: Readonly<Record<string, number>>;
}

/** A replacement applied before `samples[before]` arrived (see `restartFeatureHistory`). */
export interface FeatureReset {
  readonly before: number;
  readonly t: number;
  readonly components: readonly string[] | 'all';
}

/**
 * The feature vector at `now` computed from `samples`, given in arrival order (arrival order only
 * matters for late samples: one older than every bucket retained when it arrives is ignored, exactly
 * as the streaming engine does).
 * `events` are the device events in arrival order (their counts do not depend on the samples).
 * @throws FeatureInputError on the inputs `updateFeatureState` rejects.
 */
export function batchFeatureVector(
  model: AssetModel,
  samples: ReadonlyArray<FeatureSample>,
  now: number,
  ctx: FeatureContext,
  resets: readonly FeatureReset[] = [],
  events: ReadonlyArray<FeatureEvent> = [],
): Float64Array {
  const layout = featureLayout(model);
  const exact = layout.mode === 'exact';
  const rings = layout.rings;

  // Which samples the engine accepts: only lateness depends on arrival order.
  const accepted: FeatureSample[] = [];
  /** Arrival index of each accepted sample, to place it before or after each reset. */
  const arrival: number[] = [];
  let maxT = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const t = sample.t;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new FeatureInputError(model.id, `t must be a finite number, got ${String(t)}`);
    }
    if (exact && !Number.isInteger(t)) {
      throw new FeatureInputError(model.id, `t must be a whole cycle number, got ${t}`);
    }
    for (const name of layout.sensors) {
      const x = sample.readings[name];
      if (x !== undefined && (typeof x !== 'number' || !Number.isFinite(x))) {
        throw new FeatureInputError(model.id, `reading ${name} must be a finite number, got ${String(x)}`);
      }
    }
    if (accepted.length > 0) {
      const oldest = Math.min(
        ...rings.map((ring) => (bucketIndex(maxT, ring.width) - ring.buckets + 1) * ring.width),
      );
      if (t < oldest) continue;
    }
    accepted.push(sample);
    arrival.push(i);
    maxT = Math.max(maxT, t);
  }

  const out = new Float64Array(layout.names.length);
  let k = 0;
  for (const name of layout.sensors) {
    const points = accepted
      .filter((p) => p.readings[name] !== undefined)
      .map((p) => ({ t: p.t + 0, x: p.readings[name]! + 0 }));
    const [latest, lag] = latestAndLag(points);
    out[k++] = latest ?? Number.NaN;
    out[k++] = lag ?? Number.NaN;
    for (const w of layout.windows) {
      const ring = rings[w.ring]!;
      const head = bucketIndex(maxT, ring.width);
      const nowIdx = bucketIndex(now, ring.width);
      const lo = Math.max(nowIdx - w.buckets + 1, head - ring.buckets + 1);
      const hi = Math.min(nowIdx, head);
      const inWindow = (t: number) => {
        const i = bucketIndex(t, ring.width);
        return i >= lo && i <= hi;
      };
      const stats = exact
        ? exactStats(
            points.filter((p) => inWindow(p.t)),
            nowIdx,
          )
        : bucketStats(
            points.filter((p) => inWindow(p.t)),
            accepted.filter((p) => inWindow(p.t)).map((p) => p.t),
            ring.width,
            nowIdx,
          );
      out.set(stats, k);
      if (Number.isFinite(stats[4])) out[k + 4] = stats[4]! * layout.rateScale;
      k += 5;
    }
  }
  // Whole history: the accepted readings that arrived after the sensor's last reset, at or after its t.
  const resetMasks = resets.map((r) => sensorsReset(model, layout.sensors, r.components));
  for (const [s, name] of layout.sensors.entries()) {
    let lastReset: FeatureReset | undefined;
    resets.forEach((r, j) => {
      if (resetMasks[j]![s] && (lastReset === undefined || r.before >= lastReset.before)) lastReset = r;
    });
    const points = accepted
      .map((p, j) => ({ p, at: arrival[j]! }))
      .filter(({ p, at }) => p.readings[name] !== undefined && (!lastReset || (at >= lastReset.before && p.t >= lastReset.t)))
      .map(({ p }) => ({ t: p.t + 0, x: p.readings[name]! + 0 }));
    const [m, slope] = historyStats(points);
    out[k++] = m;
    out[k++] = Number.isNaN(slope) ? slope : slope * layout.rateScale;
  }
  k = writeContext(layout, model, now, ctx, accepted.length, out, k);
  out.set(batchEventCounts(model, events, now), k);
  return out;
}

/** Latest: the point with the greatest t (ties: greater value); lag: the same among points before it. */
function latestAndLag(
  points: ReadonlyArray<{ t: number; x: number }>,
): [number | undefined, number | undefined] {
  const sorted = [...points].sort((a, b) => a.t - b.t || a.x - b.x);
  const latest = sorted.at(-1);
  if (!latest) return [undefined, undefined];
  const before = sorted.filter((p) => p.t < latest.t).at(-1);
  return [latest.x, before?.x];
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Weighted least-squares slope of ys on xs; NaN with fewer than 2 points. */
function slope(xs: readonly number[], ys: readonly number[], ws: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const W = ws.reduce((a, b) => a + b, 0);
  const xbar = xs.reduce((a, x, i) => a + ws[i]! * x, 0) / W;
  const ybar = ys.reduce((a, y, i) => a + ws[i]! * y, 0) / W;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += ws[i]! * (xs[i]! - xbar) ** 2;
    sxy += ws[i]! * (xs[i]! - xbar) * (ys[i]! - ybar);
  }
  return sxy / sxx;
}

/** Per-cycle layout: one value per cycle (the greatest when a cycle repeats), OLS slope on cycle. */
function exactStats(points: ReadonlyArray<{ t: number; x: number }>, nowIdx: number): number[] {
  const byCycle = new Map<number, number>();
  for (const p of points) byCycle.set(p.t, Math.max(byCycle.get(p.t) ?? Number.NEGATIVE_INFINITY, p.x));
  const cycles = [...byCycle.keys()];
  const xs = [...byCycle.values()];
  if (xs.length === 0) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  return [
    mean(xs),
    sampleStd(xs),
    Math.min(...xs),
    Math.max(...xs),
    slope(
      cycles.map((c) => c - nowIdx),
      xs,
      xs.map(() => 1),
    ),
  ];
}

/**
 * Bucketed layout: mean, std, min, max over the raw values in the window; slope = count-weighted
 * regression of each bucket's mean on the bucket's time centroid (mean t of all its samples).
 */
function bucketStats(
  points: ReadonlyArray<{ t: number; x: number }>,
  allTimes: readonly number[],
  width: number,
  nowIdx: number,
): number[] {
  const xs = points.map((p) => p.x);
  if (xs.length === 0) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  const timesByBucket = new Map<number, number[]>();
  for (const t of allTimes) {
    const i = bucketIndex(t, width);
    timesByBucket.set(i, [...(timesByBucket.get(i) ?? []), t - i * width]);
  }
  const valuesByBucket = new Map<number, number[]>();
  for (const p of points) {
    const i = bucketIndex(p.t, width);
    valuesByBucket.set(i, [...(valuesByBucket.get(i) ?? []), p.x]);
  }
  const buckets = [...valuesByBucket.keys()];
  const centroids = buckets.map((i) => (i - nowIdx) * width + mean(timesByBucket.get(i)!));
  const means = buckets.map((i) => mean(valuesByBucket.get(i)!));
  const weights = buckets.map((i) => valuesByBucket.get(i)!.length);
  return [mean(xs), sampleStd(xs), Math.min(...xs), Math.max(...xs), slope(centroids, means, weights)];
}
