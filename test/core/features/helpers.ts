import fc from 'fast-check';
import type { AssetModel } from '../../../lambdas/core/catalog/index.ts';
import { CENTRIFUGAL_PUMP, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import type { FeatureContext } from '../../../lambdas/core/features/index.ts';
import { featureLayout } from '../../../lambdas/core/features/index.ts';

/** Time-clock model with windows of 12 s / 60 s / 7 min, so short streams cross every window edge. */
export const MINI_TIME: AssetModel = {
  id: 'mini-time',
  name: 'Mini time model',
  description: 'Test model with short windows.',
  clock: 'time',
  windows: { short: 12_000, medium: 60_000, long: 420_000 },
  components: { a: { description: 'A' }, b: { description: 'B' } },
  sensors: {
    big: { unit: 'rpm', description: 'large values, small spread', min: 7500, max: 9500, components: ['a'] },
    small: { unit: '-', description: 'small values', min: -1, max: 1, components: ['b'] },
    setpoint: { unit: '-', description: 'not featurised', min: 0, max: 1, components: [], featurize: false },
  },
  attributes: { size: 3, kind: 'mini' },
  downtimeCostPerHour: 1,
};

/** Cycle-clock model whose long window is too long for one slot per cycle, so it is bucketed. */
export const LONG_CYCLE: AssetModel = {
  ...MINI_TIME,
  id: 'long-cycle',
  clock: 'cycle',
  windows: { short: 12, medium: 60, long: 140 },
};

export const CTX: FeatureContext = {
  previousAnomaly: 0.25,
  lastMaintenance: {},
  firstSeen: null,
  attributes: {},
};

/** Random readings for `model`'s sensors, each possibly missing; `big` values cluster near 9000. */
export function readingsArb(model: AssetModel): fc.Arbitrary<Record<string, number>> {
  const entries = Object.entries(model.sensors).map(([name, spec]) => {
    const value =
      spec.max - spec.min > 1000
        ? fc.oneof(
            fc.double({ min: 9000 - 1, max: 9000 + 1, noNaN: true }),
            fc.double({ min: spec.min, max: spec.max, noNaN: true }),
          )
        : Math.ceil(spec.min) <= Math.floor(spec.max)
          ? fc.oneof(
              fc.double({ min: spec.min, max: spec.max, noNaN: true }),
              fc.integer({ min: Math.ceil(spec.min), max: Math.floor(spec.max) }),
            )
          : fc.double({ min: spec.min, max: spec.max, noNaN: true });
    return [name, fc.option(value, { freq: 5, nil: undefined })] as const;
  });
  return fc.record(Object.fromEntries(entries)).map((r) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v as number;
    return out;
  });
}

/**
 * Random sample sequences: out of order, repeated t values, gaps longer than the long window. `span`
 * is the time range in clock units; `base` shifts it (epoch ms for time clocks).
 */
export function samplesArb(model: AssetModel, span: number, base: number, maxLength = 80) {
  const t = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: span }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, Math.floor(span / 2), span) },
  );
  const sample = fc.record({ t: t.map((x) => base + x), readings: readingsArb(model) });
  return fc.array(sample, { minLength: 0, maxLength }).chain((samples) =>
    fc.oneof(
      fc.constant(samples),
      // Mostly increasing streams, as devices send them, with some local shuffling.
      fc.constant([...samples].sort((a, b) => a.t - b.t)),
    ),
  );
}

/** Magnitude of a sensor's valid range, the scale for absolute tolerances. */
function scales(model: AssetModel): Map<string, number> {
  return new Map(
    Object.entries(model.sensors).map(([name, spec]) => [
      name,
      Math.max(Math.abs(spec.min), Math.abs(spec.max)),
    ]),
  );
}

/**
 * Compares an incremental vector with the batch reference. Tolerances: relative 1e-9 on last, lag,
 * mean, min, max and context features; relative 1e-6 on std and slope, each with an absolute floor
 * of 1e-12 (mean), 1e-9 (std) or 1e-6 per narrowest bucket (slope) times the magnitude of the sensor's
 * valid range, for values that are zero up to rounding. NaN positions must be identical. Returns the first mismatch, or null.
 */
export function firstMismatch(
  model: AssetModel,
  incremental: Float64Array,
  batch: Float64Array,
): string | null {
  const layout = featureLayout(model);
  const scale = scales(model);
  const minWidth = Math.min(...layout.rings.map((r) => r.width));
  for (let i = 0; i < layout.names.length; i++) {
    const name = layout.names[i]!;
    const a = incremental[i]!;
    const b = batch[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) return `${name}: incremental ${a}, batch ${b}`;
      continue;
    }
    const sensor = layout.sensors.find((s) => name.startsWith(`${s}_`));
    const s = sensor ? scale.get(sensor)! : 1;
    let rel = 1e-9;
    let abs = 1e-12 * s;
    if (name.includes('_std_')) {
      rel = 1e-6;
      abs = 1e-9 * s;
    } else if (name.includes('_slope_')) {
      rel = 1e-6;
      abs = (1e-6 * s * layout.rateScale) / minWidth;
    }
    if (Math.abs(a - b) > rel * Math.max(Math.abs(a), Math.abs(b)) + abs) {
      return `${name}: incremental ${a}, batch ${b}`;
    }
  }
  return null;
}

export const MODELS_UNDER_TEST = [TURBOFAN, CENTRIFUGAL_PUMP, MINI_TIME, LONG_CYCLE] as const;
