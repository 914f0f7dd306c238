import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { predictBatch } from '../../../lambdas/core/model/index.ts';
import { createBundleScorer, csvRowsForEndpoint, sensorIndexOfFeatures } from '../../../lambdas/core/model/scorer.ts';
import type { FeatureRow, Twin } from '../../../lambdas/core/twin/twin.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { ENGINE_NAMES, FIXTURE_FEATURES, fixtureBundleDir, PUMP, randomVectors } from '../../ml/bundle/fixtures.ts';

const dir = fixtureBundleDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bundle = readBundle(dir);
const pump = bundle.models.get('centrifugal-pump')!;
const twin = {} as Twin; // the scorer does not read the twin

const rowsOf = (vectors: Float64Array[]): FeatureRow[] =>
  vectors.map((vector, i) => ({
    seq: i,
    ts: i,
    t: i,
    vector,
    anomaly: { score: 0, contributions: {} } as unknown as FeatureRow['anomaly'],
  }));

/** The predictor's columns gathered independently of the scorer, by name. */
function gather(names: readonly string[], vectors: Float64Array[]): Float32Array {
  const x = new Float32Array(vectors.length * names.length);
  vectors.forEach((v, i) => {
    names.forEach((n, j) => {
      x[i * names.length + j] = v[ENGINE_NAMES.indexOf(n)]!;
    });
  });
  return x;
}

describe('createBundleScorer', () => {
  it('scores each predictor exactly as predictBatch does on the same columns', () => {
    const vectors = randomVectors(150, 3);
    const scorer = createBundleScorer(bundle);

    const predictions = scorer(PUMP, twin, rowsOf(vectors));

    const x = gather(FIXTURE_FEATURES, vectors);
    const pFail = predictBatch(pump.failure!.model, x, vectors.length);
    const rul = predictBatch(pump.rul!.model, x, vectors.length);
    predictions.forEach((p, i) => {
      expect(p?.failureProbability).toBe(pFail[i]);
      expect(p?.rul).toBe(Math.max(0, rul[i]!));
      expect(p?.scoredBy).toBe('in-process');
    });
  });

  it('returns null for asset models the bundle has no predictors for', () => {
    const scorer = createBundleScorer(bundle);
    const turbofan = getAssetModel('turbofan');

    expect(scorer(turbofan, twin, rowsOf([new Float64Array(3), new Float64Array(3)]))).toEqual([null, null]);
  });

  it('explains high-risk rows by sensor, with shares that sum to 1 over all sensors', () => {
    const vectors = randomVectors(200, 5);
    const scorer = createBundleScorer(bundle, { topSensors: 10 });

    const predictions = scorer(PUMP, twin, rowsOf(vectors));

    const explained = predictions.filter((p) => p?.topContributors !== undefined);
    expect(explained.length).toBeGreaterThan(0);
    for (const p of predictions) {
      const risky = (p!.failureProbability ?? 0) >= 0.5 || 1 - p!.rul! / (14 * 24 * 3_600_000) >= 0.5;
      expect(p!.topContributors !== undefined).toBe(risky);
    }
    for (const p of explained) {
      const shares = p!.topContributors!;
      expect(shares.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 12);
      for (const c of shares) expect(Object.keys(PUMP.sensors)).toContain(c.sensor);
      // The fixture's failure model only reads vibration, temperature, flow and current columns.
      expect(shares.map((c) => c.sensor).every((s) => ['vibration', 'temperature', 'flow', 'current'].includes(s))).toBe(true);
      expect([...shares].sort((a, b) => b.share - a.share)).toEqual(shares);
    }
  });

  it('reports at most three sensors by default', () => {
    const scorer = createBundleScorer(bundle, { explainFrom: 0 });

    const predictions = scorer(PUMP, twin, rowsOf(randomVectors(20, 9)));

    for (const p of predictions) expect(p!.topContributors!.length).toBeLessThanOrEqual(3);
  });
});

describe('sensorIndexOfFeatures', () => {
  it('maps a feature to the longest sensor prefix and non-sensor features to -1', () => {
    const map = sensorIndexOfFeatures(
      ['vibration_mean_24h', 'flow_in_last', 'flow_lag', 'anomaly_prev', 'since_maint_bearing_h'],
      ['vibration', 'flow', 'flow_in'],
    );

    expect(Array.from(map)).toEqual([0, 2, 1, -1, -1]);
  });
});

describe('csvRowsForEndpoint', () => {
  it('writes the manifest columns with empty cells for NaN, reading back to the same float32', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(fc.double({ noDefaultInfinity: true, min: -1e30, max: 1e30 }), fc.constant(Number.NaN)), {
          minLength: ENGINE_NAMES.length,
          maxLength: ENGINE_NAMES.length,
        }), { minLength: 1, maxLength: 5 }),
        (raw) => {
          const vectors = raw.map((r) => Float64Array.from(r));
          const csv = csvRowsForEndpoint(pump.failure!, rowsOf(vectors));
          const expected = gather(FIXTURE_FEATURES, vectors);
          const lines = csv.split('\n');
          expect(lines).toHaveLength(vectors.length);
          lines.forEach((line, i) => {
            const cells = line.split(',');
            expect(cells).toHaveLength(FIXTURE_FEATURES.length);
            cells.forEach((cell, j) => {
              const want = expected[i * FIXTURE_FEATURES.length + j]!;
              if (Number.isNaN(want)) expect(cell).toBe('');
              else expect(Math.fround(Number(cell))).toBe(want);
            });
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
