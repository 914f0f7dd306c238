import { describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  batchFeatureVector,
  createFeatureState,
  FEATURE_ENGINE_VERSION,
  type FeatureContext,
  FeatureInputError,
  FeatureStateMismatchError,
  featureNames,
  featureVector,
  updateFeatureState,
} from '../../../lambdas/core/features/index.ts';
import { CTX, MINI_TIME } from './helpers.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
const EPOCH = 1_735_689_600_000; // 2025-01-01T00:00:00Z, a multiple of every bucket width used here

function feature(model: Parameters<typeof featureNames>[0], vector: Float64Array, name: string): number {
  const i = featureNames(model).indexOf(name);
  if (i < 0) throw new Error(`no feature ${name}`);
  return vector[i]!;
}

describe('featureNames', () => {
  it('orders sensor features first, then context, with window labels in clock units', () => {
    // Arrange
    const pump = featureNames(CENTRIFUGAL_PUMP);
    const turbofan = featureNames(TURBOFAN);
    // Assert
    expect(pump.slice(0, 7)).toEqual([
      'temperature_last',
      'temperature_lag',
      'temperature_mean_1h',
      'temperature_std_1h',
      'temperature_min_1h',
      'temperature_max_1h',
      'temperature_slope_1h',
    ]);
    expect(pump).toContain('vibration_mean_24h');
    expect(pump).toContain('current_slope_7d');
    expect(pump.filter((n) => !n.startsWith('events_')).slice(-9)).toEqual([
      'anomaly_prev',
      'since_maint_impeller_h',
      'since_maint_bearing_h',
      'since_maint_seal_h',
      'since_maint_motor_h',
      'op_age_h',
      'samples_seen',
      'attr_ratedFlowM3h',
      'attr_ratedPowerKw',
    ]);
    expect(turbofan).toContain('T30_slope_30c');
    expect(turbofan).not.toContain('T2_last');
    expect(featureNames(INDUSTRIAL_MACHINE)).toContain('volt_std_3h');
    // 14 sensors × (2 + 3 windows × 5) + 14 × whole-history mean and slope + anomaly + 5 components
    // + age + samples + 1 numeric attribute + (3 event codes + other + total) × 3 windows
    expect(turbofan).toHaveLength(14 * 17 + 14 * 2 + 1 + 5 + 2 + 1 + 5 * 3);
    expect(turbofan.slice(14 * 17, 14 * 17 + 2)).toEqual(['T24_mean_all', 'T24_slope_all']);
    expect(new Set(pump).size).toBe(pump.length);
  });
});

describe('featureVector on a cycle clock', () => {
  it('computes window statistics over the last 5, 15 and 30 cycles exactly', () => {
    // Arrange: T30 = 1500 + 2·cycle, so every window has slope 2 per cycle.
    const state = createFeatureState(TURBOFAN);
    for (let c = 1; c <= 40; c++) updateFeatureState(state, TURBOFAN, c, { T30: 1500 + 2 * c });
    // Act
    const v = featureVector(state, TURBOFAN, 40, CTX);
    // Assert: cycles 36..40 → values 1572..1580
    expect(feature(TURBOFAN, v, 'T30_last')).toBe(1580);
    expect(feature(TURBOFAN, v, 'T30_lag')).toBe(1578);
    expect(feature(TURBOFAN, v, 'T30_mean_5c')).toBeCloseTo(1576, 10);
    expect(feature(TURBOFAN, v, 'T30_std_5c')).toBeCloseTo(2 * Math.sqrt(2.5), 10);
    expect(feature(TURBOFAN, v, 'T30_min_5c')).toBe(1572);
    expect(feature(TURBOFAN, v, 'T30_max_5c')).toBe(1580);
    expect(feature(TURBOFAN, v, 'T30_slope_5c')).toBeCloseTo(2, 10);
    // cycles 11..40 → values 1522..1580
    expect(feature(TURBOFAN, v, 'T30_mean_30c')).toBeCloseTo(1551, 10);
    expect(feature(TURBOFAN, v, 'T30_min_30c')).toBe(1522);
    expect(feature(TURBOFAN, v, 'T30_slope_30c')).toBeCloseTo(2, 10);
    expect(feature(TURBOFAN, v, 'samples_seen')).toBe(40);
    expect(Number.isNaN(feature(TURBOFAN, v, 'T24_mean_5c'))).toBe(true);
  });

  it('leaves std and slope undefined for a single value and everything undefined when empty', () => {
    // Arrange
    const empty = createFeatureState(TURBOFAN);
    const one = updateFeatureState(createFeatureState(TURBOFAN), TURBOFAN, 7, { Nc: 9000 });
    // Act
    const e = featureVector(empty, TURBOFAN, 7, CTX);
    const o = featureVector(one, TURBOFAN, 7, CTX);
    // Assert
    expect(Number.isNaN(feature(TURBOFAN, e, 'Nc_last'))).toBe(true);
    expect(Number.isNaN(feature(TURBOFAN, e, 'Nc_mean_30c'))).toBe(true);
    expect(feature(TURBOFAN, e, 'samples_seen')).toBe(0);
    expect(feature(TURBOFAN, o, 'Nc_mean_5c')).toBe(9000);
    expect(Number.isNaN(feature(TURBOFAN, o, 'Nc_std_5c'))).toBe(true);
    expect(Number.isNaN(feature(TURBOFAN, o, 'Nc_slope_5c'))).toBe(true);
    expect(Number.isNaN(feature(TURBOFAN, o, 'Nc_lag'))).toBe(true);
  });

  it('keeps the greater value when two samples share a cycle, whatever their order', () => {
    // Arrange
    const a = createFeatureState(TURBOFAN);
    const b = createFeatureState(TURBOFAN);
    const samples = [
      { t: 1, readings: { Nc: 9001 } },
      { t: 2, readings: { Nc: 9003 } },
      { t: 2, readings: { Nc: 9002 } },
    ];
    // Act
    for (const s of samples) updateFeatureState(a, TURBOFAN, s.t, s.readings);
    for (const s of [...samples].reverse()) updateFeatureState(b, TURBOFAN, s.t, s.readings);
    const va = featureVector(a, TURBOFAN, 2, CTX);
    // Assert
    expect(featureVector(b, TURBOFAN, 2, CTX)).toEqual(va);
    expect(feature(TURBOFAN, va, 'Nc_last')).toBe(9003);
    expect(feature(TURBOFAN, va, 'Nc_lag')).toBe(9001);
    expect(feature(TURBOFAN, va, 'Nc_mean_5c')).toBe(9002);
    expect(feature(TURBOFAN, va, 'samples_seen')).toBe(3);
  });

  it('takes lag from the previous sample by t, even when it arrives after the latest', () => {
    // Arrange
    const state = createFeatureState(TURBOFAN);
    // Act
    updateFeatureState(state, TURBOFAN, 10, { W31: 39 });
    updateFeatureState(state, TURBOFAN, 5, { W31: 38 });
    updateFeatureState(state, TURBOFAN, 8, { W31: 38.5 });
    updateFeatureState(state, TURBOFAN, 9, { T30: 1590 });
    const v = featureVector(state, TURBOFAN, 10, CTX);
    // Assert
    expect(feature(TURBOFAN, v, 'W31_last')).toBe(39);
    expect(feature(TURBOFAN, v, 'W31_lag')).toBe(38.5);
  });
});

describe('featureVector on a time clock', () => {
  it('reports slopes per hour and recovers a linear trend exactly from bucket centroids', () => {
    // Arrange: vibration rises 0.3 mm/s per hour, one sample per minute for 10 days.
    const state = createFeatureState(CENTRIFUGAL_PUMP);
    const samples: { t: number; readings: Record<string, number> }[] = [];
    for (let i = 0; i < 10 * 24 * 60; i++) {
      samples.push({ t: EPOCH + i * MINUTE + 7_000, readings: { vibration: 2 + (0.3 * i) / 60 } });
    }
    // Act
    for (const s of samples) updateFeatureState(state, CENTRIFUGAL_PUMP, s.t, s.readings);
    const now = samples.at(-1)!.t;
    const v = featureVector(state, CENTRIFUGAL_PUMP, now, CTX);
    // Assert
    for (const w of ['1h', '24h', '7d']) {
      expect(feature(CENTRIFUGAL_PUMP, v, `vibration_slope_${w}`)).toBeCloseTo(0.3, 9);
    }
    expect(feature(CENTRIFUGAL_PUMP, v, 'vibration_last')).toBeCloseTo(2 + (0.3 * (14_400 - 1)) / 60, 12);
  });

  it('includes exactly the buckets (nowBucket − K, nowBucket] in a window', () => {
    // Arrange: the short window of the pump is 6 buckets of 10 minutes.
    const state = createFeatureState(CENTRIFUGAL_PUMP);
    const at = (minutes: number) => EPOCH + minutes * MINUTE;
    updateFeatureState(state, CENTRIFUGAL_PUMP, at(0), { flow: 100 }); // bucket 0
    updateFeatureState(state, CENTRIFUGAL_PUMP, at(9), { flow: 110 }); // bucket 0
    updateFeatureState(state, CENTRIFUGAL_PUMP, at(10), { flow: 120 }); // bucket 1
    updateFeatureState(state, CENTRIFUGAL_PUMP, at(55), { flow: 130 }); // bucket 5
    // Act: at minute 59 buckets 0..5 are in; at minute 60 bucket 0 drops out.
    const before = featureVector(state, CENTRIFUGAL_PUMP, at(59), CTX);
    const after = featureVector(state, CENTRIFUGAL_PUMP, at(60), CTX);
    // Assert
    expect(feature(CENTRIFUGAL_PUMP, before, 'flow_mean_1h')).toBeCloseTo(115, 12);
    expect(feature(CENTRIFUGAL_PUMP, before, 'flow_min_1h')).toBe(100);
    expect(feature(CENTRIFUGAL_PUMP, after, 'flow_mean_1h')).toBeCloseTo(125, 12);
    expect(feature(CENTRIFUGAL_PUMP, after, 'flow_min_1h')).toBe(120);
    expect(feature(CENTRIFUGAL_PUMP, after, 'flow_std_1h')).toBeCloseTo(Math.SQRT2 * 5, 12);
    expect(feature(CENTRIFUGAL_PUMP, after, 'flow_mean_24h')).toBeCloseTo(115, 12);
  });

  it('keeps std of large values with a small spread as accurate as a two-pass computation', () => {
    // Arrange: core speed ≈ 9000 rpm with std 0.5 (deterministic uniform noise).
    const model = MINI_TIME;
    const state = createFeatureState(model);
    const xs: number[] = [];
    let seed = 12345;
    for (let i = 0; i < 1440; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      xs.push(9000.123456 + (seed / 2147483648 - 0.5) * Math.sqrt(12) * 0.5);
    }
    // Act: 6 minutes at 4 Hz, all inside the long window (7 one-minute buckets).
    for (const [i, x] of xs.entries()) updateFeatureState(state, model, EPOCH + i * 250, { big: x });
    const v = featureVector(state, model, EPOCH + (xs.length - 1) * 250, CTX);
    // Assert against a two-pass mean and sample standard deviation.
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
    expect(std).toBeGreaterThan(0.45);
    expect(Math.abs(feature(model, v, 'big_mean_7m') - mean) / mean).toBeLessThan(1e-12);
    expect(Math.abs(feature(model, v, 'big_std_7m') - std) / std).toBeLessThan(1e-9);
  });

  it('computes context features in hours and takes numeric attributes', () => {
    // Arrange
    const state = updateFeatureState(createFeatureState(CENTRIFUGAL_PUMP), CENTRIFUGAL_PUMP, EPOCH, {
      rpm: 1480,
    });
    const ctx: FeatureContext = {
      previousAnomaly: 0.7,
      lastMaintenance: { bearing: EPOCH - 36 * HOUR, seal: null },
      firstSeen: EPOCH - 10 * DAY,
      attributes: { ratedFlowM3h: 300, ratedPowerKw: 'unknown' },
    };
    // Act
    const v = featureVector(state, CENTRIFUGAL_PUMP, EPOCH, ctx);
    // Assert
    expect(feature(CENTRIFUGAL_PUMP, v, 'anomaly_prev')).toBe(0.7);
    expect(feature(CENTRIFUGAL_PUMP, v, 'since_maint_bearing_h')).toBe(36);
    expect(Number.isNaN(feature(CENTRIFUGAL_PUMP, v, 'since_maint_seal_h'))).toBe(true);
    expect(Number.isNaN(feature(CENTRIFUGAL_PUMP, v, 'since_maint_motor_h'))).toBe(true);
    expect(feature(CENTRIFUGAL_PUMP, v, 'op_age_h')).toBe(240);
    expect(feature(CENTRIFUGAL_PUMP, v, 'attr_ratedFlowM3h')).toBe(300);
    expect(Number.isNaN(feature(CENTRIFUGAL_PUMP, v, 'attr_ratedPowerKw'))).toBe(true);
    expect(feature(CENTRIFUGAL_PUMP, v, 'samples_seen')).toBe(1);
  });
});

describe('updateFeatureState', () => {
  it('ignores a sample older than every retained bucket and leaves the state as it was', () => {
    // Arrange: the pump's 7-day ring retains days d-6..d.
    const state = createFeatureState(CENTRIFUGAL_PUMP);
    for (let h = 0; h < 24 * 9; h++) {
      updateFeatureState(state, CENTRIFUGAL_PUMP, EPOCH + h * HOUR, { temperature: 40 + (h % 5) });
    }
    const before = JSON.stringify(state);
    // Act
    updateFeatureState(state, CENTRIFUGAL_PUMP, EPOCH + HOUR, { temperature: 149 });
    // Assert
    expect(JSON.stringify(state)).toBe(before);
  });

  it('rejects non-finite inputs and fractional cycles without touching the state', () => {
    // Arrange
    const state = updateFeatureState(createFeatureState(TURBOFAN), TURBOFAN, 1, { T30: 1590 });
    const before = JSON.stringify(state);
    // Act / Assert
    expect(() => updateFeatureState(state, TURBOFAN, 2, { T30: Number.NaN })).toThrow(FeatureInputError);
    expect(() => updateFeatureState(state, TURBOFAN, Number.POSITIVE_INFINITY, { T30: 1 })).toThrow(
      /t must be a finite number/,
    );
    expect(() => updateFeatureState(state, TURBOFAN, 2.5, { T30: 1590 })).toThrow(/whole cycle/);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('ignores readings of sensors that are not featurised', () => {
    // Arrange
    const a = createFeatureState(TURBOFAN);
    const b = createFeatureState(TURBOFAN);
    // Act
    updateFeatureState(a, TURBOFAN, 1, { T30: 1590, altitude: 35, unknown: 1 });
    updateFeatureState(b, TURBOFAN, 1, { T30: 1590 });
    // Assert
    expect(a).toEqual(b);
  });

  it('refuses a state written for another model or engine version', () => {
    // Arrange
    const pump = createFeatureState(CENTRIFUGAL_PUMP);
    const old = { ...createFeatureState(TURBOFAN), v: 'features-0' };
    // Act / Assert
    expect(() => updateFeatureState(pump, TURBOFAN, 1, {})).toThrow(FeatureStateMismatchError);
    expect(() => featureVector(old, TURBOFAN, 1, CTX)).toThrow(/features-0/);
    expect(createFeatureState(TURBOFAN).v).toBe(FEATURE_ENGINE_VERSION);
  });
});

describe('batchFeatureVector', () => {
  it('rejects the inputs the engine rejects', () => {
    // Act / Assert
    expect(() => batchFeatureVector(TURBOFAN, [{ t: 1.5, readings: {} }], 2, CTX)).toThrow(FeatureInputError);
  });
});
