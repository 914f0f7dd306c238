import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnomalyStateMismatchError,
  createAnomalyState,
  DEFAULT_BASELINES,
  InvalidAnomalyBaselineError,
  scoreAnomaly,
  topContributors,
} from '../../../lambdas/core/anomaly/index.ts';
import type { AnomalyBaseline, AnomalyParams } from '../../../lambdas/core/anomaly/types.ts';
import { ASSET_MODELS } from '../../../lambdas/core/catalog/index.ts';

/** Calibration q50 = 1, q99 = 3 gives the curve s²/(s² + 9): shape ln 9 / ln 3 = 2. */
const CAL = { q50: 1, q99: 3 };

function baseline(overrides: Partial<AnomalyParams> = {}, method: AnomalyBaseline['method'] = 'robust-z') {
  const params: AnomalyParams = {
    center: [10, 100],
    scale: [2, 5],
    ewmaAlpha: 1,
    matrix: null,
    contribution: 'residual',
    combine: 'rms',
    calibration: CAL,
    sensorCalibration: [CAL, CAL],
    ...overrides,
  };
  return {
    version: 1,
    method,
    modelId: 'm',
    sensors: ['a', 'b'],
    params,
    fittedOn: { source: 't', rows: 1 },
  } satisfies AnomalyBaseline;
}

/** Precision of the correlation matrix [[1, ρ], [ρ, 1]]. */
function precision(rho: number): number[][] {
  const k = 1 / (1 - rho * rho);
  return [
    [k, -rho * k],
    [-rho * k, k],
  ];
}
const mahalanobis = (rho: number) =>
  baseline({ matrix: precision(rho), contribution: 'rbc', center: [0, 0], scale: [1, 1] }, 'mahalanobis');

describe('scoreAnomaly', () => {
  it('scores a sample at the baseline centre as 0 with no contributions', () => {
    const b = baseline();
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 10, b: 100 });
    expect(r.score).toBe(0);
    expect(r.contributions).toEqual({ a: 0, b: 0 });
    expect(r.sensorScores).toEqual({ a: 0, b: 0 });
  });

  it('maps a robust-z RMS statistic through the calibration curve', () => {
    // z = (3, 0): RMS = sqrt(9 / 2), score = 4.5 / (4.5 + 9) = 1/3; sensor a alone: |z| = 3 → 0.5.
    const b = baseline();
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 16, b: 100 });
    expect(r.score).toBeCloseTo(1 / 3, 12);
    expect(r.contributions).toEqual({ a: 1, b: 0 });
    expect(r.sensorScores.a).toBeCloseTo(0.5, 12);
  });

  it('scores on the present sensors only when one is missing', () => {
    const b = baseline();
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 16 });
    expect(r.score).toBeCloseTo(0.5, 12);
    expect(r.contributions).toEqual({ a: 1, b: 0 });
    expect(r.sensorScores.b).toBe(0);
  });

  it('scores 0 when no baseline sensor is present and ignores unknown sensors', () => {
    const b = baseline();
    const r = scoreAnomaly(b, createAnomalyState(b), { other: 1e9, a: Number.NaN });
    expect(r).toEqual({ score: 0, contributions: { a: 0, b: 0 }, sensorScores: { a: 0, b: 0 } });
  });

  it('uses the largest |z| with the max combination', () => {
    const b = baseline({ combine: 'max' }, 'robust-z-max');
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 16, b: 105 });
    // max(|3|, |1|) = 3 → 0.5; contributions 9 : 1.
    expect(r.score).toBeCloseTo(0.5, 12);
    expect(r.contributions.a).toBeCloseTo(0.9, 12);
  });

  it('scores a deviation against the correlation higher than one along it (Mahalanobis)', () => {
    // ρ = 0.8: d² = 2/(1+ρ) = 10/9 along (1, 1) and 2/(1−ρ) = 10 along (1, −1).
    const b = mahalanobis(0.8);
    const along = scoreAnomaly(b, createAnomalyState(b), { a: 1, b: 1 });
    const against = scoreAnomaly(b, createAnomalyState(b), { a: 1, b: -1 });
    const curve = (d2: number) => d2 / 2 / (d2 / 2 + 9);
    expect(along.score).toBeCloseTo(curve(10 / 9), 10);
    expect(against.score).toBeCloseTo(curve(10), 10);
  });

  it('attributes a one-sensor Mahalanobis deviation to that sensor by reconstruction-based contribution', () => {
    // z = (3, 0), ρ = 0.8: g = Pz = (25/3, −20/3); RBC = g²/P_jj = 25 and 16 → shares 25/41, 16/41.
    const b = mahalanobis(0.8);
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 3, b: 0 });
    expect(r.contributions.a).toBeCloseTo(25 / 41, 10);
    expect(topContributors(r, 1)).toEqual([{ sensor: 'a', share: r.contributions.a }]);
  });

  it('uses the marginal distance of the present sensors when one is missing (Mahalanobis)', () => {
    // Marginal of a is N(0, 1): z_a = 2 → d² = 4 over 1 sensor → statistic 2.
    const b = mahalanobis(0.8);
    const r = scoreAnomaly(b, createAnomalyState(b), { a: 2 });
    expect(r.score).toBeCloseTo(4 / (4 + 9), 10);
    expect(r.contributions).toEqual({ a: 1, b: 0 });
  });

  it('smooths readings with the EWMA held in the state', () => {
    const b = baseline({ ewmaAlpha: 0.5 });
    const state = createAnomalyState(b);
    scoreAnomaly(b, state, { a: 10, b: 100 });
    // EWMA of a: 10 → 10 + 0.5 × (22 − 10) = 16, i.e. z = 3 as in the unsmoothed case above.
    const r = scoreAnomaly(b, state, { a: 22, b: 100 });
    expect(state.ewma).toEqual([16, 100]);
    expect(r.score).toBeCloseTo(1 / 3, 12);
  });

  it('continues identically from a JSON round-tripped state', () => {
    const b = DEFAULT_BASELINES['industrial-machine']!;
    const live = createAnomalyState(b);
    const sample = (i: number) => ({
      volt: 170 + (i % 7),
      rotate: 450 - (i % 5),
      pressure: 100 + i / 10,
      vibration: 40,
    });
    for (let i = 0; i < 20; i++) scoreAnomaly(b, live, sample(i));
    const restored = JSON.parse(JSON.stringify(live));
    for (let i = 20; i < 30; i++) {
      expect(scoreAnomaly(b, restored, sample(i))).toEqual(scoreAnomaly(b, live, sample(i)));
    }
  });

  it('rejects a state created for another baseline', () => {
    const state = createAnomalyState(DEFAULT_BASELINES.turbofan!);
    expect(() => scoreAnomaly(DEFAULT_BASELINES['industrial-machine']!, state, {})).toThrow(
      AnomalyStateMismatchError,
    );
  });

  it('rejects a malformed baseline with its reason', () => {
    const b = baseline({ scale: [1, 0] });
    expect(() => createAnomalyState(b)).toThrow(InvalidAnomalyBaselineError);
    expect(() => createAnomalyState(b)).toThrow(/scale must be positive/);
  });

  it('keeps score in [0, 1] and contributions summing to 1 for any readings (property)', () => {
    const baselines = Object.values(DEFAULT_BASELINES);
    const arb = fc.record({
      which: fc.nat({ max: baselines.length - 1 }),
      samples: fc.array(
        fc.array(fc.option(fc.double({ min: -60, max: 60, noNaN: true }), { nil: undefined }), {
          minLength: 14,
          maxLength: 14,
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    fc.assert(
      fc.property(arb, ({ which, samples }) => {
        const b = baselines[which]!;
        const state = createAnomalyState(b);
        for (const zs of samples) {
          const readings: Record<string, number> = {};
          b.sensors.forEach((s, j) => {
            const z = zs[j];
            if (z !== undefined) readings[s] = b.params.center[j]! + z * b.params.scale[j]!;
          });
          const r = scoreAnomaly(b, state, readings);
          expect(r.score).toBeGreaterThanOrEqual(0);
          expect(r.score).toBeLessThanOrEqual(1);
          const shares = Object.values(r.contributions);
          for (const v of shares) expect(v).toBeGreaterThanOrEqual(0);
          for (const v of Object.values(r.sensorScores)) expect(v >= 0 && v <= 1).toBe(true);
          const sum = shares.reduce((s, v) => s + v, 0);
          if (r.score > 0) expect(sum).toBeCloseTo(1, 9);
          else expect(sum).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('DEFAULT_BASELINES', () => {
  it('ships one baseline per catalog asset model, over sensors of that model', () => {
    expect(Object.keys(DEFAULT_BASELINES).sort()).toEqual(ASSET_MODELS.map((m) => m.id).sort());
    for (const m of ASSET_MODELS) {
      const b = DEFAULT_BASELINES[m.id]!;
      expect(b.modelId).toBe(m.id);
      for (const s of b.sensors) expect(m.sensors[s]).toBeDefined();
      expect(b.fittedOn.rows).toBeGreaterThan(0);
    }
  });

  it('scores the centre near 0 and a 20-scale jump in one sensor high, naming that sensor', () => {
    for (const b of Object.values(DEFAULT_BASELINES)) {
      const centre = Object.fromEntries(b.sensors.map((s, j) => [s, b.params.center[j]!]));
      expect(scoreAnomaly(b, createAnomalyState(b), centre).score).toBeLessThan(0.01);
      b.sensors.forEach((s, j) => {
        const r = scoreAnomaly(b, createAnomalyState(b), {
          ...centre,
          [s]: centre[s]! + 20 * b.params.scale[j]!,
        });
        expect(r.score, `${b.modelId}/${s}`).toBeGreaterThan(0.7);
        expect(topContributors(r, 1)[0]?.sensor, `${b.modelId}/${s}`).toBe(s);
      });
    }
  });

  it('keeps the streaming state under 1 KB of JSON', () => {
    for (const b of Object.values(DEFAULT_BASELINES)) {
      const state = createAnomalyState(b);
      const readings = Object.fromEntries(b.sensors.map((s, j) => [s, b.params.center[j]! + Math.PI * 1e-3]));
      for (let i = 0; i < 5; i++) scoreAnomaly(b, state, readings);
      expect(JSON.stringify(state).length).toBeLessThanOrEqual(1024);
    }
  });
});

describe('topContributors', () => {
  it('returns the k largest shares, largest first, without zero shares', () => {
    const r = { score: 0.8, contributions: { a: 0.2, b: 0.5, c: 0.3, d: 0 }, sensorScores: {} };
    expect(topContributors(r, 2)).toEqual([
      { sensor: 'b', share: 0.5 },
      { sensor: 'c', share: 0.3 },
    ]);
    expect(topContributors(r, 10)).toHaveLength(3);
    expect(topContributors(r, 0)).toEqual([]);
  });
});
