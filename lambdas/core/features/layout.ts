/**
 * How a model's feature state is laid out: which bucket rings exist, which window reads which ring, the
 * feature names and their order. Derived once per asset model and cached, so the hot path never
 * re-derives it.
 */
import type { AssetModel } from '../catalog/index.ts';
import { eventCodes, featurizedSensors } from '../catalog/index.ts';
import { historyNames } from './history.ts';

export const WINDOW_KEYS = ['short', 'medium', 'long'] as const;
export type WindowKey = (typeof WINDOW_KEYS)[number];

/** Statistics computed per sensor and window, in vector order. */
export const WINDOW_STATS = ['mean', 'std', 'min', 'max', 'slope'] as const;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Buckets per window for bucketed layouts. A window of K buckets spans between (K-1)/K and 1 of its
 * nominal length (the newest bucket is partial), so more buckets mean sharper edges but a bigger state.
 * These counts keep the pump (6 sensors) near 8 KB of JSON with realistic readings.
 */
export const BUCKETS_PER_WINDOW: Readonly<Record<WindowKey, number>> = { short: 6, medium: 6, long: 7 };

/** Cycle-clock models whose long window is at most this many cycles keep one slot per cycle. */
export const MAX_EXACT_CYCLES = 64;

/** Exact layouts keep a bitmask of present sensors per slot: at most 30 bits stay safe with `|` and `&`. */
const MAX_EXACT_SENSORS = 30;

export interface RingLayout {
  /** Width of one bucket in clock units. */
  readonly width: number;
  /** Number of buckets retained. */
  readonly buckets: number;
}

export interface WindowLayout {
  readonly key: WindowKey;
  /** Nominal length in clock units, from the catalog. */
  readonly length: number;
  /** Name suffix, e.g. `24h`, `7d`, `30c`. */
  readonly label: string;
  readonly ring: number;
  /** Buckets of the ring that form the window, the newest (the one holding `now`) included. */
  readonly buckets: number;
}

export interface FeatureLayout {
  readonly modelId: string;
  /**
   * `exact`: one slot per cycle holding one value per sensor (cycle clocks with short windows).
   * `bucket`: per bucket count, mean, M2, min and max per sensor (Welford/Chan), for time clocks.
   */
  readonly mode: 'exact' | 'bucket';
  readonly sensors: readonly string[];
  readonly components: readonly string[];
  /** Numeric model attributes, the ones that become features. */
  readonly attributes: readonly string[];
  readonly rings: readonly RingLayout[];
  readonly windows: readonly WindowLayout[];
  /** Numbers per ring slot. */
  readonly slotSize: number;
  /** Multiplier from "per clock unit" to the unit features report (per hour for time clocks). */
  readonly rateScale: number;
  /** Divisor from clock units to the unit ages report (hours for time clocks). */
  readonly ageScale: number;
  readonly names: readonly string[];
}

/** Numbers kept per sensor in the latest/lag block: [known, tLatest, vLatest, tLag, vLag]. */
export const LAST_SIZE = 5;
/** Numbers per sensor in a bucket slot: [n, mean, M2, min, max]. */
export const SENSOR_STATS = 5;
/** Numbers shared by all sensors at the head of a bucket slot: [samples, mean offset of t in bucket]. */
export const SLOT_HEADER = 2;

export class FeatureLayoutError extends Error {
  constructor(
    readonly modelId: string,
    reason: string,
  ) {
    super(`asset model "${modelId}" cannot be featurised: ${reason}`);
    this.name = 'FeatureLayoutError';
  }
}

function windowLabel(length: number, clock: AssetModel['clock']): string {
  if (clock === 'cycle') return `${length}c`;
  if (length % DAY === 0 && length >= 2 * DAY) return `${length / DAY}d`;
  if (length % HOUR === 0) return `${length / HOUR}h`;
  if (length % MINUTE === 0) return `${length / MINUTE}m`;
  return `${length}ms`;
}

function buildLayout(model: AssetModel): FeatureLayout {
  const sensors = featurizedSensors(model);
  const components = Object.keys(model.components);
  const attributes = Object.entries(model.attributes)
    .filter(([, v]) => typeof v === 'number')
    .map(([k]) => k);
  const lengths = WINDOW_KEYS.map((k) => model.windows[k]);
  for (const [i, len] of lengths.entries()) {
    if (!(Number.isFinite(len) && len > 0)) {
      throw new FeatureLayoutError(
        model.id,
        `window ${WINDOW_KEYS[i]} must be a positive number, got ${len}`,
      );
    }
  }
  const labels = WINDOW_KEYS.map((k) => windowLabel(model.windows[k], model.clock));
  if (new Set(labels).size !== labels.length) {
    throw new FeatureLayoutError(model.id, `windows must have distinct lengths, got ${labels.join(', ')}`);
  }

  const longest = Math.max(...lengths);
  const exact =
    model.clock === 'cycle' &&
    lengths.every((len) => Number.isInteger(len)) &&
    longest <= MAX_EXACT_CYCLES &&
    sensors.length <= MAX_EXACT_SENSORS;

  const rings: RingLayout[] = [];
  const windows: WindowLayout[] = [];
  for (const [i, key] of WINDOW_KEYS.entries()) {
    const length = lengths[i]!;
    const buckets = exact ? length : BUCKETS_PER_WINDOW[key];
    const width = exact ? 1 : length / buckets;
    let ring = rings.findIndex((r) => r.width === width);
    if (ring < 0) {
      rings.push({ width, buckets });
      ring = rings.length - 1;
    } else if (rings[ring]!.buckets < buckets) {
      rings[ring] = { width, buckets };
    }
    windows.push({ key, length, label: labels[i]!, ring, buckets });
  }

  const time = model.clock === 'time';
  const names: string[] = [];
  for (const s of sensors) {
    names.push(`${s}_last`, `${s}_lag`);
    for (const w of windows) for (const stat of WINDOW_STATS) names.push(`${s}_${stat}_${w.label}`);
  }
  names.push(...historyNames(sensors));
  names.push('anomaly_prev');
  const unit = time ? 'h' : 'c';
  for (const c of components) names.push(`since_maint_${c}_${unit}`);
  names.push(`op_age_${unit}`, 'samples_seen');
  for (const a of attributes) names.push(`attr_${a}`);
  names.push(...eventCountNames(model, windows));

  return {
    modelId: model.id,
    mode: exact ? 'exact' : 'bucket',
    sensors,
    components,
    attributes,
    rings,
    windows,
    slotSize: exact ? 1 + sensors.length : SLOT_HEADER + SENSOR_STATS * sensors.length,
    rateScale: time ? HOUR : 1,
    ageScale: time ? HOUR : 1,
    names: Object.freeze(names),
  };
}

/** Device event counts (`events.ts`): per known code, then `other` and `total`, per window. */
function eventCountNames(model: AssetModel, windows: readonly WindowLayout[]): string[] {
  const codes = eventCodes(model);
  for (const code of codes) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(code) || code === 'other' || code === 'total') {
      throw new FeatureLayoutError(model.id, `event code "${code}" cannot name a feature (identifiers, not other/total)`);
    }
  }
  const names: string[] = [];
  for (const code of [...codes, 'other', 'total']) for (const w of windows) names.push(`events_${code}_${w.label}`);
  return names;
}

const cache = new WeakMap<AssetModel, FeatureLayout>();

/** The layout of `model`, derived on first use and cached per model object. */
export function featureLayout(model: AssetModel): FeatureLayout {
  let layout = cache.get(model);
  if (!layout) {
    layout = buildLayout(model);
    cache.set(model, layout);
  }
  return layout;
}

/** Bucket index of time `t` in a ring of bucket width `width`: buckets are `[i·width, (i+1)·width)`. */
export function bucketIndex(t: number, width: number): number {
  return Math.floor(t / width);
}
