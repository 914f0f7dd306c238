import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbTelemetryStore } from '../../lambdas/adapters/local/duckdb.ts';
import type { FeaturePoint, PredictionPoint } from '../../lambdas/adapters/ports.ts';
import type { CleanSample } from '../../lambdas/core/types.ts';
import type { FeatureRow } from '../../lambdas/core/twin/twin.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdm-duckdb-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dims = { assetId: 'pump-1', siteId: 'site-a', modelId: 'centrifugal-pump' };
const sample = (seq: number, temperature: number): CleanSample =>
  ({ ...dims, ts: 1_000 * seq, seq, readings: { temperature, vibration: 1e-131 } }) as unknown as CleanSample;
const feature = (seq: number, vector: number[]): FeaturePoint => ({
  ...dims,
  names: ['a', 'b', 'c'],
  row: { ts: 1_000 * seq, seq, vector: Float64Array.from(vector), anomaly: { score: 0.25 } } as unknown as FeatureRow,
});
const prediction = (seq: number, p: number): PredictionPoint => ({
  ...dims,
  ts: 1_000 * seq,
  seq,
  anomaly: 0.25,
  prediction: { failureProbability: p, rul: 10, scoredBy: 'in-process' },
});

describe('DuckDbTelemetryStore', () => {
  it('upserts by (asset, seq), so a retried batch does not double its rows, and serves history oldest first', async () => {
    const store = await DuckDbTelemetryStore.open();
    await store.writeTelemetry([sample(1, 50), sample(2, 51), sample(3, 52)]);
    await store.writeTelemetry([sample(2, 51), sample(3, 99)]);
    await store.writePredictions([prediction(2, 0.1), prediction(3, 0.2)]);

    const history = await store.history('pump-1', 2);

    expect(await store.counts()).toEqual({ telemetry: 3, features: 0, predictions: 2 });
    expect(history.map((h) => [h.seq, h.readings.temperature, h.failureProbability])).toEqual([
      [2, 51, 0.1],
      [3, 99, 0.2],
    ]);
    expect(history[0]!.readings.vibration).toBe(1e-131);
    await store.close();
  });

  it('stores feature vectors as list text in feature-name order, NaN as NULL, and keeps them in a file across a reopen', async () => {
    const path = join(dir, 'features.duckdb');
    const store = await DuckDbTelemetryStore.open({ path });
    await store.writeFeatures([feature(1, [1.5, Number.NaN, -2]), feature(2, [0.1, 0.2, 0.3])]);
    await store.writeFeatures([feature(2, [0.1, 0.2, 0.3])]);
    await store.close();

    const reopened = await DuckDbTelemetryStore.open({ path });
    expect((await reopened.counts()).features).toBe(2);
    const rows = await reopened.query(
      `SELECT v.seq, n.names, CAST(v.vector AS DOUBLE[]) AS vector FROM feature_vectors v JOIN feature_names n USING (model_id) ORDER BY v.seq`,
    );
    expect(rows.map((r) => ({ ...r, seq: Number(r.seq) }))).toEqual([
      { seq: 1, names: ['a', 'b', 'c'], vector: [1.5, null, -2] },
      { seq: 2, names: ['a', 'b', 'c'], vector: [0.1, 0.2, 0.3] },
    ]);
    await reopened.close();
  });
});
