/**
 * Streaming feature engine: a bounded, plain-JSON state per asset, updated with each clean sample, from
 * which the feature vector of the twin and the ML models is read. Training and serving both go through
 * this file, so the features cannot drift between them. Semantics are specified in docs/features.md;
 * `batch.ts` recomputes them from the full sample list and the property tests hold the two together.
 */
import type { AssetModel } from '../catalog/index.ts';
import {
  addEventCount,
  checkEventCountState,
  createEventCountState,
  type EventCountState,
  eventCountStateBytes,
  writeEventCounts,
} from './events.ts';
import {
  bucketIndex,
  type FeatureLayout,
  featureLayout,
  LAST_SIZE,
  SENSOR_STATS,
  SLOT_HEADER,
  type WindowLayout,
} from './layout.ts';
import { addHistory, createHistory, HISTORY_SIZE, resetHistory, sensorsReset, writeHistory } from './history.ts';

/**
 * Bump when any feature's meaning, order or unit changes, or when the state layout changes. Model
 * manifests record it; a state written by another version is refused rather than misread.
 */
export const FEATURE_ENGINE_VERSION = 'features-2';

// Per-sensor loops read module-local copies of the layout constants: some loaders (tsx's CommonJS
// interop, which the benchmark runs under) turn each read of an imported binding into a getter call.
const LAST = LAST_SIZE;
const HEADER = SLOT_HEADER;
const STATS = SENSOR_STATS;

/**
 * Per-asset feature state. Plain JSON (numbers, strings, arrays): it survives
 * `JSON.parse(JSON.stringify(state))` unchanged and is stored in the twin item. Opaque to callers.
 */
export interface FeatureState {
  /** `FEATURE_ENGINE_VERSION` that wrote it. */
  v: string;
  /** Asset model id. */
  m: string;
  /** Samples accepted so far (late samples are not counted). */
  n: number;
  /** Per featurised sensor `[known, tLatest, vLatest, tLag, vLag]`; known = how many of the two are set. */
  l: number[];
  /** Per ring, the index of the newest bucket seen (meaningless while `n` is 0). */
  h: number[];
  /** Per ring, the slots back to back; bucket `i` lives in slot `i mod buckets`. */
  r: number[][];
  /** Device event counts (`events.ts`). */
  e: EventCountState;
  /** Whole-history block, `HISTORY_SIZE` numbers per featurised sensor (see history.ts). */
  w: number[];
}

export interface FeatureContext {
  /** Anomaly score of the previous sample, `null` when there is none. */
  readonly previousAnomaly: number | null;
  /** Component → t of its last maintenance (clock units), `null` = never. */
  readonly lastMaintenance: Readonly<Record<string, number | null>>;
  /** t of the asset's first sample (operating age = now − firstSeen), `null` when unknown. */
  readonly firstSeen: number | null;
  /** Model and asset attributes merged; the model's numeric ones become features. */
  readonly attributes: Readonly<Record<string, string | number>>;
}

/** A sample the engine cannot use: non-finite time or reading, or a fractional cycle. */
export class FeatureInputError extends Error {
  constructor(
    readonly modelId: string,
    reason: string,
  ) {
    super(`feature input for model "${modelId}" rejected: ${reason}`);
    this.name = 'FeatureInputError';
  }
}

/** A state that was not written by this engine version for this model (or was damaged). */
export class FeatureStateMismatchError extends Error {
  constructor(
    readonly modelId: string,
    reason: string,
  ) {
    super(`feature state cannot be used with model "${modelId}": ${reason}`);
    this.name = 'FeatureStateMismatchError';
  }
}

/** A fresh, empty state for an asset of `model`. */
export function createFeatureState(model: AssetModel): FeatureState {
  const layout = featureLayout(model);
  return {
    v: FEATURE_ENGINE_VERSION,
    m: model.id,
    n: 0,
    l: new Array<number>(LAST_SIZE * layout.sensors.length).fill(0),
    h: layout.rings.map(() => 0),
    r: layout.rings.map((ring) => new Array<number>(ring.buckets * layout.slotSize).fill(0)),
    e: createEventCountState(model),
    w: createHistory(layout.sensors.length),
  };
}

function checkState(state: FeatureState, layout: FeatureLayout): void {
  if (state.v !== FEATURE_ENGINE_VERSION) {
    throw new FeatureStateMismatchError(
      layout.modelId,
      `written by engine ${String(state.v)}, this is ${FEATURE_ENGINE_VERSION}; rebuild it from telemetry`,
    );
  }
  if (state.m !== layout.modelId) {
    throw new FeatureStateMismatchError(layout.modelId, `it belongs to model "${String(state.m)}"`);
  }
  const rings = layout.rings;
  let ok =
    Array.isArray(state.l) &&
    state.l.length === LAST_SIZE * layout.sensors.length &&
    Array.isArray(state.h) &&
    state.h.length === rings.length &&
    Array.isArray(state.r) &&
    state.r.length === rings.length &&
    Array.isArray(state.w) &&
    state.w.length === HISTORY_SIZE * layout.sensors.length;
  for (let r = 0; ok && r < rings.length; r++) {
    const d = state.r[r];
    ok = Array.isArray(d) && d.length === rings[r]!.buckets * layout.slotSize;
  }
  if (!ok) throw new FeatureStateMismatchError(layout.modelId, 'array sizes do not match the layout');
}

/** The event-count part of the state; checked where it is read or written. */
function checkEvents(state: FeatureState, model: AssetModel): void {
  try {
    checkEventCountState(state.e, model);
  } catch (err) {
    throw new FeatureStateMismatchError(model.id, (err as Error).message);
  }
}

function slotOf(index: number, buckets: number): number {
  const m = index % buckets;
  return m < 0 ? m + buckets : m;
}

/**
 * Start of the oldest bucket still retained by any ring. Samples before it are late: no window can
 * contain them any more, so the engine ignores them (upstream screening quarantines them as late).
 */
function retainedFrom(state: FeatureState, layout: FeatureLayout): number {
  let from = Number.POSITIVE_INFINITY;
  const rings = layout.rings;
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r]!;
    const start = (state.h[r]! - ring.buckets + 1) * ring.width;
    if (start < from) from = start;
  }
  return from;
}

/**
 * Adds one clean sample. Samples may arrive out of order, share a t, or miss sensors; readings of
 * sensors that are not featurised are ignored. A sample older than every retained bucket is ignored
 * (see {@link retainedFrom}). Mutates and returns `state`; on error the state is left untouched.
 * @throws FeatureInputError on a non-finite t or reading, or a fractional t on a per-cycle layout.
 * @throws FeatureStateMismatchError when `state` was written for another model or engine version.
 */
export function updateFeatureState(
  state: FeatureState,
  model: AssetModel,
  t: number,
  readings: Readonly<Record<string, number>>,
): FeatureState {
  const layout = featureLayout(model);
  checkState(state, layout);
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new FeatureInputError(model.id, `t must be a finite number, got ${String(t)}`);
  }
  const exact = layout.mode === 'exact';
  if (exact && !Number.isInteger(t)) {
    throw new FeatureInputError(model.id, `t must be a whole cycle number, got ${t}`);
  }
  const sensors = layout.sensors;
  for (let s = 0; s < sensors.length; s++) {
    const x = readings[sensors[s]!];
    if (x !== undefined && (typeof x !== 'number' || !Number.isFinite(x))) {
      throw new FeatureInputError(
        model.id,
        `reading ${sensors[s]} must be a finite number, got ${String(x)}`,
      );
    }
  }
  const first = state.n === 0;
  if (!first && t < retainedFrom(state, layout)) return state;
  // -0 would compare equal to 0 yet serialise differently; normalising keeps ties order-independent.
  const tt = t + 0;
  state.n += 1;
  updateLast(state.l, sensors, tt, readings);
  addHistory(state.w, sensors, tt, readings);

  const rings = layout.rings;
  const slotSize = layout.slotSize;
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r]!;
    const d = state.r[r]!;
    const idx = bucketIndex(tt, ring.width);
    const head = state.h[r]!;
    if (first) {
      state.h[r] = idx;
    } else if (idx > head) {
      const clear = Math.min(idx - head, ring.buckets);
      for (let i = 1; i <= clear; i++) {
        const o = slotOf(head + i, ring.buckets) * slotSize;
        d.fill(0, o, o + slotSize);
      }
      state.h[r] = idx;
    } else if (idx <= head - ring.buckets) {
      continue;
    }
    const o = slotOf(idx, ring.buckets) * slotSize;
    if (exact) addExact(d, o, sensors, readings);
    else addBucket(d, o, tt - idx * ring.width, sensors, readings);
  }
  return state;
}

/**
 * Latest = the reading at the greatest t; lag = the reading at the greatest t strictly before it. Ties
 * at one t keep the greater value, so the result does not depend on arrival order.
 */
function updateLast(
  l: number[],
  sensors: readonly string[],
  t: number,
  readings: Readonly<Record<string, number>>,
) {
  for (let s = 0; s < sensors.length; s++) {
    const raw = readings[sensors[s]!];
    if (raw === undefined) continue;
    const x = raw + 0;
    const o = s * LAST;
    const known = l[o]!;
    if (known === 0) {
      l[o] = 1;
      l[o + 1] = t;
      l[o + 2] = x;
      continue;
    }
    const tLatest = l[o + 1]!;
    if (t > tLatest) {
      l[o + 3] = tLatest;
      l[o + 4] = l[o + 2]!;
      l[o + 1] = t;
      l[o + 2] = x;
      l[o] = 2;
    } else if (t === tLatest) {
      if (x > l[o + 2]!) l[o + 2] = x;
    } else if (known === 1 || t > l[o + 3]! || (t === l[o + 3]! && x > l[o + 4]!)) {
      l[o + 3] = t;
      l[o + 4] = x;
      l[o] = 2;
    }
  }
}

/** Exact slot: `[presentMask, v0, v1, …]`; two samples of one cycle keep the greater value. */
function addExact(
  d: number[],
  o: number,
  sensors: readonly string[],
  readings: Readonly<Record<string, number>>,
) {
  let mask = d[o]!;
  for (let s = 0; s < sensors.length; s++) {
    const raw = readings[sensors[s]!];
    if (raw === undefined) continue;
    const x = raw + 0;
    const bit = 1 << s;
    const p = o + 1 + s;
    if ((mask & bit) === 0) {
      mask |= bit;
      d[p] = x;
    } else if (x > d[p]!) {
      d[p] = x;
    }
  }
  d[o] = mask;
}

/**
 * Bucket slot: `[samples, mean t offset in bucket, then per sensor n, mean, M2, min, max]`. Welford
 * updates keep the variance accurate for large values with small spread (no sum of squares). While n
 * is 1, min and max equal the mean and are stored as 0, which keeps single-sample buckets short in JSON.
 */
function addBucket(
  d: number[],
  o: number,
  offset: number,
  sensors: readonly string[],
  readings: Readonly<Record<string, number>>,
) {
  const count = d[o]! + 1;
  d[o] = count;
  d[o + 1] = d[o + 1]! + (offset - d[o + 1]!) / count;
  for (let s = 0; s < sensors.length; s++) {
    const raw = readings[sensors[s]!];
    if (raw === undefined) continue;
    const x = raw + 0;
    const p = o + HEADER + s * STATS;
    const n0 = d[p]!;
    if (n0 === 0) {
      d[p] = 1;
      d[p + 1] = x;
      d[p + 2] = 0;
      d[p + 3] = 0;
      d[p + 4] = 0;
      continue;
    }
    const mean0 = d[p + 1]!;
    const lo = n0 === 1 ? mean0 : d[p + 3]!;
    const hi = n0 === 1 ? mean0 : d[p + 4]!;
    const n1 = n0 + 1;
    const delta = x - mean0;
    const mean1 = mean0 + delta / n1;
    d[p] = n1;
    d[p + 1] = mean1;
    d[p + 2] = d[p + 2]! + delta * (x - mean1);
    d[p + 3] = Math.min(x, lo);
    d[p + 4] = Math.max(x, hi);
  }
}

/**
 * Counts one device event of `code` at clock time `t` (see `events.ts`); an event older than every
 * retained bucket is not counted. Mutates and returns `state`; on error the state is left untouched.
 * @throws EventFeatureInputError on a non-finite t or a fractional t on a per-cycle layout.
 * @throws FeatureStateMismatchError when `state` was written for another model or engine version.
 */
export function updateFeatureEvents(state: FeatureState, model: AssetModel, t: number, code: string): FeatureState {
  checkState(state, featureLayout(model));
  checkEvents(state, model);
  addEventCount(state.e, model, t, code);
  return state;
}

/** Feature names in vector order (the model input order); see docs/features.md. */
export function featureNames(model: AssetModel): readonly string[] {
  return featureLayout(model).names;
}

/**
 * The feature vector at `now` (normally the t of the latest sample), written into `out` when given.
 * NaN where a feature is undefined: no reading yet, std of fewer than 2 values, slope of fewer than 2
 * buckets, never-maintained components, unknown first-seen time.
 * @throws FeatureStateMismatchError when `state` was written for another model or engine version.
 */
export function featureVector(
  state: FeatureState,
  model: AssetModel,
  now: number,
  ctx: FeatureContext,
  out?: Float64Array,
): Float64Array {
  const layout = featureLayout(model);
  checkState(state, layout);
  const size = layout.names.length;
  if (out !== undefined && out.length !== size) {
    throw new RangeError(`out must have length ${size} for model "${model.id}", got ${out.length}`);
  }
  const v = out ?? new Float64Array(size);
  const sensors = layout.sensors;
  const windows = layout.windows;
  const empty = state.n === 0;
  let k = 0;
  for (let s = 0; s < sensors.length; s++) {
    const o = s * LAST_SIZE;
    const known = state.l[o]!;
    v[k++] = known >= 1 ? state.l[o + 2]! : Number.NaN;
    v[k++] = known >= 2 ? state.l[o + 4]! : Number.NaN;
    for (let w = 0; w < windows.length; w++) {
      if (empty) v.fill(Number.NaN, k, k + 5);
      else if (layout.mode === 'exact') exactWindow(state, layout, windows[w]!, s, now, v, k);
      else bucketWindow(state, layout, windows[w]!, s, now, v, k);
      k += 5;
    }
  }
  checkEvents(state, model);
  k = writeHistory(state.w, sensors.length, layout.rateScale, v, k);
  k = writeContext(layout, model, now, ctx, state.n, v, k);
  writeEventCounts(state.e, model, now, v, k);
  return v;
}

/**
 * Restarts the whole-history features of the sensors watched by the replaced `components` (all
 * sensors for `'all'`, a whole-asset replacement) at `t`: a new part starts a new wear trend. The
 * twin calls it when it applies a replacement; windows and latest values are left alone.
 * @throws FeatureStateMismatchError when `state` was written for another model or engine version.
 */
export function restartFeatureHistory(
  state: FeatureState,
  model: AssetModel,
  t: number,
  components: readonly string[] | 'all',
): FeatureState {
  const layout = featureLayout(model);
  checkState(state, layout);
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new FeatureInputError(model.id, `replacement t must be a finite number, got ${String(t)}`);
  }
  resetHistory(state.w, sensorsReset(model, layout.sensors, components), t);
  return state;
}

/** Writes the non-window features; shared with the batch reference so both use one definition. */
export function writeContext(
  layout: FeatureLayout,
  model: AssetModel,
  now: number,
  ctx: FeatureContext,
  samples: number,
  v: Float64Array,
  start: number,
): number {
  let k = start;
  v[k++] = ctx.previousAnomaly ?? Number.NaN;
  for (const c of layout.components) {
    const at = ctx.lastMaintenance[c];
    v[k++] = at === null || at === undefined ? Number.NaN : (now - at) / layout.ageScale;
  }
  v[k++] = ctx.firstSeen === null ? Number.NaN : (now - ctx.firstSeen) / layout.ageScale;
  v[k++] = samples;
  for (const a of layout.attributes) {
    const value = ctx.attributes[a] ?? model.attributes[a];
    v[k++] = typeof value === 'number' ? value : Number.NaN;
  }
  return k;
}

function exactWindow(
  state: FeatureState,
  layout: FeatureLayout,
  w: WindowLayout,
  s: number,
  now: number,
  v: Float64Array,
  k: number,
) {
  const ring = layout.rings[w.ring]!;
  const d = state.r[w.ring]!;
  const head = state.h[w.ring]!;
  const nowIdx = bucketIndex(now, ring.width);
  const lo = Math.max(nowIdx - w.buckets + 1, head - ring.buckets + 1);
  const hi = Math.min(nowIdx, head);
  const bit = 1 << s;
  const slotSize = layout.slotSize;
  let n = 0;
  let sum = 0;
  let sumX = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = lo; i <= hi; i++) {
    const o = slotOf(i, ring.buckets) * slotSize;
    if ((d[o]! & bit) === 0) continue;
    const x = d[o + 1 + s]!;
    n++;
    sum += x;
    sumX += i - nowIdx;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (n === 0) {
    v.fill(Number.NaN, k, k + 5);
    return;
  }
  const mean = sum / n;
  const xbar = sumX / n;
  let ss = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = lo; i <= hi; i++) {
    const o = slotOf(i, ring.buckets) * slotSize;
    if ((d[o]! & bit) === 0) continue;
    const dy = d[o + 1 + s]! - mean;
    const dx = i - nowIdx - xbar;
    ss += dy * dy;
    sxx += dx * dx;
    sxy += dx * dy;
  }
  v[k] = mean;
  v[k + 1] = n >= 2 ? Math.sqrt(ss / (n - 1)) : Number.NaN;
  v[k + 2] = min;
  v[k + 3] = max;
  v[k + 4] = n >= 2 ? (sxy / sxx) * layout.rateScale : Number.NaN;
}

function bucketWindow(
  state: FeatureState,
  layout: FeatureLayout,
  w: WindowLayout,
  s: number,
  now: number,
  v: Float64Array,
  k: number,
) {
  const ring = layout.rings[w.ring]!;
  const d = state.r[w.ring]!;
  const head = state.h[w.ring]!;
  const width = ring.width;
  const nowIdx = bucketIndex(now, width);
  const lo = Math.max(nowIdx - w.buckets + 1, head - ring.buckets + 1);
  const hi = Math.min(nowIdx, head);
  const slotSize = layout.slotSize;
  const sensorAt = SLOT_HEADER + s * SENSOR_STATS;
  let n = 0;
  let buckets = 0;
  let sum = 0;
  let sumC = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = lo; i <= hi; i++) {
    const o = slotOf(i, ring.buckets) * slotSize;
    const p = o + sensorAt;
    const ni = d[p]!;
    if (ni === 0) continue;
    const mi = d[p + 1]!;
    const lo_ = ni === 1 ? mi : d[p + 3]!;
    const hi_ = ni === 1 ? mi : d[p + 4]!;
    n += ni;
    buckets++;
    sum += ni * mi;
    // Centroids relative to the bucket of `now` keep epoch-ms magnitudes out of the regression.
    sumC += ni * ((i - nowIdx) * width + d[o + 1]!);
    if (lo_ < min) min = lo_;
    if (hi_ > max) max = hi_;
  }
  if (n === 0) {
    v.fill(Number.NaN, k, k + 5);
    return;
  }
  const mean = sum / n;
  const cbar = sumC / n;
  let m2 = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = lo; i <= hi; i++) {
    const o = slotOf(i, ring.buckets) * slotSize;
    const p = o + sensorAt;
    const ni = d[p]!;
    if (ni === 0) continue;
    const dy = d[p + 1]! - mean;
    const dc = (i - nowIdx) * width + d[o + 1]! - cbar;
    m2 += d[p + 2]! + ni * dy * dy;
    sxx += ni * dc * dc;
    sxy += ni * dc * dy;
  }
  v[k] = mean;
  v[k + 1] = n >= 2 ? Math.sqrt(m2 / (n - 1)) : Number.NaN;
  v[k + 2] = min;
  v[k + 3] = max;
  v[k + 4] = buckets >= 2 ? (sxy / sxx) * layout.rateScale : Number.NaN;
}

/** Longest JSON text of any finite double (`-0.0000012345678901234567`). */
const MAX_FLOAT_CHARS = 25;
/** Longest JSON text of a safe integer, sign included. */
const MAX_INT_CHARS = 17;
/** Longest JSON text of a 30-bit presence mask. */
const MAX_MASK_CHARS = 10;

function arrayChars(count: number, each: number): number {
  return 2 + Math.max(0, count - 1) + count * each;
}

/**
 * Upper bound of `JSON.stringify(state).length` for `model`, valid for any finite readings and times:
 * every double is counted at its longest possible text. Typical states are far smaller (see
 * docs/features.md for measured sizes).
 */
export function featureStateBytes(model: AssetModel): number {
  const layout = featureLayout(model);
  const skeleton = JSON.stringify({
    v: FEATURE_ENGINE_VERSION,
    m: model.id,
    n: 0,
    l: [],
    h: [],
    r: layout.rings.map(() => []),
    w: [],
  }).length;
  const sensors = layout.sensors.length;
  // Subtract the placeholders the skeleton already counts: "0" for n and "[]" per array.
  let total = skeleton - 1 + MAX_INT_CHARS;
  total += arrayChars(sensors * LAST_SIZE, 0) - 2 + sensors * (1 + 4 * MAX_FLOAT_CHARS);
  total += arrayChars(layout.rings.length, MAX_INT_CHARS) - 2;
  const perSlot =
    layout.mode === 'exact'
      ? MAX_MASK_CHARS + sensors * MAX_FLOAT_CHARS
      : MAX_INT_CHARS + MAX_FLOAT_CHARS + sensors * (MAX_INT_CHARS + 4 * MAX_FLOAT_CHARS);
  for (const ring of layout.rings) {
    const numbers = ring.buckets * layout.slotSize;
    total += arrayChars(numbers, 0) - 2 + ring.buckets * perSlot;
  }
  total += ',"e":'.length + eventCountStateBytes(model);
  // Whole history: n is an integer, the other six numbers any double.
  total += arrayChars(sensors * HISTORY_SIZE, 0) - 2 + sensors * (MAX_INT_CHARS + 6 * MAX_FLOAT_CHARS);
  return total;
}
