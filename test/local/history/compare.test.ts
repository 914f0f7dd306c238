import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetHistoryStore } from '../../../lambdas/adapters/local/history-parquet.ts';
import { assetHistory, challengerModels, dailyRisk, shadowPairs } from '../../../lambdas/core/history/queries.ts';
import { maintenanceRow, predictionRow, telemetryRow } from '../../../lambdas/core/history/tables.ts';
import { band, compareShadow, formatCompare, quantile } from '../../../local/history/compare.ts';
import { fixtureBundle, tempRegistry } from '../../ml/registry/fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const MODEL = 'centrifugal-pump';
const asset = (id: string) => ({ assetId: id, siteId: 's', modelId: MODEL });
const prediction = (p: number) => ({ failureProbability: p, rul: null, scoredBy: 'in-process' as const });
/** pump-1 is repaired at hour 40: with the fixture's 24 h horizon its rows 16..39 are positives. */
const positive = (id: string, h: number) => id === 'pump-1' && h >= 16 && h < 40;

let dir: string;
let store: ParquetHistoryStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pdm-compare-'));
  store = await ParquetHistoryStore.open({ dir, flushMs: 0 });
  const tel = [];
  const champion = [];
  const challenger = [];
  for (const id of ['pump-1', 'pump-2', 'pump-3']) {
    for (let h = 0; h < 60; h++) {
      const ts = T0 + h * HOUR;
      tel.push(telemetryRow({ ...asset(id), ts, seq: h, readings: { flow: 1 }, receivedAt: ts }));
      champion.push(predictionRow(asset(id), { ts, seq: h, anomaly: 0.1, prediction: prediction(positive(id, h) ? 0.8 : 0.2) }, 'aaaaaaaaaaaa'));
      // pump-3 has no challenger rows: those champion rows pair with nothing.
      if (id !== 'pump-3') {
        challenger.push(predictionRow(asset(id), { ts, seq: h, anomaly: 0.1, prediction: prediction(positive(id, h) ? 0.55 : 0.3) }, 'bbbbbbbbbbbb', 'challenger'));
      }
    }
  }
  await store.put('telemetry', tel);
  // At least once: a retried batch writes challenger rows twice.
  await store.put('predictions', [...champion, ...challenger, ...challenger.slice(0, 10)]);
  await store.put('maintenance', [maintenanceRow({ ...asset('pump-1'), ts: T0 + 40 * HOUR, kind: 'repair', receivedAt: T0 + 40 * HOUR })]);
  await store.flush();
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('shadow queries on DuckDB', () => {
  it('pairs each champion row with the challenger row of the same sample once', async () => {
    const q = shadowPairs('duckdb', MODEL, T0, 10_000);
    const rows = await store.query(q.sql, q.params);

    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => `${r.champion_version}>${r.challenger_version}`))).toEqual(new Set(['aaaaaaaaaaaa>bbbbbbbbbbbb']));
    const r = rows.find((x) => x.asset_id === 'pump-1' && x.seq === 20)!;
    expect([r.champion_failure_probability, r.challenger_failure_probability]).toEqual([0.8, 0.55]);
  });

  it('lists the asset models with challenger rows', async () => {
    const q = challengerModels(T0);

    expect(await store.query(q.sql, q.params)).toEqual([{ model_id: MODEL }]);
  });

  it('keeps challenger rows out of the queries of what the twin decided with', async () => {
    const h = assetHistory('duckdb', 'pump-1', T0, 100);
    const d = dailyRisk(MODEL, T0);

    const history = await store.query(h.sql, h.params);
    const daily = await store.query(d.sql, d.params);

    expect(history.find((x) => x.seq === 20)!.failure_probability).toBe(0.8);
    const day1 = daily.find((x) => x.asset_id === 'pump-1' && String(x.day).startsWith('2026-01-01'))!;
    expect(day1.max_failure_probability).toBe(0.8);
    // Hours 0..23 of pump-1: 16 at 0.2 and 8 at 0.8, champion rows only.
    expect(day1.mean_failure_probability).toBeCloseTo((16 * 0.2 + 8 * 0.8) / 24, 12);
  });
});

describe('pdm models compare', () => {
  it('reports agreement, distributions, mean difference and label metrics per predictor', async () => {
    const report = await compareShadow(store, 'duckdb', { bundleDir: fixtureBundle(), registryDir: tempRegistry() });

    expect(report.withoutChallenger).toEqual([]);
    expect(report.comparisons).toHaveLength(1);
    const c = report.comparisons[0]!;
    expect(c).toMatchObject({ assetModel: MODEL, challengerVersion: 'bbbbbbbbbbbb', challengerId: null, rows: 120 });
    expect(c.predictors.map((p) => p.predictor)).toEqual(['failure']);
    const f = c.predictors[0]!;
    // Negatives agree (both below 0.5); positives do not (0.8 is WARNING, 0.55 WATCH).
    expect(f.agreement).toBeCloseTo(96 / 120, 12);
    expect(f.bands.edges).toEqual([0.5, 0.7, 0.9]);
    expect(f.meanAbsDiff).toBeCloseTo((96 * 0.1 + 24 * 0.25) / 120, 12);
    expect(f.champion.p50).toBe(0.2);
    expect(f.challenger.p95).toBe(0.55);
    // Labelled: pump-1 hours 0..39 (24 positive), pump-2 hours 0..35; later rows are censored.
    expect(f.labels).toMatchObject({ rows: 76, positives: 24 });
    expect(f.labels.champion.prAuc).toBe(1);
    expect(f.labels.champion.brier).toBeCloseTo(0.04, 12);
    expect(f.labels.challenger.brier).toBeCloseTo((52 * 0.09 + 24 * 0.2025) / 76, 12);
    expect(formatCompare(report).join('\n')).toMatch(/agreement 80\.0 %/);
  });

  it('says there are no labels yet when every row is still censored', async () => {
    const report = await compareShadow(store, 'duckdb', { sinceMs: T0 + 40 * HOUR, bundleDir: fixtureBundle(), registryDir: tempRegistry() });

    const f = report.comparisons[0]!.predictors[0]!;
    expect(f.rows).toBe(40);
    expect(f.labels.rows).toBe(0);
    expect(f.labels.note).toMatch(/no labels yet/);
    expect(formatCompare(report).join('\n')).toMatch(/labels: no labels yet/);
  });

  it('reports an asset model without challenger rows as such', async () => {
    const report = await compareShadow(store, 'duckdb', { assetModels: ['turbofan'], bundleDir: fixtureBundle(), registryDir: tempRegistry() });

    expect(report.comparisons).toEqual([]);
    expect(report.withoutChallenger).toEqual(['turbofan']);
  });
});

describe('compare helpers', () => {
  it('interpolates quantiles and counts reached band edges', () => {
    expect(quantile([0, 1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect([0.1, 0.5, 0.75, 0.95].map((x) => band(x, [0.5, 0.7, 0.9]))).toEqual([0, 1, 2, 3]);
  });
});
